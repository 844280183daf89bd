/*
 * What a virtio device (blk, net, rng, console) provides to the virtio-pci
 * transport, and what the transport offers back. Devices contain no
 * architecture or transport code: the same device works on x86 and arm64.
 *
 * Threads: every callback below, and every event loop callback a device
 * registers, runs with the event loop lock held (vm->loop.lock), so they
 * are serialized with each other. queue_notify and back-end events run on
 * the main thread; config_read/config_write, activate and reset may run on
 * a vCPU thread (the driver's register access). So reset must not wait for
 * an event loop callback (it would deadlock): reap in-flight work there
 * directly, e.g. io_uring_wait_cqe.
 */
#ifndef DEVICES_VIRTIO_VIRTIO_DEV_H
#define DEVICES_VIRTIO_VIRTIO_DEV_H

#include "devices/virtio/virtqueue.h"
#include "core/util.h"

struct vm;
struct virtio_dev;

struct virtio_dev_ops {
	/* Device-specific config space (virtio 1.2, 5.x.4), little-endian. */
	void (*config_read)(struct virtio_dev *dev, u32 offset, void *data, u32 len);
	void (*config_write)(struct virtio_dev *dev, u32 offset, const void *data, u32 len);
	/* The driver set DRIVER_OK: queues are usable. Return <0 to fail the device. */
	int (*activate)(struct virtio_dev *dev);
	/* The driver kicked queue index (or a back-end asked for a retry). */
	void (*queue_notify)(struct virtio_dev *dev, unsigned int queue);
	/* The driver reset the device: stop using the queues, drop in-flight work. */
	void (*reset)(struct virtio_dev *dev);
	void (*destroy)(struct virtio_dev *dev);
};

struct virtio_dev {
	const char *name;          /* "virtio-blk" */
	u16 device_id;             /* VIRTIO_ID_BLOCK, ... */
	u64 host_features;         /* offered; VIRTIO_F_VERSION_1 is added by the transport */
	u64 guest_features;        /* accepted by the driver */
	unsigned int nqueues;
	u16 queue_max_size;
	struct virtqueue *queues;  /* nqueues entries, owned by the transport */
	struct vm *vm;
	void *transport;
	const struct virtio_dev_ops *ops;
	void *priv;                /* the device's own state */
};

/*
 * Work per callback. A driver may post buffers as fast as a device takes
 * them (from another vCPU), so "while the ring has requests" may never
 * end, holding the event loop and its lock. A device takes at most a
 * budget of requests per callback; once it is spent the transport is
 * asked to call queue_notify for that queue again from the event loop,
 * after the other sources have had their turn.
 *
 *	struct virtio_budget b = virtio_budget(dev, queue, 32);
 *
 *	while (virtio_budget_take(&b) && (ret = vq_pop(vq, &chain)) != 0)
 *		...
 */
struct virtio_budget {
	struct virtio_dev *dev;
	unsigned int queue;
	unsigned int left;
};

/* Makes the transport call queue_notify(queue) again from the event loop. */
void virtio_queue_resume_later(struct virtio_dev *dev, unsigned int queue);

static inline struct virtio_budget virtio_budget(struct virtio_dev *dev, unsigned int queue,
						 unsigned int requests)
{
	return (struct virtio_budget){ dev, queue, requests };
}

/* One more request may be taken; false once the budget is spent (and the queue resumes later). */
static inline bool virtio_budget_take(struct virtio_budget *b)
{
	if (b->left) {
		b->left--;
		return true;
	}
	virtio_queue_resume_later(b->dev, b->queue);
	return false;
}

/* Interrupts the driver for queue (MSI-X vector of that queue); main thread. */
void virtio_notify_queue(struct virtio_dev *dev, unsigned int queue);
/* Signals a configuration change (e.g. capacity). */
void virtio_notify_config(struct virtio_dev *dev);
/* Marks the device broken (DEVICE_NEEDS_RESET) after a fatal ring error. */
void virtio_set_needs_reset(struct virtio_dev *dev);

/* Adds dev to bus with a modern virtio-pci transport. */
struct pci_bus;
int virtio_pci_add(struct vm *vm, struct pci_bus *bus, struct virtio_dev *dev);

/*
 * Tears a device down once the vCPUs have stopped: the device's reset and
 * destroy (which frees it), then the transport's eventfds, MSI-X and memory.
 */
void virtio_pci_remove(struct virtio_dev *dev);

static inline bool virtio_has_feature(const struct virtio_dev *dev, unsigned int bit)
{
	return dev->guest_features & (1ULL << bit);
}

#endif
