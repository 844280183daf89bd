/*
 * The modern virtio-pci transport (virtio 1.2, 4.1): vendor capabilities
 * locate the common, notify, ISR and device config structures in one
 * memory BAR, next to the MSI-X table and PBA. Queue notifications are
 * KVM ioeventfds (no VM exit), interrupts are MSI-X irqfds (no VMM on the
 * path); only configuration accesses trap to the VMM.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/msix.h"
#include "devices/pci.h"
#include "virtio_dev.h"
#include "core/irq_routing.h"
#include "core/log.h"
#include "core/vm.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + device type (4.1.2.1) */
#define NO_VECTOR VIRTIO_MSI_NO_VECTOR

/* BAR 0 layout. */
#define BAR_SIZE 0x8000
#define COMMON_OFF 0x0000
#define COMMON_LEN 0x40
#define ISR_OFF 0x1000
#define DEVICE_OFF 0x2000
#define DEVICE_LEN 0x1000
#define NOTIFY_OFF 0x3000
#define NOTIFY_MULTIPLIER 4
#define MSIX_TABLE_OFF 0x4000
#define MSIX_PBA_OFF 0x6000

/* Config space layout of the capability list. */
#define CAP_COMMON 0x40
#define CAP_NOTIFY 0x50
#define CAP_ISR 0x64
#define CAP_DEVICE 0x74
#define CAP_MSIX 0x84

struct virtio_pci;

struct queue_kick {
	struct virtio_pci *vp;
	unsigned int queue;
	int fd;
	bool ioeventfd_on; /* KVM took the ioeventfd (another BAR's may sit there) */
};

struct virtio_pci {
	struct virtio_dev *dev;
	struct vm *vm;
	struct pci_device pci;
	struct msix msix;
	struct queue_kick *kicks;
	u32 dfselect, gfselect;
	u16 config_vector, queue_select;
	u8 status, config_generation, isr;
	u64 ioeventfd_addr; /* where the kicks are registered; 0: not */
	bool warned_no_msix;
};

static struct virtio_pci *transport_of(struct virtio_dev *dev)
{
	return dev->transport;
}

static void lock(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->vm->loop.lock);
}

static void unlock(struct virtio_pci *vp)
{
	pthread_mutex_unlock(&vp->vm->loop.lock);
}

/* --- interrupts --------------------------------------------------------- */

static void signal_vector(struct virtio_pci *vp, u16 vector)
{
	if (vector == NO_VECTOR || vector >= vp->msix.nvectors || !vp->msix.enabled) {
		/* Without MSI-X there is no INTx line either: say so once. */
		if (!vp->warned_no_msix)
			pr_warn("%s: interrupt with MSI-X disabled (no INTx support); the guest driver must use MSI-X",
				vp->dev->name);
		vp->warned_no_msix = true;
		return;
	}
	msix_signal(&vp->msix, vector);
}

void virtio_notify_queue(struct virtio_dev *dev, unsigned int queue)
{
	struct virtio_pci *vp = transport_of(dev);
	struct virtqueue *vq;

	if (queue >= dev->nqueues)
		return;
	vq = &dev->queues[queue];
	/* A busy queue completes many requests per interrupt the driver asks for. */
	if (!vq_interrupt_needed(vq)) {
		vq->stats.suppressed++;
		return;
	}
	vq->stats.interrupts++;
	signal_vector(vp, vq->msix_vector);
}

void virtio_notify_config(struct virtio_dev *dev)
{
	struct virtio_pci *vp = transport_of(dev);

	vp->config_generation++;
	vp->isr |= VIRTIO_PCI_ISR_CONFIG;
	signal_vector(vp, vp->config_vector);
}

void virtio_set_needs_reset(struct virtio_dev *dev)
{
	struct virtio_pci *vp = transport_of(dev);

	pr_warn("%s: the driver broke a virtqueue; the device needs a reset", dev->name);
	vp->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	virtio_notify_config(dev);
}

/* --- queue notifications -------------------------------------------------- */

static void on_kick(void *opaque, uint32_t events)
{
	struct queue_kick *kick = opaque;
	struct virtio_pci *vp = kick->vp;
	eventfd_t count;

	struct virtqueue *vq = &vp->dev->queues[kick->queue];

	(void)events;
	if (eventfd_read(kick->fd, &count) < 0)
		return;
	if (!(vp->status & VIRTIO_CONFIG_S_DRIVER_OK) || !vq->ready)
		return;
	vq->stats.kicks++;
	/* No kick while the device works through the ring; a buffer posted meanwhile brings it back. */
	vq_kicks_off(vq);
	vp->dev->ops->queue_notify(vp->dev, kick->queue);
	if (vq_kicks_on(vq))
		virtio_queue_resume_later(vp->dev, kick->queue);
}

void virtio_queue_resume_later(struct virtio_dev *dev, unsigned int queue)
{
	struct virtio_pci *vp = transport_of(dev);

	/* The kick eventfd: on_kick runs again on the next turn of the loop. */
	if (queue < dev->nqueues && eventfd_write(vp->kicks[queue].fd, 1) < 0)
		pr_warn("%s: cannot resume queue %u: %s", dev->name, queue, strerror(errno));
}

/* Keeps KVM's ioeventfds on the notify area at the BAR's current address. */
static void update_ioeventfds(struct virtio_pci *vp)
{
	u64 want = 0;

	if (pci_memory_enabled(&vp->pci) && pci_bar_address(&vp->pci, 0))
		want = pci_bar_address(&vp->pci, 0) + NOTIFY_OFF;
	if (want == vp->ioeventfd_addr)
		return;
	/*
	 * Only what KVM took is given back: a BAR moved onto another device's
	 * notify area is refused there (EEXIST), and its kicks then trap to
	 * bar_io instead.
	 */
	for (unsigned int q = 0; q < vp->dev->nqueues; q++) {
		struct queue_kick *k = &vp->kicks[q];

		if (k->ioeventfd_on)
			kvm_ioeventfd(vp->vm, vp->ioeventfd_addr + q * NOTIFY_MULTIPLIER, 2, k->fd,
				      false, false);
		k->ioeventfd_on = want && !kvm_ioeventfd(vp->vm, want + q * NOTIFY_MULTIPLIER, 2,
							  k->fd, false, true);
	}
	vp->ioeventfd_addr = want;
}

/* --- common configuration (4.1.4.3) ------------------------------------- */

static void device_reset(struct virtio_pci *vp)
{
	struct virtio_dev *dev = vp->dev;

	if (dev->ops->reset)
		dev->ops->reset(dev);
	for (unsigned int q = 0; q < dev->nqueues; q++) {
		vq_reset(&dev->queues[q]);
		dev->queues[q].size = dev->queue_max_size;
	}
	dev->guest_features = 0;
	vp->status = 0;
	vp->isr = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
	vp->config_vector = NO_VECTOR;
}

/*
 * What every device offers besides its own features: the modern
 * interface (the only one we have) and event indices, so that no device
 * takes a kick per buffer or sends an interrupt per completion when the
 * driver does not need them.
 */
static u64 offered_features(const struct virtio_dev *dev)
{
	return dev->host_features | 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_RING_F_EVENT_IDX;
}

static struct virtqueue *selected_queue(struct virtio_pci *vp)
{
	return vp->queue_select < vp->dev->nqueues ? &vp->dev->queues[vp->queue_select] : NULL;
}

/* The common structure as the driver would read it now. */
static void common_snapshot(struct virtio_pci *vp, u8 *buf)
{
	struct virtio_pci_common_cfg c = { 0 };
	struct virtqueue *vq = selected_queue(vp);
	u64 features = offered_features(vp->dev);

	c.device_feature_select = vp->dfselect;
	c.device_feature = vp->dfselect < 2 ? (u32)(features >> (32 * vp->dfselect)) : 0;
	c.guest_feature_select = vp->gfselect;
	c.guest_feature = vp->gfselect < 2 ?
		(u32)(vp->dev->guest_features >> (32 * vp->gfselect)) : 0;
	c.msix_config = vp->config_vector;
	c.num_queues = (u16)vp->dev->nqueues;
	c.device_status = vp->status;
	c.config_generation = vp->config_generation;
	c.queue_select = vp->queue_select;
	if (vq) {
		c.queue_size = vq->size;
		c.queue_msix_vector = vq->msix_vector;
		c.queue_enable = vq->ready;
		c.queue_notify_off = vp->queue_select;
		c.queue_desc_lo = (u32)vq->desc_gpa;
		c.queue_desc_hi = (u32)(vq->desc_gpa >> 32);
		c.queue_avail_lo = (u32)vq->avail_gpa;
		c.queue_avail_hi = (u32)(vq->avail_gpa >> 32);
		c.queue_used_lo = (u32)vq->used_gpa;
		c.queue_used_hi = (u32)(vq->used_gpa >> 32);
	}
	memcpy(buf, &c, sizeof(c));
}

static void set_status(struct virtio_pci *vp, u8 status)
{
	struct virtio_dev *dev = vp->dev;
	u8 added = status & ~vp->status;

	if (status == 0) {
		device_reset(vp);
		return;
	}
	if (added & VIRTIO_CONFIG_S_FEATURES_OK) {
		u64 offered = offered_features(dev);

		/* Refuse what was not offered, and legacy drivers (3.1.1). */
		if ((dev->guest_features & ~offered) ||
		    !(dev->guest_features & (1ULL << VIRTIO_F_VERSION_1)))
			status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	vp->status = status;
	/*
	 * A device that cannot start does not accept DRIVER_OK: it reports
	 * DEVICE_NEEDS_RESET instead (2.1.2), and no kick reaches it.
	 */
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && dev->ops->activate && dev->ops->activate(dev) < 0) {
		pr_warn("%s: the device cannot start; it needs a reset", dev->name);
		vp->status = (status & ~VIRTIO_CONFIG_S_DRIVER_OK) | VIRTIO_CONFIG_S_NEEDS_RESET;
		return;
	}
	if (added & VIRTIO_CONFIG_S_DRIVER_OK) {
		/* Work posted before DRIVER_OK (e.g. rx buffers) is picked up now. */
		for (unsigned int q = 0; q < dev->nqueues; q++)
			if (dev->queues[q].ready)
				eventfd_write(vp->kicks[q].fd, 1);
	}
}

static void enable_queue(struct virtio_pci *vp, struct virtqueue *vq)
{
	int err;

	vq->indirect_ok = virtio_has_feature(vp->dev, VIRTIO_RING_F_INDIRECT_DESC);
	vq->event_idx = virtio_has_feature(vp->dev, VIRTIO_RING_F_EVENT_IDX);
	err = vq_activate(vq, &vp->vm->mem);
	if (err) {
		pr_warn("%s: queue %u rejected (%s)", vp->dev->name, vp->queue_select,
			err == -EFAULT ? "rings outside guest RAM" : "bad size or alignment");
		vp->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	}
}

static void common_write(struct virtio_pci *vp, u32 offset, const u8 *data, u32 len)
{
	u8 buf[sizeof(struct virtio_pci_common_cfg)];
	struct virtio_pci_common_cfg c;
	struct virtqueue *vq = selected_queue(vp);
	bool queue_locked = vq && vq->ready; /* queue fields are frozen once enabled */

	if (offset + len > sizeof(buf))
		return;
	common_snapshot(vp, buf);
	memcpy(buf + offset, data, len);
	memcpy(&c, buf, sizeof(c));

#define TOUCHED(field) ranges_overlap(offset, len, offsetof(struct virtio_pci_common_cfg, field), \
				      sizeof(c.field))
	if (TOUCHED(device_feature_select))
		vp->dfselect = c.device_feature_select;
	if (TOUCHED(guest_feature_select))
		vp->gfselect = c.guest_feature_select;
	if (TOUCHED(guest_feature) && vp->gfselect < 2 &&
	    !(vp->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		unsigned int shift = 32 * vp->gfselect;

		vp->dev->guest_features &= ~(0xffffffffULL << shift);
		vp->dev->guest_features |= (u64)c.guest_feature << shift;
	}
	if (TOUCHED(msix_config))
		vp->config_vector = c.msix_config < vp->msix.nvectors ? c.msix_config : NO_VECTOR;
	if (TOUCHED(queue_select))
		vp->queue_select = c.queue_select;
	if (vq && !queue_locked && !TOUCHED(queue_select)) {
		if (TOUCHED(queue_size))
			vq->size = c.queue_size;
		if (TOUCHED(queue_desc_lo) || TOUCHED(queue_desc_hi))
			vq->desc_gpa = (u64)c.queue_desc_hi << 32 | c.queue_desc_lo;
		if (TOUCHED(queue_avail_lo) || TOUCHED(queue_avail_hi))
			vq->avail_gpa = (u64)c.queue_avail_hi << 32 | c.queue_avail_lo;
		if (TOUCHED(queue_used_lo) || TOUCHED(queue_used_hi))
			vq->used_gpa = (u64)c.queue_used_hi << 32 | c.queue_used_lo;
	}
	if (vq && TOUCHED(queue_msix_vector) && !TOUCHED(queue_select))
		vq->msix_vector = c.queue_msix_vector < vp->msix.nvectors ? c.queue_msix_vector :
									     NO_VECTOR;
	if (vq && !queue_locked && TOUCHED(queue_enable) && c.queue_enable == 1)
		enable_queue(vp, vq);
	if (TOUCHED(device_status))
		set_status(vp, c.device_status);
#undef TOUCHED
}

/* --- BAR 0 ------------------------------------------------------------- */

static void bar_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct virtio_pci *vp = opaque;
	struct virtio_dev *dev = vp->dev;

	if (offset >= MSIX_TABLE_OFF && offset < MSIX_PBA_OFF) {
		msix_table_access(&vp->msix, offset - MSIX_TABLE_OFF, data, len, is_write);
		return;
	}
	if (offset >= MSIX_PBA_OFF) {
		msix_pba_access(&vp->msix, offset - MSIX_PBA_OFF, data, len, is_write);
		return;
	}
	if (offset >= NOTIFY_OFF) {
		/* Reached only while the ioeventfd is not (yet) registered. */
		u64 q = (offset - NOTIFY_OFF) / NOTIFY_MULTIPLIER;

		if (is_write && q < dev->nqueues)
			eventfd_write(vp->kicks[q].fd, 1);
		else if (!is_write)
			memset(data, 0, len);
		return;
	}

	lock(vp);
	if (offset < COMMON_OFF + COMMON_LEN) {
		if (is_write) {
			common_write(vp, (u32)offset, data, len);
		} else {
			u8 buf[COMMON_LEN] = { 0 };

			common_snapshot(vp, buf);
			memcpy(data, buf + offset, MIN((u64)len, COMMON_LEN - offset));
		}
	} else if (offset == ISR_OFF) {
		if (!is_write) {
			/* Reading ISR clears it (4.1.4.5). */
			memset(data, 0, len);
			data[0] = vp->isr;
			vp->isr = 0;
		}
	} else if (offset >= DEVICE_OFF && offset < DEVICE_OFF + DEVICE_LEN) {
		if (!is_write) {
			memset(data, 0, len);
			if (dev->ops->config_read)
				dev->ops->config_read(dev, (u32)(offset - DEVICE_OFF), data, len);
		} else if (dev->ops->config_write) {
			dev->ops->config_write(dev, (u32)(offset - DEVICE_OFF), data, len);
		}
	} else if (!is_write) {
		memset(data, 0, len);
	}
	unlock(vp);
}

/* --- PCI configuration space ------------------------------------------ */

static void config_written(struct pci_device *pci, u32 offset, u32 len)
{
	struct virtio_pci *vp = pci->opaque;
	u16 control;

	if (ranges_overlap(offset, len, PCI_COMMAND, 2) ||
	    ranges_overlap(offset, len, PCI_BASE_ADDRESS_0, 4))
		update_ioeventfds(vp);
	if (ranges_overlap(offset, len, CAP_MSIX + PCI_MSIX_FLAGS, 2)) {
		memcpy(&control, &pci->config[CAP_MSIX + PCI_MSIX_FLAGS], 2);
		msix_set_control(&vp->msix, control & PCI_MSIX_FLAGS_ENABLE,
				 control & PCI_MSIX_FLAGS_MASKALL);
	}
}

static void add_vendor_cap(struct pci_device *pci, u8 at, u8 next, u8 len, u8 type,
			   u32 offset, u32 length)
{
	pci_set_u8(pci, at + VIRTIO_PCI_CAP_VNDR, PCI_CAP_ID_VNDR);
	pci_set_u8(pci, at + VIRTIO_PCI_CAP_NEXT, next);
	pci_set_u8(pci, at + VIRTIO_PCI_CAP_LEN, len);
	pci_set_u8(pci, at + VIRTIO_PCI_CAP_CFG_TYPE, type);
	pci_set_u8(pci, at + VIRTIO_PCI_CAP_BAR, 0);
	pci_set_u32(pci, at + VIRTIO_PCI_CAP_OFFSET, offset);
	pci_set_u32(pci, at + VIRTIO_PCI_CAP_LENGTH, length);
}

static u16 class_of(u16 device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET: return 0x0200;     /* network controller */
	case VIRTIO_ID_BLOCK: return 0x0180;   /* other mass storage */
	case VIRTIO_ID_CONSOLE: return 0x0780; /* other communication */
	default: return 0x00ff;                /* unclassified */
	}
}

static void fill_config_space(struct virtio_pci *vp)
{
	struct pci_device *pci = &vp->pci;
	struct virtio_dev *dev = vp->dev;
	u16 nvec = (u16)vp->msix.nvectors;

	pci_set_u16(pci, PCI_VENDOR_ID, VIRTIO_PCI_VENDOR);
	pci_set_u16(pci, PCI_DEVICE_ID, VIRTIO_PCI_DEVICE_BASE + dev->device_id);
	pci_set_u8(pci, PCI_REVISION_ID, 1); /* modern only (4.1.2.1) */
	pci_set_u16(pci, PCI_CLASS_DEVICE, class_of(dev->device_id));
	pci_set_u16(pci, PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR);
	pci_set_u16(pci, PCI_SUBSYSTEM_ID, 0x40 + dev->device_id);
	pci_set_u16(pci, PCI_STATUS, PCI_STATUS_CAP_LIST);
	pci_set_u8(pci, PCI_CAPABILITY_LIST, CAP_COMMON);

	add_vendor_cap(pci, CAP_COMMON, CAP_NOTIFY, 16, VIRTIO_PCI_CAP_COMMON_CFG, COMMON_OFF,
		       COMMON_LEN);
	add_vendor_cap(pci, CAP_NOTIFY, CAP_ISR, 20, VIRTIO_PCI_CAP_NOTIFY_CFG, NOTIFY_OFF,
		       dev->nqueues * NOTIFY_MULTIPLIER);
	pci_set_u32(pci, CAP_NOTIFY + 16, NOTIFY_MULTIPLIER);
	add_vendor_cap(pci, CAP_ISR, CAP_DEVICE, 16, VIRTIO_PCI_CAP_ISR_CFG, ISR_OFF, 1);
	add_vendor_cap(pci, CAP_DEVICE, CAP_MSIX, 16, VIRTIO_PCI_CAP_DEVICE_CFG, DEVICE_OFF,
		       DEVICE_LEN);

	pci_set_u8(pci, CAP_MSIX + PCI_CAP_LIST_ID, PCI_CAP_ID_MSIX);
	pci_set_u8(pci, CAP_MSIX + PCI_CAP_LIST_NEXT, 0);
	pci_set_u16(pci, CAP_MSIX + PCI_MSIX_FLAGS, (u16)(nvec - 1));
	pci_set_u32(pci, CAP_MSIX + PCI_MSIX_TABLE, MSIX_TABLE_OFF); /* BIR 0 */
	pci_set_u32(pci, CAP_MSIX + PCI_MSIX_PBA, MSIX_PBA_OFF);
	pci->wmask[CAP_MSIX + PCI_MSIX_FLAGS + 1] =
		(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
	pci->wmask[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	pci->wmask[PCI_COMMAND + 1] = PCI_COMMAND_INTX_DISABLE >> 8;
	pci->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

/* At -d: how many kicks and interrupts each queue cost, against the requests it served. */
static void print_queue_stats(const struct virtio_dev *dev)
{
	struct virtio_pci *vp = dev->transport;

	for (unsigned int q = 0; q < dev->nqueues; q++) {
		const struct vq_stats *st = &dev->queues[q].stats;
		char state[256];

		if (!st->kicks && !st->completions)
			continue;
		vq_describe(&dev->queues[q], state, sizeof(state));
		pr_debug("%s (00:%02x.0): queue %u now: %s", dev->name, vp->pci.slot, q, state);
		msix_describe(&vp->msix, dev->queues[q].msix_vector, state, sizeof(state));
		pr_debug("%s (00:%02x.0): queue %u interrupt: %s", dev->name, vp->pci.slot, q, state);
		pr_debug("%s: queue %u: %llu kicks, %llu completions, %llu interrupts (%llu suppressed), %.2f interrupts per completion",
			 dev->name, q, (unsigned long long)st->kicks,
			 (unsigned long long)st->completions, (unsigned long long)st->interrupts,
			 (unsigned long long)st->suppressed,
			 st->completions ? (double)st->interrupts / (double)st->completions : 0.0);
	}
}

void virtio_pci_remove(struct virtio_dev *dev)
{
	struct virtio_pci *vp = dev->transport;

	if (!vp)
		return;
	print_queue_stats(dev);
	if (dev->ops->reset)
		dev->ops->reset(dev);
	for (unsigned int q = 0; q < dev->nqueues; q++) {
		if (vp->kicks[q].ioeventfd_on)
			kvm_ioeventfd(vp->vm, vp->ioeventfd_addr + q * NOTIFY_MULTIPLIER, 2,
				      vp->kicks[q].fd, false, false);
		if (vp->kicks[q].fd >= 0) {
			event_loop_remove(&vp->vm->loop, vp->kicks[q].fd);
			close(vp->kicks[q].fd);
		}
	}
	msix_destroy(&vp->msix);
	free(dev->queues);
	dev->queues = NULL;
	dev->transport = NULL;
	free(vp->kicks);
	free(vp);
	if (dev->ops->destroy)
		dev->ops->destroy(dev); /* frees dev */
}

int virtio_pci_add(struct vm *vm, struct pci_bus *bus, struct virtio_dev *dev)
{
	struct virtio_pci *vp;
	int err;

	if (!bus || !dev->nqueues || dev->nqueues > 64 || !dev->queue_max_size)
		return -EINVAL;
	vp = calloc(1, sizeof(*vp));
	dev->queues = calloc(dev->nqueues, sizeof(*dev->queues));
	if (vp)
		vp->kicks = calloc(dev->nqueues, sizeof(*vp->kicks));
	if (!vp || !dev->queues || !vp->kicks) {
		err = -ENOMEM;
		goto fail;
	}
	vp->dev = dev;
	vp->vm = vm;
	dev->vm = vm;
	dev->transport = vp;
	vp->pci.name = dev->name;
	vp->pci.opaque = vp;
	vp->pci.config_written = config_written;
	err = msix_init(&vp->msix, vm, dev->nqueues + 1, dev->name);
	if (err)
		goto fail;
	for (unsigned int q = 0; q < dev->nqueues; q++)
		vp->kicks[q].fd = -1;
	for (unsigned int q = 0; q < dev->nqueues; q++) {
		vp->kicks[q] = (struct queue_kick){ .vp = vp, .queue = q,
					    .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
		if (vp->kicks[q].fd < 0 ||
		    event_loop_add(&vm->loop, vp->kicks[q].fd, EPOLLIN, on_kick, &vp->kicks[q])) {
			err = -EMFILE;
			goto fail;
		}
	}
	device_reset(vp);
	fill_config_space(vp);
	err = pci_bar_assign(bus, &vp->pci, 0, BAR_SIZE, false, bar_io, vp);
	if (!err)
		err = pci_bus_add(bus, &vp->pci);
	if (err)
		goto fail;
	vp->msix.devid = pci_requester_id(&vp->pci);
	pr_debug("%s at PCI 00:%02x.0, BAR0 0x%llx", dev->name, vp->pci.slot,
		 (unsigned long long)pci_bar_address(&vp->pci, 0));
	return 0;
fail:
	pr_err("%s: cannot add the virtio-pci device: %s", dev->name, strerror(-err));
	if (vp && vp->kicks && dev->queues && !vp->pci.slot) {
		dev->transport = vp;
		virtio_pci_remove(dev);
	} else if (dev->ops->destroy) {
		dev->ops->destroy(dev);
	}
	return err;
}
