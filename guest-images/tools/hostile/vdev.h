/*
 * The device under attack, driven by hand as a virtio-pci device (virtio
 * 1.x, 4.1): its structures found through the vendor capabilities, BAR 0
 * mapped through /dev/mem, features negotiated, and queue 0 placed on our
 * DMA pages (guest_mem.h), so that an attack only writes descriptors and
 * offers them. A function without the virtio capabilities (a passed-
 * through NIC) is opened the same way, for the config and BAR attacks.
 *
 * The BAR accessors and kick() are inline: the storm threads call them in
 * a tight loop, where a function call per access would thin the storm.
 */
#ifndef HOSTILE_VDEV_H
#define HOSTILE_VDEV_H

#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stddef.h>

#include "guest_mem.h"
#include "pci_cfg.h"
#include "util.h"

#define QSIZE 16u

struct vdev {
	struct bdf bdf;
	bool virtio;        /* has the virtio capabilities (else: a passed-through NIC) */
	volatile u8 *bar;   /* BAR 0 mapped, where the structures are */
	u64 bar_phys, bar_len;
	unsigned int common, isr, device, notify, notify_mult;
	unsigned int msix_table, msix_pba, nvec;
	u16 device_id;
};

extern struct vdev vd;

#define COMMON(field) (vd.common + offsetof(struct virtio_pci_common_cfg, field))

static inline void w8(unsigned int off, u8 v) { vd.bar[off] = v; ops++; }
static inline void w16(unsigned int off, u16 v) { *(volatile u16 *)(vd.bar + off) = v; ops++; }
static inline void w32(unsigned int off, u32 v) { *(volatile u32 *)(vd.bar + off) = v; ops++; }
static inline u8 r8(unsigned int off) { ops++; return vd.bar[off]; }
static inline u16 r16(unsigned int off) { ops++; return *(volatile u16 *)(vd.bar + off); }

void vdev_map(void);
void vdev_open(const char *bdf);
void vdev_reset(void);
void vdev_negotiate(u32 low_features);
void vq_place(u16 q, u16 size, u64 desc, u64 avail, u64 used, u16 vector);

/* Pages 0-2: descriptor table, avail and used ring of queue 0; 3: indirect; 4-7: data. */
#define DESC ((struct vring_desc *)dma[0].virt)
#define AVAIL ((struct vring_avail *)dma[1].virt)
#define USED ((volatile struct vring_used *)dma[2].virt)
#define INDIRECT ((struct vring_desc *)dma[3].virt)

void vq_start(u32 low_features);
void offer(u16 head, u16 step);
void desc_set(struct vring_desc *t, unsigned int i, u64 addr, u32 len, u16 flags, u16 next);

static inline void kick(u16 q)
{
	w16(vd.notify + q * vd.notify_mult, q);
}

#endif
