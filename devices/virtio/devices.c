/* Which virtio devices a VM gets, from its configuration. */
#include "devices.h"

#include "blk.h"
#include "console.h"
#include "rng.h"
#include "virtio_dev.h"
#include "vmm/log.h"
#include "vmm/vm.h"

int virtio_devices_add(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct virtio_dev *dev;
	int err = 0;

	if (!cfg->no_rng) {
		err = virtio_rng_create(vm, &dev);
		if (!err)
			err = virtio_pci_add(vm, dev);
	}
	if (!err && cfg->console == CONSOLE_VIRTIO) {
		err = virtio_console_create(vm, &dev);
		if (!err)
			err = virtio_pci_add(vm, dev);
	}
	for (unsigned int i = 0; !err && i < cfg->ndisks; i++) {
		err = virtio_blk_create(vm, &cfg->disks[i], i, &dev);
		if (!err)
			err = virtio_pci_add(vm, dev);
	}
	/* virtio-net (--net) is added here next. */
	return err;
}
