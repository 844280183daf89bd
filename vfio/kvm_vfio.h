/*
 * The KVM-VFIO pseudo device (Documentation/virt/kvm/devices/vfio.rst):
 * KVM learns which VFIO groups or device files the VM uses, so that it
 * can, for one, honour non-coherent DMA. Shared by every IOMMU backend.
 */
#ifndef VFIO_KVM_VFIO_H
#define VFIO_KVM_VFIO_H

struct vm;

/* Creates the device (once, *dev_fd < 0) and adds fds to it. */
int kvm_vfio_add_files(struct vm *vm, int *dev_fd, const int *fds, unsigned int n);

#endif
