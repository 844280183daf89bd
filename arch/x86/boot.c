/*
 * Writing an x86 guest's boot data where the plan put it
 * (Documentation/arch/x86/boot.rst): the bzImage's protected-mode part,
 * the initrd, the command line and the zero page, whose e820 map is the
 * plan's. Every write is checked: a plan and a memory that disagree are a
 * bug, reported as one line, never a guest started outside RAM.
 */
#include "boot.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bzimage.h"
#include "core/log.h"
#include "e820.h"
#include "layout.h"

#define LOADER_TYPE_UNDEFINED 0xff

/* The planned address of name, or 0 with an error when the plan lacks it. */
static u64 placed(const struct memory_plan *plan, const char *name)
{
	const struct plan_placement *p = plan_find_placement(plan, name);

	if (!p)
		pr_err("the plan has no place for the %s", name);
	return p ? p->start : 0;
}

static int write_checked(struct vm *vm, u64 gpa, const void *src, u64 len, const char *what)
{
	if (guest_mem_write(&vm->mem, gpa, src, len)) {
		pr_err("the %s (0x%llx bytes at 0x%llx) is not inside guest RAM", what,
		       (unsigned long long)len, (unsigned long long)gpa);
		return -EFAULT;
	}
	return 0;
}

int x86_load_kernel(struct vm *vm, const struct memory_plan *plan, const struct boot_config *boot,
		    const struct boot_images *img, u64 *entry)
{
	u64 kernel = placed(plan, X86_PLACE_KERNEL), zero_page = placed(plan, X86_PLACE_ZERO_PAGE);
	u64 cmdline_at = placed(plan, X86_PLACE_CMDLINE), initrd = 0;
	char err[256], cmdline[X86_BOOT_CMDLINE_MAX];
	struct bzimage_info info;
	struct boot_params *bp;
	int ret, nentries, cmdline_len;

	if (!kernel || !zero_page || !cmdline_at || !img->kernel)
		return -EINVAL;
	if (bzimage_parse(img->kernel, img->kernel_len, &info, err, sizeof(err))) {
		pr_err("kernel '%s': %s", img->kernel_path, err);
		return -EINVAL;
	}
	/* The protected-mode part: what follows the real-mode setup code. */
	ret = board_image_to_guest(vm, img, false, info.setup_size,
				   img->kernel_len - info.setup_size, kernel);
	if (!ret && img->initrd) {
		initrd = placed(plan, X86_PLACE_INITRD);
		ret = initrd ? board_image_to_guest(vm, img, true, 0, img->initrd_len, initrd)
			     : -EINVAL;
	}
	if (ret)
		return ret;

	cmdline_len = board_cmdline(boot, cmdline, MIN(sizeof(cmdline), (size_t)info.cmdline_size + 1));
	if (cmdline_len < 0) {
		pr_err("kernel command line is longer than the kernel accepts (%u bytes)",
		       MIN((u32)sizeof(cmdline) - 1, info.cmdline_size));
		return -E2BIG;
	}
	ret = write_checked(vm, cmdline_at, cmdline, (u64)cmdline_len + 1, "command line");
	if (ret)
		return ret;

	bp = guest_mem_ptr(&vm->mem, zero_page, sizeof(*bp));
	if (!bp) {
		pr_err("the zero page at 0x%llx is not inside guest RAM", (unsigned long long)zero_page);
		return -EFAULT;
	}
	memset(bp, 0, sizeof(*bp));
	/* The setup header is copied as the kernel wrote it, then filled in. */
	memcpy((u8 *)bp + 0x1f1, img->kernel + 0x1f1, MIN(info.header_end, sizeof(*bp)) - 0x1f1);
	bp->hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.vid_mode = 0xffff;
	bp->hdr.code32_start = (u32)kernel;
	bp->hdr.cmd_line_ptr = (u32)cmdline_at;
	bp->ext_cmd_line_ptr = (u32)(cmdline_at >> 32);
	bp->hdr.ramdisk_image = (u32)initrd;
	bp->hdr.ramdisk_size = (u32)img->initrd_len;
	bp->ext_ramdisk_image = (u32)(initrd >> 32);
	bp->ext_ramdisk_size = (u32)((u64)img->initrd_len >> 32);
	bp->acpi_rsdp_addr = X86_ACPI_BASE;
	nentries = x86_build_e820(plan, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
	if (nentries < 0) {
		pr_err("guest memory map needs more than %d e820 entries", E820_MAX_ENTRIES_ZEROPAGE);
		return nentries;
	}
	bp->e820_entries = (u8)nentries;
	/* The 64-bit entry point is 0x200 past the start of the protected-mode code. */
	*entry = kernel + 0x200;
	pr_debug("kernel at 0x%llx (init_size 0x%x), initrd at 0x%llx (%zu bytes), cmdline '%s'",
		 (unsigned long long)kernel, info.init_size, (unsigned long long)initrd,
		 img->initrd_len, cmdline);
	return 0;
}
