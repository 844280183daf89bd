#include "sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"

int pci_normalize_bdf(const char *text, char out[BDF_LEN])
{
	unsigned int domain = 0, bus, dev, fn;
	char tail;

	if (sscanf(text, "%4x:%2x:%2x.%1x%c", &domain, &bus, &dev, &fn, &tail) != 4 &&
	    (domain = 0, sscanf(text, "%2x:%2x.%1x%c", &bus, &dev, &fn, &tail) != 3))
		return -EINVAL;
	if (dev > 31 || fn > 7 || strchr(text, ' '))
		return -EINVAL;
	snprintf(out, BDF_LEN, "%04x:%02x:%02x.%x", domain, bus, dev, fn);
	return 0;
}

int sysfs_iommu_group(const char *root, const char *bdf)
{
	char path[512], target[512];
	ssize_t n;
	long group;
	char *end;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", root, bdf);
	if (access(path, F_OK))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group", root, bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -ENODEV;
	target[n] = '\0';
	group = strtol(basename(target), &end, 10);
	if (*end || group < 0 || group > 1000000)
		return -ENODEV;
	return (int)group;
}

int sysfs_add_group_regions(const char *root, int group, struct host_holes *out,
			    host_warn_fn warn)
{
	char path[512], source[64];
	unsigned int from;
	u8 *text;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/reserved_regions", root, group);
	ret = file_read_all(path, NULL, FILE_MAX_TEXT, &text, &len);
	if (ret < 0)
		return ret;
	snprintf(source, sizeof(source), "iommu group %d", group);
	from = out->n;
	ret = host_parse_reserved_regions((const char *)text, len, source, out, warn);
	free(text);
	if (ret < 0)
		return ret;
	/* This host's own windows: the VMM may move them (reserved files' may not). */
	host_mark_msi_windows(out, from, source);
	return 0;
}

int sysfs_vfio_cdev(const char *root, const char *bdf, char *name, size_t len)
{
	char path[512];
	struct dirent *d;
	int err = -ENOENT;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vfio-dev", root, bdf);
	dir = opendir(path);
	if (!dir)
		return -ENOENT;
	/* One entry, vfioN (Documentation/driver-api/vfio.rst, "VFIO device cdev"). */
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "vfio", 4) || strspn(d->d_name + 4, "0123456789") == 0 ||
		    d->d_name[4 + strspn(d->d_name + 4, "0123456789")])
			continue;
		snprintf(name, len, "%s", d->d_name);
		err = 0;
		break;
	}
	closedir(dir);
	return err;
}

void sysfs_pci_driver(const char *root, const char *bdf, char *name, size_t len)
{
	char path[512], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", root, bdf);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	snprintf(name, len, "%s", n > 0 ? basename(link) : "");
}

void sysfs_describe_group(const char *root, int group, char *buf, size_t len)
{
	char path[512], driver[64];
	struct dirent *d;
	size_t used = 0;
	DIR *dir;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", root, group);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir)) && used + 64 < len) {
		if (d->d_name[0] == '.')
			continue;
		sysfs_pci_driver(root, d->d_name, driver, sizeof(driver));
		used += (size_t)snprintf(buf + used, len - used, "%s%s (%s)", used ? ", " : "",
					 d->d_name, driver[0] ? driver : "no driver");
	}
	closedir(dir);
}
