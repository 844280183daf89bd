#ifndef DEVICES_VIRTIO_DEVICES_H
#define DEVICES_VIRTIO_DEVICES_H

struct vm;

/* Creates every virtio device the configuration asks for, on vm->pci. */
int virtio_devices_add(struct vm *vm);

/* Removes them all, after the vCPUs have stopped. */
void virtio_devices_destroy(struct vm *vm);

#endif
