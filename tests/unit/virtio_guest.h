/*
 * A fake guest that drives a virtio device through the real virtio-pci
 * transport, without KVM: "RAM" is one heap buffer registered as the only
 * guest memory bank, the PCI bus has an MMIO window, and the event loop
 * is run by hand. Queue q's rings sit at a fixed place per queue, so a
 * test only posts descriptor chains (direct or indirect), kicks, and
 * waits for and takes used elements. Header-only: unit tests and fuzz
 * targets include it.
 */
#ifndef TESTS_UNIT_VIRTIO_GUEST_H
#define TESTS_UNIT_VIRTIO_GUEST_H

#include <assert.h>
#include <endian.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "core/vm.h"
#include "devices/pci.h"
#include "devices/virtio/virtio_dev.h"

#define VG_RAM_GPA 0x100000ULL
#define VG_RAM_SIZE (1 * MiB)
#define VG_MMIO_BASE 0xc0000000ULL
#define VG_MMIO_SIZE (16 * MiB)
#define VG_MAX_QUEUES 4
#define VG_QUEUE_AREA 0x10000ULL /* per queue: desc at +0, avail at +0x4000, used at +0x8000 */
#define VG_HEAP_GPA (VG_RAM_GPA + VG_MAX_QUEUES * VG_QUEUE_AREA)
/* How long vg_wait_used waits: far beyond any completion of a working device. */
#define VG_WAIT_SECONDS 5

#define VG_COMMON(field) offsetof(struct virtio_pci_common_cfg, field)

struct vg_queue {
	u64 desc, avail, used;
	u16 size, desc_next, avail_idx, used_seen;
};

struct vguest {
	struct vm vm;
	struct pci_bus bus;
	struct pci_device *pdev;
	u8 *ram;
	bool owns_ram;
	struct virtio_dev *dev;
	u64 common, notify, device_cfg;
	u32 notify_mult;
	/*
	 * Register accesses no device decoded: a driver writing where no
	 * register is, a bug in the test itself. Tests check it stays 0;
	 * fuzz targets probe anywhere and ignore it.
	 */
	u32 unclaimed;
	u64 heap;
	struct vg_queue q[VG_MAX_QUEUES];
};

static inline void *vg_ptr(struct vguest *g, u64 gpa)
{
	return g->ram + (gpa - VG_RAM_GPA);
}

/* Bytes from the heap past the rings; NULL when RAM is used up. */
static inline u64 vg_alloc(struct vguest *g, u64 len)
{
	u64 gpa = ALIGN_UP(g->heap, 16);

	if (gpa + len > VG_RAM_GPA + VG_RAM_SIZE)
		return 0;
	g->heap = gpa + len;
	return gpa;
}

static inline void vg_mmio(struct vguest *g, u64 addr, void *data, u32 len, bool is_write)
{
	if (!io_bus_access(&g->vm.mmio, addr, data, len, is_write))
		g->unclaimed++;
}

static inline u32 vg_rd(struct vguest *g, u64 addr, u32 len)
{
	u32 v = 0;

	vg_mmio(g, addr, &v, len, false);
	return le32toh(v);
}

static inline void vg_wr(struct vguest *g, u64 addr, u32 v, u32 len)
{
	v = htole32(v);
	vg_mmio(g, addr, &v, len, true);
}

/*
 * A VM with one RAM bank, an event loop and a PCI bus; 0 or -1. RAM is
 * ram (VG_RAM_SIZE bytes, cleared here; the caller keeps it) or, when
 * NULL, allocated and freed by vg_destroy.
 */
static inline int vg_init_ram(struct vguest *g, u8 *ram)
{
	memset(g, 0, sizeof(*g));
	g->ram = ram ? ram : aligned_alloc(4096, VG_RAM_SIZE);
	g->owns_ram = !ram;
	if (!g->ram)
		return -1;
	memset(g->ram, 0, VG_RAM_SIZE);
	g->heap = VG_HEAP_GPA;
	vm_init(&g->vm);
	g->vm.mem.banks[0] = (struct guest_bank){ .gpa = VG_RAM_GPA, .size = VG_RAM_SIZE,
						  .hva = g->ram, .dma = true };
	g->vm.mem.nbanks = 1;
	if (event_loop_init(&g->vm.loop))
		return -1;
	pci_bus_init(&g->bus);
	return pci_bus_set_windows(&g->bus, &g->vm.mmio, VG_MMIO_BASE, VG_MMIO_SIZE, 0, 0);
}

static inline int vg_init(struct vguest *g)
{
	return vg_init_ram(g, NULL);
}

/* Puts dev on the bus, finds its capabilities (4.1.4) and enables decoding. */
static inline int vg_add(struct vguest *g, struct virtio_dev *dev)
{
	u16 cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	const u8 *cfg;
	u64 bar;

	if (virtio_pci_add(&g->vm, &g->bus, dev))
		return -1;
	g->dev = dev;
	for (unsigned int s = 1; s < PCI_MAX_SLOTS && !g->pdev; s++)
		g->pdev = g->bus.slots[s];
	pci_config_access(&g->bus, 0, g->pdev->slot, 0, PCI_COMMAND, (u8 *)&cmd, 2, true);
	bar = pci_bar_address(g->pdev, 0);
	cfg = g->pdev->config;
	for (u8 off = cfg[PCI_CAPABILITY_LIST]; off; off = cfg[off + 1]) {
		u32 where;

		if (cfg[off] != PCI_CAP_ID_VNDR)
			continue;
		memcpy(&where, &cfg[off + 8], 4);
		switch (cfg[off + 3]) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			g->common = bar + where;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			g->notify = bar + where;
			memcpy(&g->notify_mult, &cfg[off + 16], 4);
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			g->device_cfg = bar + where;
			break;
		}
	}
	return g->common && g->notify && g->device_cfg ? 0 : -1;
}

static inline u8 vg_status(struct vguest *g)
{
	return (u8)vg_rd(g, g->common + VG_COMMON(device_status), 1);
}

/* The device's 64 feature bits, read as a driver does: 32 at a time (4.1.4.3). */
static inline u64 vg_device_features(struct vguest *g)
{
	u64 f;

	vg_wr(g, g->common + VG_COMMON(device_feature_select), 0, 4);
	f = vg_rd(g, g->common + VG_COMMON(device_feature), 4);
	vg_wr(g, g->common + VG_COMMON(device_feature_select), 1, 4);
	return f | (u64)vg_rd(g, g->common + VG_COMMON(device_feature), 4) << 32;
}

/*
 * Driver initialization (3.1.1): every feature offered, every queue at
 * its maximum size (or size when not 0) on fresh rings. Returns the
 * device status after DRIVER_OK was written.
 */
static inline u8 vg_driver_init(struct vguest *g, u16 size)
{
	u8 st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	u64 f;

	vg_wr(g, g->common + VG_COMMON(device_status), 0, 1);
	memset(g->ram, 0, VG_HEAP_GPA - VG_RAM_GPA);
	vg_wr(g, g->common + VG_COMMON(device_status), st, 1);
	f = vg_device_features(g);
	vg_wr(g, g->common + VG_COMMON(guest_feature_select), 0, 4);
	vg_wr(g, g->common + VG_COMMON(guest_feature), (u32)f, 4);
	vg_wr(g, g->common + VG_COMMON(guest_feature_select), 1, 4);
	vg_wr(g, g->common + VG_COMMON(guest_feature), (u32)(f >> 32), 4);
	st |= VIRTIO_CONFIG_S_FEATURES_OK;
	vg_wr(g, g->common + VG_COMMON(device_status), st, 1);
	for (unsigned int i = 0; i < g->dev->nqueues && i < VG_MAX_QUEUES; i++) {
		struct vg_queue *q = &g->q[i];
		u64 base = VG_RAM_GPA + i * VG_QUEUE_AREA;

		vg_wr(g, g->common + VG_COMMON(queue_select), i, 2);
		if (size)
			vg_wr(g, g->common + VG_COMMON(queue_size), size, 2);
		*q = (struct vg_queue){ .desc = base, .avail = base + 0x4000, .used = base + 0x8000,
					.size = (u16)vg_rd(g, g->common + VG_COMMON(queue_size), 2) };
		vg_wr(g, g->common + VG_COMMON(queue_desc_lo), (u32)q->desc, 4);
		vg_wr(g, g->common + VG_COMMON(queue_desc_hi), 0, 4);
		vg_wr(g, g->common + VG_COMMON(queue_avail_lo), (u32)q->avail, 4);
		vg_wr(g, g->common + VG_COMMON(queue_avail_hi), 0, 4);
		vg_wr(g, g->common + VG_COMMON(queue_used_lo), (u32)q->used, 4);
		vg_wr(g, g->common + VG_COMMON(queue_used_hi), 0, 4);
		vg_wr(g, g->common + VG_COMMON(queue_enable), 1, 2);
	}
	vg_wr(g, g->common + VG_COMMON(device_status), st | VIRTIO_CONFIG_S_DRIVER_OK, 1);
	return vg_status(g);
}

struct vg_seg {
	u64 gpa;
	u32 len;
	bool writable;
};

/* The descriptor for s; more: another follows it, at next. */
static inline struct vring_desc vg_desc(const struct vg_seg *s, bool more, u16 next)
{
	return (struct vring_desc){ s->gpa, s->len,
				    (u16)((s->writable ? VRING_DESC_F_WRITE : 0) |
					  (more ? VRING_DESC_F_NEXT : 0)),
				    next };
}

/*
 * Makes the chain at head available on queue qi (2.7.13): the ring entry
 * first, then idx with release order, so a device that sees the new idx
 * also sees the entry and the descriptors. Public for tests that write
 * their own (hostile) descriptors.
 */
static inline void vg_publish(struct vguest *g, unsigned int qi, u16 head)
{
	struct vg_queue *q = &g->q[qi];
	struct vring_avail *avail = vg_ptr(g, q->avail);

	avail->ring[q->avail_idx++ % q->size] = head;
	__atomic_store_n(&avail->idx, q->avail_idx, __ATOMIC_RELEASE);
}

/* Posts a chain of direct descriptors on queue qi; returns its head. */
static inline u16 vg_post(struct vguest *g, unsigned int qi, const struct vg_seg *s,
			  unsigned int n)
{
	struct vg_queue *q = &g->q[qi];
	struct vring_desc *table = vg_ptr(g, q->desc);
	u16 head = q->desc_next;

	for (unsigned int i = 0; i < n; i++) {
		u16 at = (u16)((head + i) % q->size);

		table[at] = vg_desc(&s[i], i + 1 < n, (u16)((at + 1) % q->size));
	}
	q->desc_next = (u16)((head + n) % q->size);
	vg_publish(g, qi, head);
	return head;
}

/*
 * Posts the chain on queue qi as an indirect table (2.7.5.3) from the
 * heap, behind one ring descriptor: however long, a chain then takes one
 * ring slot, as with Linux's drivers, so a test can keep a whole ring of
 * requests in flight. Returns the head, or -1 when RAM is used up
 * (nothing posted).
 */
static inline int vg_post_indirect(struct vguest *g, unsigned int qi, const struct vg_seg *s,
				   unsigned int n)
{
	struct vg_queue *q = &g->q[qi];
	struct vring_desc *table = vg_ptr(g, q->desc), *ind;
	u64 at = vg_alloc(g, sizeof(*ind) * n);
	u16 head = q->desc_next;

	if (!at)
		return -1;
	ind = vg_ptr(g, at);
	for (unsigned int i = 0; i < n; i++)
		ind[i] = vg_desc(&s[i], i + 1 < n, (u16)(i + 1));
	table[head] = (struct vring_desc){ at, (u32)(sizeof(*ind) * n), VRING_DESC_F_INDIRECT, 0 };
	q->desc_next = (u16)((head + 1) % q->size);
	vg_publish(g, qi, head);
	return head;
}

static inline void vg_kick(struct vguest *g, unsigned int qi)
{
	vg_wr(g, g->notify + qi * g->notify_mult, qi, 2);
}

static inline u16 vg_used_idx(struct vguest *g, unsigned int qi)
{
	struct vring_used *used = vg_ptr(g, g->q[qi].used);

	return __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);
}

/*
 * The oldest used element (2.7.8) queue qi has not taken yet. Call it
 * only after vg_used_idx or vg_wait_used showed it there: their acquire
 * load orders this read after the device's write.
 */
static inline struct vring_used_elem vg_take_used(struct vguest *g, unsigned int qi)
{
	struct vg_queue *q = &g->q[qi];
	struct vring_used *used = vg_ptr(g, q->used);

	return used->ring[q->used_seen++ % q->size];
}

/* One turn of the event loop, as event_loop_run takes it; returns the events handled. */
static inline int vg_run_loop_once(struct vguest *g, int timeout_ms)
{
	struct epoll_event ev[16];
	int n = epoll_wait(g->vm.loop.epoll_fd, ev, 16, timeout_ms);

	pthread_mutex_lock(&g->vm.loop.lock);
	for (int i = 0; i < n; i++) {
		struct event_source *s = ev[i].data.ptr;

		if (s->fd >= 0)
			s->fn(s->opaque, ev[i].events);
	}
	pthread_mutex_unlock(&g->vm.loop.lock);
	return n;
}

/*
 * Runs the event loop until queue qi holds count used elements not yet
 * taken, or for VG_WAIT_SECONDS; returns how many it holds. Completions
 * come from the host kernel (io_uring) in their own time, so a test waits
 * for them instead of counting loop turns.
 */
static inline u16 vg_wait_used(struct vguest *g, unsigned int qi, u16 count)
{
	time_t deadline = time(NULL) + VG_WAIT_SECONDS;

	while ((u16)(vg_used_idx(g, qi) - g->q[qi].used_seen) < count && time(NULL) < deadline)
		vg_run_loop_once(g, 100);
	return (u16)(vg_used_idx(g, qi) - g->q[qi].used_seen);
}

static inline void vg_destroy(struct vguest *g)
{
	if (g->dev)
		virtio_pci_remove(g->dev);
	event_loop_destroy(&g->vm.loop);
	if (g->owns_ram)
		free(g->ram);
	g->ram = NULL;
}

#endif
