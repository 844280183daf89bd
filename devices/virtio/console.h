#ifndef DEVICES_VIRTIO_CONSOLE_H
#define DEVICES_VIRTIO_CONSOLE_H

#include "virtio_dev.h"

/* A single-port virtio-console (hvc0) wired to the VMM console. */
int virtio_console_create(struct vm *vm, struct virtio_dev **out);

#endif
