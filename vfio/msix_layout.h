/*
 * Where a function keeps its MSI-X table and Pending Bit Array (PCI Local
 * Bus 3.0, 6.8.2.4-6.8.2.5): each in any memory BAR (the same one or two
 * different ones), at any 8-byte aligned offset, possibly sharing a host
 * page with the function's registers (NVMe puts them right after its
 * doorbells in BAR0). The capability is read from the device and cannot
 * be trusted: it is checked against the BARs the function really has.
 *
 * Pure arithmetic, no I/O: unit tests and a fuzz target drive it.
 */
#ifndef VFIO_MSIX_LAYOUT_H
#define VFIO_MSIX_LAYOUT_H

#include <stddef.h>

#include "core/util.h"

#define MSIX_MAX_VECTORS 2048
#define MSIX_LAYOUT_BARS 6

struct msix_layout {
	unsigned int nvectors;
	unsigned int table_bar, pba_bar;
	u64 table_offset, table_size;   /* 16 bytes per vector */
	u64 pba_offset, pba_size;       /* one bit per vector, in QWORDs */
};

/*
 * Reads the capability's Message Control, Table and PBA registers against
 * bar_size[] (0: no memory BAR there). Returns 0, or -EINVAL with why in
 * err, naming the field ("MSI-X table (BAR0 offset 0x3000, 2048 vectors)
 * ends beyond BAR0 (16 KiB)").
 */
int msix_layout_parse(u16 control, u32 table, u32 pba, const u64 bar_size[MSIX_LAYOUT_BARS],
		      struct msix_layout *out, char *err, size_t errlen);

/*
 * The page ranges of BAR bar that must trap to the VMM (the table and
 * the PBA there, widened to page boundaries, clamped to the BAR): at most
 * two, sorted, merged when they touch. Returns how many.
 */
unsigned int msix_layout_trapped(const struct msix_layout *l, unsigned int bar, u64 bar_size,
				 u64 page, u64 start[2], u64 end[2]);

#endif
