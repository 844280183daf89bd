/* Which virtio devices a VM gets, from its configuration. */
#include "devices.h"

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
	/* virtio-blk (--disk) and virtio-net (--net) are added here next. */
	return err;
}
