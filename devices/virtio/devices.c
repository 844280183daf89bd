/* Which virtio devices a VM gets, from its configuration. */
#include "devices.h"

#include <errno.h>
#include <stdlib.h>

#include "blk.h"
#include "console.h"
#include "net.h"
#include "rng.h"
#include "virtio_dev.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define MAX_VIRTIO_DEVICES 32

struct virtio_devices {
	struct virtio_dev *devs[MAX_VIRTIO_DEVICES];
	unsigned int n;
};

/* Puts dev on the bus and remembers it for teardown. */
static int add(struct vm *vm, struct virtio_dev *dev)
{
	int err;

	if (vm->virtio->n == MAX_VIRTIO_DEVICES)
		return -E2BIG;
	err = virtio_pci_add(vm, dev);
	if (!err)
		vm->virtio->devs[vm->virtio->n++] = dev;
	return err;
}

void virtio_devices_destroy(struct vm *vm)
{
	if (!vm->virtio)
		return;
	for (unsigned int i = vm->virtio->n; i-- > 0;)
		virtio_pci_remove(vm->virtio->devs[i]);
	free(vm->virtio);
	vm->virtio = NULL;
}

int virtio_devices_add(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct virtio_dev *dev;
	int err = 0;

	vm->virtio = calloc(1, sizeof(*vm->virtio));
	if (!vm->virtio)
		return -ENOMEM;

	if (!cfg->no_rng) {
		err = virtio_rng_create(vm, &dev);
		if (!err)
			err = add(vm, dev);
	}
	if (!err && cfg->console == CONSOLE_VIRTIO) {
		err = virtio_console_create(vm, &dev);
		if (!err)
			err = add(vm, dev);
	}
	for (unsigned int i = 0; !err && i < cfg->ndisks; i++) {
		err = virtio_blk_create(vm, &cfg->disks[i], i, &dev);
		if (!err)
			err = add(vm, dev);
	}
	for (unsigned int i = 0; !err && i < cfg->nnets; i++) {
		err = virtio_net_create(vm, &cfg->nets[i], i, &dev);
		if (!err)
			err = add(vm, dev);
	}
	return err;
}
