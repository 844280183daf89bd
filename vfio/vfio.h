/*
 * Passthrough for a VM, in the order the VM is built:
 *   vfio_prepare()  before the guest is planned: attach every device's
 *                   IOMMU group and add the container's IOVA limits to
 *                   the host holes the planner avoids;
 *   vfio_attach()   after guest memory and the PCI bus exist: map guest
 *                   RAM for DMA, tell KVM about the groups, and put each
 *                   device on the guest's PCI bus;
 *   vfio_start()    once the interrupt controller is initialised: INTx;
 *   vfio_teardown() in reverse.
 */
#ifndef VFIO_VFIO_H
#define VFIO_VFIO_H

#include <stdbool.h>

struct vm;

int vfio_prepare(struct vm *vm);

/*
 * For `vmm plan`: adds the IOVA ranges a container would report for the
 * configured devices, when the groups can be opened (bound to vfio-pci,
 * not in use); returns false, quietly, when they cannot.
 */
struct vm_config;
struct host_holes;
bool vfio_probe_iova_ranges(const struct vm_config *cfg, struct host_holes *host);
int vfio_attach(struct vm *vm);
/* After the vCPUs and interrupt controller exist: arms INTx. */
void vfio_start(struct vm *vm);
void vfio_teardown(struct vm *vm);

#endif
