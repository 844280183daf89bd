#ifndef CORE_FILE_H
#define CORE_FILE_H

#include <stddef.h>

#include "util.h"

/*
 * Reads a whole regular file of at most 1 GiB (a kernel, an initrd) into
 * a malloc'd buffer; what names it in the one-line error ("kernel").
 */
int file_read_all(const char *path, const char *what, u8 **buf, size_t *len);

#endif
