/*
 * Writing an arm64 guest's images where the plan put them
 * (boot_plan.c): the Image, the initrd, and the device tree built from
 * the plan with the command line and the initrd's place.
 */
#include <errno.h>
#include <stdio.h>

#include "fdt.h"
#include "layout.h"
#include "platform.h"
#include "core/log.h"

static const struct plan_placement *planned(const struct memory_plan *plan, const char *name,
					    u64 len)
{
	const struct plan_placement *p = plan_find_placement(plan, name);

	if (!p || len > p->size) {
		pr_err("the %s does not have its planned place in guest RAM", name);
		return NULL;
	}
	return p;
}

static int write_planned(struct vm *vm, const struct memory_plan *plan, const char *name,
			 const void *src, u64 len, u64 *at)
{
	const struct plan_placement *p = planned(plan, name, len);

	if (!p)
		return -EFAULT;
	if (guest_mem_write(&vm->mem, p->start, src, len)) {
		pr_err("the %s does not have its planned place in guest RAM", name);
		return -EFAULT;
	}
	*at = p->start;
	return 0;
}

/* The kernel's Image or the initrd, from its file into its planned place. */
static int load_planned(struct vm *vm, const struct memory_plan *plan, const char *name,
			const struct boot_images *img, bool initrd, u64 *at)
{
	u64 len = initrd ? img->initrd_len : img->kernel_len;
	const struct plan_placement *p = planned(plan, name, len);
	int err;

	if (!p)
		return -EFAULT;
	err = board_image_to_guest(vm, img, initrd, 0, len, p->start);
	if (!err)
		*at = p->start;
	return err;
}

int arm64_load_guest(struct board *b, const struct boot_config *boot,
		     const struct boot_images *img)
{
	struct arm64_platform *pf = b->priv;
	u8 fdt[ARM64_FDT_MAX_SIZE];
	u64 initrd = 0;
	char cmdline[2048];
	int ret;

	if (!img->kernel)
		return -EINVAL;
	ret = load_planned(b->vm, b->plan, ARM64_PLACE_KERNEL, img, false, &pf->kernel_entry);
	if (!ret && img->initrd)
		ret = load_planned(b->vm, b->plan, ARM64_PLACE_INITRD, img, true, &initrd);
	if (ret)
		return ret;
	if (board_cmdline(boot, cmdline, sizeof(cmdline)) < 0) {
		pr_err("kernel command line is longer than %zu bytes", sizeof(cmdline) - 1);
		return -E2BIG;
	}
	ret = arm64_build_fdt(fdt, sizeof(fdt), &(struct arm64_fdt_params){
		.plan = b->plan, .ncpus = b->ncpus, .cmdline = cmdline,
		.initrd_start = initrd, .initrd_size = img->initrd_len });
	if (ret < 0) {
		pr_err("cannot build the device tree (libfdt error %d)", ret);
		return -EINVAL;
	}
	ret = write_planned(b->vm, b->plan, ARM64_PLACE_FDT, fdt, sizeof(fdt), &pf->fdt_addr);
	if (!ret)
		pr_debug("kernel at 0x%llx, fdt at 0x%llx, initrd at 0x%llx",
			 (unsigned long long)pf->kernel_entry, (unsigned long long)pf->fdt_addr,
			 (unsigned long long)initrd);
	return ret;
}
