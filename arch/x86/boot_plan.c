/*
 * Where the x86 boot data goes, decided with the planner before any guest
 * memory exists (so `vmm plan` shows it and a host hole anywhere moves it
 * or is named in the error): the zero page, the command line, the GDT and
 * the page tables low in RAM; room below 640 KiB kept for the kernel's
 * real-mode trampoline; the kernel at its preferred address or the next
 * aligned fit; the initrd as high as the kernel can reach.
 */
#include "boot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bzimage.h"
#include "core/size.h"
#include "layout.h"

#define KERNEL_MIN_ADDRESS (1 * MiB)
/* Page 0 and the BIOS data area are the kernel's (it reserves them). */
#define BOOT_DATA_MIN 0x1000ULL
/*
 * Linux reserves the first 64 KiB (CONFIG_X86_RESERVE_LOW) and allocates
 * its real-mode trampoline (SMP start-up, ACPI wake-up) below 1 MiB from
 * what is left; 64 KiB below the legacy area is what it needs.
 */
#define TRAMPOLINE_MIN 0x10000ULL
#define TRAMPOLINE_SIZE 0x10000ULL

int x86_choose_kernel_address(struct memory_plan *plan, u64 pref, u64 align, u64 size,
			      bool relocatable, u64 *out)
{
	if (!plan_place_at(plan, X86_PLACE_KERNEL, "kernel", pref, size)) {
		*out = pref;
		return 0;
	}
	if (!relocatable) {
		snprintf(plan->error, sizeof(plan->error),
			 "the kernel is not relocatable and its address 0x%llx-0x%llx is not free RAM",
			 (unsigned long long)pref, (unsigned long long)(pref + size - 1));
		return -ENOSPC;
	}
	/* Anywhere aligned that our identity map (the first 4 GiB) covers. */
	return plan_place_in_ram(plan, X86_PLACE_KERNEL, "kernel", size, align,
				 KERNEL_MIN_ADDRESS, 4 * GiB, PLACE_LOWEST, out);
}

int x86_choose_initrd_address(struct memory_plan *plan, u64 size, u64 max_end, u64 *out)
{
	return plan_place_in_ram(plan, X86_PLACE_INITRD, "initrd", size, 4 * KiB, 0, max_end,
				 PLACE_HIGHEST, out);
}

static int place_boot_data(struct memory_plan *plan)
{
	static const struct {
		const char *name, *label;
		u64 size;
	} data[] = {
		{ X86_PLACE_ZERO_PAGE, "zero page (boot_params)", 0x1000 },
		{ X86_PLACE_CMDLINE, "kernel command line", X86_BOOT_CMDLINE_MAX },
		{ X86_PLACE_GDT, "boot GDT", 0x1000 },
		{ X86_PLACE_PAGE_TABLES, "boot page tables (4 GiB identity map)",
		  X86_BOOT_PAGE_TABLES_SIZE },
	};
	u64 at;
	int err;

	/* First the trampoline's room, as high below 640 KiB as it goes. */
	err = plan_place_in_ram(plan, X86_PLACE_TRAMPOLINE,
				"x86 Linux real-mode trampoline (kept free)",
				TRAMPOLINE_SIZE, 0x1000, TRAMPOLINE_MIN, X86_LEGACY_HOLE_START,
				PLACE_HIGHEST, &at);
	if (err) {
		snprintf(plan->error + strlen(plan->error),
			 sizeof(plan->error) - strlen(plan->error),
			 " (x86 Linux needs RAM below 640 KiB to start its CPUs)");
		return err;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(data); i++) {
		/* Below 4 GiB: 32-bit pointers in boot_params, and our identity map. */
		err = plan_place_in_ram(plan, data[i].name, data[i].label, data[i].size, 0x1000,
					BOOT_DATA_MIN, 4 * GiB, PLACE_LOWEST, &at);
		if (err)
			return err;
	}
	return 0;
}

int x86_place_boot(struct memory_plan *plan, const struct boot_images *img)
{
	struct bzimage_info info;
	char err[256], sz[32], need[32];
	u64 kernel, initrd, max_end;
	int ret;

	ret = place_boot_data(plan);
	if (ret || !img || !img->kernel)
		return ret;
	if (bzimage_parse(img->kernel, img->kernel_len, &info, err, sizeof(err))) {
		snprintf(plan->error, sizeof(plan->error), "kernel '%s': %s", img->kernel_path, err);
		return -EINVAL;
	}
	ret = x86_choose_kernel_address(plan, info.pref_address, info.kernel_alignment,
					info.init_size, info.relocatable, &kernel);
	if (ret) {
		snprintf(plan->error, sizeof(plan->error),
			 "guest RAM of %s cannot hold the kernel, which needs %s at 0x%llx; use a larger -m (e.g. -m 256M)",
			 format_size(plan->ram_size, sz, sizeof(sz)),
			 format_size(info.init_size, need, sizeof(need)),
			 (unsigned long long)info.pref_address);
		return ret;
	}
	if (!img->initrd)
		return 0;
	max_end = (u64)info.initrd_addr_max + 1;
	if (info.xloadflags & BZIMAGE_XLF_ABOVE_4G)
		max_end = 4 * GiB; /* stay under the identity map we build */
	ret = x86_choose_initrd_address(plan, img->initrd_len, max_end, &initrd);
	if (ret)
		snprintf(plan->error, sizeof(plan->error),
			 "initrd '%s' (%s) does not fit in guest RAM below 0x%llx next to the kernel; use a larger -m",
			 img->initrd_path, format_size(img->initrd_len, sz, sizeof(sz)),
			 (unsigned long long)max_end);
	return ret;
}
