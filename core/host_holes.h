/*
 * What the host forbids the guest map, gathered before anything is
 * placed: ranges a device cannot DMA to (IOMMU reserved regions, gaps
 * between valid IOVA ranges) and the top of the IOVA space. Filled by the
 * passthrough layer (vfio/host_regions.c, vfio/host_collect.c), read by
 * the boards when they plan.
 */
#ifndef CORE_HOST_HOLES_H
#define CORE_HOST_HOLES_H

#include "planner.h"

struct host_holes {
	struct plan_forbidden holes[PLAN_MAX_FORBIDDEN];
	unsigned int n;
	u64 iova_limit; /* first unusable IOVA above every valid range; 0: none known */
	unsigned int relaxed; /* direct-relaxable regions seen (not holes) */
	char iova_limit_source[PLAN_LABEL_LEN];
	/* The largest host default MSI window among the holes (0: none). */
	u64 msi_window_size;
	/*
	 * The VMM moved the MSI window of every device here (the host default
	 * windows are gone from holes): the planner keeps it clear.
	 */
	bool msi_window_placed;
	u64 msi_window_start;
	u64 msi_window_placed_size;
};

struct iova_range {
	u64 start, end; /* inclusive */
};

#endif
