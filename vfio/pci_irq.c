/*
 * Interrupts of a passed-through function, none of which passes through
 * the VMM once set up:
 *  - MSI-X (pci_msix.c): the guest's table is emulated; a vector the guest
 *    unmasks gets an eventfd that VFIO signals when the physical vector
 *    fires, and that is an irqfd on a KVM MSI route carrying the guest's
 *    address/data. Only those vectors are armed in VFIO.
 *  - MSI (pci_msi.c): 1-32 vectors, the same way.
 *  - INTx (here): VFIO's trigger eventfd is a resampling irqfd on the
 *    slot's IOAPIC pin; the resample eventfd is VFIO's unmask eventfd, so
 *    the line is re-armed when the guest EOIs.
 * The physical device keeps the host's MSI address: nothing the guest
 * writes in a table reaches the hardware. VFIO holds one kind at a time;
 * vfio_irq_follow_guest() below is the one place that changes it.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pci_dev.h"
#include "core/log.h"

static const char *irq_index_name(u32 index)
{
	static const char *const names[VFIO_PCI_NUM_IRQS] = {
		[VFIO_PCI_INTX_IRQ_INDEX] = "INTx", [VFIO_PCI_MSI_IRQ_INDEX] = "MSI",
		[VFIO_PCI_MSIX_IRQ_INDEX] = "MSI-X", [VFIO_PCI_ERR_IRQ_INDEX] = "error",
		[VFIO_PCI_REQ_IRQ_INDEX] = "request",
	};

	return index < VFIO_PCI_NUM_IRQS ? names[index] : "unknown";
}

/*
 * Said once per device and interrupt kind: what the guest writes into its
 * MSI or MSI-X controls decides what is asked, so a hostile or confused
 * guest could otherwise fill the log, one line per config write.
 */
static void set_irqs_refused(struct vfio_pci_dev *d, u32 index, u32 start, u32 count, int err)
{
	unsigned int *refused = index < VFIO_PCI_NUM_IRQS ? &d->set_irqs_refused[index] : NULL;
	char why[64] = "";
	u16 pmcsr;

	if (refused && (*refused)++) {
		pr_debug("%s: VFIO_DEVICE_SET_IRQS %s start %u count %u: %s", d->bdf,
			 irq_index_name(index), start, count, strerror(-err));
		return;
	}
	/* The host enables no MSI or MSI-X on a function out of D0. */
	if (err == -EINVAL && d->pm_cap &&
	    pread(d->fd, &pmcsr, 2, (off_t)(d->config_offset + d->pm_cap + PCI_PM_CTRL)) == 2 &&
	    (pmcsr & PCI_PM_CTRL_STATE_MASK))
		snprintf(why, sizeof(why), ", the guest put the device in D%u",
			 pmcsr & PCI_PM_CTRL_STATE_MASK);
	pr_warn("%s: VFIO_DEVICE_SET_IRQS %s start %u count %u: %s%s (later refusals for %s are counted, not repeated)",
		d->bdf, irq_index_name(index), start, count, strerror(-err), why,
		irq_index_name(index));
}

int vfio_set_irqs(struct vfio_pci_dev *d, u32 index, u32 action, u32 start, u32 count,
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
		set_irqs_refused(d, index, start, count, ret);
	return ret;
}

static int intx_on(struct vfio_pci_dev *d)
{
	int err = vfio_set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
				&d->intx.fd);

	if (err)
		return err;
	err = irq_route_attach(&d->intx);
	if (err) {
		vfio_set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
		return err;
	}
	/* KVM's resample eventfd (the guest's EOI) is VFIO's unmask eventfd. */
	vfio_set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
		      &d->intx.resample_fd);
	return 0;
}

static void intx_off(struct vfio_pci_dev *d)
{
	vfio_set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	irq_route_detach(&d->intx);
}

/* What the guest's Enable bits ask for; with both MSI and MSI-X on, the one set last. */
static enum vfio_irq_kind wanted(const struct vfio_pci_dev *d)
{
	if (d->guest_msix_on && !(d->guest_msi_on && d->guest_msi_latest))
		return VFIO_IRQ_MSIX;
	if (d->guest_msi_on)
		return VFIO_IRQ_MSI;
	return d->irq_started && d->intx.gsi >= 0 ? VFIO_IRQ_INTX : VFIO_IRQ_NONE;
}

void vfio_irq_follow_guest(struct vfio_pci_dev *d)
{
	enum vfio_irq_kind want = wanted(d);
	int err = 0;

	if (want == d->irq_kind && (want != VFIO_IRQ_MSI || vfio_msi_current(d)))
		return;
	switch (d->irq_kind) {
	case VFIO_IRQ_INTX: intx_off(d); break;
	case VFIO_IRQ_MSI: vfio_msi_off(d); break;
	case VFIO_IRQ_MSIX: msix_vectors_pause(&d->msix_vectors); break;
	case VFIO_IRQ_NONE: break;
	}
	d->irq_kind = VFIO_IRQ_NONE;
	switch (want) {
	case VFIO_IRQ_INTX: err = intx_on(d); break;
	case VFIO_IRQ_MSI: err = vfio_msi_on(d); break;
	case VFIO_IRQ_MSIX: err = msix_vectors_enable(&d->msix_vectors); break;
	case VFIO_IRQ_NONE: break;
	}
	/* Refused: VFIO has nothing; the guest's next write to the controls tries again. */
	if (!err)
		d->irq_kind = want;
}

int vfio_irq_init(struct vfio_pci_dev *d)
{
	return d->msix_cap ? vfio_msix_init(d) : 0;
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
	pthread_mutex_lock(&d->irq_lock);
	d->irq_started = true;
	vfio_irq_follow_guest(d);
	pthread_mutex_unlock(&d->irq_lock);
}

void vfio_irq_release(struct vfio_pci_dev *d)
{
	if (d->irq_kind == VFIO_IRQ_INTX)
		intx_off(d);
	d->irq_kind = VFIO_IRQ_NONE;
	vfio_msix_release(d);
	vfio_msi_release(d);
	irq_route_release(&d->intx);
	for (u32 i = 0; i < VFIO_PCI_NUM_IRQS; i++)
		if (d->set_irqs_refused[i] > 1)
			pr_info("%s: VFIO refused %s interrupt changes %u more times", d->bdf,
				irq_index_name(i), d->set_irqs_refused[i] - 1);
}
