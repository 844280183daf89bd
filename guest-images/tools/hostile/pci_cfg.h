/*
 * PCI configuration space of any function through port 0xcf8/0xcfc (the
 * process has iopl(3)): the accessors every attack uses, the BAR helpers,
 * and the save and restore that let the caller give the device back to its
 * driver as it left it. The extended space is reached through ECAM
 * (guest_mem.h: ecam_base, map_phys).
 */
#ifndef HOSTILE_PCI_CFG_H
#define HOSTILE_PCI_CFG_H

#include "util.h"

#define CAM_ADDR 0xcf8
#define CAM_DATA 0xcfc

struct bdf {
	unsigned int bus, dev, fn;
};

struct bdf parse_bdf(const char *s);
u32 cam_address(struct bdf d, unsigned int off);
u32 cfg_read(struct bdf d, unsigned int off, unsigned int size);
void cfg_write(struct bdf d, unsigned int off, unsigned int size, u32 v);
void cfg_save(struct bdf d);
void cfg_restore(struct bdf d);
unsigned int cfg_find_cap(struct bdf d, u8 id, unsigned int from);
u64 bar_addr(struct bdf d, unsigned int bar);
u64 bar_size(struct bdf d, unsigned int bar);
void enable_device(struct bdf d);

#endif
