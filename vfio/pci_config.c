/*
 * Config space of a passed-through function. The shadow (pci.config)
 * holds what the guest must see instead of the hardware: BARs at guest
 * addresses, no expansion ROM, the interrupt line, and the MSI and MSI-X
 * controls, which the VMM implements with irqfds. Every other byte is
 * read from and written to the device through VFIO's config region.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pci_dev.h"
#include "core/log.h"

static void emulate(struct vfio_pci_dev *d, u32 offset, u32 len)
{
	memset(&d->emulated[offset], 1, len);
}

static void mirror_write(struct vfio_pci_dev *d, u32 offset, u8 value)
{
	u8 mask = d->pci.wmask[offset];

	d->pci.config[offset] = (d->pci.config[offset] & ~mask) | (value & mask);
}

static void find_capabilities(struct vfio_pci_dev *d)
{
	u8 *cfg = d->pci.config;
	u8 pos = cfg[PCI_CAPABILITY_LIST] & ~3;
	unsigned int hops = 0;

	if (!(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return;
	/* 48 capabilities at most fit in 256 bytes: a longer list loops. */
	while (pos >= 0x40 && hops++ < 48) {
		if (cfg[pos] == PCI_CAP_ID_MSIX)
			d->msix_cap = pos;
		else if (cfg[pos] == PCI_CAP_ID_MSI)
			d->msi_cap = pos;
		else if (cfg[pos] == PCI_CAP_ID_PM)
			d->pm_cap = pos;
		pos = cfg[pos + 1] & ~3;
	}
}

int vfio_config_init(struct vfio_pci_dev *d)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info), .index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	ssize_t n;

	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &info) < 0) {
		pr_err("%s: cannot find its config space: %s", d->bdf, strerror(errno));
		return -errno;
	}
	d->config_offset = info.offset;
	n = pread(d->fd, d->pci.config, MIN(info.size, (u64)PCI_CONFIG_SIZE), (off_t)info.offset);
	if (n < 256) {
		pr_err("%s: cannot read its config space", d->bdf);
		return -EIO;
	}
	memset(d->emulated, 0, sizeof(d->emulated));
	memset(d->pci.wmask, 0, sizeof(d->pci.wmask));

	/* BARs and the ROM are ours; vfio_bars_assign fills them in. */
	emulate(d, PCI_BASE_ADDRESS_0, 24);
	emulate(d, PCI_ROM_ADDRESS, 4);
	memset(&d->pci.config[PCI_BASE_ADDRESS_0], 0, 24);
	memset(&d->pci.config[PCI_ROM_ADDRESS], 0, 4);
	emulate(d, PCI_INTERRUPT_LINE, 2);
	d->pci.wmask[PCI_INTERRUPT_LINE] = 0xff;
	/* Command: written through, mirrored so decode state is known here. */
	d->pci.wmask[PCI_COMMAND] = 0xff;
	d->pci.wmask[PCI_COMMAND + 1] = 0xff;

	find_capabilities(d);
	if (d->msix_cap) {
		emulate(d, d->msix_cap + PCI_MSIX_FLAGS, 2);
		d->pci.wmask[d->msix_cap + PCI_MSIX_FLAGS + 1] =
			(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
		d->pci.config[d->msix_cap + PCI_MSIX_FLAGS + 1] &=
			~((PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8);
	}
	if (d->msi_cap)
		vfio_msi_setup_config(d);
	return 0;
}

static void write_through(struct vfio_pci_dev *d, u32 offset, const u8 *data, u32 len)
{
	if (pwrite(d->fd, data, len, (off_t)(d->config_offset + offset)) != (ssize_t)len)
		pr_debug("%s: config write at 0x%x failed", d->bdf, offset);
}

void vfio_config_access(struct pci_device *pci, u32 offset, u8 *data, u32 len, bool is_write)
{
	struct vfio_pci_dev *d = pci->opaque;
	u16 control;

	if (!is_write) {
		if (d->msi_cap && ranges_overlap(offset, len, d->msi_cap, 24))
			vfio_msi_refresh_pending(d);
		if (pread(d->fd, data, len, (off_t)(d->config_offset + offset)) != (ssize_t)len)
			memset(data, 0xff, len);
		for (u32 i = 0; i < len; i++)
			if (d->emulated[offset + i])
				data[i] = pci->config[offset + i];
		if (ranges_overlap(offset, len, PCI_COMMAND, 2)) {
			bool decoded = pci_memory_enabled(pci);

			for (u32 i = 0; i < len; i++)
				if (offset + i >= PCI_COMMAND && offset + i < PCI_COMMAND + 2)
					pci->config[offset + i] = data[i];
			/*
			 * The device turned decoding off itself (a function-level
			 * reset the guest started through the PCIe capability): the
			 * memslots must not outlive it.
			 */
			if (pci_memory_enabled(pci) != decoded)
				vfio_bars_update_mappings(d);
		}
		return;
	}

	for (u32 i = 0, run = 0; i <= len; i++) {
		/* Pass through maximal runs of non-emulated bytes. */
		if (i < len && !d->emulated[offset + i]) {
			run++;
			continue;
		}
		if (run)
			write_through(d, offset + i - run, data + i - run, run);
		run = 0;
		if (i < len)
			mirror_write(d, offset + i, data[i]);
	}
	for (u32 i = 0; i < len; i++)
		if (offset + i >= PCI_COMMAND && offset + i < PCI_COMMAND + 2)
			mirror_write(d, offset + i, data[i]);

	if (ranges_overlap(offset, len, PCI_COMMAND, 2) ||
	    ranges_overlap(offset, len, PCI_BASE_ADDRESS_0, 24))
		vfio_bars_update_mappings(d);
	if (d->msix_cap && ranges_overlap(offset, len, d->msix_cap + PCI_MSIX_FLAGS, 2)) {
		memcpy(&control, &pci->config[d->msix_cap + PCI_MSIX_FLAGS], 2);
		msix_set_control(&d->msix, control & PCI_MSIX_FLAGS_ENABLE,
				 control & PCI_MSIX_FLAGS_MASKALL);
	}
	if (d->msi_cap && ranges_overlap(offset, len, d->msi_cap + 2, 22))
		vfio_msi_config_written(d);
}
