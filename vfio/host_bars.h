/*
 * A PCI device's address ranges as the host kernel assigned them: the
 * lines of /sys/bus/pci/devices/BDF/resource, "START END FLAGS" in hex
 * (drivers/pci/pci-sysfs.c, resource_show), one per resource: BAR0-5,
 * the ROM, SR-IOV VF BARs, then a bridge's windows; "0x0 0x0 0x0" for an
 * unused one. Pure parsing: unit-tested and fuzzed without a host.
 */
#ifndef VFIO_HOST_BARS_H
#define VFIO_HOST_BARS_H

#include <stddef.h>

#include "core/util.h"

/* include/linux/ioport.h */
#define PCI_RES_IO 0x00000100ULL
#define PCI_RES_MEM 0x00000200ULL
#define PCI_RES_PREFETCH 0x00002000ULL
#define PCI_RES_MEM_64 0x00100000ULL

/* The first bridge window among a bridge's resources (PCI_BRIDGE_RESOURCES with SR-IOV). */
#define PCI_RES_BRIDGE_FIRST 13
#define PCI_RES_MAX 17

struct pci_resource {
	u64 start, size;  /* size 0: unused */
	u64 flags;
};

/*
 * Parses len bytes of a resource file into res (at most max lines; more
 * are ignored). Returns the number of lines read, or -EINVAL naming the
 * bad line in err (not three 64-bit hex numbers, end below start).
 */
int host_parse_pci_resources(const char *text, size_t len, struct pci_resource *res,
			     unsigned int max, char *err, size_t errlen);

/* A memory range (not I/O ports) that is in use. */
static inline bool pci_resource_is_mmio(const struct pci_resource *r)
{
	return r->size && (r->flags & PCI_RES_MEM);
}

#endif
