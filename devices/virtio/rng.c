/* virtio-rng (virtio 1.2, 5.4): fills the driver's buffers from getrandom(). */
#include "rng.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <sys/random.h>

#include "core/log.h"

/* Requests per callback (see struct virtio_budget): half the queue. */
#define RNG_BUDGET 32

static void rng_queue_notify(struct virtio_dev *dev, unsigned int queue)
{
	struct virtio_budget budget = virtio_budget(dev, queue, RNG_BUDGET);
	struct virtqueue *vq = &dev->queues[queue];
	struct vq_chain chain;
	bool pushed = false;
	int ret;

	while (virtio_budget_take(&budget) && (ret = vq_pop(vq, &chain)) != 0) {
		u32 written = 0;

		if (ret == -EFAULT) {
			virtio_set_needs_reset(dev);
			break;
		}
		/* The request is only writable buffers; anything else gets nothing. */
		if (ret == 1 && chain.nout == 0) {
			for (unsigned int i = 0; i < chain.nin; i++) {
				ssize_t n = getrandom(chain.iov[i].iov_base, chain.iov[i].iov_len, 0);

				if (n <= 0)
					break;
				written += (u32)n;
				if ((size_t)n < chain.iov[i].iov_len)
					break;
			}
		}
		vq_push(vq, chain.head, written);
		pushed = true;
	}
	if (pushed)
		virtio_notify_queue(dev, queue);
}

static void rng_destroy(struct virtio_dev *dev)
{
	free(dev);
}

static const struct virtio_dev_ops rng_ops = {
	.queue_notify = rng_queue_notify,
	.destroy = rng_destroy,
};

int virtio_rng_create(struct vm *vm, struct virtio_dev **out)
{
	struct virtio_dev *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return -ENOMEM;
	dev->name = "virtio-rng";
	dev->device_id = VIRTIO_ID_RNG;
	dev->host_features = 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	dev->nqueues = 1;
	dev->queue_max_size = 64;
	dev->vm = vm;
	dev->ops = &rng_ops;
	*out = dev;
	return 0;
}
