#include "vfio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommu.h"
#include "pci_dev.h"
#include "sysfs.h"
#include "core/log.h"
#include "core/vm.h"

struct vfio_state {
	struct vfio_iommu *iommu;
	struct vfio_pci_dev devs[VFIO_MAX_DEVICES];
	unsigned int ndevs;       /* opened so far */
	char bdfs[VFIO_MAX_DEVICES][BDF_LEN];
	unsigned int nbdfs;
	u64 mapped_iova[GUEST_MEM_MAX_BANKS], mapped_size[GUEST_MEM_MAX_BANKS];
	unsigned int nmapped;
};

static int attach_devices(struct vfio_state *s, const char *const *devices,
			  unsigned int ndevices, struct host_holes *host)
{
	struct iova_range ranges[32];
	int err, n;

	s->iommu = vfio_container_open();
	if (!s->iommu)
		return -ENODEV;
	for (unsigned int i = 0; i < ndevices; i++) {
		int group;

		if (pci_normalize_bdf(devices[i], s->bdfs[i]))
			return -EINVAL; /* vfio_collect_host_holes said why */
		s->nbdfs++;
		group = sysfs_iommu_group("/sys", s->bdfs[i]);
		if (group < 0)
			return group;
		err = s->iommu->ops->attach(s->iommu, s->bdfs[i], group);
		if (err)
			return err;
	}
	/* The backend knows every attached device's limits: the planner must too. */
	n = s->iommu->ops->iova_ranges(s->iommu, ranges, ARRAY_SIZE(ranges));
	return n > 0 ? host_add_iova_ranges(ranges, (unsigned int)n, s->iommu->ops->name, host) : 0;
}

int vfio_open(const char *const *devices, unsigned int ndevices, struct host_holes *host,
	      struct vfio_state **out)
{
	struct vfio_state *s;

	*out = NULL;
	if (!ndevices)
		return 0;
	if (ndevices > VFIO_MAX_DEVICES)
		return -E2BIG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*out = s;
	return attach_devices(s, devices, ndevices, host);
}

bool vfio_probe_iova_ranges(const char *const *devices, unsigned int ndevices,
			    struct host_holes *host)
{
	struct host_holes probed = *host;
	struct vfio_state *s;
	bool ok;

	if (!ndevices || access("/dev/vfio/vfio", R_OK | W_OK))
		return false;
	/* Failing here is expected (not bound, in use): `run` reports it. */
	log_quiet_begin();
	ok = vfio_open(devices, ndevices, &probed, &s) == 0;
	vfio_close(s);
	log_quiet_end();
	if (ok)
		*host = probed;
	return ok;
}

static int map_guest_ram(struct vfio_state *s, struct vm *vm)
{
	for (unsigned int i = 0; i < vm->mem.nbanks; i++) {
		const struct guest_bank *b = &vm->mem.banks[i];
		int err;

		if (!b->dma)
			continue;
		err = s->iommu->ops->dma_map(s->iommu, b->gpa, b->hva, b->size);
		if (err)
			return err;
		s->mapped_iova[s->nmapped] = b->gpa;
		s->mapped_size[s->nmapped++] = b->size;
	}
	return 0;
}

int vfio_attach(struct vfio_state *s, struct vm *vm, struct pci_bus *bus)
{
	int err;

	if (!s)
		return 0;
	err = map_guest_ram(s, vm);
	if (!err)
		err = s->iommu->ops->kvm_attach(s->iommu, vm);
	for (unsigned int i = 0; !err && i < s->nbdfs; i++) {
		struct vfio_pci_dev *d = &s->devs[i];

		err = vfio_pci_dev_open(d, vm, s->iommu, s->bdfs[i]);
		s->ndevs++;
		if (!err)
			err = vfio_pci_dev_add(d, bus);
	}
	return err;
}

void vfio_start(struct vfio_state *s)
{
	for (unsigned int i = 0; s && i < s->ndevs; i++)
		vfio_intx_start(&s->devs[i]);
}

void vfio_detach(struct vfio_state *s)
{
	if (!s)
		return;
	for (unsigned int i = s->ndevs; i-- > 0;)
		vfio_pci_dev_close(&s->devs[i]);
	s->ndevs = 0;
	for (unsigned int i = s->nmapped; i-- > 0;)
		s->iommu->ops->dma_unmap(s->iommu, s->mapped_iova[i], s->mapped_size[i]);
	s->nmapped = 0;
}

void vfio_close(struct vfio_state *s)
{
	if (!s)
		return;
	vfio_detach(s);
	if (s->iommu)
		s->iommu->ops->destroy(s->iommu);
	free(s);
}
