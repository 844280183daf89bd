#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static u64 get_le(const u8 *p, unsigned int n)
{
	u64 v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

int arm64_image_parse(const u8 *image, size_t len, struct arm64_image_info *info, char *err,
		      size_t errlen)
{
	u64 flags;

	memset(info, 0, sizeof(*info));
	if (len < ARM64_IMAGE_HEADER_SIZE) {
		snprintf(err, errlen, "file is too small to be an arm64 Image (%zu bytes)", len);
		return -EINVAL;
	}
	if (get_le(image + 56, 4) != ARM64_IMAGE_MAGIC) {
		snprintf(err, errlen, "not an arm64 Linux Image (no 'ARM\\x64' magic); pass arch/arm64/boot/Image (uncompressed)");
		return -EINVAL;
	}
	info->text_offset = get_le(image + 8, 8);
	info->image_size = get_le(image + 16, 8);
	flags = get_le(image + 24, 8);
	if (info->image_size == 0) {
		/* Kernels before 3.17: text_offset is 0x80000 and the size is unknown. */
		info->text_offset = 0x80000;
		info->image_size = ALIGN_UP(len, ARM64_IMAGE_BASE_ALIGN) + 8 * MiB;
	} else if (flags & 1) {
		snprintf(err, errlen, "big-endian arm64 kernel: this VMM boots little-endian kernels only");
		return -EINVAL;
	}
	if (info->image_size < len) {
		snprintf(err, errlen, "Image header is inconsistent: image_size 0x%llx is below the file size 0x%zx",
			 (unsigned long long)info->image_size, len);
		return -EINVAL;
	}
	if (info->text_offset >= ARM64_IMAGE_BASE_ALIGN || (info->text_offset & 0xfff)) {
		snprintf(err, errlen, "Image header has a bad text_offset 0x%llx",
			 (unsigned long long)info->text_offset);
		return -EINVAL;
	}
	info->anywhere = flags & (1 << 3);
	return 0;
}

int arm64_image_place(const struct arm64_image_info *info, u64 bank_start, u64 bank_end,
		      u64 *load_addr)
{
	const u64 align = ARM64_IMAGE_BASE_ALIGN;
	u64 addr;

	/* A bank at the top of the address space: the sums below must not wrap. */
	if (bank_start > UINT64_MAX - 2 * align)
		return -ENOSPC;
	addr = ALIGN_UP(bank_start, align) + info->text_offset;
	if (addr < bank_start)
		addr += align;
	if (addr >= bank_end || bank_end - addr < info->image_size)
		return -ENOSPC;
	*load_addr = addr;
	return 0;
}
