/*
 * The iommufd backend (Documentation/userspace-api/iommufd.rst,
 * Documentation/driver-api/vfio.rst "VFIO device cdev"): /dev/iommu with
 * one IO address space (IOAS) per VM; each device is opened through its
 * cdev /dev/vfio/devices/vfioN (found in sysfs under the PCI device's
 * vfio-dev/), bound to the iommufd (VFIO_DEVICE_BIND_IOMMUFD) and attached
 * to the IOAS (VFIO_DEVICE_ATTACH_IOMMUFD_PT). Devices of one IOMMU group
 * all attach to that IOAS. Guest RAM is mapped at IOVA = guest physical
 * address (IOMMU_IOAS_MAP with IOMMU_IOAS_MAP_FIXED_IOVA), inside the
 * ranges IOMMU_IOAS_IOVA_RANGES reports once every device is attached.
 * No group or container file is ever opened.
 *
 * Order: the devices are bound (which opens them in the kernel) before the
 * VM exists, since their IOVA ranges must be known to plan its memory;
 * KVM learns of them later (KVM_DEV_VFIO_FILE_ADD, for coherency). A
 * driver that reads the KVM pointer at open would see none: vfio-pci on
 * x86 and arm64 does not (only s390's zPCI and mediated drivers do).
 */
#include "iommufd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "host_collect.h"
#include "kvm_vfio.h"
#include "core/log.h"

struct iommufd_device {
	char bdf[BDF_LEN];
	char cdev[32];    /* "vfio3" */
	int group;
	int fd;
	u32 dev_id;       /* from VFIO_DEVICE_BIND_IOMMUFD */
	bool attached;
	bool msi_movable; /* answered IOMMU_OPTION_SW_MSI_START */
};

/*
 * The per-device software MSI window options of the iommufd series
 * "iommufd: Add MSI mapping support with nested SMMU" (not in the system
 * header yet; enum iommufd_option values, so no #ifdef can tell).
 */
#define VMM_IOMMU_OPTION_SW_MSI_START 2
#define VMM_IOMMU_OPTION_SW_MSI_SIZE 3 /* in MiB */

struct vfio_iommufd {
	struct vfio_iommu iommu;
	const struct vfio_iommufd_sys *sys;
	char sysfs_root[128], dev_root[128];
	int fd;           /* /dev/iommu */
	u32 ioas_id;
	struct iommufd_device devs[VFIO_MAX_DEVICES];
	unsigned int ndevs;
	int kvm_vfio_fd;
};

static struct vfio_iommufd *iommufd_of(struct vfio_iommu *iommu)
{
	return (struct vfio_iommufd *)iommu;
}

/* The system calls, with -errno results. */
static int sys_ioctl(struct vfio_iommufd *s, int fd, unsigned long request, void *arg)
{
	return s->sys->ioctl(s->sys->opaque, fd, request, arg) < 0 ? -errno : 0;
}

static int sys_open(struct vfio_iommufd *s, const char *path)
{
	int fd = s->sys->open(s->sys->opaque, path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static void sys_close(struct vfio_iommufd *s, int fd)
{
	if (fd >= 0)
		s->sys->close(s->sys->opaque, fd);
}

/* A device with no cdev: either not vfio-pci's, or a kernel without the cdev. */
static int no_cdev(struct vfio_iommufd *s, const char *bdf)
{
	char driver[64];

	sysfs_pci_driver(s->sysfs_root, bdf, driver, sizeof(driver));
	if (strcmp(driver, "vfio-pci"))
		pr_err("%s is not bound to vfio-pci (driver: %s); run 'vmm vfio-bind %s'", bdf,
		       driver[0] ? driver : "none", bdf);
	else
		pr_err("%s has no VFIO device cdev (no %s/bus/pci/devices/%s/vfio-dev/): this kernel lacks CONFIG_VFIO_DEVICE_CDEV; use --vfio-backend legacy",
		       bdf, s->sysfs_root, bdf);
	return -ENODEV;
}

/* Drivers that leave a group's DMA to its owner (they set driver_managed_dma). */
static bool group_viable(struct vfio_iommufd *s, int group, char *others, size_t len)
{
	static const char *const harmless[] = { "(vfio-pci)", "(pci-stub)", "(pcieport)",
						"(no driver)" };
	char *item, *save = NULL, copy[512];
	bool viable = true;

	sysfs_describe_group(s->sysfs_root, group, others, len);
	snprintf(copy, sizeof(copy), "%s", others);
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		bool ok = false;

		for (unsigned int i = 0; i < ARRAY_SIZE(harmless); i++)
			ok |= strstr(item, harmless[i]) != NULL;
		viable &= ok;
	}
	return viable;
}

static int bind_failed(struct vfio_iommufd *s, const struct iommufd_device *d, int err)
{
	char others[512];

	if (err == -EBUSY && !group_viable(s, d->group, others, sizeof(others)))
		pr_err("IOMMU group %d of %s is not viable: every device in it must be bound to vfio-pci or have no driver; the group holds: %s",
		       d->group, d->bdf, others);
	else if (err == -EBUSY)
		pr_err("%s is in use: another process has its IOMMU group open (/dev/vfio/%d, the legacy VFIO API); stop it or pass another device",
		       d->bdf, d->group);
	else if (err == -EINVAL)
		/* vfio_df_open: a cdev is bound to one iommufd at a time. */
		pr_err("%s is in use: its cdev /dev/vfio/devices/%s is already bound to another iommufd (another VMM); stop it or pass another device",
		       d->bdf, d->cdev);
	else
		pr_err("VFIO_DEVICE_BIND_IOMMUFD of %s: %s", d->bdf, strerror(-err));
	return err;
}

static struct iommufd_device *find_device(struct vfio_iommufd *s, const char *bdf)
{
	for (unsigned int i = 0; i < s->ndevs; i++)
		if (!strcmp(s->devs[i].bdf, bdf))
			return &s->devs[i];
	return NULL;
}

static int device_option(struct vfio_iommufd *s, const struct iommufd_device *d, u16 op, u32 id,
			 u64 *val)
{
	struct iommu_option opt = {
		.size = sizeof(opt), .option_id = id, .op = op, .object_id = d->dev_id,
		.val64 = *val,
	};
	int err = sys_ioctl(s, s->fd, IOMMU_OPTION, &opt);

	if (!err)
		*val = opt.val64;
	return err;
}

static int iommufd_bind(struct vfio_iommu *base, const char *bdf, int group)
{
	struct vfio_iommufd *s = iommufd_of(base);
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = s->fd };
	struct iommufd_device *d;
	char path[256];
	u64 start = 0;
	int err;

	if (find_device(s, bdf))
		return 0;
	if (s->ndevs == VFIO_MAX_DEVICES)
		return -E2BIG;
	d = &s->devs[s->ndevs];
	memset(d, 0, sizeof(*d));
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->group = group;
	if (sysfs_vfio_cdev(s->sysfs_root, bdf, d->cdev, sizeof(d->cdev)))
		return no_cdev(s, bdf);
	snprintf(path, sizeof(path), "%s/vfio/devices/%s", s->dev_root, d->cdev);
	d->fd = sys_open(s, path);
	if (d->fd < 0) {
		pr_err("cannot open %s, the VFIO cdev of %s: %s", path, bdf, strerror(-d->fd));
		return d->fd;
	}
	/* Counted from here: destroy closes it whatever happens next. */
	s->ndevs++;
	err = sys_ioctl(s, d->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (err)
		return bind_failed(s, d, err);
	d->dev_id = bind.out_devid;
	/* Only now, before attach, does a kernel that has the option answer it. */
	d->msi_movable = device_option(s, d, IOMMU_OPTION_OP_GET, VMM_IOMMU_OPTION_SW_MSI_START,
				       &start) == 0;
	pr_debug("%s: %s/vfio/devices/%s bound to iommufd as device %u; MSI window %s", bdf,
		 s->dev_root, d->cdev, d->dev_id,
		 d->msi_movable ? "movable (IOMMU_OPTION_SW_MSI_START)" : "fixed by the host");
	return 0;
}

static int iommufd_attach(struct vfio_iommu *base, const char *bdf, int group)
{
	struct vfio_iommufd *s = iommufd_of(base);
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommufd_device *d = find_device(s, bdf);
	int err;

	if (!d) {
		err = iommufd_bind(base, bdf, group);
		if (err)
			return err;
		d = find_device(s, bdf);
	}
	if (d->attached)
		return 0;
	attach.pt_id = s->ioas_id;
	err = sys_ioctl(s, d->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
	if (err) {
		pr_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT of %s to IOAS %u: %s", bdf, s->ioas_id,
		       strerror(-err));
		return err;
	}
	d->attached = true;
	pr_debug("%s attached to IOAS %u", bdf, s->ioas_id);
	return 0;
}

static bool iommufd_msi_window_movable(struct vfio_iommu *base)
{
	struct vfio_iommufd *s = iommufd_of(base);
	bool all = s->ndevs > 0;

	for (unsigned int i = 0; i < s->ndevs; i++)
		all &= s->devs[i].msi_movable;
	return all;
}

/* The reserved region of d's group that [start, start + size) overlaps, for the message. */
static void name_conflict(struct vfio_iommufd *s, const struct iommufd_device *d, u64 start,
			  u64 size, char *buf, size_t len)
{
	static struct host_holes group;

	snprintf(buf, len, "another reserved region of its IOMMU group %d", d->group);
	memset(&group, 0, sizeof(group));
	if (sysfs_add_group_regions(s->sysfs_root, d->group, &group, NULL))
		return;
	for (unsigned int i = 0; i < group.n; i++) {
		const struct plan_forbidden *h = &group.holes[i];

		if (!h->msi_window && ranges_overlap(start, size, h->start, h->size)) {
			snprintf(buf, len, "%s 0x%llx-0x%llx", h->label, (unsigned long long)h->start,
				 (unsigned long long)(h->start + h->size - 1));
			return;
		}
	}
}

static int set_failed(struct vfio_iommufd *s, const struct iommufd_device *d, const char *what,
		      u64 start, u64 size, int err)
{
	char conflict[160];

	if (err == -EADDRINUSE) {
		name_conflict(s, d, start, size, conflict, sizeof(conflict));
		pr_err("the MSI IOVA window 0x%llx-0x%llx for %s overlaps %s; choose another --msi-window",
		       (unsigned long long)start, (unsigned long long)(start + size - 1), d->bdf,
		       conflict);
	} else if (err == -EBUSY) {
		pr_err("IOMMU_OPTION %s of %s answered EBUSY: the device is already attached to an IOAS, so the VMM set its MSI window too late (a bug in the VMM)",
		       what, d->bdf);
	} else {
		pr_err("IOMMU_OPTION %s=0x%llx of %s: %s", what,
		       (unsigned long long)(strcmp(what, "SW_MSI_SIZE") ? start : size >> 20),
		       d->bdf, strerror(-err));
	}
	return err;
}

/* START first, then SIZE (in MiB): the kernel checks the pair when the size arrives. */
static int iommufd_set_msi_window(struct vfio_iommu *base, u64 start, u64 size)
{
	struct vfio_iommufd *s = iommufd_of(base);

	for (unsigned int i = 0; i < s->ndevs; i++) {
		struct iommufd_device *d = &s->devs[i];
		u64 val = start;
		int err = device_option(s, d, IOMMU_OPTION_OP_SET, VMM_IOMMU_OPTION_SW_MSI_START, &val);

		if (err)
			return set_failed(s, d, "SW_MSI_START", start, size, err);
		val = size >> 20;
		err = device_option(s, d, IOMMU_OPTION_OP_SET, VMM_IOMMU_OPTION_SW_MSI_SIZE, &val);
		if (err)
			return set_failed(s, d, "SW_MSI_SIZE", start, size, err);
	}
	pr_debug("MSI IOVA window 0x%llx-0x%llx set on %u device%s", (unsigned long long)start,
		 (unsigned long long)(start + size - 1), s->ndevs, s->ndevs == 1 ? "" : "s");
	return 0;
}

/* Every device narrows the IOAS's ranges: ask once they are all attached. */
static int iommufd_iova_ranges(struct vfio_iommu *base, struct iova_range *ranges,
			       unsigned int max)
{
	struct vfio_iommufd *s = iommufd_of(base);
	struct iommu_ioas_iova_ranges query = { .size = sizeof(query), .ioas_id = s->ioas_id };
	struct iommu_iova_range *got = NULL;
	unsigned int n;
	int err;

	/* First the count (EMSGSIZE says how many), then the ranges. */
	err = sys_ioctl(s, s->fd, IOMMU_IOAS_IOVA_RANGES, &query);
	for (unsigned int tries = 0; err == -EMSGSIZE && tries < 4; tries++) {
		free(got);
		got = calloc(query.num_iovas, sizeof(*got));
		if (!got)
			return -ENOMEM;
		query.allowed_iovas = (u64)(unsigned long)got;
		err = sys_ioctl(s, s->fd, IOMMU_IOAS_IOVA_RANGES, &query);
	}
	if (err) {
		pr_err("IOMMU_IOAS_IOVA_RANGES of IOAS %u: %s", s->ioas_id, strerror(-err));
		free(got);
		return err;
	}
	n = got ? query.num_iovas : 0;
	if (n == 0) {
		pr_err("the iommufd IOAS of %s allows no IOVA at all: no guest RAM could be mapped for DMA; check the host IOMMU's reserved regions",
		       s->ndevs ? s->devs[0].bdf : "the devices");
		return -ENOSPC;
	}
	for (unsigned int i = 0; i < n && i < max; i++) {
		ranges[i].start = got[i].start;
		ranges[i].end = got[i].last;
		if (ranges[i].end < ranges[i].start || (i && ranges[i].start <= ranges[i - 1].end)) {
			pr_err("IOMMU_IOAS_IOVA_RANGES: range %u (0x%llx-0x%llx) is out of order", i,
			       (unsigned long long)got[i].start, (unsigned long long)got[i].last);
			free(got);
			return -EINVAL;
		}
	}
	free(got);
	/* Fewer kept than reported: the rest count as above the limit, which is safe. */
	return (int)MIN(n, max);
}

static int iommufd_dma_map(struct vfio_iommu *base, u64 iova, void *hva, u64 size)
{
	struct vfio_iommufd *s = iommufd_of(base);
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = s->ioas_id,
		.user_va = (u64)(unsigned long)hva,
		.length = size,
		.iova = iova,
	};
	int err = sys_ioctl(s, s->fd, IOMMU_IOAS_MAP, &map);

	if (err)
		pr_err("IOMMU_IOAS_MAP of guest RAM 0x%llx-0x%llx into IOAS %u failed: %s%s",
		       (unsigned long long)iova, (unsigned long long)(iova + size - 1), s->ioas_id,
		       strerror(-err),
		       err == -ENOMEM ? " (raise the locked memory limit: ulimit -l)" : "");
	return err;
}

static int iommufd_dma_unmap(struct vfio_iommu *base, u64 iova, u64 size)
{
	struct vfio_iommufd *s = iommufd_of(base);
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = s->ioas_id, .iova = iova, .length = size,
	};

	return sys_ioctl(s, s->fd, IOMMU_IOAS_UNMAP, &unmap);
}

static int iommufd_device_fd(struct vfio_iommu *base, const char *bdf)
{
	struct vfio_iommufd *s = iommufd_of(base);

	for (unsigned int i = 0; i < s->ndevs; i++) {
		int fd;

		if (strcmp(s->devs[i].bdf, bdf))
			continue;
		/* The cdev stays the backend's too (KVM and destroy): a duplicate. */
		fd = s->sys->dup(s->sys->opaque, s->devs[i].fd);
		if (fd < 0)
			pr_err("cannot duplicate the VFIO cdev fd of %s: %s", bdf, strerror(errno));
		return fd < 0 ? -errno : fd;
	}
	pr_err("%s is not attached to the iommufd IOAS", bdf);
	return -ENODEV;
}

static int iommufd_kvm_attach(struct vfio_iommu *base, struct vm *vm)
{
	struct vfio_iommufd *s = iommufd_of(base);
	int fds[VFIO_MAX_DEVICES];

	for (unsigned int i = 0; i < s->ndevs; i++)
		fds[i] = s->devs[i].fd;
	/* KVM_DEV_VFIO_FILE_ADD takes device cdev files as well as groups (Linux 6.6+). */
	return kvm_vfio_add_files(vm, &s->kvm_vfio_fd, fds, s->ndevs);
}

/*
 * Closing a cdev unbinds the device and detaches it from the IOAS;
 * closing /dev/iommu frees the IOAS and whatever is still mapped.
 */
static void iommufd_destroy(struct vfio_iommu *base)
{
	struct vfio_iommufd *s = iommufd_of(base);

	if (s->kvm_vfio_fd >= 0)
		close(s->kvm_vfio_fd);
	for (unsigned int i = s->ndevs; i-- > 0;)
		sys_close(s, s->devs[i].fd);
	sys_close(s, s->fd);
	free(s);
}

static const struct vfio_iommu_ops iommufd_ops = {
	.name = "iommufd IOAS",
	.backend = VFIO_BACKEND_IOMMUFD,
	.bind = iommufd_bind,
	.attach = iommufd_attach,
	.msi_window_movable = iommufd_msi_window_movable,
	.set_msi_window = iommufd_set_msi_window,
	.iova_ranges = iommufd_iova_ranges,
	.dma_map = iommufd_dma_map,
	.dma_unmap = iommufd_dma_unmap,
	.device_fd = iommufd_device_fd,
	.kvm_attach = iommufd_kvm_attach,
	.destroy = iommufd_destroy,
};

struct vfio_iommu *vfio_iommufd_open_on(const struct vfio_iommufd_sys *sys, const char *sysfs_root,
					const char *dev_root)
{
	struct vfio_iommufd *s = calloc(1, sizeof(*s));
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char path[160];
	int err;

	if (!s)
		return NULL;
	s->iommu.ops = &iommufd_ops;
	s->sys = sys;
	s->kvm_vfio_fd = -1;
	snprintf(s->sysfs_root, sizeof(s->sysfs_root), "%s", sysfs_root);
	snprintf(s->dev_root, sizeof(s->dev_root), "%s", dev_root);
	snprintf(path, sizeof(path), "%s/iommu", dev_root);
	s->fd = sys_open(s, path);
	if (s->fd < 0) {
		pr_err("cannot open %s (%s): the kernel needs CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV; or use --vfio-backend legacy",
		       path, strerror(-s->fd));
		free(s);
		return NULL;
	}
	err = sys_ioctl(s, s->fd, IOMMU_IOAS_ALLOC, &alloc);
	if (err) {
		pr_err("IOMMU_IOAS_ALLOC: %s", strerror(-err));
		sys_close(s, s->fd);
		free(s);
		return NULL;
	}
	s->ioas_id = alloc.out_ioas_id;
	return &s->iommu;
}

static int host_open(void *opaque, const char *path, int flags)
{
	(void)opaque;
	return open(path, flags);
}

static int host_ioctl(void *opaque, int fd, unsigned long request, void *arg)
{
	(void)opaque;
	return ioctl(fd, request, arg);
}

static int host_dup(void *opaque, int fd)
{
	(void)opaque;
	return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

static int host_close(void *opaque, int fd)
{
	(void)opaque;
	return close(fd);
}

const struct vfio_iommufd_sys vfio_iommufd_host = {
	.open = host_open, .ioctl = host_ioctl, .dup = host_dup, .close = host_close,
};

struct vfio_iommu *vfio_iommufd_open(void)
{
	return vfio_iommufd_open_on(&vfio_iommufd_host, "/sys", "/dev");
}
