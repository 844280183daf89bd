/*
 * Interrupts of a passed-through function, none of which passes through
 * the VMM once set up:
 *  - MSI-X: the guest's table is emulated (devices/msix.c). A vector the
 *    guest unmasks gets an eventfd that VFIO signals when the physical
 *    vector fires, and that is an irqfd on a KVM MSI route carrying the
 *    guest's address/data. Only those vectors are enabled in VFIO.
 *  - MSI: one vector, the same way.
 *  - INTx: VFIO's trigger eventfd is a resampling irqfd on the slot's
 *    IOAPIC pin; the resample eventfd is VFIO's unmask eventfd, so the
 *    line is re-armed when the guest EOIs.
 * The physical device keeps the host's MSI address: nothing the guest
 * writes in a table reaches the hardware.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "pci_dev.h"
#include "core/log.h"

/* VFIO_DEVICE_SET_IRQS with eventfds (fds NULL: disable the index). */
static int set_irqs(struct vfio_pci_dev *d, u32 index, u32 action, u32 start, u32 count,
		    const int *fds)
{
	size_t size = sizeof(struct vfio_irq_set) + (fds ? count * sizeof(int) : 0);
	struct vfio_irq_set *set = calloc(1, size);
	int ret;

	if (!set)
		return -ENOMEM;
	set->argsz = (u32)size;
	set->flags = action | (fds ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	set->index = index;
	set->start = start;
	set->count = count;
	if (fds)
		memcpy(set->data, fds, count * sizeof(int));
	ret = ioctl(d->fd, VFIO_DEVICE_SET_IRQS, set) < 0 ? -errno : 0;
	free(set);
	if (ret)
		pr_warn("%s: VFIO_DEVICE_SET_IRQS index %u count %u: %s", d->bdf, index, count,
			strerror(-ret));
	return ret;
}

static void intx_enable(struct vfio_pci_dev *d)
{
	if (d->intx.gsi < 0 || d->intx_on)
		return;
	if (set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &d->intx.fd))
		return;
	if (irq_route_attach(&d->intx)) {
		set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
		return;
	}
	/* KVM's resample eventfd (the guest's EOI) is VFIO's unmask eventfd. */
	set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
		 &d->intx.resample_fd);
	d->intx_on = true;
}

/* VFIO refuses MSI/MSI-X while INTx is on, and vice versa. */
static void intx_disable(struct vfio_pci_dev *d)
{
	if (!d->intx_on)
		return;
	set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	irq_route_detach(&d->intx);
	d->intx_on = false;
}

/* Called by the MSI-X emulation, its lock held. */
static void msix_vector_changed(struct msix *m, int vector, void *opaque)
{
	struct vfio_pci_dev *d = opaque;
	unsigned int count;
	int *fds;

	if (vector < 0) {
		if (d->vfio_msix_count)
			set_irqs(d, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
		d->vfio_msix_count = 0;
		d->msix_armed = 0;
		intx_enable(d);
		return;
	}
	if (vector < 64 && (d->msix_armed & (1ULL << vector)))
		return;
	if (vector < 64)
		d->msix_armed |= 1ULL << vector;
	intx_disable(d);
	count = MAX(d->vfio_msix_count, (unsigned int)vector + 1);
	fds = malloc(count * sizeof(int));
	if (!fds)
		return;
	for (unsigned int i = 0; i < count; i++) {
		bool armed = i < 64 ? (d->msix_armed >> i) & 1 : i == (unsigned int)vector;

		fds[i] = armed ? m->vectors[i].route.fd : -1;
	}
	/* A device that cannot grow its vector set is disabled and re-enabled. */
	if (d->msix_noresize && d->vfio_msix_count && count > d->vfio_msix_count)
		set_irqs(d, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	if (!set_irqs(d, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, count, fds))
		d->vfio_msix_count = count;
	free(fds);
}

void vfio_msi_config_written(struct vfio_pci_dev *d)
{
	const u8 *cfg = d->pci.config;
	u8 c = d->msi_cap;
	u16 flags, data;
	u32 lo, hi = 0;
	bool enable;

	memcpy(&flags, &cfg[c + PCI_MSI_FLAGS], 2);
	memcpy(&lo, &cfg[c + PCI_MSI_ADDRESS_LO], 4);
	if (d->msi_64bit) {
		memcpy(&hi, &cfg[c + PCI_MSI_ADDRESS_HI], 4);
		memcpy(&data, &cfg[c + PCI_MSI_DATA_64], 2);
	} else {
		memcpy(&data, &cfg[c + PCI_MSI_DATA_32], 2);
	}
	enable = flags & PCI_MSI_FLAGS_ENABLE;
	if (!enable) {
		if (d->msi_enabled) {
			set_irqs(d, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
			irq_route_detach(&d->msi);
			d->msi_enabled = false;
			intx_enable(d);
		}
		return;
	}
	/* The route follows every address/data write; wiring happens once. */
	if (irq_route_fd(&d->msi) < 0 ||
	    irq_route_set_msi(&d->msi, (u64)hi << 32 | lo, data, pci_requester_id(&d->pci)))
		return;
	if (d->msi_enabled)
		return;
	intx_disable(d);
	if (irq_route_attach(&d->msi))
		return;
	if (set_irqs(d, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &d->msi.fd)) {
		irq_route_detach(&d->msi);
		return;
	}
	d->msi_enabled = true;
}

static int init_msix(struct vfio_pci_dev *d)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	const u8 *cfg = d->pci.config;
	u32 table, pba;
	u16 control;
	int err;

	memcpy(&control, &cfg[d->msix_cap + PCI_MSIX_FLAGS], 2);
	memcpy(&table, &cfg[d->msix_cap + PCI_MSIX_TABLE], 4);
	memcpy(&pba, &cfg[d->msix_cap + PCI_MSIX_PBA], 4);
	if ((table & PCI_MSIX_TABLE_BIR) != (pba & PCI_MSIX_PBA_BIR)) {
		pr_err("%s: MSI-X table and PBA in different BARs are not supported", d->bdf);
		return -ENOTSUP;
	}
	d->msix_bar = table & PCI_MSIX_TABLE_BIR;
	d->msix_table_offset = table & PCI_MSIX_TABLE_OFFSET;
	d->msix_pba_offset = pba & PCI_MSIX_PBA_OFFSET;
	if (ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &info) == 0)
		d->msix_noresize = info.flags & VFIO_IRQ_INFO_NORESIZE;
	err = msix_init(&d->msix, d->vm, (control & PCI_MSIX_FLAGS_QSIZE) + 1, d->bdf);
	if (err)
		return err;
	d->msix.vector_changed = msix_vector_changed;
	d->msix.opaque = d;
	return 0;
}

int vfio_irq_init(struct vfio_pci_dev *d)
{
	return d->msix_cap ? init_msix(d) : 0;
}

/* INTx needs the slot, known once the device is on the bus. */
int vfio_intx_init(struct vfio_pci_dev *d)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_INTX_IRQ_INDEX };
	u8 pin = d->pci.config[PCI_INTERRUPT_PIN];
	unsigned int gsi;
	int err;

	d->pci.config[PCI_INTERRUPT_LINE] = 0xff;
	if (!pin || pin > 4 || ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0 || !info.count)
		return 0;
	gsi = pci_intx_gsi(d->bus, d->pci.slot, pin - 1u);
	err = irq_route_set_line(&d->intx, gsi);
	if (err)
		return err;
	d->pci.config[PCI_INTERRUPT_LINE] = (u8)gsi;
	return 0;
}

/*
 * INTx is armed once the interrupt controller is ready: an arm64 vGIC
 * refuses irqfds until it is initialised, after the vCPUs exist.
 */
void vfio_intx_start(struct vfio_pci_dev *d)
{
	if (!d->msi_enabled && !d->vfio_msix_count)
		intx_enable(d);
}

void vfio_irq_release(struct vfio_pci_dev *d)
{
	intx_disable(d);
	if (d->vfio_msix_count)
		set_irqs(d, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	if (d->msi_enabled)
		set_irqs(d, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	d->vfio_msix_count = 0;
	d->msi_enabled = false;
	if (d->msix_cap)
		msix_destroy(&d->msix);
	irq_route_release(&d->msi);
	irq_route_release(&d->intx);
}
