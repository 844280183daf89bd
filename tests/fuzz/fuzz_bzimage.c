/*
 * The bzImage header (boot protocol), then where the kernel and an
 * initrd of the input's choosing would go in a 256 MiB x86 guest. What
 * parses is consistent; what is placed lies inside one RAM bank, below
 * 4 GiB for the kernel, and clear of the kernel for the initrd.
 *
 * Input: initrd size (u32), initrd max_end (u32), then the image.
 */
#include "arch/x86/boot.h"
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
	static struct memory_plan plan;
	struct fuzz_input in = fuzz_input(data, size);
	u64 initrd_size = fuzz_u32(&in), max_end = fuzz_u32(&in), kernel, initrd;
	struct bzimage_info info;
	char err[256];
	u8 *image;
	size_t len = size - MIN(size, in.pos);

	log_threshold = LOG_QUIET;
	if (!plan.nregions && x86_plan_memory(256 * MiB, 40, NULL, 0, &plan))
		abort();
	/* Exactly the image's bytes on the heap: ASan sees any read past them. */
	image = malloc(len ? len : 1);
	memcpy(image, data + in.pos, len);
	if (bzimage_parse(image, len, &info, err, sizeof(err))) {
		free(image);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		return 0;
	}
	free(image);
	FUZZ_CHECK(info.setup_size < len);
	FUZZ_CHECK(info.kernel_alignment && !(info.kernel_alignment & (info.kernel_alignment - 1)));
	FUZZ_CHECK(info.init_size >= len - info.setup_size);
	FUZZ_CHECK(info.pref_address + info.init_size >= info.pref_address);
	if (x86_choose_kernel_address(&plan, info.pref_address, info.kernel_alignment,
				      info.init_size, &kernel))
		return 0;
	FUZZ_CHECK(in_one_bank(&plan, kernel, info.init_size));
	FUZZ_CHECK(kernel + info.init_size <= 4 * GiB);
	FUZZ_CHECK(kernel == info.pref_address || kernel % info.kernel_alignment == 0);
	if (x86_choose_initrd_address(&plan, initrd_size, max_end, kernel, info.init_size,
				      &initrd))
		return 0;
	FUZZ_CHECK(in_one_bank(&plan, initrd, initrd_size));
	FUZZ_CHECK(initrd + initrd_size <= max_end);
	FUZZ_CHECK(!ranges_overlap(initrd, initrd_size, kernel, info.init_size));
	return 0;
}
