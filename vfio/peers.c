#include "peers.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_bars.h"
#include "core/file.h"
#include "core/log.h"

/* bdf's resources; 0 lines when it has no resource file. */
static int read_resources(const char *root, const char *bdf, struct pci_resource *res)
{
	char path[512], why[96];
	size_t len;
	u8 *text;
	int n;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/resource", root, bdf);
	if (file_read_all(path, NULL, FILE_MAX_TEXT, &text, &len) < 0)
		return 0;
	n = host_parse_pci_resources((const char *)text, len, res, PCI_RES_MAX, why, sizeof(why));
	free(text);
	if (n < 0)
		pr_err("%s: cannot read %s: %s", bdf, path, why);
	return n;
}

/* PCI-to-PCI bridges (class 0x0604) forward their windows. */
static bool is_bridge(const char *root, const char *bdf)
{
	char path[600], text[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%.15s/class", root, bdf);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(text, sizeof(text), f))
		text[0] = '\0';
	fclose(f);
	return (strtoul(text, NULL, 16) >> 8) == 0x0604;
}

int vfio_collect_device_bars(const char *root, const char *bdf, struct host_holes *out)
{
	struct pci_resource res[PCI_RES_MAX];
	int n = read_resources(root, bdf, res);

	if (n < 0)
		return n;
	for (int i = 0; i < n && i < 6; i++) {
		struct host_bar *b;

		if (!pci_resource_is_mmio(&res[i]))
			continue;
		if (out->nbars == HOST_MAX_BARS) {
			pr_err("too many BARs in the devices passed through (more than %d)", HOST_MAX_BARS);
			return -E2BIG;
		}
		b = &out->bars[out->nbars++];
		snprintf(b->bdf, sizeof(b->bdf), "%s", bdf);
		b->index = (unsigned int)i;
		b->start = res[i].start;
		b->size = res[i].size;
		b->is64 = res[i].flags & PCI_RES_MEM_64;
		b->prefetch = res[i].flags & PCI_RES_PREFETCH;
	}
	return 0;
}

static int add_hole(struct host_holes *out, const struct pci_resource *r, const char *label)
{
	struct plan_forbidden *h;

	if (out->n == PLAN_MAX_FORBIDDEN) {
		pr_err("too many host holes (more than %d) with the peers of the IOMMU group",
		       PLAN_MAX_FORBIDDEN);
		return -E2BIG;
	}
	h = &out->holes[out->n++];
	memset(h, 0, sizeof(*h));
	h->start = r->start;
	h->size = r->size;
	snprintf(h->label, sizeof(h->label), "%s", label);
	return 0;
}

/* The holes one member of the group adds. */
static int add_member(const char *root, const char *member, bool has_assigned_peer,
		      struct host_holes *out)
{
	struct pci_resource res[PCI_RES_MAX];
	bool bridge = is_bridge(root, member);
	char label[PLAN_LABEL_LEN];
	int n = read_resources(root, member, res), err = 0;

	for (int i = 0; i < n && !err; i++) {
		if (!pci_resource_is_mmio(&res[i]))
			continue;
		if (i < 6 && has_assigned_peer) {
			snprintf(label, sizeof(label), "peer BAR %.15s BAR%d", member, i);
			err = add_hole(out, &res[i], label);
		} else if (i >= PCI_RES_BRIDGE_FIRST && bridge) {
			snprintf(label, sizeof(label), "bridge window %.15s", member);
			err = add_hole(out, &res[i], label);
		}
	}
	return n < 0 ? n : err;
}

int vfio_collect_peer_holes(const char *root, int group, const char (*assigned)[BDF_LEN],
			    unsigned int nassigned, struct host_holes *out)
{
	char path[512], members[32][BDF_LEN];
	unsigned int nmembers = 0;
	struct dirent *e;
	int err = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", root, group);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((e = readdir(dir)) && nmembers < ARRAY_SIZE(members))
		if (e->d_name[0] != '.' && strlen(e->d_name) < BDF_LEN)
			snprintf(members[nmembers++], BDF_LEN, "%.15s", e->d_name);
	closedir(dir);
	/* Alone in its group: isolated, nothing to avoid. */
	if (nmembers < 2)
		return 0;
	for (unsigned int m = 0; m < nmembers && !err; m++) {
		bool peer = false;

		/* A member's BARs are in the way of every assigned device but itself. */
		for (unsigned int a = 0; a < nassigned; a++)
			peer |= strcmp(assigned[a], members[m]) != 0 &&
				sysfs_iommu_group(root, assigned[a]) == group;
		err = add_member(root, members[m], peer, out);
	}
	return err;
}
