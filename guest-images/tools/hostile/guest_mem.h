/*
 * Guest physical memory as this program sees it: the System RAM banks and
 * the ECAM base (from /proc/iomem), any physical range mapped through
 * /dev/mem (the guest boots with iomem=relaxed), and the eight locked
 * pages of ours whose guest-physical addresses /proc/self/pagemap gives:
 * the attacks put rings, indirect tables and buffers there for the device
 * to read and write.
 */
#ifndef HOSTILE_GUEST_MEM_H
#define HOSTILE_GUEST_MEM_H

#include <stddef.h>

#include "util.h"

struct ram_bank {
	u64 start, end; /* inclusive, as /proc/iomem lists them */
};

extern struct ram_bank banks[16];
extern unsigned int nbanks;
extern u64 ecam_base; /* 0 if neither /proc/iomem nor the MCFG table names it */

void read_iomem(void);
u64 ram_end(void);
volatile u8 *map_phys(u64 phys, size_t len);

/* Pages of ours the device may read and write: virtual and guest-physical. */
struct dma_page {
	u8 *virt;
	u64 phys;
};

extern struct dma_page dma[8];

void dma_init(void);
unsigned int dma_moved(void);

#endif
