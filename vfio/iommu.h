/*
 * The IOMMU side of passthrough, behind one interface so that the legacy
 * VFIO container (container.c: type1v2, the devices' groups) and iommufd
 * (iommufd.c: one IOAS, the devices' cdevs) are interchangeable: attach
 * the devices, report the valid IOVA ranges, map guest RAM for DMA, hand
 * out device file descriptors, and introduce what was attached to KVM (the
 * KVM-VFIO device). Each backend keeps its file descriptors to itself.
 * Which one a VM uses is chosen here (iommu.c, --vfio-backend).
 */
#ifndef VFIO_IOMMU_H
#define VFIO_IOMMU_H

#include "backend.h"
#include "host_regions.h"
#include "sysfs.h"
#include "core/util.h"

struct vfio_iommu;
struct vm;

struct vfio_iommu_ops {
	/* What the holes it finds are labelled with: "host IOVA gap (NAME)". */
	const char *name;
	enum vfio_backend backend;
	/* Attaches bdf (whose IOMMU group is group) to the address space. */
	int (*attach)(struct vfio_iommu *iommu, const char *bdf, int group);
	/*
	 * Valid IOVA ranges, sorted, once every device is attached; 0 when the
	 * kernel does not say. A backend that knows no IOVA is valid says so
	 * in an error line and returns <0.
	 */
	int (*iova_ranges)(struct vfio_iommu *iommu, struct iova_range *ranges, unsigned int max);
	int (*dma_map)(struct vfio_iommu *iommu, u64 iova, void *hva, u64 size);
	int (*dma_unmap)(struct vfio_iommu *iommu, u64 iova, u64 size);
	/* A new VFIO device fd for bdf, after attach; the caller closes it. */
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

/* iommufd on this host's /dev/iommu (iommufd.h has the general form). */
struct vfio_iommu *vfio_iommufd_open(void);

/*
 * Resolves asked for these devices (normalized PCI addresses): auto is
 * iommufd when this process may open dev_root/iommu and every device's
 * VFIO cdev (found in sysfs_root), else legacy. iommufd asked on a kernel
 * without /dev/iommu is an error line and -ENODEV.
 */
int vfio_iommu_choose(enum vfio_backend asked, const char *sysfs_root, const char *dev_root,
		      const char (*bdfs)[BDF_LEN], unsigned int n, enum vfio_backend *chosen);

/* Opens backend (not auto) on this host; NULL after one error line. */
struct vfio_iommu *vfio_iommu_open(enum vfio_backend backend);

/*
 * Attaches every device (the IOMMU group of each from sysfs_root), then
 * adds the backend's valid IOVA ranges to host: the gaps between them
 * become holes labelled with the backend's name, the top an address limit.
 */
int vfio_iommu_attach_all(struct vfio_iommu *iommu, const char *sysfs_root,
			  const char (*bdfs)[BDF_LEN], unsigned int n, struct host_holes *host);

#endif
