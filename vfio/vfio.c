#include "vfio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iommu.h"
#include "pci_dev.h"
#include "sysfs.h"
#include "core/log.h"
#include "core/size.h"
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
			  unsigned int ndevices, enum vfio_backend asked,
			  const struct vfio_msi_chooser *msi, struct host_holes *host)
{
	enum vfio_backend backend;
	int err;

	for (unsigned int i = 0; i < ndevices; i++) {
		if (pci_normalize_bdf(devices[i], s->bdfs[i]))
			return -EINVAL; /* vfio_collect_host_holes said why */
		s->nbdfs++;
	}
	err = vfio_iommu_choose(asked, "/sys", "/dev", s->bdfs, s->nbdfs, &backend);
	if (err)
		return err;
	s->iommu = vfio_iommu_open(backend);
	if (!s->iommu)
		return -ENODEV;
	pr_debug("IOMMU backend: %s", vfio_backend_name(backend));
	return vfio_iommu_attach_all(s->iommu, "/sys", s->bdfs, s->nbdfs, msi, host);
}

int vfio_open(const char *const *devices, unsigned int ndevices, enum vfio_backend backend,
	      const struct vfio_msi_chooser *msi, struct host_holes *host,
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
	return attach_devices(s, devices, ndevices, backend, msi, host);
}

int vfio_probe_iova_ranges(const char *const *devices, unsigned int ndevices,
			   enum vfio_backend asked, const struct vfio_msi_chooser *msi,
			   struct host_holes *host, struct vfio_probe *out)
{
	char bdfs[VFIO_MAX_DEVICES][BDF_LEN];
	struct host_holes probed = *host;
	struct vfio_state *s;
	int err;

	out->backend = VFIO_BACKEND_AUTO;
	out->checked = false;
	out->source = NULL;
	if (!ndevices)
		return 0;
	if (ndevices > VFIO_MAX_DEVICES)
		return -E2BIG;
	for (unsigned int i = 0; i < ndevices; i++)
		if (pci_normalize_bdf(devices[i], bdfs[i]))
			return -EINVAL;
	/* The choice itself may fail loudly: iommufd asked of a kernel without it. */
	err = vfio_iommu_choose(asked, "/sys", "/dev", bdfs, ndevices, &out->backend);
	if (err)
		return err;
	/* Failing from here is expected (not bound, in use, not root): `run` reports it. */
	log_quiet_begin();
	if (vfio_open(devices, ndevices, out->backend, msi, &probed, &s) == 0) {
		out->checked = true;
		out->source = s->iommu->ops->name;
		*host = probed;
	}
	vfio_close(s);
	log_quiet_end();
	return 0;
}

static double seconds_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * Every RAM bank at IOVA = guest physical address. The pages are faulted
 * in first, in parallel: the map would fault them one by one under the
 * IOMMU's lock. Both times are logged (make bench).
 */
static int map_guest_ram(struct vfio_state *s, struct vm *vm)
{
	double start = seconds_now();
	int threads = guest_mem_populate_dma(&vm->mem, 0);
	u64 total = 0;

	if (threads < 0)
		return threads;
	if (threads)
		pr_info("guest RAM faulted in for DMA: %.1f ms with %d threads",
			(seconds_now() - start) * 1e3, threads);
	start = seconds_now();

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
		total += b->size;
	}
	pr_info("guest RAM DMA-mapped: %llu MiB in %u banks in %.1f ms (%s)",
		(unsigned long long)(total >> 20), s->nmapped, (seconds_now() - start) * 1e3,
		vfio_backend_name(s->iommu->ops->backend));
	return 0;
}

/* Every device's BARs in the guest's windows at once, as `vmm plan` shows them. */
static int place_bars(struct vfio_state *s, struct pci_bus *bus)
{
	struct pci_bar_slot slots[VFIO_MAX_DEVICES * PCI_NUM_BARS];
	struct vfio_bar *owners[VFIO_MAX_DEVICES * PCI_NUM_BARS];
	unsigned int n = 0, failed;
	char sz[32], wsz[32];

	for (unsigned int i = 0; i < s->ndevs; i++)
		for (unsigned int b = 0; b < PCI_NUM_BARS; b++)
			if (s->devs[i].bars[b].present) {
				owners[n] = &s->devs[i].bars[b];
				slots[n] = (struct pci_bar_slot){ owners[n]->size, owners[n]->is64, 0 };
				n++;
			}
	if (pci_place_bars(&bus->mmio32, &bus->mmio64, slots, n, &failed)) {
		const struct pci_window *w = slots[failed].is64 && bus->mmio64.size ? &bus->mmio64 :
										      &bus->mmio32;

		pr_err("%s BAR%u (%s) does not fit the PCI %s-bit MMIO window (%s at 0x%llx) with the other BARs passed through",
		       owners[failed]->owner->bdf, owners[failed]->index,
		       format_size(slots[failed].size, sz, sizeof(sz)),
		       w == &bus->mmio64 ? "64" : "32", format_size(w->size, wsz, sizeof(wsz)),
		       (unsigned long long)w->base);
		return -ENOSPC;
	}
	for (unsigned int i = 0; i < n; i++)
		owners[i]->guest_addr = slots[i].addr;
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
			err = vfio_pci_dev_probe(d, bus);
	}
	if (!err)
		err = place_bars(s, bus);
	for (unsigned int i = 0; !err && i < s->ndevs; i++)
		err = vfio_pci_dev_add(&s->devs[i]);
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
