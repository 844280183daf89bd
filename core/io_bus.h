/*
 * Dispatch of guest port I/O and MMIO exits to device handlers. Devices
 * register ranges at start-up; lookups on the vCPU exit path are a binary
 * search over a sorted array, with no allocation and no lock (the table
 * is frozen before the first vCPU runs).
 */
#ifndef CORE_IO_BUS_H
#define CORE_IO_BUS_H

#include "util.h"

/* offset is relative to the registered base; len is 1, 2, 4 or 8. */
typedef void (*io_handler_fn)(void *opaque, u64 offset, u8 *data, u32 len, bool is_write);

struct io_range {
	u64 base;
	u64 len;
	io_handler_fn handler;
	void *opaque;
	const char *name;
};

#define IO_BUS_MAX_RANGES 64

struct io_bus {
	const char *name;
	struct io_range ranges[IO_BUS_MAX_RANGES];
	unsigned int nranges;
};

/* -EEXIST when the range overlaps another one. */
int io_bus_register(struct io_bus *bus, u64 base, u64 len, io_handler_fn handler,
		    void *opaque, const char *name);

/*
 * Performs the access; returns false when no device claims the address.
 * Unclaimed reads return all-ones, as on a PC bus with nothing there.
 */
bool io_bus_access(const struct io_bus *bus, u64 addr, u8 *data, u32 len, bool is_write);

#endif
