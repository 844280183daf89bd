/*
 * The virtio-pci device driven by hand (see vdev.h): opening and mapping
 * it, reset, feature negotiation, queue placement, and offering requests
 * on queue 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vdev.h"

struct vdev vd;

void vdev_map(void)
{
	if (vd.bar)
		munmap((void *)vd.bar, vd.bar_len);
	vd.bar_phys = bar_addr(vd.bdf, 0);
	vd.bar = map_phys(vd.bar_phys, vd.bar_len);
	if (!vd.bar)
		die("mapping BAR 0 (boot with iomem=relaxed)");
}

/* Finds the virtio structures through the vendor capabilities (4.1.4). */
void vdev_open(const char *bdf)
{
	unsigned int pos = 0, msix;

	vd.bdf = parse_bdf(bdf);
	vd.device_id = (u16)cfg_read(vd.bdf, PCI_DEVICE_ID, 2);
	while ((pos = cfg_find_cap(vd.bdf, PCI_CAP_ID_VNDR, pos))) {
		u8 type = (u8)cfg_read(vd.bdf, pos + offsetof(struct virtio_pci_cap, cfg_type), 1);
		u32 off = cfg_read(vd.bdf, pos + offsetof(struct virtio_pci_cap, offset), 4);

		if (type == VIRTIO_PCI_CAP_COMMON_CFG) {
			vd.common = off; /* 0 is a fine offset: vd.virtio says it was found */
			vd.virtio = true;
		}
		else if (type == VIRTIO_PCI_CAP_ISR_CFG)
			vd.isr = off;
		else if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
			vd.device = off;
		else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
			vd.notify = off;
			vd.notify_mult = cfg_read(vd.bdf, pos + sizeof(struct virtio_pci_cap), 4);
		}
	}
	msix = cfg_find_cap(vd.bdf, PCI_CAP_ID_MSIX, 0);
	if (msix) {
		vd.nvec = (cfg_read(vd.bdf, msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1;
		vd.msix_table = cfg_read(vd.bdf, msix + PCI_MSIX_TABLE, 4) & ~7u;
		vd.msix_pba = cfg_read(vd.bdf, msix + PCI_MSIX_PBA, 4) & ~7u;
	}
	vd.bar_len = bar_size(vd.bdf, 0);
	if (!vd.bar_len || vd.bar_len > (1u << 24)) {
		errno = ENODEV;
		die("BAR 0 size");
	}
	enable_device(vd.bdf);
	vdev_map();
}

void vdev_reset(void)
{
	if (!vd.virtio)
		return; /* not a virtio device (a passed-through NIC) */
	w8(COMMON(device_status), 0);
	for (int i = 0; i < 1000 && r8(COMMON(device_status)); i++)
		usleep(100);
}

/* Feature negotiation up to FEATURES_OK (3.1.1), VERSION_1 + extra bits 0-31. */
void vdev_negotiate(u32 low_features)
{
	vdev_reset();
	w8(COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	w8(COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	w32(COMMON(guest_feature_select), 0);
	w32(COMMON(guest_feature), low_features);
	w32(COMMON(guest_feature_select), 1);
	w32(COMMON(guest_feature), 1); /* VIRTIO_F_VERSION_1 */
	w8(COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				     VIRTIO_CONFIG_S_FEATURES_OK);
}

void vq_place(u16 q, u16 size, u64 desc, u64 avail, u64 used, u16 vector)
{
	w16(COMMON(queue_select), q);
	w16(COMMON(queue_size), size);
	w16(COMMON(queue_msix_vector), vector);
	w32(COMMON(queue_desc_lo), (u32)desc);
	w32(COMMON(queue_desc_hi), (u32)(desc >> 32));
	w32(COMMON(queue_avail_lo), (u32)avail);
	w32(COMMON(queue_avail_hi), (u32)(avail >> 32));
	w32(COMMON(queue_used_lo), (u32)used);
	w32(COMMON(queue_used_hi), (u32)(used >> 32));
	w16(COMMON(queue_enable), 1);
}

/* A fresh device with queue 0 on our pages, DRIVER_OK; features as given. */
void vq_start(u32 low_features)
{
	for (unsigned int i = 0; i < 4; i++)
		memset(dma[i].virt, 0, PAGE);
	vdev_negotiate(low_features);
	vq_place(0, QSIZE, dma[0].phys, dma[1].phys, dma[2].phys, 0);
	w8(COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

/* Offers head on queue 0 (avail index moves by step) and kicks. */
void offer(u16 head, u16 step)
{
	u16 idx = AVAIL->idx;

	AVAIL->ring[idx % QSIZE] = head;
	__atomic_store_n(&AVAIL->idx, (u16)(idx + step), __ATOMIC_RELEASE);
	kick(0);
	usleep(1000); /* let the VMM's event loop walk it */
}

void desc_set(struct vring_desc *t, unsigned int i, u64 addr, u32 len, u16 flags, u16 next)
{
	t[i] = (struct vring_desc){ addr, len, flags, next };
}
