/*
 * The Linux x86 boot protocol header of a bzImage
 * (Documentation/arch/x86/boot.rst). Parsing is separate from loading so
 * that every check can be unit-tested on crafted images.
 */
#ifndef ARCH_X86_BZIMAGE_H
#define ARCH_X86_BZIMAGE_H

#include <stddef.h>

#include "core/util.h"

struct bzimage_info {
	u16 version;          /* boot protocol, e.g. 0x020f */
	size_t setup_size;    /* real-mode part, (setup_sects + 1) * 512 */
	size_t header_end;    /* end of the setup header to copy into boot_params */
	u64 pref_address;
	u32 kernel_alignment;
	u32 init_size;        /* memory the kernel needs from its load address */
	u32 initrd_addr_max;
	u32 cmdline_size;
	u16 xloadflags;
	bool relocatable;
};

/* Minimum protocol: 2.12 adds xloadflags and the documented 64-bit entry. */
#define BZIMAGE_MIN_VERSION 0x020c
#define BZIMAGE_XLF_KERNEL_64 (1 << 0)
#define BZIMAGE_XLF_ABOVE_4G (1 << 1)

/*
 * Reads the setup header only (within the first 0x301 bytes): image may
 * hold just the file's first bytes (BOARD_IMAGE_HEAD), len is the size of
 * the whole file. Returns 0, or -EINVAL with a one-line reason in err.
 */
int bzimage_parse(const u8 *image, size_t len, struct bzimage_info *info, char *err,
		  size_t errlen);

#endif
