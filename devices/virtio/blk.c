/*
 * virtio-blk (virtio 1.2, 5.2): one or more request queues
 * (VIRTIO_BLK_F_MQ, one per vCPU by default, so that each vCPU's block
 * layer queue has its own ring, kick and interrupt), each served by its
 * own io_uring. queue_notify turns every available request into an SQE
 * that reads or writes straight between the image and guest memory (the
 * chain's host pointers), and submits them in one batch; the ring's
 * eventfd, on the main event loop, reaps the completions, writes each
 * status byte and returns the requests to the driver.
 *
 * The status byte is written only after the request's CQE: a VMM killed
 * at any point never tells the guest that data reached the image when it
 * did not.
 *
 * Here: the device (configuration, virtio_dev_ops, creation); requests
 * are blk_request.c, the io_uring blk_ring.c (blk_queue.h joins them).
 */
#include "blk.h"
#include "blk_queue.h"
#include "disk_image.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/vm.h"

/* --- virtio_dev_ops -------------------------------------------------------- */

static void blk_queue_notify(struct virtio_dev *dev, unsigned int queue)
{
	struct virtio_blk *blk = dev->priv;
	struct blk_queue *q;

	if (queue >= blk->nqueues)
		return;
	q = &blk->queues[queue];
	blk_process_queue(q);
	blk_submit_and_reap(q);
	blk_notify(q);
}

/* Main loop: a queue's ring posted completions (or a submission is retried). */
static void blk_event(void *opaque, u32 events)
{
	struct blk_queue *q = opaque;
	eventfd_t count;

	(void)events;
	(void)eventfd_read(q->efd, &count);
	if (!q->ring_ok)
		return;
	blk_reap(q);
	if (q->stalled)
		blk_process_queue(q);
	blk_submit_and_reap(q);
	blk_notify(q);
}

static void blk_reset(struct virtio_dev *dev)
{
	struct virtio_blk *blk = dev->priv;

	blk_drain(blk);
	blk->broken = false;
	for (unsigned int i = 0; i < blk->nqueues; i++) {
		blk->queues[i].stalled = false;
		blk->queues[i].pushed = false;
	}
}

static int blk_activate(struct virtio_dev *dev)
{
	struct virtio_blk *blk = dev->priv;

	if (blk->abandoned) {
		pr_err("virtio-blk: %s: the disk lost its I/O ring (its backing store hung or failed); restart the VMM to use it again",
		       blk->path);
		return -EIO;
	}

	/* A slot per descriptor head: the ring can never hold more requests. */
	for (unsigned int i = 0; i < blk->nqueues; i++) {
		if (dev->queues[i].size > blk->queues[i].nslots) {
			pr_err("virtio-blk: %s: queue %u size %u above the %u offered", blk->path, i,
			       dev->queues[i].size, blk->queues[i].nslots);
			return -EINVAL;
		}
	}
	return 0;
}

static void blk_config_read(struct virtio_dev *dev, u32 offset, void *data, u32 len)
{
	const struct virtio_blk *blk = dev->priv;

	memset(data, 0, len);
	if (offset < sizeof(blk->config))
		memcpy(data, (const u8 *)&blk->config + offset,
		       MIN(len, sizeof(blk->config) - offset));
}

static void blk_free_queue(struct blk_queue *q)
{
	if (q->efd_in_loop)
		event_loop_remove(&q->blk->dev.vm->loop, q->efd);
	if (q->ring_ok)
		io_uring_queue_exit(&q->ring);
	if (q->efd >= 0)
		close(q->efd);
	free(q->slots);
	free(q->free_list);
}

static void blk_free(struct virtio_blk *blk)
{
	for (unsigned int i = 0; blk->queues && i < blk->nqueues; i++)
		blk_free_queue(&blk->queues[i]);
	free(blk->queues);
	if (blk->fd >= 0)
		close(blk->fd);
	free(blk);
}

static void blk_destroy(struct virtio_dev *dev)
{
	struct virtio_blk *blk = dev->priv;

	/* At -d: what a disk still held when the VMM stopped (a guest stuck on it). */
	for (unsigned int i = 0; i < blk->nqueues; i++) {
		struct blk_queue *q = &blk->queues[i];

		pr_debug("virtio-blk: %s: queue %u: %u requests in flight, %u SQEs unsubmitted, %u CQEs unreaped%s%s",
			 blk->path, i, blk_inflight(q), q->ring_ok ? io_uring_sq_ready(&q->ring) : 0,
			 q->ring_ok ? io_uring_cq_ready(&q->ring) : 0, q->stalled ? ", stalled" : "",
			 blk->broken ? ", broken" : "");
	}
	blk_drain(blk);
	blk_free(blk);
}

static const struct virtio_dev_ops blk_ops = {
	.config_read = blk_config_read,
	/* No config_write: every field we offer is read-only (no VIRTIO_BLK_F_CONFIG_WCE). */
	.activate = blk_activate,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
	.destroy = blk_destroy,
};

/* --- creation ------------------------------------------------------------ */

static int blk_open_image(struct virtio_blk *blk, const struct disk_config *disk)
{
	u64 size = 0;
	int err = disk_image_open(disk->path, disk->readonly, &blk->fd, &size);

	if (err)
		return err;
	/* The capacity is counted in 512-byte sectors whatever blk_size says (5.2.4). */
	if (size % BLK_SECTOR_SIZE)
		pr_warn("virtio-blk: %s is %llu bytes, not a multiple of 512: the guest sees %llu bytes",
			disk->path, (unsigned long long)size,
			(unsigned long long)ALIGN_DOWN(size, BLK_SECTOR_SIZE));
	blk->capacity = size / BLK_SECTOR_SIZE;
	return 0;
}

static int blk_setup_queue(struct blk_queue *q, struct vm *vm)
{
	const char *path = q->blk->path;
	int err;

	q->nslots = VIRTIO_BLK_QUEUE_SIZE;
	q->slots = calloc(q->nslots, sizeof(*q->slots));
	q->free_list = calloc(q->nslots, sizeof(*q->free_list));
	if (!q->slots || !q->free_list)
		return -ENOMEM;
	blk_reset_slots(q);
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		err = -errno;
		pr_err("virtio-blk: %s: eventfd: %s", path, strerror(-err));
		return err;
	}
	err = blk_ring_init(q);
	if (err)
		return err;
	err = event_loop_add(&vm->loop, q->efd, EPOLLIN, blk_event, q);
	if (err) {
		pr_err("virtio-blk: %s: cannot watch its completions: %s", path, strerror(-err));
		return err;
	}
	q->efd_in_loop = true;
	return 0;
}

static int blk_setup_io(struct virtio_blk *blk, struct vm *vm)
{
	int err = 0;

	blk->queues = calloc(blk->nqueues, sizeof(*blk->queues));
	if (!blk->queues)
		return -ENOMEM;
	for (unsigned int i = 0; i < blk->nqueues; i++)
		blk->queues[i] = (struct blk_queue){ .blk = blk, .index = i, .efd = -1 };
	for (unsigned int i = 0; !err && i < blk->nqueues; i++)
		err = blk_setup_queue(&blk->queues[i], vm);
	return err;
}

/* Device configuration layout (5.2.4), little-endian (VIRTIO_F_VERSION_1). */
static void blk_init_config(struct virtio_blk *blk, unsigned int index)
{
	blk->config.capacity = htole64(blk->capacity);
	/* Header and status take two of the chain's buffers. */
	blk->config.seg_max = htole32(VQ_MAX_CHAIN - 2);
	blk->config.blk_size = htole32(BLK_SECTOR_SIZE);
	blk->config.num_queues = htole16((u16)blk->nqueues);
	snprintf(blk->serial, sizeof(blk->serial), "vmm-disk%u", index);
}

static void blk_init_dev(struct virtio_blk *blk, struct vm *vm)
{
	struct virtio_dev *dev = &blk->dev;

	dev->name = "virtio-blk";
	dev->device_id = VIRTIO_ID_BLOCK;
	dev->host_features = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
			     1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (blk->readonly)
		dev->host_features |= 1ULL << VIRTIO_BLK_F_RO;
	/* Without MQ the driver uses queue 0 only and num_queues is not there (5.2.3). */
	if (blk->nqueues > 1)
		dev->host_features |= 1ULL << VIRTIO_BLK_F_MQ;
	dev->nqueues = blk->nqueues;
	dev->queue_max_size = VIRTIO_BLK_QUEUE_SIZE;
	dev->vm = vm;
	dev->ops = &blk_ops;
	dev->priv = blk;
}

int virtio_blk_create(struct vm *vm, const struct disk_config *disk, unsigned int index,
		      struct virtio_dev **out)
{
	struct virtio_blk *blk = calloc(1, sizeof(*blk));
	int err;

	if (!blk)
		return -ENOMEM;
	if (disk->queues > VIRTIO_BLK_MAX_QUEUES) {
		pr_err("virtio-blk: %s: %u queues asked for, at most %d", disk->path, disk->queues,
		       VIRTIO_BLK_MAX_QUEUES);
		free(blk);
		return -EINVAL;
	}
	blk->fd = -1;
	blk->path = disk->path;
	blk->readonly = disk->readonly;
	blk->nqueues = disk->queues ? disk->queues : 1;
	blk_init_dev(blk, vm);
	err = blk_open_image(blk, disk);
	if (!err)
		err = blk_setup_io(blk, vm);
	if (err) {
		if (err == -ENOMEM)
			pr_err("virtio-blk: %s: out of memory", disk->path);
		blk_free(blk);
		return err;
	}
	blk_init_config(blk, index);
	*out = &blk->dev;
	return 0;
}
