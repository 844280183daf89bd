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

/*
 * Where the kernel maps the MSI doorbell for passed-through devices (the
 * arm64 SMMU's software MSI window): the host's default, or a window the
 * VMM chooses per VM on a kernel that lets it (iommufd's per-device
 * IOMMU_OPTION_SW_MSI_START/SIZE, set after bind and before attach).
 */
enum vfio_msi_mode {
	VFIO_MSI_AUTO, /* chosen by the VMM where the host allows it, else the host's */
	VFIO_MSI_HOST, /* the host's default window */
	VFIO_MSI_AT,   /* chosen by the user: an error where the host cannot move it */
};

struct vfio_msi_chooser {
	enum vfio_msi_mode mode;
	/*
	 * Places a window for a host whose holes are host (its default MSI
	 * windows already removed); size is the host default's, or 0. Returns
	 * 0 with the window, or <0 after an error line. The planner's: the
	 * passthrough layer knows nothing of the guest map.
	 */
	int (*choose)(void *opaque, const struct host_holes *host, u64 size, u64 *start,
		      u64 *size_out);
	void *opaque;
};

struct vfio_iommu_ops {
	/* What the holes it finds are labelled with: "host IOVA gap (NAME)". */
	const char *name;
	enum vfio_backend backend;
	/*
	 * Opens bdf (whose IOMMU group is group) and binds it to the backend
	 * without attaching it to the address space yet, so that per-device
	 * options can still be set; NULL when attach does everything.
	 */
	int (*bind)(struct vfio_iommu *iommu, const char *bdf, int group);
	/* Attaches bdf (bound first if needed) to the address space. */
	int (*attach)(struct vfio_iommu *iommu, const char *bdf, int group);
	/*
	 * After bind: every device lets the VMM choose where the kernel maps
	 * the MSI doorbell (IOMMU_OPTION_SW_MSI_START); NULL: never.
	 */
	bool (*msi_window_movable)(struct vfio_iommu *iommu);
	/* Sets that window on every bound device, before attach; an error line on failure. */
	int (*set_msi_window)(struct vfio_iommu *iommu, u64 start, u64 size);
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
 * Binds every device (the IOMMU group of each from sysfs_root) and, when
 * msi asks for it and every device lets it, moves the MSI window (see
 * struct vfio_msi_chooser); then attaches them and adds the backend's
 * valid IOVA ranges to host: the gaps between them become holes labelled
 * with the backend's name, the top an address limit. msi may be NULL.
 */
int vfio_iommu_attach_all(struct vfio_iommu *iommu, const char *sysfs_root,
			  const char (*bdfs)[BDF_LEN], unsigned int n,
			  const struct vfio_msi_chooser *msi, struct host_holes *host);

#endif
