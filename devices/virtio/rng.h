#ifndef DEVICES_VIRTIO_RNG_H
#define DEVICES_VIRTIO_RNG_H

#include "virtio_dev.h"

int virtio_rng_create(struct vm *vm, struct virtio_dev **out);

#endif
