/* Opening a passed-through PCI function and putting it on the guest's bus. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "iommu.h"
#include "pci_dev.h"
#include "core/log.h"
#include "core/vm.h"

int vfio_pci_dev_open(struct vfio_pci_dev *d, struct vm *vm, struct vfio_iommu *iommu,
		      const char *bdf)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->irq_lock, NULL);
	d->vm = vm;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	for (unsigned int i = 0; i < ARRAY_SIZE(d->msi); i++)
		irq_route_init(&d->msi[i], vm);
	irq_route_init(&d->intx, vm);
	d->fd = iommu->ops->device_fd(iommu, bdf);
	if (d->fd < 0)
		return d->fd;
	if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &info) < 0 || !(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		pr_err("%s is not a VFIO PCI device", bdf);
		return -ENODEV;
	}
	d->flags = info.flags;
	/* Start from a clean device, whatever the host or a previous VM left. */
	if ((d->flags & VFIO_DEVICE_FLAGS_RESET) && ioctl(d->fd, VFIO_DEVICE_RESET) < 0)
		pr_warn("%s: reset failed: %s", bdf, strerror(errno));
	return 0;
}

int vfio_pci_dev_probe(struct vfio_pci_dev *d, struct pci_bus *bus)
{
	int err;

	d->bus = bus;
	d->pci.name = d->bdf;
	err = vfio_config_init(d);
	return err ? err : vfio_bars_probe(d);
}

int vfio_pci_dev_add(struct vfio_pci_dev *d)
{
	int err;

	/* The MSI-X capability is checked against the BARs' sizes. */
	err = vfio_bars_assign(d);
	if (!err)
		err = vfio_irq_init(d);
	if (err)
		return err;
	/*
	 * A device may come up decoding already (no reset, or one that leaves
	 * the command register alone): its BARs are mapped from the start,
	 * as after the guest's own enable.
	 */
	vfio_bars_update_mappings(d);
	/* One function on our bus: hide the multi-function bit. */
	d->emulated[PCI_HEADER_TYPE] = 1;
	d->pci.config[PCI_HEADER_TYPE] &= 0x7f;
	d->pci.opaque = d;
	d->pci.config_access = vfio_config_access;
	err = pci_bus_add(d->bus, &d->pci);
	if (err)
		return err;
	d->msix.devid = pci_requester_id(&d->pci);
	err = vfio_intx_init(d);
	pr_info("%s passed through as guest PCI 00:%02x.0", d->bdf, d->pci.slot);
	return err;
}

void vfio_pci_dev_close(struct vfio_pci_dev *d)
{
	if (d->fd < 0)
		return;
	vfio_irq_release(d);
	vfio_bars_release(d);
	/* Leave the device quiet for the host: no DMA into freed guest RAM. */
	if (d->flags & VFIO_DEVICE_FLAGS_RESET)
		ioctl(d->fd, VFIO_DEVICE_RESET);
	close(d->fd);
	d->fd = -1;
}
