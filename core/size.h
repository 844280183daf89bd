#ifndef CORE_SIZE_H
#define CORE_SIZE_H

#include "util.h"

/*
 * Parses "512M", "2G", "1024K", "4096" (bytes when no suffix, as lkvm
 * takes MiB only for -m; see parse_mem_size). Returns 0 or -EINVAL/-ERANGE.
 */
int parse_size(const char *text, u64 *out);

/* -m takes MiB when no suffix is given, like lkvm and QEMU. */
int parse_mem_size(const char *text, u64 *out);

/* Formats a byte count as "512 MiB", "1.5 GiB" into buf. */
const char *format_size(u64 bytes, char *buf, size_t len);

#endif
