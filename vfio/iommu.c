/*
 * Choosing and opening a VM's IOMMU backend (--vfio-backend), and what
 * every backend does the same way: attach the devices one by one, then
 * turn the IOVA ranges the kernel reports into the planner's holes.
 */
#include "iommu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"

const char *vfio_backend_name(enum vfio_backend backend)
{
	switch (backend) {
	case VFIO_BACKEND_IOMMUFD: return "iommufd";
	case VFIO_BACKEND_LEGACY: return "legacy";
	case VFIO_BACKEND_AUTO: break;
	}
	return "auto";
}

/* bdf has a cdev this process may open (auto does not pick what it cannot use). */
static bool usable_cdev(const char *sysfs_root, const char *dev_root, const char *bdf)
{
	char cdev[32], path[256];

	if (sysfs_vfio_cdev(sysfs_root, bdf, cdev, sizeof(cdev)))
		return false;
	snprintf(path, sizeof(path), "%s/vfio/devices/%s", dev_root, cdev);
	return access(path, R_OK | W_OK) == 0;
}

int vfio_iommu_choose(enum vfio_backend asked, const char *sysfs_root, const char *dev_root,
		      const char (*bdfs)[BDF_LEN], unsigned int n, enum vfio_backend *chosen)
{
	char path[256];
	bool have_iommufd, all_cdevs = true;

	snprintf(path, sizeof(path), "%s/iommu", dev_root);
	have_iommufd = access(path, R_OK | W_OK) == 0;
	for (unsigned int i = 0; i < n; i++)
		all_cdevs &= usable_cdev(sysfs_root, dev_root, bdfs[i]);
	switch (asked) {
	case VFIO_BACKEND_IOMMUFD:
		/* Present but not ours to open: the backend says so when it tries. */
		if (access(path, F_OK)) {
			pr_err("--vfio-backend iommufd for %s: this kernel has no %s; it needs CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV (or use --vfio-backend legacy)",
			       n ? bdfs[0] : "the devices", path);
			return -ENODEV;
		}
		/* A device without a cdev is reported by the backend, by name. */
		*chosen = VFIO_BACKEND_IOMMUFD;
		return 0;
	case VFIO_BACKEND_LEGACY:
		*chosen = VFIO_BACKEND_LEGACY;
		return 0;
	case VFIO_BACKEND_AUTO:
		break;
	}
	*chosen = have_iommufd && all_cdevs ? VFIO_BACKEND_IOMMUFD : VFIO_BACKEND_LEGACY;
	pr_debug("--vfio-backend auto: %s (%s%s)", vfio_backend_name(*chosen),
		 have_iommufd ? "/dev/iommu usable" : "no usable /dev/iommu",
		 !have_iommufd ? "" : all_cdevs ? ", every device has a cdev" : ", a device has no usable cdev");
	return 0;
}

struct vfio_iommu *vfio_iommu_open(enum vfio_backend backend)
{
	return backend == VFIO_BACKEND_IOMMUFD ? vfio_iommufd_open() : vfio_container_open();
}

/*
 * Between bind and attach: the window msi asks for, on every device, when
 * the host lets the VMM move it. Returns 0 when the host's window stays
 * (host unchanged) or the new one is set (host's default windows gone,
 * the placed one recorded), <0 after an error line.
 */
static int place_msi_window(struct vfio_iommu *iommu, const struct vfio_msi_chooser *msi,
			    struct host_holes *host)
{
	struct host_holes *moved;
	bool movable;
	u64 start, size;
	int err;

	if (!msi || msi->mode == VFIO_MSI_HOST)
		return 0;
	movable = iommu->ops->msi_window_movable && iommu->ops->msi_window_movable(iommu);
	if (!movable && msi->mode == VFIO_MSI_AT) {
		pr_err("--msi-window ADDR: this host's IOMMU backend (%s) cannot move the MSI window; it needs iommufd with IOMMU_OPTION_SW_MSI_START (not in this kernel); use --msi-window auto or host",
		       iommu->ops->name);
		return -EOPNOTSUPP;
	}
	/* auto: nothing to move (no host window), or a host that cannot. */
	if (!movable || (msi->mode == VFIO_MSI_AUTO && !host->msi_window_size)) {
		pr_debug("MSI IOVA window: the host's (%s)",
			 movable ? "no default window to move" : "the kernel cannot move it");
		return 0;
	}
	moved = malloc(sizeof(*moved));
	if (!moved)
		return -ENOMEM;
	*moved = *host;
	host_holes_free_msi_windows(moved);
	err = msi->choose(msi->opaque, moved, host->msi_window_size, &start, &size);
	if (!err)
		err = iommu->ops->set_msi_window(iommu, start, size);
	if (!err) {
		moved->msi_window_placed = true;
		moved->msi_window_start = start;
		moved->msi_window_placed_size = size;
		*host = *moved;
	}
	free(moved);
	return err;
}

int vfio_iommu_attach_all(struct vfio_iommu *iommu, const char *sysfs_root,
			  const char (*bdfs)[BDF_LEN], unsigned int n,
			  const struct vfio_msi_chooser *msi, struct host_holes *host)
{
	struct iova_range ranges[32];
	int err, count;

	for (unsigned int i = 0; i < n && iommu->ops->bind; i++) {
		int group = sysfs_iommu_group(sysfs_root, bdfs[i]);

		if (group < 0)
			return group; /* vfio_collect_host_holes said why */
		err = iommu->ops->bind(iommu, bdfs[i], group);
		if (err)
			return err;
	}
	err = place_msi_window(iommu, msi, host);
	if (err)
		return err;
	for (unsigned int i = 0; i < n; i++) {
		int group = sysfs_iommu_group(sysfs_root, bdfs[i]);

		if (group < 0)
			return group;
		err = iommu->ops->attach(iommu, bdfs[i], group);
		if (err)
			return err;
	}
	/* The backend knows every attached device's limits: the planner must too. */
	count = iommu->ops->iova_ranges(iommu, ranges, ARRAY_SIZE(ranges));
	if (count <= 0)
		return count;
	err = host_add_iova_ranges(ranges, (unsigned int)count, iommu->ops->name, host);
	/* The IOAS's gap where the moved window now is: the plan keeps that window itself. */
	if (!err && host->msi_window_placed)
		host_holes_drop_inside(host, host->msi_window_start, host->msi_window_placed_size);
	return err;
}
