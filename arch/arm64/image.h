/*
 * The arm64 Linux Image header (Documentation/arch/arm64/booting.rst):
 * where in RAM the kernel must go and how much room it needs. Parsing is
 * pure so every check is unit-tested on any host.
 */
#ifndef ARCH_ARM64_IMAGE_H
#define ARCH_ARM64_IMAGE_H

#include <stddef.h>

#include "core/util.h"

#define ARM64_IMAGE_HEADER_SIZE 64
#define ARM64_IMAGE_MAGIC 0x644d5241 /* "ARM\x64" */
#define ARM64_IMAGE_BASE_ALIGN (2 * MiB)

struct arm64_image_info {
	u64 text_offset;   /* from a 2 MiB aligned base */
	u64 image_size;    /* bytes the kernel needs from its load address */
	bool anywhere;     /* flags bit 3: may be placed anywhere in RAM */
};

/*
 * Reads the 64-byte header only: image may hold just the file's first
 * bytes, len is the size of the whole file. Returns 0, or -EINVAL with a
 * one-line reason in err.
 */
int arm64_image_parse(const u8 *image, size_t len, struct arm64_image_info *info, char *err,
		      size_t errlen);

/*
 * Where to load a kernel of info in a RAM bank [bank_start, bank_end):
 * the lowest 2 MiB aligned base + text_offset with image_size room; 0 and
 * -ENOSPC when it does not fit.
 */
int arm64_image_place(const struct arm64_image_info *info, u64 bank_start, u64 bank_end,
		      u64 *load_addr);

#endif
