/*
 * What the host's IOMMU forbids, turned into the planner's forbidden
 * ranges before any guest RAM is placed:
 *  - the lines of /sys/kernel/iommu_groups/N/reserved_regions (and files
 *    in the same format given with --reserved): "START END TYPE", hex,
 *    inclusive, TYPE one of direct, direct-relaxable, reserved, msi
 *    (direct-relaxable ones are not holes: the kernel drops them on
 *    assignment);
 *  - the valid IOVA ranges of a VFIO type1 container
 *    (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, or iommufd's IOVA ranges):
 *    everything outside them becomes a hole, the top an address limit.
 * Pure functions over text and buffers: unit-tested without a host.
 */
#ifndef VFIO_HOST_REGIONS_H
#define VFIO_HOST_REGIONS_H

#include <stddef.h>

#include "core/host_holes.h"

typedef void (*host_warn_fn)(const char *message);

/*
 * Parses size bytes of reserved_regions text; source names it in labels
 * ("iommu group 7", "file board.txt"). Numbers are hexadecimal and must
 * fit 64 bits. Malformed lines (overflow, a sign, garbage, end below
 * start) and unknown types are reported through warn with the line
 * number; malformed lines are skipped, unknown types kept as holes (the
 * kernel knows better than we do). A region reaching 2^64 - 1 becomes a
 * hole up to there. Returns the number of regions added or -E2BIG.
 */
int host_parse_reserved_regions(const char *text, size_t size, const char *source,
				struct host_holes *out, host_warn_fn warn);

/*
 * Finds the IOVA-range capability in a VFIO_IOMMU_GET_INFO reply of len
 * bytes (8-byte aligned, as the kernel's capabilities are). Returns the
 * number of ranges copied to ranges (at most max), 0 when the capability
 * is absent, -EINVAL for a malformed chain.
 */
int host_parse_iova_cap(const void *info, size_t len, struct iova_range *ranges,
			unsigned int max);

/*
 * The msi holes among out->holes[from..] that came from source (an IOMMU
 * group of this host) become its default MSI IOVA windows: flagged, and
 * labelled "MSI IOVA window (host default, SOURCE)".
 */
void host_mark_msi_windows(struct host_holes *out, unsigned int from, const char *source);

/* Removes the host default MSI windows: the VMM placed its own. */
void host_holes_free_msi_windows(struct host_holes *h);

/* Removes the holes lying wholly inside [start, start + size): the VMM's MSI window. */
void host_holes_drop_inside(struct host_holes *h, u64 start, u64 size);

/* Adds the gaps between sorted valid ranges (and above the last) as holes. */
int host_add_iova_ranges(const struct iova_range *ranges, unsigned int n, const char *source,
			 struct host_holes *out);

#endif
