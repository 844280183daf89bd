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

/*
 * The VFIO device cdev of bdf ("vfio3", for /dev/vfio/devices/vfio3),
 * from root/bus/pci/devices/BDF/vfio-dev/: 0, or -ENOENT when there is
 * none (not bound to vfio-pci, or a kernel without CONFIG_VFIO_DEVICE_CDEV).
 */
int sysfs_vfio_cdev(const char *root, const char *bdf, char *name, size_t len);

/* The name of the driver bound to bdf, "" when none. */
void sysfs_pci_driver(const char *root, const char *bdf, char *name, size_t len);

/*
 * The devices of IOMMU group and their drivers, "0000:00:1f.0 (lpc_ich),
 * 0000:00:1f.3 (no driver)", for errors about a group that is not viable.
 */
void sysfs_describe_group(const char *root, int group, char *buf, size_t len);

/* Adds the reserved regions of group's sysfs file to out; -EFBIG beyond FILE_MAX_TEXT. */
int sysfs_add_group_regions(const char *root, int group, struct host_holes *out,
			    host_warn_fn warn);

#endif
