/*
 * Where an arm64 guest's images go (Documentation/arch/arm64/booting.rst),
 * decided with the planner before guest memory exists: the Image at a
 * 2 MiB aligned base + text_offset in a RAM bank, the device tree after
 * it on a 2 MiB boundary (it is mapped with blocks of up to 2 MiB), the
 * initrd after that.
 */
#include <errno.h>
#include <stdio.h>

#include "arch/board.h"
#include "core/size.h"
#include "fdt.h"
#include "image.h"
#include "layout.h"

/* The kernel at the lowest base of any bank that holds it. */
static int place_kernel(struct memory_plan *plan, const struct arm64_image_info *info, u64 *out)
{
	const struct plan_region *bank;

	for (unsigned int i = 0; (bank = plan_ram_bank(plan, i)); i++) {
		u64 end = bank->start + bank->size, at = bank->start;

		while (!arm64_image_place(info, at, end, out)) {
			if (!plan_place_at(plan, ARM64_PLACE_KERNEL, "kernel (Image)", *out,
					   info->image_size))
				return 0;
			at = *out - info->text_offset + ARM64_IMAGE_BASE_ALIGN;
		}
	}
	return -ENOSPC;
}

int arm64_place_boot(struct memory_plan *plan, const struct boot_images *img)
{
	struct arm64_image_info info;
	char err[200], sz[32], need[32];
	u64 kernel, fdt, initrd;
	int ret;

	if (!img || !img->kernel)
		return 0;
	if (arm64_image_parse(img->kernel, img->kernel_len, &info, err, sizeof(err))) {
		snprintf(plan->error, sizeof(plan->error), "kernel '%s': %s", img->kernel_path, err);
		return -EINVAL;
	}
	if (place_kernel(plan, &info, &kernel)) {
		snprintf(plan->error, sizeof(plan->error),
			 "guest RAM of %s has no bank that holds the kernel (%s); use a larger -m",
			 format_size(plan->ram_size, sz, sizeof(sz)),
			 format_size(info.image_size, need, sizeof(need)));
		return -ENOSPC;
	}
	ret = plan_place_in_ram(plan, ARM64_PLACE_FDT, "device tree", ARM64_FDT_MAX_SIZE,
				2 * MiB, kernel + info.image_size, ~0ULL, PLACE_LOWEST, &fdt);
	if (!ret && img->initrd)
		ret = plan_place_in_ram(plan, ARM64_PLACE_INITRD, "initrd", img->initrd_len,
					4 * KiB, fdt + ARM64_FDT_MAX_SIZE, ~0ULL, PLACE_LOWEST,
					&initrd);
	return ret;
}
