/*
 * virtio-blk (virtio 1.2, 5.2) on a raw image file or block device, with
 * the I/O done by io_uring. The device never writes a request's status
 * before the host kernel has completed its data transfer.
 */
#ifndef DEVICES_VIRTIO_BLK_H
#define DEVICES_VIRTIO_BLK_H

#include "devices/virtio/virtio_dev.h"

struct vm;

/* --disk PATH[,ro][,queues=N] */
struct disk_config {
	const char *path;
	bool readonly;
	unsigned int queues; /* request queues; 0: one (the composition picks one per vCPU) */
};

/*
 * Request queues per disk: the transport's limit (one MSI-X vector per
 * queue plus one for configuration changes, 65 of the 512 its table
 * holds). More queues than vCPUs buy nothing: Linux maps queues to CPUs.
 */
#define VIRTIO_BLK_MAX_QUEUES 64

#define VIRTIO_BLK_QUEUE_SIZE 256
#define VIRTIO_BLK_RING_ENTRIES 128
/* How long a reset or teardown waits for the backing store (see blk_drain). */
#define BLK_DRAIN_TIMEOUT_MS 5000

/*
 * Opens disk->path and builds the device for --disk number index (which
 * names its serial, "vmm-disk<index>"). The caller adds it to a transport
 * with virtio_pci_add(); ops->destroy frees it. Returns 0 or -errno after
 * printing one line that names the file.
 */
int virtio_blk_create(struct vm *vm, const struct disk_config *disk, unsigned int index,
		      struct virtio_dev **out);

#endif
