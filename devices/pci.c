#include "pci.h"

#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "vmm/log.h"

/* Generic PCIe host bridge ID (1b36:0008), which guests bind no driver to. */
#define HOST_BRIDGE_VENDOR 0x1b36
#define HOST_BRIDGE_DEVICE 0x0008

void pci_set_u8(struct pci_device *dev, u32 offset, u8 value)
{
	dev->config[offset] = value;
}

void pci_set_u16(struct pci_device *dev, u32 offset, u16 value)
{
	dev->config[offset] = value & 0xff;
	dev->config[offset + 1] = value >> 8;
}

void pci_set_u32(struct pci_device *dev, u32 offset, u32 value)
{
	pci_set_u16(dev, offset, value & 0xffff);
	pci_set_u16(dev, offset + 2, value >> 16);
}

void pci_bus_init(struct pci_bus *bus)
{
	struct pci_device *hb = &bus->host_bridge;

	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
	hb->name = "host bridge";
	pci_set_u16(hb, PCI_VENDOR_ID, HOST_BRIDGE_VENDOR);
	pci_set_u16(hb, PCI_DEVICE_ID, HOST_BRIDGE_DEVICE);
	pci_set_u16(hb, PCI_CLASS_DEVICE, 0x0600); /* bridge: host */
	pci_set_u8(hb, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL);
	pci_set_u16(hb, PCI_SUBSYSTEM_VENDOR_ID, HOST_BRIDGE_VENDOR);
	hb->wmask[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_IO;
	bus->slots[0] = hb;
}

int pci_bus_add(struct pci_bus *bus, struct pci_device *dev)
{
	unsigned int slot = dev->slot;

	if (!slot) {
		for (slot = 1; slot < PCI_MAX_SLOTS && bus->slots[slot]; slot++)
			;
	}
	if (slot >= PCI_MAX_SLOTS || bus->slots[slot]) {
		pr_err("PCI: no free slot for %s", dev->name);
		return -ENOSPC;
	}
	dev->slot = (u8)slot;
	bus->slots[slot] = dev;
	return 0;
}

void pci_config_access(struct pci_bus *bus, u8 busno, u8 slot, u8 fn, u32 offset,
		       u8 *data, u32 len, bool is_write)
{
	struct pci_device *dev = NULL;

	/* Only single-function devices on bus 0: anything else is absent. */
	if (busno == 0 && fn == 0 && slot < PCI_MAX_SLOTS)
		dev = bus->slots[slot];
	if (offset >= PCI_CONFIG_SIZE || len > PCI_CONFIG_SIZE - offset)
		dev = NULL;
	if (!dev) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	if (is_write) {
		for (u32 i = 0; i < len; i++) {
			u8 mask = dev->wmask[offset + i];

			dev->config[offset + i] = (dev->config[offset + i] & ~mask) | (data[i] & mask);
		}
		if (dev->config_written)
			dev->config_written(dev, offset, len);
	} else {
		memcpy(data, &dev->config[offset], len);
	}
	pthread_mutex_unlock(&bus->lock);
}

void pci_cam_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct pci_bus *bus = opaque;
	u32 addr;

	if (offset < 4) {
		/* CONFIG_ADDRESS is a dword register; byte accesses are not it. */
		if (offset != 0 || len != 4) {
			if (!is_write)
				memset(data, 0xff, len);
			return;
		}
		if (is_write)
			memcpy(&bus->cam_address, data, 4);
		else
			memcpy(data, &bus->cam_address, 4);
		return;
	}
	addr = bus->cam_address;
	if (!(addr & 0x80000000u)) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	/* Bits 11:8 extend the register number (AMD extended config access). */
	pci_config_access(bus, (addr >> 16) & 0xff, (addr >> 11) & 0x1f, (addr >> 8) & 0x7,
			  ((addr & 0xfc) | ((addr >> 16) & 0xf00)) + (u32)(offset - 4),
			  data, len, is_write);
}

void pci_ecam_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	pci_config_access(opaque, (offset >> 20) & 0xff, (offset >> 15) & 0x1f,
			  (offset >> 12) & 0x7, offset & 0xfff, data, len, is_write);
}
