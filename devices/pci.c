#include "pci.h"

#include <errno.h>
#include <stdlib.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "core/log.h"

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
	if (dev->config_access) {
		dev->config_access(dev, offset, data, len, is_write);
	} else if (is_write) {
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

u64 pci_bar_address(const struct pci_device *dev, unsigned int bar)
{
	u32 lo, hi = 0;

	memcpy(&lo, &dev->config[PCI_BASE_ADDRESS_0 + 4 * bar], 4);
	if (dev->bars[bar].is64)
		memcpy(&hi, &dev->config[PCI_BASE_ADDRESS_0 + 4 * (bar + 1)], 4);
	return ((u64)hi << 32 | lo) & ~(u64)0xf;
}

bool pci_range_in_windows(const struct pci_bus *bus, u64 addr, u64 size)
{
	const struct pci_window *w[] = { &bus->mmio32, &bus->mmio64 };

	for (unsigned int i = 0; i < 2; i++)
		if (w[i]->size && addr >= w[i]->base && size <= w[i]->size &&
		    addr - w[i]->base <= w[i]->size - size)
			return true;
	return false;
}

bool pci_memory_enabled(const struct pci_device *dev)
{
	return dev->config[PCI_COMMAND] & PCI_COMMAND_MEMORY;
}

int pci_bar_assign_at(struct pci_device *dev, unsigned int bar, u64 size, bool is64, u64 addr,
		      io_handler_fn handler, void *opaque)
{
	u64 mask = ~(size - 1);
	u32 flags = is64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : PCI_BASE_ADDRESS_MEM_TYPE_32;

	if (bar >= PCI_NUM_BARS || (is64 && bar + 1 >= PCI_NUM_BARS) || size < 16 ||
	    (size & (size - 1)) || (addr & (size - 1)) || (!is64 && addr + size > 1ULL << 32))
		return -EINVAL;
	dev->bars[bar] = (struct pci_bar){ size, is64, handler, opaque };
	pci_set_u32(dev, PCI_BASE_ADDRESS_0 + 4 * bar, (u32)addr | flags);
	/* Only the address bits above the size are writable (sizing protocol). */
	memcpy(&dev->wmask[PCI_BASE_ADDRESS_0 + 4 * bar], &(u32){ (u32)mask & ~0xfu }, 4);
	if (is64) {
		pci_set_u32(dev, PCI_BASE_ADDRESS_0 + 4 * (bar + 1), (u32)(addr >> 32));
		memcpy(&dev->wmask[PCI_BASE_ADDRESS_0 + 4 * (bar + 1)], &(u32){ (u32)(mask >> 32) }, 4);
	}
	dev->wmask[PCI_COMMAND] |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	return 0;
}

int pci_bar_assign(struct pci_bus *bus, struct pci_device *dev, unsigned int bar, u64 size,
		   bool is64, io_handler_fn handler, void *opaque)
{
	struct pci_window *w = is64 && bus->mmio64.size ? &bus->mmio64 : &bus->mmio32;
	u64 addr;

	if (size < 16 || (size & (size - 1)))
		return -EINVAL;
	/* Natural alignment, as the BAR sizing protocol implies. */
	addr = ALIGN_UP(w->next, size);
	if (addr < w->next || addr + size > w->top || addr + size < addr) {
		pr_err("PCI: no room for a %llu KiB BAR of %s in the %s-bit MMIO window",
		       (unsigned long long)(size / KiB), dev->name ? dev->name : "a device",
		       w == &bus->mmio64 ? "64" : "32");
		return -ENOSPC;
	}
	w->next = addr + size;
	return pci_bar_assign_at(dev, bar, size, is64, addr, handler, opaque);
}

int pci_place_bars(struct pci_window *m32, struct pci_window *m64, struct pci_bar_slot *bars,
		   unsigned int n, unsigned int *failed)
{
	bool *done = calloc(n ? n : 1, sizeof(*done));

	if (!done)
		return -ENOMEM;
	for (unsigned int k = 0; k < n; k++) {
		unsigned int best = n;
		struct pci_bar_slot *b;
		struct pci_window *w;
		u64 addr;

		/* The largest left; the first of equals, so the order is the callers'. */
		for (unsigned int i = 0; i < n; i++)
			if (!done[i] && (best == n || bars[i].size > bars[best].size))
				best = i;
		b = &bars[best];
		done[best] = true;
		w = b->is64 && m64->size ? m64 : m32;
		if (b->size < 16 || (b->size & (b->size - 1)))
			goto fail;
		if (w == m64) {
			addr = ALIGN_UP(w->next, b->size);
			if (addr < w->next || addr + b->size < addr || addr + b->size > w->top)
				goto fail;
			w->next = addr + b->size;
		} else {
			if (w->top < b->size)
				goto fail;
			addr = ALIGN_DOWN(w->top - b->size, b->size);
			if (addr < w->next)
				goto fail;
			w->top = addr;
		}
		b->addr = addr;
		continue;
fail:
		*failed = best;
		free(done);
		return -ENOSPC;
	}
	free(done);
	return 0;
}

static void window_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct pci_window *w = opaque;
	struct pci_bus *bus = w->bus;
	u64 addr = w->base + offset;
	io_handler_fn handler = NULL;
	void *handler_opaque = NULL;
	u64 bar_offset = 0;

	pthread_mutex_lock(&bus->lock);
	for (unsigned int s = 0; s < PCI_MAX_SLOTS && !handler; s++) {
		struct pci_device *dev = bus->slots[s];

		if (!dev || !pci_memory_enabled(dev))
			continue;
		for (unsigned int b = 0; b < PCI_NUM_BARS; b++) {
			const struct pci_bar *bar = &dev->bars[b];
			u64 base = pci_bar_address(dev, b);

			if (bar->size && bar->handler && addr >= base && addr - base < bar->size &&
			    len <= bar->size - (addr - base)) {
				handler = bar->handler;
				handler_opaque = bar->opaque;
				bar_offset = addr - base;
				break;
			}
		}
	}
	pthread_mutex_unlock(&bus->lock);
	/* The handler runs unlocked: devices lock themselves, and may take the bus lock. */
	if (handler)
		handler(handler_opaque, bar_offset, data, len, is_write);
	else if (!is_write)
		memset(data, 0xff, len);
}

int pci_bus_set_windows(struct pci_bus *bus, struct io_bus *mmio, u64 base32, u64 size32,
			u64 base64, u64 size64)
{
	int err = 0;

	bus->mmio32 = (struct pci_window){ bus, base32, size32, base32, base32 + size32 };
	bus->mmio64 = (struct pci_window){ bus, base64, size64, base64, base64 + size64 };
	if (size32)
		err = io_bus_register(mmio, base32, size32, window_io, &bus->mmio32, "PCI MMIO32");
	if (!err && size64)
		err = io_bus_register(mmio, base64, size64, window_io, &bus->mmio64, "PCI MMIO64");
	return err;
}
