#ifndef DEVICES_VIRTIO_DISK_IMAGE_H
#define DEVICES_VIRTIO_DISK_IMAGE_H

#include "core/util.h"

/*
 * Opens a raw disk image (a regular file or a block device) read-write or
 * read-only; *size is its length in bytes. One clear error line on failure,
 * naming the file and the fix; *fd is left open on errors after open().
 */
int disk_image_open(const char *path, bool readonly, int *fd, u64 *size);

#endif
