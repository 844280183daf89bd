/*
 * The bzImage header (boot protocol), then where the boot data, the
 * kernel and an initrd of the input's size go in a 256 MiB x86 plan
 * (x86_place_boot, as `vmm run` and `vmm plan -k` do it). What parses is
 * consistent; every placement lies inside one RAM bank, none overlaps
 * another, the kernel ends below 4 GiB and the initrd where the kernel
 * can reach it.
 *
 * Input: initrd size (u32; 0: none), then the image.
 */
#include "arch/x86/bzimage.h"
#include "arch/x86/layout.h"
#include "core/log.h"
#include "fuzz_input.h"

static bool in_one_bank(const struct memory_plan *plan, u64 addr, u64 size)
{
	const struct plan_region *bank;

	for (unsigned int i = 0; (bank = plan_ram_bank(plan, i)); i++)
		if (addr >= bank->start && addr - bank->start <= bank->size &&
		    size <= bank->size - (addr - bank->start))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct memory_plan empty, plan;
	static u8 initrd_bytes;
	struct fuzz_input in = fuzz_input(data, size);
	u32 initrd_len = fuzz_u32(&in);
	size_t len = size - MIN(size, in.pos);
	struct boot_images img = { .kernel_path = "fuzz", .kernel_len = len, .kernel_fd = -1,
				   .initrd_fd = -1 };
	const struct plan_placement *kernel, *initrd;
	struct bzimage_info info;
	char err[256];
	int ret;

	log_threshold = LOG_QUIET;
	if (!empty.nregions && x86_plan_memory(256 * MiB, 40, NULL, 0, &empty))
		abort();
	/* Exactly the image's bytes on the heap: ASan sees any read past them. */
	img.kernel = malloc(len ? len : 1);
	memcpy(img.kernel, data + in.pos, len);
	if (initrd_len) {
		img.initrd = &initrd_bytes; /* only its length is planned */
		img.initrd_len = initrd_len;
	}
	ret = bzimage_parse(img.kernel, len, &info, err, sizeof(err));
	if (ret) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
	} else {
		FUZZ_CHECK(info.setup_size < len);
		FUZZ_CHECK(info.kernel_alignment &&
			   !(info.kernel_alignment & (info.kernel_alignment - 1)));
		FUZZ_CHECK(info.init_size >= len - info.setup_size);
		FUZZ_CHECK(info.pref_address + info.init_size >= info.pref_address);
	}
	plan = empty;
	if (x86_place_boot(&plan, &img)) {
		FUZZ_CHECK(plan.error[0]);
		free(img.kernel);
		return 0;
	}
	free(img.kernel);
	FUZZ_CHECK(!ret);
	for (unsigned int i = 0; i < plan.nplacements; i++) {
		const struct plan_placement *p = &plan.placements[i];

		FUZZ_CHECK(in_one_bank(&plan, p->start, p->size));
		for (unsigned int j = i + 1; j < plan.nplacements; j++)
			FUZZ_CHECK(!ranges_overlap(p->start, p->size, plan.placements[j].start,
						   plan.placements[j].size));
	}
	kernel = plan_find_placement(&plan, X86_PLACE_KERNEL);
	FUZZ_CHECK(kernel && kernel->size == info.init_size);
	FUZZ_CHECK(kernel->start + kernel->size <= 4 * GiB);
	FUZZ_CHECK(kernel->start == info.pref_address ||
		   (info.relocatable && kernel->start % info.kernel_alignment == 0));
	initrd = plan_find_placement(&plan, X86_PLACE_INITRD);
	FUZZ_CHECK(!initrd_len || (initrd && initrd->size == initrd_len));
	if (initrd)
		FUZZ_CHECK(initrd->start + initrd->size <=
			   ((info.xloadflags & BZIMAGE_XLF_ABOVE_4G) ? 4 * GiB :
								       (u64)info.initrd_addr_max + 1));
	return 0;
}
