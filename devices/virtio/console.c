/*
 * virtio-console (virtio 1.2, 5.3) with one port and no multiport
 * control queue: queue 0 carries host input to the guest, queue 1 the
 * guest's output. The guest sees it as hvc0; the composition gives it
 * the host console's input when it is the chosen console.
 */
#include "console.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "core/console.h"
#include "core/log.h"

#define RX_QUEUE 0
#define TX_QUEUE 1
#define PENDING_MAX 4096
/* Requests per callback and queue (see struct virtio_budget): half a queue. */
#define VCON_BUDGET 32

struct vcon {
	struct virtio_dev dev;
	u8 pending[PENDING_MAX]; /* typed before the guest posted buffers */
	size_t npending;
	struct console *out;
};

/* Moves pending input into whatever receive buffers the driver posted. */
static void flush_input(struct vcon *c)
{
	struct virtio_dev *dev = &c->dev;
	struct virtio_budget budget = virtio_budget(dev, RX_QUEUE, VCON_BUDGET);
	struct virtqueue *vq = &dev->queues[RX_QUEUE];
	struct vq_chain chain;
	bool pushed = false;
	int ret;

	if (!vq->ready)
		return;
	while (c->npending && virtio_budget_take(&budget) && (ret = vq_pop(vq, &chain)) != 0) {
		size_t n = 0;

		if (ret == -EFAULT) {
			virtio_set_needs_reset(dev);
			return;
		}
		if (ret == 1)
			n = vq_copy_to_in(&chain, 0, c->pending, c->npending);
		memmove(c->pending, c->pending + n, c->npending - n);
		c->npending -= n;
		vq_push(vq, chain.head, (u32)n);
		pushed = true;
	}
	if (pushed)
		virtio_notify_queue(dev, RX_QUEUE);
}

void virtio_console_receive(void *opaque, const u8 *data, size_t len)
{
	struct virtio_dev *dev = opaque;
	struct vcon *c = dev->priv;
	size_t room = PENDING_MAX - c->npending;

	/* Beyond the buffer, input is dropped, as a UART would overrun. */
	len = MIN(len, room);
	memcpy(c->pending + c->npending, data, len);
	c->npending += len;
	flush_input(c);
}

static void drain_output(struct virtio_dev *dev)
{
	struct vcon *c = dev->priv;
	struct virtio_budget budget = virtio_budget(dev, TX_QUEUE, VCON_BUDGET);
	struct virtqueue *vq = &dev->queues[TX_QUEUE];
	struct vq_chain chain;
	bool pushed = false;
	int ret;

	while (virtio_budget_take(&budget) && (ret = vq_pop(vq, &chain)) != 0) {
		if (ret == -EFAULT) {
			virtio_set_needs_reset(dev);
			return;
		}
		for (unsigned int i = 0; ret == 1 && i < chain.nout; i++)
			console_write(c->out, chain.iov[i].iov_base, chain.iov[i].iov_len);
		vq_push(vq, chain.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_notify_queue(dev, TX_QUEUE);
}

static void vcon_queue_notify(struct virtio_dev *dev, unsigned int queue)
{
	struct vcon *c = dev->priv;

	if (queue == TX_QUEUE)
		drain_output(dev);
	else
		flush_input(c);
}

static void vcon_destroy(struct virtio_dev *dev)
{
	free(dev->priv);
}

static const struct virtio_dev_ops vcon_ops = {
	.queue_notify = vcon_queue_notify,
	.destroy = vcon_destroy,
};

int virtio_console_create(struct vm *vm, struct console *con, struct virtio_dev **out)
{
	struct vcon *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->dev.name = "virtio-console";
	c->dev.device_id = VIRTIO_ID_CONSOLE;
	c->dev.host_features = 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	c->dev.nqueues = 2;
	c->dev.queue_max_size = 64;
	c->dev.vm = vm;
	c->dev.ops = &vcon_ops;
	c->dev.priv = c;
	c->out = con;
	*out = &c->dev;
	return 0;
}
