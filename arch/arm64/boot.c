/*
 * Loading an arm64 guest (Documentation/arch/arm64/booting.rst): the
 * Image at a 2 MiB aligned base + text_offset inside a RAM bank, then the
 * device tree and the initrd after it, all inside the planner's banks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdt.h"
#include "image.h"
#include "platform.h"
#include "core/file.h"
#include "core/log.h"
#include "core/size.h"

/* The first spot of len bytes, aligned, at or after from, inside a RAM bank. */
static int find_room(const struct memory_plan *plan, u64 from, u64 len, u64 align, u64 *out)
{
	const struct plan_region *bank;

	for (unsigned int i = 0; (bank = plan_ram_bank(plan, i)); i++) {
		u64 start = ALIGN_UP(MAX(from, bank->start), align);

		if (start >= bank->start && start < bank->start + bank->size &&
		    bank->start + bank->size - start >= len) {
			*out = start;
			return 0;
		}
	}
	return -ENOSPC;
}

int arm64_load_guest(struct board *b, const struct boot_config *boot)
{
	struct arm64_platform *pf = b->priv;
	struct vm *vm = b->vm;
	struct arm64_image_info info;
	const struct plan_region *bank;
	u8 *image = NULL, *initrd = NULL, fdt[ARM64_FDT_MAX_SIZE];
	size_t image_len, initrd_len = 0;
	u64 kernel = 0, initrd_addr = 0;
	char err[200], cmdline[2048], sz[32];
	int ret;

	ret = file_read_all(boot->kernel, "kernel", FILE_MAX_IMAGE, &image, &image_len);
	if (ret)
		return ret;
	ret = arm64_image_parse(image, image_len, &info, err, sizeof(err));
	if (ret) {
		pr_err("kernel '%s': %s", boot->kernel, err);
		goto out;
	}
	ret = -ENOSPC;
	for (unsigned int i = 0; ret && (bank = plan_ram_bank(b->plan, i)); i++)
		ret = arm64_image_place(&info, bank->start, bank->start + bank->size, &kernel);
	if (ret) {
		pr_err("guest RAM of %s has no bank that holds the kernel (%s); use a larger -m",
		       format_size(b->plan->ram_size, sz, sizeof(sz)),
		       format_size(info.image_size, err, sizeof(err)));
		goto out;
	}
	ret = guest_mem_load(&vm->mem, kernel, image, image_len, "kernel");
	if (ret)
		goto out;

	/* The device tree right after the kernel, 2 MiB aligned (booting.rst). */
	ret = find_room(b->plan, kernel + info.image_size, ARM64_FDT_MAX_SIZE, 2 * MiB,
			&pf->fdt_addr);
	if (!ret && boot->initrd) {
		ret = file_read_all(boot->initrd, "initrd", FILE_MAX_IMAGE, &initrd, &initrd_len);
		if (!ret)
			ret = find_room(b->plan, pf->fdt_addr + ARM64_FDT_MAX_SIZE, initrd_len,
					4096, &initrd_addr);
		if (ret == -ENOSPC)
			pr_err("initrd '%s' (%s) does not fit in guest RAM after the kernel; use a larger -m",
			       boot->initrd, format_size(initrd_len, sz, sizeof(sz)));
		if (!ret)
			ret = guest_mem_load(&vm->mem, initrd_addr, initrd, initrd_len, "initrd");
	}
	if (ret)
		goto out;

	if (board_cmdline(boot, cmdline, sizeof(cmdline)) < 0) {
		pr_err("kernel command line is longer than %zu bytes", sizeof(cmdline) - 1);
		ret = -E2BIG;
		goto out;
	}
	ret = arm64_build_fdt(fdt, sizeof(fdt), &(struct arm64_fdt_params){
		.plan = b->plan, .ncpus = b->ncpus, .cmdline = cmdline,
		.initrd_start = initrd_addr, .initrd_size = initrd_len });
	if (ret < 0) {
		pr_err("cannot build the device tree (libfdt error %d)", ret);
		ret = -EINVAL;
		goto out;
	}
	ret = guest_mem_load(&vm->mem, pf->fdt_addr, fdt, ARM64_FDT_MAX_SIZE, "device tree");
	if (ret)
		goto out;
	pf->kernel_entry = kernel;
	pr_debug("kernel at 0x%llx, fdt at 0x%llx, initrd at 0x%llx",
		 (unsigned long long)kernel, (unsigned long long)pf->fdt_addr,
		 (unsigned long long)initrd_addr);
	ret = 0;
out:
	free(image);
	free(initrd);
	return ret;
}
