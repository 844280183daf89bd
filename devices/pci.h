/*
 * PCI bus 0 of a single segment: configuration space of every function,
 * reached through the x86 port mechanism (0xcf8/0xcfc) or ECAM (MMIO).
 * Devices keep their config space as bytes plus a write mask; a device
 * that must react to a write (BARs, MSI-X enable) gives a hook.
 */
#ifndef DEVICES_PCI_H
#define DEVICES_PCI_H

#include <pthread.h>

#include "core/io_bus.h"
#include "core/util.h"

#define PCI_CONFIG_SIZE 4096
#define PCI_MAX_SLOTS 32
#define PCI_NUM_BARS 6

struct pci_device;

/* Called after a guest config write, with the bus lock held. */
typedef void (*pci_config_write_fn)(struct pci_device *dev, u32 offset, u32 len);

/* A memory BAR the VMM emulates; the guest may move it. */
struct pci_bar {
	u64 size;               /* power of two; 0: BAR unused */
	bool is64;              /* takes this BAR and the next */
	io_handler_fn handler;  /* offset relative to the BAR's current address */
	void *opaque;
};

/* Replaces the default config handling (VFIO: most bytes go to hardware). */
typedef void (*pci_config_access_fn)(struct pci_device *dev, u32 offset, u8 *data, u32 len,
				     bool is_write);

struct pci_device {
	const char *name;
	pci_config_access_fn config_access;
	u8 slot;
	u8 config[PCI_CONFIG_SIZE];
	u8 wmask[PCI_CONFIG_SIZE]; /* bit set: the guest may write it */
	struct pci_bar bars[PCI_NUM_BARS];
	pci_config_write_fn config_written;
	void *opaque;
};

/*
 * A planner-placed window BARs are allocated from: emulated devices
 * bottom-up from next, passed-through BARs (pci_place_bars) top-down from
 * top in the 32-bit window and bottom-up in the 64-bit one, which only
 * they use.
 */
struct pci_window {
	struct pci_bus *bus;
	u64 base, size, next, top;
};

struct pci_bus {
	pthread_mutex_t lock;
	/* INTx lines: the board's first GSI for them and how many (pci_intx_gsi). */
	u32 intx_base, intx_count;
	struct pci_device *slots[PCI_MAX_SLOTS];
	u32 cam_address; /* CONFIG_ADDRESS latch at 0xcf8 */
	struct pci_device host_bridge;
	struct pci_window mmio32, mmio64;
};

/* Creates bus 0 with its host bridge at 00:00.0. */
void pci_bus_init(struct pci_bus *bus);

/*
 * Registers the planner's MMIO windows on the VM's MMIO bus; accesses are
 * routed to whichever BAR the guest has placed there with decoding on.
 */
int pci_bus_set_windows(struct pci_bus *bus, struct io_bus *mmio, u64 base32, u64 size32,
			u64 base64, u64 size64);

/*
 * Where passed-through BARs go, computed the same way by `vmm plan` (from
 * sysfs sizes) and `vmm run` (from VFIO's): 64-bit BARs in the 64-bit
 * window bottom-up, others in the 32-bit window top-down, each set
 * largest first so that natural alignment leaves no gap and the 64-bit
 * window needs exactly the sum of its BARs. Returns 0 with every addr
 * set and the windows' pointers moved, or -ENOSPC with *failed the first
 * BAR that did not fit.
 */
struct pci_bar_slot {
	u64 size;   /* a power of two, at least 16 */
	bool is64;
	u64 addr;   /* out */
};

int pci_place_bars(struct pci_window *m32, struct pci_window *m64, struct pci_bar_slot *bars,
		   unsigned int n, unsigned int *failed);

/* Gives dev a memory BAR at addr (from pci_place_bars). */
int pci_bar_assign_at(struct pci_device *dev, unsigned int bar, u64 size, bool is64, u64 addr,
		      io_handler_fn handler, void *opaque);

/* Gives dev a memory BAR of size bytes in the 32-bit window (or 64-bit if is64). */
int pci_bar_assign(struct pci_bus *bus, struct pci_device *dev, unsigned int bar, u64 size,
		   bool is64, io_handler_fn handler, void *opaque);

/* The BAR's current guest address (0 if unassigned) and whether it decodes. */
u64 pci_bar_address(const struct pci_device *dev, unsigned int bar);
bool pci_memory_enabled(const struct pci_device *dev);

/*
 * Whether [addr, addr + size) lies inside one of the bus's MMIO windows.
 * A BAR the guest moves elsewhere (onto the LAPIC page, the IOAPIC, ECAM)
 * does not decode there: the board's own ranges win, as a chipset's do.
 */
bool pci_range_in_windows(const struct pci_bus *bus, u64 addr, u64 size);

/*
 * A PCI requester ID, bus << 8 | device << 3 | function: what an arm64
 * ITS uses as the DeviceID (the device tree's msi-map is the identity).
 */
static inline u16 pci_rid(unsigned int bus, unsigned int dev, unsigned int fn)
{
	return (u16)((bus & 0xff) << 8 | (dev & 0x1f) << 3 | (fn & 7));
}

/* Our devices sit on bus 0 as single-function devices. */
static inline u16 pci_requester_id(const struct pci_device *dev)
{
	return pci_rid(0, dev->slot, 0);
}

/*
 * The INTx swizzle: slot S pin P (0 = INTA) raises line base + (S + P) %
 * count, spreading devices that only use INTA over every line as the
 * swizzle of a bridge does. Firmware tables (_PRT, interrupt-map) and the
 * runtime both use this one formula.
 */
static inline unsigned int pci_intx_swizzle(unsigned int base, unsigned int count,
					    unsigned int slot, unsigned int pin)
{
	return base + (slot + pin) % count;
}

/* The GSI of dev's INTx pin (0 = INTA) on bus. */
static inline unsigned int pci_intx_gsi(const struct pci_bus *bus, unsigned int slot,
					unsigned int pin)
{
	return pci_intx_swizzle(bus->intx_base, bus->intx_count, slot, pin);
}

/* Places dev in the first free slot (or dev->slot if non-zero). */
int pci_bus_add(struct pci_bus *bus, struct pci_device *dev);

/* A config access for bus/slot/function, offset within the 4 KiB space. */
void pci_config_access(struct pci_bus *bus, u8 busno, u8 slot, u8 fn, u32 offset,
		       u8 *data, u32 len, bool is_write);

/* io_bus handlers: opaque is the struct pci_bus. */
void pci_cam_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write);
void pci_ecam_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write);

/* Helpers for devices filling their config space. */
void pci_set_u8(struct pci_device *dev, u32 offset, u8 value);
void pci_set_u16(struct pci_device *dev, u32 offset, u16 value);
void pci_set_u32(struct pci_device *dev, u32 offset, u32 value);

#endif
