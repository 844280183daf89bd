/*
 * MSI-X of a passed-through function: the table and PBA the guest sees
 * are emulated (devices/msix.c) wherever the capability puts them (one
 * BAR or two, sharing pages with registers or not; vfio/msix_layout.c);
 * each vector the guest enables is armed in VFIO with the eventfd of its
 * KVM route (vfio/msix_vectors.c), leaving the others untouched.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "pci_dev.h"
#include "core/log.h"

static int set_msix_irqs(void *opaque, unsigned int start, unsigned int count, const int *fds)
{
	return vfio_set_irqs(opaque, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, start,
			     count, fds);
}

static int msix_route_fd(void *opaque, unsigned int vector)
{
	struct vfio_pci_dev *d = opaque;

	/*
	 * Under irq_lock; the msix lock is held too unless MSI-X comes back
	 * from an MSI config write, and then every armed vector's eventfd
	 * exists already (made when it was marked) and is only read.
	 */
	return irq_route_fd(&d->msix.vectors[vector].route);
}

/* Called by the MSI-X emulation, its lock held. */
static void msix_vector_changed(struct msix *m, int vector, void *opaque)
{
	struct vfio_pci_dev *d = opaque;

	pthread_mutex_lock(&d->irq_lock);
	if (vector == MSIX_FUNCTION_ENABLED || vector == MSIX_FUNCTION_DISABLED) {
		d->guest_msix_on = vector == MSIX_FUNCTION_ENABLED;
		if (d->guest_msix_on)
			d->guest_msi_latest = false;
		vfio_irq_follow_guest(d);
		/* Off in VFIO by now; the marks kept while MSI held the device go too. */
		if (!d->guest_msix_on)
			msix_vectors_disarm_all(&d->msix_vectors);
	} else if (d->irq_kind == VFIO_IRQ_MSIX) {
		msix_vectors_arm(&d->msix_vectors, (unsigned int)vector);
	} else {
		/*
		 * Armed when MSI-X has the device: at once if VFIO refused it
		 * before (a function the guest had put out of D0), later if MSI
		 * holds it now.
		 */
		msix_vectors_mark(&d->msix_vectors, (unsigned int)vector);
		vfio_irq_follow_guest(d);
	}
	pthread_mutex_unlock(&d->irq_lock);
}

bool vfio_msix_access(struct vfio_pci_dev *d, unsigned int bar, u64 offset, u8 *data, u32 len,
		      bool is_write)
{
	const struct msix_layout *l = &d->msix_layout;

	if (!d->msix_cap)
		return false;
	/*
	 * An access that reaches into the table or PBA from below straddles
	 * its start, which 6.8.2 leaves undefined: dropped, so that no byte
	 * of it reaches the device's own table.
	 */
	if (bar == l->table_bar && ranges_overlap(offset, len, l->table_offset, l->table_size)) {
		if (offset >= l->table_offset)
			msix_table_access(&d->msix, offset - l->table_offset, data, len, is_write);
		else if (!is_write)
			memset(data, 0xff, len);
		return true;
	}
	if (bar == l->pba_bar && ranges_overlap(offset, len, l->pba_offset, l->pba_size)) {
		if (offset >= l->pba_offset)
			msix_pba_access(&d->msix, offset - l->pba_offset, data, len, is_write);
		else if (!is_write)
			memset(data, 0xff, len);
		return true;
	}
	return false;
}

int vfio_msix_init(struct vfio_pci_dev *d)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	const u8 *cfg = d->pci.config;
	u64 bar_size[MSIX_LAYOUT_BARS];
	char why[160];
	u32 table, pba;
	u16 control;
	int err;

	memcpy(&control, &cfg[d->msix_cap + PCI_MSIX_FLAGS], 2);
	memcpy(&table, &cfg[d->msix_cap + PCI_MSIX_TABLE], 4);
	memcpy(&pba, &cfg[d->msix_cap + PCI_MSIX_PBA], 4);
	for (unsigned int i = 0; i < MSIX_LAYOUT_BARS; i++)
		bar_size[i] = d->bars[i].present ? d->bars[i].size : 0;
	if (msix_layout_parse(control, table, pba, bar_size, &d->msix_layout, why, sizeof(why))) {
		pr_err("%s: %s", d->bdf, why);
		return -EINVAL;
	}
	if (ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0 || !info.count) {
		pr_err("%s: VFIO offers no MSI-X interrupts for its MSI-X capability", d->bdf);
		return -EINVAL;
	}
	err = msix_init(&d->msix, d->vm, d->msix_layout.nvectors, d->bdf);
	if (!err)
		err = msix_vectors_init(&d->msix_vectors, d->msix_layout.nvectors,
					info.flags & VFIO_IRQ_INFO_NORESIZE, set_msix_irqs,
					msix_route_fd, d);
	if (err)
		return err;
	d->msix.vector_changed = msix_vector_changed;
	d->msix.opaque = d;
	pr_debug("%s: MSI-X %u vectors, table BAR%u+0x%llx, PBA BAR%u+0x%llx%s", d->bdf,
		 d->msix_layout.nvectors, d->msix_layout.table_bar,
		 (unsigned long long)d->msix_layout.table_offset, d->msix_layout.pba_bar,
		 (unsigned long long)d->msix_layout.pba_offset,
		 info.flags & VFIO_IRQ_INFO_NORESIZE ? " (VFIO cannot add vectors while enabled)" : "");
	return 0;
}

void vfio_msix_release(struct vfio_pci_dev *d)
{
	if (!d->msix_cap)
		return;
	msix_vectors_disarm_all(&d->msix_vectors);
	msix_vectors_destroy(&d->msix_vectors);
	msix_destroy(&d->msix);
}
