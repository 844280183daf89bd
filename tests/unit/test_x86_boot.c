/* bzImage header checks, kernel/initrd placement, e820 from the plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "arch/x86/boot.h"
#include "arch/x86/bzimage.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/e820.h"
#include "arch/x86/layout.h"
#include "core/vm.h"

#define IMAGE_LEN 0x10000

static void put16(u8 *p, u16 v) { p[0] = v & 0xff; p[1] = v >> 8; }
static void put32(u8 *p, u32 v) { put16(p, v & 0xffff); put16(p + 2, v >> 16); }

/* A minimal image with the fields a 6.x bzImage has. */
static u8 *make_image(void)
{
	u8 *img = calloc(1, IMAGE_LEN);

	img[0x1f1] = 27;                  /* setup_sects */
	put32(img + 0x1f4, (IMAGE_LEN - 28 * 512) / 16); /* syssize */
	put16(img + 0x1fe, 0xaa55);
	img[0x201] = 0x6a;                /* jump offset: header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, 0x020f);
	img[0x211] = 0x01;                /* LOADED_HIGH */
	put32(img + 0x22c, 0x7fffffff);
	put32(img + 0x230, 0x200000);
	img[0x234] = 1;
	put16(img + 0x236, 0x7f);
	put32(img + 0x238, 2047);
	put32(img + 0x258, 0x1000000);
	put32(img + 0x25c, 0);
	put32(img + 0x260, 0x2000000);
	return img;
}

static void a_good_header_parses(void **state)
{
	struct bzimage_info info;
	char err[256];
	u8 *img = make_image();

	(void)state;
	assert_int_equal(bzimage_parse(img, IMAGE_LEN, &info, err, sizeof(err)), 0);
	assert_int_equal(info.setup_size, 28 * 512);
	assert_int_equal(info.pref_address, 0x1000000);
	assert_int_equal(info.init_size, 0x2000000);
	assert_int_equal(info.header_end, 0x26c);
	assert_true(info.relocatable);
	free(img);
}

static void wrong_magic_is_not_a_bzimage(void **state)
{
	struct bzimage_info info;
	char err[256];
	u8 *img = make_image();

	(void)state;
	memcpy(img + 0x202, "ELF!", 4);
	assert_int_equal(bzimage_parse(img, IMAGE_LEN, &info, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a Linux bzImage"));
	free(img);
}

static void truncated_images_are_refused(void **state)
{
	struct bzimage_info info;
	char err[256];
	u8 *img = make_image();

	(void)state;
	assert_int_equal(bzimage_parse(img, 0x100, &info, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too small"));
	assert_int_equal(bzimage_parse(img, IMAGE_LEN / 2, &info, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "truncated"));
	free(img);
}

static void old_or_32bit_kernels_are_refused(void **state)
{
	struct bzimage_info info;
	char err[256];
	u8 *img = make_image();

	(void)state;
	put16(img + 0x206, 0x0204);
	assert_int_equal(bzimage_parse(img, IMAGE_LEN, &info, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too old"));
	put16(img + 0x206, 0x020f);
	put16(img + 0x236, 0);
	assert_int_equal(bzimage_parse(img, IMAGE_LEN, &info, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "64-bit"));
	free(img);
}

/* pref_address + init_size wrapped, and the kernel was "placed" outside RAM. */
/* pref_address + init_size wrapped: the header is refused, and placement never trusts the sum. */
static void a_preferred_address_that_wraps_is_refused(void **state)
{
	struct bzimage_info info;
	struct memory_plan plan;
	char err[256];
	u8 *img = make_image();
	u64 addr;

	(void)state;
	put32(img + 0x258, 0xfff00000);
	put32(img + 0x25c, 0xffffffff);
	assert_int_equal(bzimage_parse(img, IMAGE_LEN, &info, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "pref_address"));
	free(img);

	assert_int_equal(x86_plan_memory(256 * MiB, 40, NULL, 0, &plan), 0);
	assert_int_equal(x86_choose_kernel_address(&plan, 0xfffffffffff00000ULL, 0x200000,
						   0x2000000, false, &addr), -ENOSPC);
	assert_int_equal(x86_choose_kernel_address(&plan, 0xfffffffffff00000ULL, 0x200000,
						   0x2000000, true, &addr), 0);
	assert_true(addr + 0x2000000 <= 256 * MiB);
}

/* A guest memory whose only bank is [start, start + size), under a plan of plan_ram. */
struct loaded {
	struct vm vm;
	struct memory_plan plan;
	struct boot_images img;
	u8 *ram;
};

static void load_setup(struct loaded *l, u64 plan_ram, u64 start, u64 size)
{
	vm_init(&l->vm);
	l->img = (struct boot_images){ .kernel_path = "bzImage", .kernel = make_image(),
				       .kernel_len = IMAGE_LEN, .kernel_fd = -1, .initrd_fd = -1 };
	assert_int_equal(x86_plan_memory(plan_ram, 40, NULL, 0, &l->plan), 0);
	assert_int_equal(x86_place_boot(&l->plan, &l->img), 0);
	l->ram = calloc(1, size);
	assert_non_null(l->ram);
	l->vm.mem.banks[0] = (struct guest_bank){ .gpa = start, .size = size, .hva = l->ram, .dma = true };
	l->vm.mem.nbanks = 1;
}

static int load(struct loaded *l, u64 *entry)
{
	const struct boot_config boot = { .kernel = "bzImage", .console_param = "console=ttyS0" };

	return x86_load_kernel(&l->vm, &l->plan, &boot, &l->img, entry);
}

static void load_teardown(struct loaded *l)
{
	free(l->img.kernel);
	free(l->ram);
}

/* A plan and a guest memory that disagree: an error naming what, never a guest outside RAM. */
static void what_does_not_fit_in_guest_memory_is_an_error(void **state)
{
	struct loaded l;
	u64 entry = 0;

	(void)state;
	/* The kernel's bank is there, the low pages of the boot data are not. */
	load_setup(&l, 64 * MiB, 1 * MiB, 63 * MiB);
	assert_int_equal(load(&l, &entry), -EFAULT);
	load_teardown(&l);
	/* Nothing where the kernel goes. */
	load_setup(&l, 64 * MiB, 0, 1 * MiB);
	assert_int_equal(load(&l, &entry), -EFAULT);
	load_teardown(&l);
	/* With all of it, the entry point is the kernel's. */
	load_setup(&l, 64 * MiB, 0, 64 * MiB);
	assert_int_equal(load(&l, &entry), 0);
	assert_int_equal(entry, 0x1000000 + 0x200);
	load_teardown(&l);
}

static void kernel_goes_to_its_preferred_address_or_the_next_aligned_fit(void **state)
{
	struct plan_forbidden hole = { .start = 0x1000000, .size = 0x100000, .label = "host" };
	struct memory_plan plan;
	u64 addr;

	(void)state;
	assert_int_equal(x86_plan_memory(256 * MiB, 40, NULL, 0, &plan), 0);
	assert_int_equal(x86_choose_kernel_address(&plan, 0x1000000, 0x200000, 0x2000000, true, &addr), 0);
	assert_int_equal(addr, 0x1000000);
	/* A host hole where the kernel likes to be: it moves above it. */
	assert_int_equal(x86_plan_memory(256 * MiB, 40, &hole, 1, &plan), 0);
	assert_int_equal(x86_choose_kernel_address(&plan, 0x1000000, 0x200000, 0x2000000, true, &addr), 0);
	assert_true(addr >= 0x1100000 && addr % 0x200000 == 0);
	/* A kernel that cannot move and whose address is taken. */
	assert_int_equal(x86_choose_kernel_address(&plan, 0x1000000, 0x200000, 0x2000000, false,
						   &addr), -ENOSPC);
	/* Too little RAM. */
	assert_int_equal(x86_plan_memory(16 * MiB, 40, NULL, 0, &plan), 0);
	assert_int_equal(x86_choose_kernel_address(&plan, 0x1000000, 0x200000, 0x2000000, true, &addr),
			 -ENOSPC);
}

static void initrd_goes_high_and_clear_of_the_kernel(void **state)
{
	struct memory_plan plan;
	u64 addr;

	(void)state;
	assert_int_equal(x86_plan_memory(256 * MiB, 40, NULL, 0, &plan), 0);
	assert_int_equal(x86_choose_kernel_address(&plan, 0x1000000, 0x200000, 0x2000000, true,
						   &addr), 0);
	assert_int_equal(x86_choose_initrd_address(&plan, 10 * MiB, 0x80000000ULL, &addr), 0);
	assert_int_equal(addr + 10 * MiB, 256 * MiB + 384 * KiB);
	assert_int_equal(addr % 4096, 0);
	/* A second one goes below the first, clear of the kernel at 16-48 MiB. */
	assert_int_equal(x86_choose_initrd_address(&plan, 100 * MiB, 0x80000000ULL, &addr), 0);
	assert_true(addr >= 0x3000000 && addr + 100 * MiB <= 256 * MiB + 384 * KiB - 10 * MiB);
	/* An initrd bigger than the RAM left: refused. */
	assert_int_equal(x86_choose_initrd_address(&plan, 300 * MiB, 0x80000000ULL, &addr),
			 -ENOSPC);
}

static void e820_lists_ram_and_merges_overlapping_reserved_ranges(void **state)
{
	/* The host MSI window coincides with the LAPIC window: one entry. */
	struct plan_forbidden msi = { .start = 0xfee00000, .size = 0x100000,
				      .label = "host msi", .firmware_reserved = true };
	struct boot_e820_entry table[E820_MAX_ENTRIES_ZEROPAGE];
	struct memory_plan plan;
	int n;

	(void)state;
	assert_int_equal(x86_plan_memory(6 * GiB, 40, &msi, 1, &plan), 0);
	n = x86_build_e820(&plan, table, E820_MAX_ENTRIES_ZEROPAGE);
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		if (i)
			assert_true(table[i - 1].addr + table[i - 1].size <= table[i].addr);
		if (table[i].addr == 0xfee00000) {
			assert_int_equal(table[i].type, 2);
			assert_int_equal(table[i].size, 0x100000);
		}
		if (table[i].type == 1)
			assert_false(ranges_overlap(table[i].addr, table[i].size, 0xfee00000, 0x100000));
	}
	assert_int_equal(table[0].addr, 0);
	assert_int_equal(table[0].type, 1);
	assert_int_equal(table[n - 1].type, 1);
	assert_int_equal(table[n - 1].addr, 4 * GiB);
	/* Too small a table is an error, not a truncation. */
	assert_int_equal(x86_build_e820(&plan, table, 2), -E2BIG);
}

/* TSC-deadline goes into leaf 1 only, and only when KVM emulates it. */
static void tsc_deadline_is_offered_when_kvm_emulates_it(void **state)
{
	(void)state;
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + 2 * sizeof(cpuid->entries[0]));

	cpuid->nent = 2;
	cpuid->entries[0].function = 1;
	cpuid->entries[0].ecx = 0x80000001;
	cpuid->entries[1].function = 7;
	x86_cpuid_add_tsc_deadline(cpuid, false);
	assert_int_equal(cpuid->entries[0].ecx, 0x80000001);
	x86_cpuid_add_tsc_deadline(cpuid, true);
	assert_int_equal(cpuid->entries[0].ecx, 0x81000001);
	assert_int_equal(cpuid->entries[1].ecx, 0);
	free(cpuid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_good_header_parses),
		cmocka_unit_test(wrong_magic_is_not_a_bzimage),
		cmocka_unit_test(truncated_images_are_refused),
		cmocka_unit_test(old_or_32bit_kernels_are_refused),
		cmocka_unit_test(a_preferred_address_that_wraps_is_refused),
		cmocka_unit_test(what_does_not_fit_in_guest_memory_is_an_error),
		cmocka_unit_test(kernel_goes_to_its_preferred_address_or_the_next_aligned_fit),
		cmocka_unit_test(initrd_goes_high_and_clear_of_the_kernel),
		cmocka_unit_test(e820_lists_ram_and_merges_overlapping_reserved_ranges),
		cmocka_unit_test(tsc_deadline_is_offered_when_kvm_emulates_it),
	};

	return cmocka_run_group_tests_name("x86 boot", tests, NULL, NULL);
}
