/*
 * Whole files the user names (a kernel, an initrd, a --reserved file) and
 * sysfs attributes, read into memory. Only regular files are read: a FIFO
 * or a device named by mistake is refused at once instead of blocking the
 * VMM in open() or read() (it is opened with O_NONBLOCK to find out).
 */
#ifndef CORE_FILE_H
#define CORE_FILE_H

#include <stddef.h>

#include "util.h"

#define FILE_MAX_IMAGE (1 * GiB) /* kernels and initrds */
#define FILE_MAX_TEXT (1 * MiB)  /* reserved_regions and other text */

/*
 * Reads the whole regular file into a malloc'd buffer, NUL-terminated
 * after the *len bytes so that text can be parsed in place. Reads until
 * end of file (sysfs attributes report a size of 4096 whatever they
 * hold). Returns 0, or -errno: -EINVAL for what is not a regular file,
 * -EFBIG beyond max bytes. what names the file in the one-line error
 * ("kernel"); NULL: no message.
 */
int file_read_all(const char *path, const char *what, size_t max, u8 **buf, size_t *len);

/*
 * Opens a regular file of at most max bytes for reading piece by piece
 * (a kernel read straight into guest memory): its fd and size, or -errno
 * with the same one-line errors as file_read_all.
 */
int file_open_sized(const char *path, const char *what, u64 max, u64 *size);

/* Reads exactly len bytes at offset; -EIO when the file is shorter (it shrank). */
int file_read_at(int fd, u64 offset, void *dst, size_t len);

#endif
