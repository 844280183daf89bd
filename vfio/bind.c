#include "bind.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sysfs.h"
#include "core/log.h"

#define VFIO_PCI "vfio-pci"

extern char **environ;

/* "ROOT/bus/pci/devices/BDF/ATTR", or "ROOT/bus/pci/ATTR" without a bdf. */
static int sysfs_path(const struct vfio_bind_host *h, const char *bdf, const char *attr,
		      char *out, size_t len)
{
	int n;

	if (bdf)
		n = snprintf(out, len, "%s/bus/pci/devices/%s/%s", h->sysfs_root, bdf, attr);
	else
		n = snprintf(out, len, "%s/bus/pci/%s", h->sysfs_root, attr);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * One write() of the whole value: a sysfs store sees exactly what one
 * write passes it, and reports its verdict as that write's error.
 */
static int write_attr(const struct vfio_bind_host *h, const char *bdf, const char *attr,
		      const char *text)
{
	char path[PATH_MAX];
	size_t len = strlen(text);
	ssize_t n;
	int fd, err;

	err = sysfs_path(h, bdf, attr, path, sizeof(path));
	if (err)
		return err;
	/* No O_CREAT: every attribute exists on a real host. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	close(fd);
	if (!err && h->wrote)
		h->wrote(h->opaque, path, text);
	return err;
}

/* Prints why writing attr failed, as the one error line of the command. */
static int write_failed(const char *bdf, const char *attr, const char *text, int err)
{
	const char *hint = "";

	if (err == -EACCES || err == -EPERM)
		hint = "; run as root";
	else if (err == -ENOENT && !strcmp(attr, "driver_override"))
		hint = "; the kernel is too old for driver_override (3.16+)";
	pr_err("%s: writing '%s' to %s: %s%s", bdf, strcmp(text, "\n") ? text : "\\n", attr,
	       strerror(-err), hint);
	return err;
}

/* The driver bound to bdf in name ("" if none), or -errno. */
static int current_driver(const struct vfio_bind_host *h, const char *bdf, char *name,
			  size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;
	int err;

	err = sysfs_path(h, bdf, "driver", path, sizeof(path));
	if (err)
		return err;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno != ENOENT) {
			err = -errno;
			pr_err("%s: reading its driver link: %s", bdf, strerror(-err));
			return err;
		}
		name[0] = '\0';
		return 0;
	}
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len) {
		pr_err("%s: driver name '%s' is too long", bdf, base);
		return -ENAMETOOLONG;
	}
	strcpy(name, base);
	return 0;
}

static int find_device(const struct vfio_bind_host *h, const char *text, char bdf[BDF_LEN])
{
	char path[PATH_MAX];
	int err;

	if (pci_normalize_bdf(text, bdf)) {
		pr_err("'%s' is not a PCI address; expected e.g. 0000:01:00.0", text);
		return -EINVAL;
	}
	/* Every path we build then fits: the longest adds 46 characters. */
	if (strlen(h->sysfs_root) > PATH_MAX - 128) {
		pr_err("sysfs root '%s' is too long", h->sysfs_root);
		return -ENAMETOOLONG;
	}
	err = sysfs_path(h, bdf, "", path, sizeof(path));
	if (err)
		return err;
	if (access(path, F_OK)) {
		pr_err("no PCI device %s on this host (see lspci -D)", bdf);
		return -ENODEV;
	}
	return 0;
}

static bool vfio_pci_loaded(const struct vfio_bind_host *h)
{
	char path[PATH_MAX];

	return !sysfs_path(h, NULL, "drivers/" VFIO_PCI, path, sizeof(path)) &&
	       !access(path, F_OK);
}

int vfio_modprobe(void *opaque, const char *module)
{
	char *const argv[] = { "modprobe", (char *)module, NULL };
	posix_spawn_file_actions_t actions;
	int err, status;
	pid_t pid;

	/* Our own error line says what failed; modprobe's would be a second. */
	if (posix_spawn_file_actions_init(&actions))
		return -ENOMEM;
	err = posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) ||
	      posix_spawn_file_actions_adddup2(&actions, 1, 2) ? -ENOMEM : 0;
	if (!err)
		err = -posix_spawnp(&pid, "modprobe", &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	if (err)
		return err;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ENOENT;
}

static int need_vfio_pci(const struct vfio_bind_host *h)
{
	int err;

	if (vfio_pci_loaded(h))
		return 0;
	err = h->load_module ? h->load_module(h->opaque, VFIO_PCI) : -ENOSYS;
	if (!err && vfio_pci_loaded(h))
		return 0;
	pr_err("the vfio-pci driver is not loaded and 'modprobe vfio-pci' failed: load the vfio-pci module");
	return -ENODEV;
}

/*
 * The device is usable through its group's /dev/vfio/N (legacy API) and,
 * on a kernel with the VFIO cdev, /dev/vfio/devices/vfioM (iommufd): tell
 * the user which.
 */
static int report_bound(const struct vfio_bind_host *h, const char *bdf, const char *what)
{
	/* On arm64 the group exists only once a driver is bound: read it now. */
	int group = sysfs_iommu_group(h->sysfs_root, bdf);
	char cdev[32];

	if (group < 0) {
		printf("%s: %s, no IOMMU group\n", bdf, what);
		pr_warn("%s has no IOMMU group: VFIO needs the host IOMMU on (e.g. intel_iommu=on)",
			bdf);
		return 0;
	}
	if (sysfs_vfio_cdev(h->sysfs_root, bdf, cdev, sizeof(cdev)) == 0)
		printf("%s: %s, IOMMU group %d: /dev/vfio/%d, cdev /dev/vfio/devices/%s\n", bdf,
		       what, group, group, cdev);
	else
		printf("%s: %s, IOMMU group %d: /dev/vfio/%d\n", bdf, what, group, group);
	return 0;
}

int vfio_bind_on(const struct vfio_bind_host *h, const char *text)
{
	char bdf[BDF_LEN], was[64], now[64], what[128];
	int err;

	err = find_device(h, text, bdf);
	if (!err)
		err = current_driver(h, bdf, was, sizeof(was));
	if (err)
		return err;
	if (!strcmp(was, VFIO_PCI))
		return report_bound(h, bdf, "already bound to vfio-pci");
	err = need_vfio_pci(h);
	if (err)
		return err;

	/*
	 * The override first: from then on only vfio-pci may probe the
	 * device, so the old driver cannot grab it back in between.
	 */
	err = write_attr(h, bdf, "driver_override", VFIO_PCI);
	if (err)
		return write_failed(bdf, "driver_override", VFIO_PCI, err);
	if (*was) {
		err = write_attr(h, bdf, "driver/unbind", bdf);
		if (err) {
			write_attr(h, bdf, "driver_override", "\n");
			return write_failed(bdf, "driver/unbind", bdf, err);
		}
	}
	err = write_attr(h, NULL, "drivers_probe", bdf);
	if (!err)
		err = current_driver(h, bdf, now, sizeof(now));
	if (!err && strcmp(now, VFIO_PCI))
		err = -ENODEV;
	if (err) {
		/* Give the device back to its host driver rather than leave it driverless. */
		write_attr(h, bdf, "driver_override", "\n");
		write_attr(h, NULL, "drivers_probe", bdf);
		if (current_driver(h, bdf, now, sizeof(now)) || !*now)
			strcpy(now, "no driver");
		pr_err("%s: vfio-pci did not take the device%s%s (see dmesg); it is back on %s",
		       bdf, err == -ENODEV ? "" : ": ", err == -ENODEV ? "" : strerror(-err), now);
		return err;
	}
	if (*was)
		snprintf(what, sizeof(what), "bound to vfio-pci (was %s)", was);
	else
		snprintf(what, sizeof(what), "bound to vfio-pci");
	return report_bound(h, bdf, what);
}

int vfio_unbind_on(const struct vfio_bind_host *h, const char *text)
{
	char bdf[BDF_LEN], was[64], now[64];
	int err;

	err = find_device(h, text, bdf);
	if (!err)
		err = current_driver(h, bdf, was, sizeof(was));
	if (err)
		return err;
	if (*was && strcmp(was, VFIO_PCI)) {
		printf("%s: not bound to vfio-pci (driver %s), nothing to do\n", bdf, was);
		return 0;
	}

	/* A bare newline clears the override, so any driver may probe again. */
	err = write_attr(h, bdf, "driver_override", "\n");
	if (err)
		return write_failed(bdf, "driver_override", "\n", err);
	if (*was) {
		err = write_attr(h, bdf, "driver/unbind", bdf);
		if (err)
			return write_failed(bdf, "driver/unbind", bdf, err);
	}
	err = write_attr(h, NULL, "drivers_probe", bdf);
	if (err)
		return write_failed(bdf, "drivers_probe", bdf, err);
	err = current_driver(h, bdf, now, sizeof(now));
	if (err)
		return err;
	printf("%s: %s, %s%s\n", bdf, *was ? "released from vfio-pci" : "had no driver",
	       *now ? "now bound to " : "no host driver took it", now);
	return 0;
}

int vfio_bind(const char *sysfs_root, const char *bdf)
{
	const struct vfio_bind_host host = {
		.sysfs_root = sysfs_root,
		.load_module = vfio_modprobe,
	};

	return vfio_bind_on(&host, bdf);
}

int vfio_unbind(const char *sysfs_root, const char *bdf)
{
	const struct vfio_bind_host host = { .sysfs_root = sysfs_root };

	return vfio_unbind_on(&host, bdf);
}
