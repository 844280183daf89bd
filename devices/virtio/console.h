#ifndef DEVICES_VIRTIO_CONSOLE_H
#define DEVICES_VIRTIO_CONSOLE_H

#include "virtio_dev.h"

struct console;

/* A single-port virtio-console (hvc0) whose output goes to con. */
int virtio_console_create(struct vm *vm, struct console *con, struct virtio_dev **out);

/* Host console input for the device (a console_input_fn; opaque: the virtio_dev). */
void virtio_console_receive(void *opaque, const u8 *data, size_t len);

#endif
