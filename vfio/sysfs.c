#include "sysfs.h"

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
	u8 *text;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/reserved_regions", root, group);
	ret = file_read_all(path, NULL, FILE_MAX_TEXT, &text, &len);
	if (ret < 0)
		return ret;
	snprintf(source, sizeof(source), "iommu group %d", group);
	ret = host_parse_reserved_regions((const char *)text, len, source, out, warn);
	free(text);
	return ret < 0 ? ret : 0;
}
