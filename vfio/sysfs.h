/* Host facts about PCI devices from sysfs: names, IOMMU groups, drivers. */
#ifndef VFIO_SYSFS_H
#define VFIO_SYSFS_H

#include <stddef.h>

#include "host_regions.h"

#define BDF_LEN 16

/* "01:00.0" or "0000:01:00.0" -> "0000:01:00.0"; -EINVAL if malformed. */
int pci_normalize_bdf(const char *text, char out[BDF_LEN]);

/*
 * The IOMMU group number of a PCI device, or -ENOENT (no such device),
 * -ENODEV (no IOMMU group: no IOMMU, or on arm64 no driver bound yet).
 * root is "/sys" except in tests.
 */
int sysfs_iommu_group(const char *root, const char *bdf);

/* Adds the reserved regions of group's sysfs file to out; -EFBIG beyond FILE_MAX_TEXT. */
int sysfs_add_group_regions(const char *root, int group, struct host_holes *out,
			    host_warn_fn warn);

#endif
