/*
 * The VFIO container backend (Documentation/driver-api/vfio.rst): one
 * container per VM, every assigned device's group attached to it, the
 * type1v2 IOMMU, and guest RAM mapped at its guest physical addresses.
 */
#include "iommu.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_vfio.h"
#include "sysfs.h"
#include "core/log.h"

#define MAX_GROUPS 8

struct vfio_container {
	struct vfio_iommu iommu;
	int container_fd;
	int group_ids[MAX_GROUPS];
	int group_fds[MAX_GROUPS];
	unsigned int ngroups;
	int kvm_vfio_fd;
};

static struct vfio_container *container_of_iommu(struct vfio_iommu *iommu)
{
	return (struct vfio_container *)iommu;
}

static int container_attach(struct vfio_iommu *base, const char *bdf, int group)
{
	struct vfio_container *iommu = container_of_iommu(base);
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64], others[512];
	int fd;

	for (unsigned int i = 0; i < iommu->ngroups; i++)
		if (iommu->group_ids[i] == group)
			return 0;
	if (iommu->ngroups == MAX_GROUPS)
		return -E2BIG;
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		if (err == -ENOENT)
			pr_err("%s is not bound to vfio-pci (no %s); run 'vmm vfio-bind %s'", bdf, path, bdf);
		else if (err == -EBUSY)
			pr_err("%s: IOMMU group %d is in use by another process", bdf, group);
		else
			pr_err("cannot open %s for %s: %s", path, bdf, strerror(-err));
		return err;
	}
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &status) < 0 ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		sysfs_describe_group("/sys", group, others, sizeof(others));
		pr_err("IOMMU group %d of %s is not viable: every device in it must be bound to vfio-pci or have no driver; the group holds: %s",
		       group, bdf, others);
		close(fd);
		return -EBUSY;
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &iommu->container_fd) < 0) {
		pr_err("VFIO_GROUP_SET_CONTAINER for group %d: %s", group, strerror(errno));
		close(fd);
		return -errno;
	}
	/* The IOMMU model is chosen once, after the first group joins. */
	if (iommu->ngroups == 0 &&
	    ioctl(iommu->container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		pr_err("VFIO_SET_IOMMU type1v2: %s", strerror(errno));
		close(fd);
		return -errno;
	}
	iommu->group_ids[iommu->ngroups] = group;
	iommu->group_fds[iommu->ngroups++] = fd;
	return 0;
}

/* A kernel that cannot say (old, or a reply we cannot parse): 0, unchecked, with a warning. */
static int container_iova_ranges(struct vfio_iommu *base, struct iova_range *ranges,
				 unsigned int max)
{
	struct vfio_container *iommu = container_of_iommu(base);
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	struct vfio_iommu_type1_info *info;
	int n;

	if (ioctl(iommu->container_fd, VFIO_IOMMU_GET_INFO, &probe) < 0) {
		pr_warn("VFIO_IOMMU_GET_INFO: %s; IOVA ranges not checked", strerror(errno));
		return 0;
	}
	/* The first call tells how large the reply with its capabilities is. */
	if (probe.argsz <= sizeof(probe) || probe.argsz > 65536)
		return 0;
	info = calloc(1, probe.argsz);
	if (!info)
		return -ENOMEM;
	info->argsz = probe.argsz;
	n = ioctl(iommu->container_fd, VFIO_IOMMU_GET_INFO, info) < 0 ? -errno
		: host_parse_iova_cap(info, info->argsz, ranges, max);
	free(info);
	if (n < 0) {
		pr_warn("VFIO_IOMMU_GET_INFO: %s; IOVA ranges not checked", strerror(-n));
		return 0;
	}
	return n;
}

static int container_dma_map(struct vfio_iommu *base, u64 iova, void *hva, u64 size)
{
	struct vfio_container *iommu = container_of_iommu(base);
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (u64)(unsigned long)hva,
		.iova = iova,
		.size = size,
	};

	if (ioctl(iommu->container_fd, VFIO_IOMMU_MAP_DMA, &map) < 0) {
		int err = -errno;

		pr_err("VFIO_IOMMU_MAP_DMA of guest RAM 0x%llx-0x%llx failed: %s%s",
		       (unsigned long long)iova, (unsigned long long)(iova + size - 1),
		       strerror(-err),
		       err == -ENOMEM ? " (raise the locked memory limit: ulimit -l)" : "");
		return err;
	}
	return 0;
}

static int container_dma_unmap(struct vfio_iommu *base, u64 iova, u64 size)
{
	struct vfio_container *iommu = container_of_iommu(base);
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = size,
	};

	return ioctl(iommu->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0 ? -errno : 0;
}

static int container_device_fd(struct vfio_iommu *base, const char *bdf)
{
	struct vfio_container *iommu = container_of_iommu(base);
	for (unsigned int i = 0; i < iommu->ngroups; i++) {
		int fd = ioctl(iommu->group_fds[i], VFIO_GROUP_GET_DEVICE_FD, bdf);

		if (fd >= 0)
			return fd;
	}
	pr_err("VFIO_GROUP_GET_DEVICE_FD %s: %s", bdf, strerror(errno));
	return -ENODEV;
}

static int container_kvm_attach(struct vfio_iommu *base, struct vm *vm)
{
	struct vfio_container *iommu = container_of_iommu(base);

	return kvm_vfio_add_files(vm, &iommu->kvm_vfio_fd, iommu->group_fds, iommu->ngroups);
}

static void container_destroy(struct vfio_iommu *base)
{
	struct vfio_container *iommu = container_of_iommu(base);

	if (iommu->kvm_vfio_fd >= 0)
		close(iommu->kvm_vfio_fd);
	for (unsigned int i = 0; i < iommu->ngroups; i++) {
		ioctl(iommu->group_fds[i], VFIO_GROUP_UNSET_CONTAINER);
		close(iommu->group_fds[i]);
	}
	iommu->ngroups = 0;
	if (iommu->container_fd >= 0)
		close(iommu->container_fd);
	free(iommu);
}

static const struct vfio_iommu_ops container_ops = {
	.name = "VFIO container (type1v2)",
	.backend = VFIO_BACKEND_LEGACY,
	.attach = container_attach,
	.iova_ranges = container_iova_ranges,
	.dma_map = container_dma_map,
	.dma_unmap = container_dma_unmap,
	.device_fd = container_device_fd,
	.kvm_attach = container_kvm_attach,
	.destroy = container_destroy,
};

struct vfio_iommu *vfio_container_open(void)
{
	struct vfio_container *iommu = calloc(1, sizeof(*iommu));

	if (!iommu)
		return NULL;
	iommu->iommu.ops = &container_ops;
	iommu->kvm_vfio_fd = -1;
	iommu->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (iommu->container_fd < 0) {
		pr_err("cannot open /dev/vfio/vfio (%s): load the VFIO modules (modprobe vfio-pci) and make sure the host IOMMU is on",
		       strerror(errno));
		free(iommu);
		return NULL;
	}
	if (ioctl(iommu->container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(iommu->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		pr_err("this kernel's VFIO lacks the type1v2 IOMMU (is an IOMMU enabled? intel_iommu=on / amd_iommu=on)");
		close(iommu->container_fd);
		free(iommu);
		return NULL;
	}
	return &iommu->iommu;
}
