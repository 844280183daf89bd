/*
 * Which IOMMU backend passthrough uses (--vfio-backend): iommufd
 * (/dev/iommu, one IOAS, each device through its VFIO cdev), the legacy
 * VFIO container (/dev/vfio/vfio, the devices' groups, type1v2), or auto:
 * iommufd when /dev/iommu and every device's cdev can be opened, else legacy.
 */
#ifndef VFIO_BACKEND_H
#define VFIO_BACKEND_H

enum vfio_backend { VFIO_BACKEND_AUTO, VFIO_BACKEND_IOMMUFD, VFIO_BACKEND_LEGACY };

/* "auto", "iommufd", "legacy". */
const char *vfio_backend_name(enum vfio_backend backend);

#endif
