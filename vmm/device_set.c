#include "device_set.h"

#include <errno.h>
#include <stdlib.h>

#include "core/console.h"
#include "core/log.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/console.h"
#include "devices/virtio/net.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/virtio_dev.h"

#define MAX_VIRTIO_DEVICES 32

struct device_set {
	struct vm *vm;
	struct pci_bus *bus;
	struct virtio_dev *devs[MAX_VIRTIO_DEVICES];
	unsigned int n;
};

/* Puts dev on the bus and remembers it for teardown. */
static int add(struct device_set *set, struct virtio_dev *dev)
{
	int err;

	if (set->n == MAX_VIRTIO_DEVICES)
		return -E2BIG;
	err = virtio_pci_add(set->vm, set->bus, dev);
	if (!err)
		set->devs[set->n++] = dev;
	return err;
}

void device_set_destroy(struct device_set *set)
{
	if (!set)
		return;
	for (unsigned int i = set->n; i-- > 0;)
		virtio_pci_remove(set->devs[i]);
	free(set);
}

int device_set_create(struct vm *vm, struct pci_bus *bus, struct console *con,
		      const struct vm_config *cfg, struct device_set **out)
{
	struct device_set *set = calloc(1, sizeof(*set));
	struct virtio_dev *dev;
	int err = 0;

	*out = set;
	if (!set)
		return -ENOMEM;
	set->vm = vm;
	set->bus = bus;

	if (!cfg->no_rng) {
		err = virtio_rng_create(vm, &dev);
		if (!err)
			err = add(set, dev);
	}
	if (!err && cfg->console == CONSOLE_VIRTIO) {
		err = virtio_console_create(vm, con, &dev);
		if (!err)
			err = add(set, dev);
		if (!err)
			err = console_attach_input(con, virtio_console_receive, dev);
	}
	for (unsigned int i = 0; !err && i < cfg->ndisks; i++) {
		struct disk_config disk = cfg->disks[i];

		/* One queue per vCPU: each CPU's block layer queue gets its own ring and interrupt. */
		if (!disk.queues)
			disk.queues = MIN(cfg->ncpus, VIRTIO_BLK_MAX_QUEUES);
		err = virtio_blk_create(vm, &disk, i, &dev);
		if (!err)
			err = add(set, dev);
	}
	for (unsigned int i = 0; !err && i < cfg->nnets; i++) {
		err = virtio_net_create(vm, &cfg->nets[i], i, &dev);
		if (!err)
			err = add(set, dev);
	}
	return err;
}
