#ifndef VFIO_HOST_COLLECT_H
#define VFIO_HOST_COLLECT_H

#include "host_regions.h"
#include "vmm/config.h"

/*
 * Everything the host forbids for this configuration, gathered before the
 * guest is laid out: --reserved files and the IOMMU groups of every
 * --vfio device. Errors print one line with the fix and return <0.
 */
int vfio_collect_host_holes(const struct vm_config *cfg, const char *sysfs_root,
			    struct host_holes *out);

#endif
