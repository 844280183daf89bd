#include "bzimage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Offsets in the image (boot.rst, "The real-mode kernel header"). */
#define OFF_SETUP_SECTS 0x1f1
#define OFF_SYSSIZE 0x1f4
#define OFF_BOOT_FLAG 0x1fe
#define OFF_JUMP 0x200
#define OFF_HEADER_MAGIC 0x202
#define OFF_VERSION 0x206
#define OFF_LOADFLAGS 0x211
#define OFF_INITRD_ADDR_MAX 0x22c
#define OFF_KERNEL_ALIGNMENT 0x230
#define OFF_RELOCATABLE 0x234
#define OFF_XLOADFLAGS 0x236
#define OFF_CMDLINE_SIZE 0x238
#define OFF_PREF_ADDRESS 0x258
#define OFF_INIT_SIZE 0x260
#define HEADER_MIN_LEN 0x268

#define LOADED_HIGH 0x01

static u16 get16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 get32(const u8 *p) { return get16(p) | (u32)get16(p + 2) << 16; }
static u64 get64(const u8 *p) { return get32(p) | (u64)get32(p + 4) << 32; }

int bzimage_parse(const u8 *image, size_t len, struct bzimage_info *info, char *err,
		  size_t errlen)
{
	unsigned int setup_sects;

	memset(info, 0, sizeof(*info));
	if (len < HEADER_MIN_LEN) {
		snprintf(err, errlen, "file is too small to be a bzImage (%zu bytes)", len);
		return -EINVAL;
	}
	if (get16(image + OFF_BOOT_FLAG) != 0xaa55 || memcmp(image + OFF_HEADER_MAGIC, "HdrS", 4)) {
		snprintf(err, errlen, "not a Linux bzImage (no boot sector flag or 'HdrS' header); pass the kernel's arch/x86/boot/bzImage or /boot/vmlinuz-*");
		return -EINVAL;
	}
	info->version = get16(image + OFF_VERSION);
	if (info->version < BZIMAGE_MIN_VERSION) {
		snprintf(err, errlen, "boot protocol %u.%02u is too old; need 2.12 or newer (Linux 3.8+)",
			 info->version >> 8, info->version & 0xff);
		return -EINVAL;
	}
	if (!(image[OFF_LOADFLAGS] & LOADED_HIGH)) {
		snprintf(err, errlen, "zImage (loaded low) kernels are not supported; use a bzImage");
		return -EINVAL;
	}
	info->xloadflags = get16(image + OFF_XLOADFLAGS);
	if (!(info->xloadflags & BZIMAGE_XLF_KERNEL_64)) {
		snprintf(err, errlen, "kernel has no 64-bit entry point (a 32-bit kernel?)");
		return -EINVAL;
	}
	setup_sects = image[OFF_SETUP_SECTS] ? image[OFF_SETUP_SECTS] : 4;
	info->setup_size = (size_t)(setup_sects + 1) * 512;
	if (info->setup_size >= len) {
		snprintf(err, errlen, "bzImage is truncated: %zu bytes, its setup code alone is %zu",
			 len, info->setup_size);
		return -EINVAL;
	}
	/* syssize counts 16-byte paragraphs of the protected-mode payload. */
	if ((u64)get32(image + OFF_SYSSIZE) * 16 > len - info->setup_size) {
		snprintf(err, errlen, "bzImage is truncated: %zu bytes, its header promises %llu",
			 len, (unsigned long long)info->setup_size + (u64)get32(image + OFF_SYSSIZE) * 16);
		return -EINVAL;
	}
	/* The header ends where the jump at 0x200 lands: 0x202 + its offset byte. */
	info->header_end = 0x202 + image[OFF_JUMP + 1];
	info->pref_address = get64(image + OFF_PREF_ADDRESS);
	info->kernel_alignment = get32(image + OFF_KERNEL_ALIGNMENT);
	info->relocatable = image[OFF_RELOCATABLE] != 0;
	info->initrd_addr_max = get32(image + OFF_INITRD_ADDR_MAX);
	info->cmdline_size = get32(image + OFF_CMDLINE_SIZE);
	info->init_size = get32(image + OFF_INIT_SIZE);
	if (info->kernel_alignment == 0 || (info->kernel_alignment & (info->kernel_alignment - 1))) {
		snprintf(err, errlen, "bzImage header has a bad kernel_alignment 0x%x",
			 info->kernel_alignment);
		return -EINVAL;
	}
	if (info->init_size < len - info->setup_size) {
		snprintf(err, errlen, "bzImage header is inconsistent: init_size 0x%x is below the payload size 0x%zx",
			 info->init_size, len - info->setup_size);
		return -EINVAL;
	}
	/* The loader computes pref_address + init_size: it must not wrap. */
	if (info->pref_address > UINT64_MAX - info->init_size) {
		snprintf(err, errlen, "bzImage header is inconsistent: pref_address 0x%llx + init_size 0x%x is beyond the 64-bit address space",
			 (unsigned long long)info->pref_address, info->init_size);
		return -EINVAL;
	}
	if (!info->cmdline_size)
		info->cmdline_size = 255;
	return 0;
}
