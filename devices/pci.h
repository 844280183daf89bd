/*
 * PCI bus 0 of a single segment: configuration space of every function,
 * reached through the x86 port mechanism (0xcf8/0xcfc) or ECAM (MMIO).
 * Devices keep their config space as bytes plus a write mask; a device
 * that must react to a write (BARs, MSI-X enable) gives a hook.
 */
#ifndef DEVICES_PCI_H
#define DEVICES_PCI_H

#include <pthread.h>

#include "vmm/util.h"

#define PCI_CONFIG_SIZE 4096
#define PCI_MAX_SLOTS 32

struct pci_device;

typedef void (*pci_config_write_fn)(struct pci_device *dev, u32 offset, u32 len);

struct pci_device {
	const char *name;
	u8 slot;
	u8 config[PCI_CONFIG_SIZE];
	u8 wmask[PCI_CONFIG_SIZE]; /* bit set: the guest may write it */
	pci_config_write_fn config_written;
	void *opaque;
};

struct pci_bus {
	pthread_mutex_t lock;
	struct pci_device *slots[PCI_MAX_SLOTS];
	u32 cam_address; /* CONFIG_ADDRESS latch at 0xcf8 */
	struct pci_device host_bridge;
};

/* Creates bus 0 with its host bridge at 00:00.0. */
void pci_bus_init(struct pci_bus *bus);

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
