#include "vfio.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "iommu.h"
#include "pci_dev.h"
#include "sysfs.h"
#include "vmm/log.h"
#include "vmm/vm.h"

struct vfio_state {
	struct vfio_iommu iommu;
	struct vfio_pci_dev devs[MAX_VFIO];
	unsigned int ndevs;
	char bdfs[MAX_VFIO][BDF_LEN];
	u64 mapped_iova[GUEST_MEM_MAX_BANKS], mapped_size[GUEST_MEM_MAX_BANKS];
	unsigned int nmapped;
	int kvm_vfio_fd;
};

int vfio_prepare(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct iova_range ranges[32];
	struct vfio_state *s;
	int err, n;

	if (!cfg->nvfio)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->kvm_vfio_fd = -1;
	vm->vfio = s;
	err = vfio_container_open(&s->iommu);
	if (err)
		return err;
	for (unsigned int i = 0; i < cfg->nvfio; i++) {
		int group;

		if (pci_normalize_bdf(cfg->vfio[i], s->bdfs[i]))
			return -EINVAL; /* vfio_collect_host_holes said why */
		group = sysfs_iommu_group("/sys", s->bdfs[i]);
		if (group < 0)
			return group;
		err = s->iommu.ops->attach(&s->iommu, s->bdfs[i], group);
		if (err)
			return err;
	}
	/* The container knows every attached group's limits: the planner must too. */
	n = s->iommu.ops->iova_ranges(&s->iommu, ranges, 32);
	if (n > 0)
		err = host_add_iova_ranges(ranges, (unsigned int)n, "VFIO container", &vm->host);
	return err;
}

bool vfio_probe_iova_ranges(const struct vm_config *cfg, struct host_holes *host)
{
	enum log_level saved = log_threshold;
	struct vm vm = { .cfg = cfg };
	bool ok;

	if (!cfg->nvfio || access("/dev/vfio/vfio", R_OK | W_OK))
		return false;
	memcpy(&vm.host, host, sizeof(*host));
	log_threshold = LOG_QUIET;
	ok = vfio_prepare(&vm) == 0;
	log_threshold = saved;
	if (ok)
		memcpy(host, &vm.host, sizeof(*host));
	vfio_teardown(&vm);
	return ok;
}

static int map_guest_ram(struct vm *vm, struct vfio_state *s)
{
	for (unsigned int i = 0; i < vm->mem.nbanks; i++) {
		const struct guest_bank *b = &vm->mem.banks[i];
		int err;

		if (!b->dma)
			continue;
		err = s->iommu.ops->dma_map(&s->iommu, b->gpa, b->hva, b->size);
		if (err)
			return err;
		s->mapped_iova[s->nmapped] = b->gpa;
		s->mapped_size[s->nmapped++] = b->size;
	}
	return 0;
}

/* The KVM-VFIO device lets KVM see the groups (non-coherent DMA, for one). */
static int create_kvm_vfio_device(struct vm *vm, struct vfio_state *s)
{
	struct kvm_create_device create = { .type = KVM_DEV_TYPE_VFIO };

	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &create) < 0) {
		pr_err("cannot create the KVM-VFIO device: %s", strerror(errno));
		return -errno;
	}
	s->kvm_vfio_fd = (int)create.fd;
	for (unsigned int i = 0; i < s->iommu.ngroups; i++) {
		int32_t group_fd = s->iommu.group_fds[i];
		struct kvm_device_attr attr = {
			.group = KVM_DEV_VFIO_GROUP,
			.attr = KVM_DEV_VFIO_GROUP_ADD,
			.addr = (u64)(unsigned long)&group_fd,
		};

		if (ioctl(s->kvm_vfio_fd, KVM_SET_DEVICE_ATTR, &attr) < 0) {
			pr_err("KVM_DEV_VFIO_GROUP_ADD: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int vfio_attach(struct vm *vm)
{
	struct vfio_state *s = vm->vfio;
	int err;

	if (!s)
		return 0;
	err = map_guest_ram(vm, s);
	if (!err)
		err = create_kvm_vfio_device(vm, s);
	for (unsigned int i = 0; !err && i < vm->cfg->nvfio; i++) {
		struct vfio_pci_dev *d = &s->devs[i];

		err = vfio_pci_dev_open(d, vm, &s->iommu, s->bdfs[i]);
		s->ndevs++;
		if (!err)
			err = vfio_pci_dev_add(d);
	}
	return err;
}

void vfio_start(struct vm *vm)
{
	struct vfio_state *s = vm->vfio;

	for (unsigned int i = 0; s && i < s->ndevs; i++)
		vfio_intx_start(&s->devs[i]);
}

void vfio_teardown(struct vm *vm)
{
	struct vfio_state *s = vm->vfio;

	if (!s)
		return;
	for (unsigned int i = s->ndevs; i-- > 0;)
		vfio_pci_dev_close(&s->devs[i]);
	if (s->kvm_vfio_fd >= 0)
		close(s->kvm_vfio_fd);
	for (unsigned int i = s->nmapped; i-- > 0;)
		s->iommu.ops->dma_unmap(&s->iommu, s->mapped_iova[i], s->mapped_size[i]);
	if (s->iommu.ops)
		s->iommu.ops->destroy(&s->iommu);
	free(s);
	vm->vfio = NULL;
}
