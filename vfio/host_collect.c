#include "host_collect.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peers.h"
#include "sysfs.h"
#include "core/file.h"
#include "core/log.h"

static void warn_line(const char *message)
{
	pr_warn("%s", message);
}

static int add_reserved_file(const char *path, struct host_holes *out)
{
	char source[PLAN_LABEL_LEN / 2], copy[256];
	u8 *text;
	size_t len;
	int ret = file_read_all(path, "--reserved file", FILE_MAX_TEXT, &text, &len);

	if (ret < 0)
		return ret;
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(source, sizeof(source), "file %s", basename(copy));
	ret = host_parse_reserved_regions((const char *)text, len, source, out, warn_line);
	free(text);
	if (ret == -E2BIG)
		pr_err("too many reserved regions (more than %d)", PLAN_MAX_FORBIDDEN);
	return ret < 0 ? ret : 0;
}

int vfio_collect_host_holes(const char *const *reserved_files, unsigned int nreserved,
			    const char *const *devices, unsigned int ndevices,
			    const char *sysfs_root, struct host_holes *out)
{
	int groups[VFIO_MAX_DEVICES], ngroups = 0, err;
	char bdfs[VFIO_MAX_DEVICES][BDF_LEN];

	memset(out, 0, sizeof(*out));
	if (ndevices > VFIO_MAX_DEVICES)
		return -E2BIG;
	for (unsigned int i = 0; i < nreserved; i++) {
		err = add_reserved_file(reserved_files[i], out);
		if (err)
			return err;
	}
	for (unsigned int i = 0; i < ndevices; i++) {
		if (pci_normalize_bdf(devices[i], bdfs[i])) {
			pr_err("bad PCI address '%s'; use DOMAIN:BUS:DEVICE.FUNCTION, e.g. 0000:01:00.0",
			       devices[i]);
			return -EINVAL;
		}
	}
	for (unsigned int i = 0; i < ndevices; i++) {
		const char *bdf = bdfs[i];
		int group;
		bool seen = false;

		group = sysfs_iommu_group(sysfs_root, bdf);
		if (group == -ENOENT) {
			pr_err("no PCI device %s on this host (see lspci -D)", bdf);
			return group;
		}
		if (group < 0) {
			pr_err("%s has no IOMMU group: enable the IOMMU (intel_iommu=on or amd_iommu=on on the host kernel command line); on arm64 bind the device first with 'vmm vfio-bind %s'",
			       bdf, bdf);
			return group;
		}
		err = vfio_collect_device_bars(sysfs_root, bdf, out);
		if (err)
			return err;
		for (int g = 0; g < ngroups; g++)
			seen |= groups[g] == group;
		if (seen)
			continue;
		groups[ngroups++] = group;
		err = sysfs_add_group_regions(sysfs_root, group, out, warn_line);
		if (err) {
			pr_err("cannot read the reserved regions of IOMMU group %d: %s", group,
			       err == -EFBIG ? "larger than 1 MiB" : strerror(-err));
			return err;
		}
		err = vfio_collect_peer_holes(sysfs_root, group, (const char (*)[BDF_LEN])bdfs,
					      ndevices, out);
		if (err)
			return err;
	}
	return 0;
}
