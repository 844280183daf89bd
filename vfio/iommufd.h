/*
 * The iommufd backend's view of the kernel: the few system calls it
 * makes, in a table, so that a unit test can play the kernel's part
 * (tests/unit/test_iommufd.c answers IOMMU_IOAS_IOVA_RANGES and the rest).
 */
#ifndef VFIO_IOMMUFD_H
#define VFIO_IOMMUFD_H

#include "iommu.h"

struct vfio_iommufd_sys {
	int (*open)(void *opaque, const char *path, int flags);
	int (*ioctl)(void *opaque, int fd, unsigned long request, void *arg);
	int (*dup)(void *opaque, int fd);   /* a close-on-exec duplicate */
	int (*close)(void *opaque, int fd);
	void *opaque;
};

/* The host's system calls. */
extern const struct vfio_iommufd_sys vfio_iommufd_host;

/*
 * Opens dev_root/iommu and allocates the IOAS every device will share;
 * devices are found through sysfs_root ("/sys", "/dev" on a host). NULL
 * after one error line.
 */
struct vfio_iommu *vfio_iommufd_open_on(const struct vfio_iommufd_sys *sys, const char *sysfs_root,
					const char *dev_root);

#endif
