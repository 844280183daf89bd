/*
 * What the host forbids the guest map, gathered before anything is
 * placed: ranges a device cannot DMA to (IOMMU reserved regions, gaps
 * between valid IOVA ranges, a group's peer BARs and bridge windows) and
 * the top of the IOVA space; and the memory BARs of the devices passed
 * through, which size the guest's PCI windows. Filled by the passthrough
 * layer (vfio/host_regions.c, vfio/host_collect.c, vfio/peers.c), read by
 * the boards when they plan.
 */
#ifndef CORE_HOST_HOLES_H
#define CORE_HOST_HOLES_H

#include "planner.h"

#define HOST_MAX_BARS 48

/* A memory BAR of a device passed through, as the host's sysfs `resource` shows it. */
struct host_bar {
	char bdf[16];
	unsigned int index;   /* BAR0-5 */
	u64 start, size;      /* host physical */
	bool is64, prefetch;
};

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
	struct host_bar bars[HOST_MAX_BARS]; /* of every --vfio device, in their order */
	unsigned int nbars;
};

struct iova_range {
	u64 start, end; /* inclusive */
};

#endif
