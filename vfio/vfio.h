/*
 * Passthrough for a VM, in the order the VM is built:
 *   vfio_open()     before the guest is planned: attach every device to
 *                   the IOMMU backend and add its IOVA limits to the host
 *                   holes the planner avoids;
 *   vfio_attach()   after guest memory and the PCI bus exist: map guest
 *                   RAM for DMA, tell KVM about the devices, and put each
 *                   device on the guest's PCI bus;
 *   vfio_start()    once the interrupt controller is initialised: INTx;
 *   vfio_detach()   undoes vfio_attach, before the VM goes away;
 *   vfio_close()    undoes vfio_open.
 */
#ifndef VFIO_VFIO_H
#define VFIO_VFIO_H

#include <stdbool.h>

#include "host_collect.h"

struct vm;
struct pci_bus;
struct vfio_state;

/*
 * Attaches devices (PCI addresses as given, already checked by
 * vfio_collect_host_holes) and adds the backend's IOVA ranges to host.
 * *out is set even on failure, for vfio_close().
 */
int vfio_open(const char *const *devices, unsigned int ndevices, struct host_holes *host,
	      struct vfio_state **out);

/*
 * For `vmm plan`: adds the IOVA ranges the backend would report for
 * devices, when they can be opened (bound to vfio-pci, not in use);
 * returns false, quietly, when they cannot.
 */
bool vfio_probe_iova_ranges(const char *const *devices, unsigned int ndevices,
			    struct host_holes *host);

int vfio_attach(struct vfio_state *s, struct vm *vm, struct pci_bus *bus);
/* After the vCPUs and interrupt controller exist: arms INTx. */
void vfio_start(struct vfio_state *s);
/* Undoes vfio_attach, while the VM still exists: devices closed, DMA unmapped. */
void vfio_detach(struct vfio_state *s);
/* Undoes vfio_open (and vfio_attach, if still attached); s may be NULL. */
void vfio_close(struct vfio_state *s);

#endif
