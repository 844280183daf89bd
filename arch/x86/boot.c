#include "boot.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bzimage.h"
#include "e820.h"
#include "layout.h"
#include "core/file.h"
#include "core/log.h"
#include "core/size.h"

#define KERNEL_MIN_ADDRESS (1 * MiB)
#define LOADER_TYPE_UNDEFINED 0xff

/*
 * [addr, addr + size) inside bank and below 4 GiB, which our page tables
 * map; written so that no header value can make it wrap.
 */
static bool kernel_fits(const struct plan_region *bank, u64 addr, u64 size)
{
	u64 end = MIN(bank->start + bank->size, 4 * GiB);

	return addr >= bank->start && addr < end && size <= end - addr;
}

int x86_choose_kernel_address(const struct memory_plan *plan, u64 pref, u64 align,
			      u64 size, u64 *out)
{
	const struct plan_region *bank;

	for (unsigned int i = 0; (bank = plan_ram_bank(plan, i)); i++) {
		if (kernel_fits(bank, pref, size)) {
			*out = pref;
			return 0;
		}
	}
	/* A relocatable kernel can go to any aligned spot. */
	for (unsigned int i = 0; (bank = plan_ram_bank(plan, i)); i++) {
		u64 start = ALIGN_UP(MAX(bank->start, KERNEL_MIN_ADDRESS), align);

		if (start >= bank->start && kernel_fits(bank, start, size)) {
			*out = start;
			return 0;
		}
	}
	return -ENOSPC;
}

int x86_choose_initrd_address(const struct memory_plan *plan, u64 size, u64 max_end,
			      u64 avoid, u64 avoid_len, u64 *out)
{
	const struct plan_region *bank;
	bool found = false;

	for (unsigned int i = 0; (bank = plan_ram_bank(plan, i)); i++) {
		u64 end = MIN(bank->start + bank->size, max_end), start;

		if (end < size || end - size < bank->start)
			continue;
		start = ALIGN_DOWN(end - size, 4 * KiB);
		if (ranges_overlap(start, size, avoid, avoid_len)) {
			if (avoid < size)
				continue;
			start = ALIGN_DOWN(avoid - size, 4 * KiB);
			if (start < bank->start)
				continue;
		}
		/* Banks are sorted: the last fit is the highest. */
		*out = start;
		found = true;
	}
	return found ? 0 : -ENOSPC;
}

int x86_load_kernel(struct vm *vm, const struct memory_plan *plan, const struct boot_config *boot,
		    u64 *entry)
{
	struct boot_params *bp;
	struct bzimage_info info;
	u8 *image = NULL, *initrd = NULL;
	size_t image_len, initrd_len = 0;
	u64 kernel_addr, initrd_addr = 0;
	char err[256], cmdline[X86_BOOT_CMDLINE_MAX], sz[32];
	int ret, nentries, cmdline_len;

	ret = file_read_all(boot->kernel, "kernel", FILE_MAX_IMAGE, &image, &image_len);
	if (ret)
		return ret;
	ret = bzimage_parse(image, image_len, &info, err, sizeof(err));
	if (ret) {
		pr_err("kernel '%s': %s", boot->kernel, err);
		goto out;
	}
	ret = x86_choose_kernel_address(plan, info.pref_address, info.kernel_alignment,
					info.init_size, &kernel_addr);
	if (ret == 0 && kernel_addr != info.pref_address && !info.relocatable)
		ret = -ENOSPC;
	if (ret) {
		pr_err("guest RAM of %s cannot hold the kernel, which needs %s at 0x%llx; use a larger -m (e.g. -m 256M)",
		       format_size(plan->ram_size, sz, sizeof(sz)),
		       format_size(info.init_size, err, sizeof(err)),
		       (unsigned long long)info.pref_address);
		goto out;
	}
	ret = guest_mem_load(&vm->mem, kernel_addr, image + info.setup_size, image_len - info.setup_size,
			      "kernel");
	if (ret)
		goto out;

	if (boot->initrd) {
		u64 max_end = (u64)info.initrd_addr_max + 1;

		ret = file_read_all(boot->initrd, "initrd", FILE_MAX_IMAGE, &initrd, &initrd_len);
		if (ret)
			goto out;
		if (info.xloadflags & BZIMAGE_XLF_ABOVE_4G)
			max_end = 4 * GiB; /* stay under the identity map we build */
		ret = x86_choose_initrd_address(plan, initrd_len, max_end, kernel_addr,
						info.init_size, &initrd_addr);
		if (ret) {
			pr_err("initrd '%s' (%s) does not fit in guest RAM below 0x%llx next to the kernel; use a larger -m",
			       boot->initrd, format_size(initrd_len, sz, sizeof(sz)),
			       (unsigned long long)max_end);
			goto out;
		}
		ret = guest_mem_load(&vm->mem, initrd_addr, initrd, initrd_len, "initrd");
		if (ret)
			goto out;
	}

	cmdline_len = board_cmdline(boot, cmdline, MIN(sizeof(cmdline), (size_t)info.cmdline_size + 1));
	if (cmdline_len < 0) {
		pr_err("kernel command line is longer than the kernel accepts (%u bytes)", info.cmdline_size);
		ret = -E2BIG;
		goto out;
	}
	ret = guest_mem_load(&vm->mem, X86_BOOT_CMDLINE, cmdline, (u64)cmdline_len + 1,
			      "kernel command line");
	if (ret)
		goto out;

	bp = guest_mem_ptr(&vm->mem, X86_BOOT_PARAMS, sizeof(*bp));
	if (!bp) {
		pr_err("the boot parameters (zero page) do not fit in guest memory at 0x%llx",
		       (unsigned long long)X86_BOOT_PARAMS);
		ret = -EFAULT;
		goto out;
	}
	memset(bp, 0, sizeof(*bp));
	/* The setup header is copied as the kernel wrote it, then filled in. */
	memcpy((u8 *)bp + 0x1f1, image + 0x1f1,
	       MIN(info.header_end, sizeof(*bp)) - 0x1f1);
	bp->hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.vid_mode = 0xffff;
	bp->hdr.code32_start = (u32)kernel_addr;
	bp->hdr.cmd_line_ptr = (u32)X86_BOOT_CMDLINE;
	bp->hdr.ramdisk_image = (u32)initrd_addr;
	bp->hdr.ramdisk_size = (u32)initrd_len;
	bp->ext_ramdisk_image = (u32)(initrd_addr >> 32);
	bp->ext_ramdisk_size = (u32)((u64)initrd_len >> 32);
	bp->acpi_rsdp_addr = X86_ACPI_BASE;
	nentries = x86_build_e820(plan, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
	if (nentries < 0) {
		pr_err("guest memory map needs more than %d e820 entries", E820_MAX_ENTRIES_ZEROPAGE);
		ret = nentries;
		goto out;
	}
	bp->e820_entries = (u8)nentries;
	/* The 64-bit entry point is 0x200 past the start of the protected-mode code. */
	*entry = kernel_addr + 0x200;
	pr_debug("kernel at 0x%llx (init_size 0x%x), initrd at 0x%llx (%zu bytes), cmdline '%s'",
		 (unsigned long long)kernel_addr, info.init_size, (unsigned long long)initrd_addr,
		 initrd_len, cmdline);
	ret = 0;
out:
	free(image);
	free(initrd);
	return ret;
}
