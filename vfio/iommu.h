/*
 * The IOMMU side of passthrough, behind one interface so that the VFIO
 * container (type1v2, today) and iommufd (later) are interchangeable: attach
 * the devices' groups, report the valid IOVA ranges, map guest RAM for DMA,
 * and hand out device file descriptors.
 */
#ifndef VFIO_IOMMU_H
#define VFIO_IOMMU_H

#include "host_regions.h"
#include "vmm/util.h"

#define VFIO_MAX_GROUPS 8

struct vfio_iommu;

struct vfio_iommu_ops {
	const char *name;
	/* Attaches the IOMMU group of bdf (idempotent per group). */
	int (*attach)(struct vfio_iommu *iommu, const char *bdf, int group);
	/* Valid IOVA ranges, sorted; 0 when the kernel does not say. */
	int (*iova_ranges)(struct vfio_iommu *iommu, struct iova_range *ranges, unsigned int max);
	int (*dma_map)(struct vfio_iommu *iommu, u64 iova, void *hva, u64 size);
	int (*dma_unmap)(struct vfio_iommu *iommu, u64 iova, u64 size);
	/* A VFIO device fd for bdf, after attach. */
	int (*device_fd)(struct vfio_iommu *iommu, const char *bdf);
	void (*destroy)(struct vfio_iommu *iommu);
};

struct vfio_iommu {
	const struct vfio_iommu_ops *ops;
	int container_fd;
	int group_ids[VFIO_MAX_GROUPS];
	int group_fds[VFIO_MAX_GROUPS];
	unsigned int ngroups;
};

/* Opens /dev/vfio/vfio with the type1v2 IOMMU. */
int vfio_container_open(struct vfio_iommu *iommu);

#endif
