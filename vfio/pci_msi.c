/*
 * MSI of a passed-through function (PCI Local Bus 3.0, 6.8.1): 1 to 32
 * vectors, with per-vector masking when the device has it. The capability
 * the guest sees is emulated: its Multiple Message Capable field is the
 * device's, and the guest's Multiple Message Enable picks how many vectors
 * VFIO enables. Vector i of n is the guest's message with the low log2(n)
 * bits of its data replaced by i (6.8.1.6), delivered by its own irqfd
 * route. A masked vector's irqfd is detached: a signal meanwhile waits in
 * its eventfd, reads as its Pending bit and is delivered on unmask.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <string.h>

#include "pci_dev.h"
#include "core/log.h"

static u32 cfg_u32(const struct vfio_pci_dev *d, unsigned int offset)
{
	u32 v;

	memcpy(&v, &d->pci.config[d->msi_cap + offset], 4);
	return v;
}

static unsigned int mask_offset(const struct vfio_pci_dev *d)
{
	return d->msi_64bit ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32;
}

void vfio_msi_setup_config(struct vfio_pci_dev *d)
{
	u8 *cfg = d->pci.config, c = d->msi_cap;
	u8 *wmask = d->pci.wmask;
	u16 flags;
	u32 len;

	memcpy(&flags, &cfg[c + PCI_MSI_FLAGS], 2);
	d->msi_64bit = flags & PCI_MSI_FLAGS_64BIT;
	d->msi_maskable = flags & PCI_MSI_FLAGS_MASKBIT;
	/* Multiple Message Capable: 0-5 (1-32 vectors); 6 and 7 are reserved. */
	d->msi_max = 1u << MIN((unsigned int)(flags & PCI_MSI_FLAGS_QMASK) >> 1, 5u);
	flags &= ~(PCI_MSI_FLAGS_QMASK | PCI_MSI_FLAGS_QSIZE | PCI_MSI_FLAGS_ENABLE);
	flags |= (u16)(__builtin_ctz(d->msi_max) << 1);
	memcpy(&cfg[c + PCI_MSI_FLAGS], &flags, 2);
	len = (d->msi_64bit ? 14 : 10) + (d->msi_maskable ? 10 : 0);
	memset(&d->emulated[c + 2], 1, len - 2);
	memset(&cfg[c + 4], 0, len - 4);
	wmask[c + PCI_MSI_FLAGS] = PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE;
	memset(&wmask[c + PCI_MSI_ADDRESS_LO], 0xff, 4);
	wmask[c + PCI_MSI_ADDRESS_LO] = 0xfc;
	if (d->msi_64bit) {
		memset(&wmask[c + PCI_MSI_ADDRESS_HI], 0xff, 4);
		memset(&wmask[c + PCI_MSI_DATA_64], 0xff, 2);
	} else {
		memset(&wmask[c + PCI_MSI_DATA_32], 0xff, 2);
	}
	if (d->msi_maskable) {
		/* Mask bits for the vectors the device has; Pending bits are read-only. */
		u32 mask = d->msi_max == 32 ? ~0u : (1u << d->msi_max) - 1;

		memcpy(&wmask[c + mask_offset(d)], &mask, 4);
	}
}

static u16 msi_flags(const struct vfio_pci_dev *d)
{
	u16 flags;

	memcpy(&flags, &d->pci.config[d->msi_cap + PCI_MSI_FLAGS], 2);
	return flags;
}

/* Multiple Message Enable, never more than the device is capable of. */
static unsigned int vectors_asked(const struct vfio_pci_dev *d)
{
	return MIN(1u << MIN((unsigned int)(msi_flags(d) & PCI_MSI_FLAGS_QSIZE) >> 4, 5u),
		   d->msi_max);
}

void vfio_msi_off(struct vfio_pci_dev *d)
{
	if (!d->msi_enabled)
		return;
	vfio_set_irqs(d, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	for (unsigned int i = 0; i < d->msi_enabled; i++)
		irq_route_detach(&d->msi[i]);
	d->msi_enabled = 0;
}

/* Routes follow every address/data write; masking detaches (6.8.1.8). */
static void update_routes(struct vfio_pci_dev *d)
{
	u32 lo = cfg_u32(d, PCI_MSI_ADDRESS_LO), hi = 0, data, mask = 0;
	unsigned int n = d->msi_asked;

	if (d->msi_64bit) {
		hi = cfg_u32(d, PCI_MSI_ADDRESS_HI);
		data = cfg_u32(d, PCI_MSI_DATA_64) & 0xffff;
	} else {
		data = cfg_u32(d, PCI_MSI_DATA_32) & 0xffff;
	}
	if (d->msi_maskable)
		mask = cfg_u32(d, mask_offset(d));
	for (unsigned int i = 0; i < d->msi_enabled; i++) {
		u32 vdata = (data & ~(n - 1)) | i;

		if (irq_route_set_msi(&d->msi[i], (u64)hi << 32 | lo, vdata,
				      pci_requester_id(&d->pci)))
			continue;
		if ((mask >> i) & 1)
			irq_route_detach(&d->msi[i]);
		else
			irq_route_attach(&d->msi[i]);
	}
}

/* Enables the vectors asked for in VFIO with their eventfds; 1 if the host cannot. */
int vfio_msi_on(struct vfio_pci_dev *d)
{
	unsigned int n = vectors_asked(d);
	int fds[32];

	for (unsigned int i = 0; i < n; i++) {
		fds[i] = irq_route_fd(&d->msi[i]);
		if (fds[i] < 0)
			return fds[i];
	}
	d->msi_asked = n;
	while (vfio_set_irqs(d, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, n, fds)) {
		if (n == 1)
			return -EIO;
		/* Multiple MSI needs host support (x86: interrupt remapping). Said once. */
		if (!d->msi_fallback_said)
			pr_warn("%s: the host cannot enable %u MSI vectors; the device gets 1", d->bdf, n);
		d->msi_fallback_said = true;
		n = 1;
	}
	d->msi_enabled = n;
	update_routes(d);
	return 0;
}

bool vfio_msi_current(const struct vfio_pci_dev *d)
{
	return d->msi_enabled && d->msi_asked == vectors_asked(d);
}

void vfio_msi_config_written(struct vfio_pci_dev *d)
{
	bool on = msi_flags(d) & PCI_MSI_FLAGS_ENABLE;

	pthread_mutex_lock(&d->irq_lock);
	/* Only a rising Enable makes MSI the latest: a rewrite of the same value does not. */
	if (on && !d->guest_msi_on)
		d->guest_msi_latest = true;
	d->guest_msi_on = on;
	/* An address, data or mask write to an enabled MSI; enabling sets the routes itself. */
	if (d->irq_kind == VFIO_IRQ_MSI && on && vfio_msi_current(d))
		update_routes(d);
	else
		vfio_irq_follow_guest(d);
	pthread_mutex_unlock(&d->irq_lock);
}

void vfio_msi_refresh_pending(struct vfio_pci_dev *d)
{
	u32 pending = 0;

	if (!d->msi_cap || !d->msi_maskable)
		return;
	pthread_mutex_lock(&d->irq_lock);
	for (unsigned int i = 0; i < d->msi_enabled; i++)
		if (irq_route_pending(&d->msi[i]))
			pending |= 1u << i;
	pthread_mutex_unlock(&d->irq_lock);
	memcpy(&d->pci.config[d->msi_cap + mask_offset(d) + 4], &pending, 4);
}

void vfio_msi_release(struct vfio_pci_dev *d)
{
	vfio_msi_off(d);
	for (unsigned int i = 0; i < ARRAY_SIZE(d->msi); i++)
		irq_route_release(&d->msi[i]);
}
