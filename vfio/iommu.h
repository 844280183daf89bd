/*
 * The IOMMU side of passthrough, behind one interface so that the VFIO
 * container (type1v2, today) and iommufd are interchangeable: attach the
 * devices, report the valid IOVA ranges, map guest RAM for DMA, hand out
 * device file descriptors, and introduce what was attached to KVM (the
 * KVM-VFIO device). Each backend keeps its file descriptors to itself.
 */
#ifndef VFIO_IOMMU_H
#define VFIO_IOMMU_H

#include "host_regions.h"
#include "core/util.h"

struct vfio_iommu;
struct vm;

struct vfio_iommu_ops {
	const char *name;
	/* Attaches bdf (whose IOMMU group is group) to the address space. */
	int (*attach)(struct vfio_iommu *iommu, const char *bdf, int group);
	/* Valid IOVA ranges, sorted; 0 when the kernel does not say. */
	int (*iova_ranges)(struct vfio_iommu *iommu, struct iova_range *ranges, unsigned int max);
	int (*dma_map)(struct vfio_iommu *iommu, u64 iova, void *hva, u64 size);
	int (*dma_unmap)(struct vfio_iommu *iommu, u64 iova, u64 size);
	/* A VFIO device fd for bdf, after attach. */
	int (*device_fd)(struct vfio_iommu *iommu, const char *bdf);
	/* Tells KVM what was attached (non-coherent DMA, for one). */
	int (*kvm_attach)(struct vfio_iommu *iommu, struct vm *vm);
	/* Detaches everything and frees the backend. */
	void (*destroy)(struct vfio_iommu *iommu);
};

struct vfio_iommu {
	const struct vfio_iommu_ops *ops;
};

/* The legacy VFIO container with the type1v2 IOMMU; NULL after one error line. */
struct vfio_iommu *vfio_container_open(void);

#endif
