#ifndef VFIO_HOST_COLLECT_H
#define VFIO_HOST_COLLECT_H

#include "host_regions.h"

/* The most devices one VM takes through (--vfio). */
#define VFIO_MAX_DEVICES 8

/*
 * Everything the host forbids for this configuration, gathered before the
 * guest is laid out: the reserved files (--reserved) and the IOMMU groups
 * of every device passed through (PCI addresses as the user wrote them).
 * Errors print one line with the fix and return <0.
 */
int vfio_collect_host_holes(const char *const *reserved_files, unsigned int nreserved,
			    const char *const *devices, unsigned int ndevices,
			    const char *sysfs_root, struct host_holes *out);

#endif
