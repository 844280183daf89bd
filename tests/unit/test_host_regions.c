/* Host reserved regions and IOVA ranges: parsing what the kernel reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/vfio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan_helpers.h"
#include "arch/x86/layout.h"
#include "core/file.h"
#include "vfio/host_collect.h"
#include "vfio/host_regions.h"
#include "vfio/sysfs.h"

static int warnings;
static char last_warning[256];

static void count_warning(const char *msg)
{
	warnings++;
	snprintf(last_warning, sizeof(last_warning), "%s", msg);
}

static int parse(const char *text, const char *source, struct host_holes *h, host_warn_fn warn)
{
	return host_parse_reserved_regions(text, strlen(text), source, h, warn);
}

static void every_type_parses_with_its_source(void **state)
{
	struct host_holes h = { 0 };
	const char *text =
		"0x00000000fee00000 0x00000000feefffff msi\n"
		"0x00000000000e0000 0x00000000000fffff direct\n"
		"0x0000000000000000 0x0000000000ffffff direct-relaxable\n"
		"0x0000000008000000 0x00000000080fffff reserved\n";

	(void)state;
	warnings = 0;
	assert_int_equal(parse(text, "iommu group 7", &h, count_warning), 3);
	assert_int_equal(warnings, 0);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.relaxed, 1);
	assert_int_equal(h.holes[0].start, 0xfee00000);
	assert_int_equal(h.holes[0].size, 0x100000);
	assert_string_equal(h.holes[0].label, "host msi (iommu group 7)");
	assert_true(h.holes[1].firmware_reserved);
	/* The line after direct-relaxable is not lost. */
	assert_int_equal(h.holes[2].start, 0x8000000);
	assert_string_equal(h.holes[2].label, "host reserved (iommu group 7)");
}

static void malformed_lines_warn_and_are_skipped(void **state)
{
	struct host_holes h = { 0 };
	const char *text =
		"garbage\n"
		"0x1000 0x0fff msi\n"            /* end below start */
		"0x1000 0x1fff\n"                /* no type */
		"0x1000 0x1fff msi extra\n"      /* trailing field */
		"\n   \n"
		"0x2000 0x2fff future-type\n"    /* unknown: kept, with a warning */
		"0x3000 0x3fff msi";             /* no final newline */

	(void)state;
	warnings = 0;
	assert_int_equal(parse(text, "f", &h, count_warning), 2);
	assert_int_equal(warnings, 5);
	assert_int_equal(h.holes[0].start, 0x2000);
	assert_int_equal(h.holes[1].start, 0x3000);
	assert_int_equal(parse("", "f", &h, count_warning), 0);
}

static void too_many_regions_is_an_error(void **state)
{
	struct host_holes h = { 0 };
	char *text = malloc(100 * 40), *p = text;

	(void)state;
	for (int i = 0; i < 100; i++)
		p += sprintf(p, "0x%x 0x%x msi\n", i * 0x10000, i * 0x10000 + 0xfff);
	assert_int_equal(parse(text, "f", &h, NULL), -E2BIG);
	free(text);
}

static void overlapping_unsorted_regions_all_stay_out_of_ram(void **state)
{
	struct host_holes h = { 0 };
	struct memory_plan plan;
	const char *text =
		"0x0000000030000000 0x00000000303fffff direct\n"
		"0x0000000010000000 0x00000000101fffff reserved\n"
		"0x0000000010100000 0x00000000102fffff msi\n";

	(void)state;
	assert_int_equal(parse(text, "g", &h, NULL), 3);
	assert_int_equal(x86_plan_memory(1 * GiB, 40, h.holes, h.n, &plan), 0);
	for (unsigned int i = 0; i < plan.nregions; i++) {
		if (plan.regions[i].kind != REGION_RAM)
			continue;
		for (unsigned int j = 0; j < h.n; j++)
			assert_false(ranges_overlap(plan.regions[i].start, plan.regions[i].size,
						    h.holes[j].start, h.holes[j].size));
	}
}

/* sscanf's %llx saturated these to ~0 and took a sign: each is a warning now. */
static void numbers_that_do_not_fit_or_are_signed_are_refused(void **state)
{
	struct host_holes h = { 0 };
	const char *text =
		"0x0000000000000000 0x1ffffffffffffffff reserved\n" /* 17 digits */
		"0x10000000000000000 0x20000000000000000 msi\n"
		"-0x1000 0x1fff msi\n"
		"0x1000 +0x1fff msi\n"
		"0x1000 0x1fffz msi\n"
		"0x 0x1fff msi\n"
		"0x1000 0x1fff ms\\i\n"
		"0x00000000000000001000 0x1fff msi\n"; /* leading zeros are fine */

	(void)state;
	warnings = 0;
	assert_int_equal(parse(text, "f", &h, count_warning), 1);
	assert_int_equal(warnings, 7);
	assert_int_equal(h.holes[0].start, 0x1000);
	assert_int_equal(h.holes[0].size, 0x1000);
	assert_non_null(strstr(last_warning, "line 7"));
}

static void a_nul_byte_does_not_hide_the_lines_after_it(void **state)
{
	static const char text[] = "0x1000 0x1fff msi\n0x2000\0 0x2fff msi\n0x3000 0x3fff msi\n";
	struct host_holes h = { 0 };

	(void)state;
	warnings = 0;
	assert_int_equal(host_parse_reserved_regions(text, sizeof(text) - 1, "f", &h,
						     count_warning), 2);
	assert_int_equal(warnings, 1);
	assert_non_null(strstr(last_warning, "line 2"));
	assert_int_equal(h.holes[1].start, 0x3000);
}

/*
 * The whole 64-bit space reserved: end - start + 1 wrapped to 0 and the
 * region vanished, so RAM went where the host said reserved.
 */
static void a_region_over_the_whole_space_leaves_no_room_for_ram(void **state)
{
	struct host_holes h = { 0 };
	struct memory_plan plan;

	(void)state;
	assert_int_equal(parse("0x0000000000000000 0xffffffffffffffff reserved\n", "f", &h, NULL),
			 1);
	assert_int_equal(h.holes[0].start, 0);
	assert_int_equal(h.holes[0].size, UINT64_MAX);
	for (unsigned int arch = 0; arch < 2; arch++) {
		const char *board = arch ? "arm64" : "x86_64";

		assert_int_equal(plan_on_board(board, 256 * MiB, 1, 40, h.holes, h.n, 0, NULL, &plan),
				 -ENOSPC);
		assert_non_null(strstr(plan.error, "cover every guest address"));
		assert_null(plan_ram_bank(&plan, 0));
	}
}

static void a_region_up_to_the_top_is_a_hole_up_to_the_limit(void **state)
{
	struct host_holes h = { 0 };
	struct memory_plan plan;
	const struct plan_region *bank;

	(void)state;
	assert_int_equal(parse("0x8000000000 0xffffffffffffffff reserved\n", "f", &h, NULL), 1);
	assert_int_equal(h.holes[0].size, 0 - 0x8000000000ULL);
	assert_int_equal(plan_on_board("x86_64", 6 * GiB, 1, 40, h.holes, h.n, 0, NULL, &plan), 0);
	for (unsigned int i = 0; (bank = plan_ram_bank(&plan, i)); i++)
		assert_true(bank->start + bank->size <= 512 * GiB);
	assert_int_equal(plan_on_board("x86_64", 600 * GiB, 1, 40, h.holes, h.n, 0, NULL, &plan),
			 -ENOSPC);
	/* A one-byte region at the very top is nothing the guest could use. */
	memset(&h, 0, sizeof(h));
	assert_int_equal(parse("0xffffffffffffffff 0xffffffffffffffff msi\n", "f", &h, NULL), 1);
	assert_int_equal(plan_on_board("x86_64", 1 * GiB, 1, 40, h.holes, h.n, 0, NULL, &plan), 0);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

/* The region after 16 KiB of blank lines was cut off with the rest of the file. */
static void reserved_files_are_read_whole(void **state)
{
	char path[64];
	const char *files[] = { path };
	const char *region = "0x0000000010000000 0x00000000101fffff reserved\n";
	size_t pad = 20000, len = pad + strlen(region);
	struct host_holes h;
	char *text = malloc(FILE_MAX_TEXT + 2);
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/vmm-reserved-XXXXXX", P_tmpdir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	memset(text, '\n', pad);
	memcpy(text + pad, region, strlen(region));
	write_file(path, text, len);
	assert_int_equal(vfio_collect_host_holes(files, 1, NULL, 0, "/nonexistent", &h), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.holes[0].start, 0x10000000);

	/* Beyond the cap: an error, not a silent cut. */
	memset(text, '\n', FILE_MAX_TEXT + 1);
	write_file(path, text, FILE_MAX_TEXT + 1);
	assert_int_equal(vfio_collect_host_holes(files, 1, NULL, 0, "/nonexistent", &h), -EFBIG);
	unlink(path);

	/* A FIFO is refused at once instead of waiting for a writer. */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(vfio_collect_host_holes(files, 1, NULL, 0, "/nonexistent", &h), -EINVAL);
	unlink(path);
	free(text);
}

/* A VFIO_IOMMU_GET_INFO reply with the IOVA capability, as the kernel lays it out. */
static size_t make_info(u8 *buf, const struct vfio_iova_range *r, u32 n, bool caps)
{
	struct vfio_iommu_type1_info *info = (void *)buf;
	struct vfio_iommu_type1_info_cap_iova_range *cap;
	size_t off = 32;

	memset(buf, 0, 256);
	info->flags = caps ? VFIO_IOMMU_INFO_CAPS : 0;
	info->cap_offset = caps ? (u32)off : 0;
	cap = (void *)(buf + off);
	cap->header.id = 7; /* another capability first */
	cap->header.next = (u32)(off + 8);
	cap = (void *)(buf + off + 8);
	cap->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	cap->header.version = 1;
	cap->nr_iovas = n;
	memcpy(cap->iova_ranges, r, n * sizeof(*r));
	return off + 8 + sizeof(*cap) + n * sizeof(*r);
}

static void iova_ranges_become_holes_and_a_limit(void **state)
{
	/* What VT-d with a 39-bit address width reports in L1. */
	const struct vfio_iova_range vtd[] = { { 0, 0xfedfffff }, { 0xfef00000, 0x7fffffffff } };
	struct iova_range ranges[8];
	struct host_holes h = { 0 };
	struct memory_plan plan;
	u8 buf[256];
	size_t len = make_info(buf, vtd, 2, true);

	(void)state;
	assert_int_equal(host_parse_iova_cap(buf, len, ranges, 8), 2);
	assert_int_equal(ranges[1].start, 0xfef00000);
	assert_int_equal(host_add_iova_ranges(ranges, 2, "container", &h), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.holes[0].start, 0xfee00000);
	assert_int_equal(h.holes[0].size, 0x100000);
	assert_int_equal(h.iova_limit, 0x8000000000ULL);

	assert_int_equal(plan_on_board("x86_64", 16 * GiB, 1, 40, h.holes, h.n, h.iova_limit,
				       h.iova_limit_source, &plan), 0);
	assert_true(plan_ram_end(&plan) <= 0x8000000000ULL);
	assert_int_equal(plan_on_board("x86_64", 600 * GiB, 1, 40, h.holes, h.n, h.iova_limit,
				       h.iova_limit_source, &plan), -ENOSPC);
	assert_non_null(strstr(plan.error, "host IOVA limit"));
}

static void iova_capability_absent_or_broken(void **state)
{
	const struct vfio_iova_range r[] = { { 0, 0xffff } };
	struct iova_range ranges[8];
	u8 buf[256];
	size_t len;

	(void)state;
	len = make_info(buf, r, 1, false);
	assert_int_equal(host_parse_iova_cap(buf, len, ranges, 8), 0);
	len = make_info(buf, r, 1, true);
	assert_int_equal(host_parse_iova_cap(buf, len - 8, ranges, 8), -EINVAL); /* truncated */
	((struct vfio_iommu_type1_info *)buf)->cap_offset = 250;                 /* out of bounds */
	assert_int_equal(host_parse_iova_cap(buf, len, ranges, 8), -EINVAL);
	len = make_info(buf, r, 1, true);
	((struct vfio_info_cap_header *)(buf + 32))->next = 32;                  /* a loop */
	((struct vfio_info_cap_header *)(buf + 32))->id = 9;
	assert_int_equal(host_parse_iova_cap(buf, len, ranges, 8), -EINVAL);
}

static void bdfs_are_normalized(void **state)
{
	char bdf[BDF_LEN];

	(void)state;
	assert_int_equal(pci_normalize_bdf("01:00.0", bdf), 0);
	assert_string_equal(bdf, "0000:01:00.0");
	assert_int_equal(pci_normalize_bdf("0000:00:1f.3", bdf), 0);
	assert_string_equal(bdf, "0000:00:1f.3");
	assert_int_equal(pci_normalize_bdf("00:20.0", bdf), -EINVAL);
	assert_int_equal(pci_normalize_bdf("00:01.8", bdf), -EINVAL);
	assert_int_equal(pci_normalize_bdf("eth0", bdf), -EINVAL);
	assert_int_equal(pci_normalize_bdf("00:01.0x", bdf), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_type_parses_with_its_source),
		cmocka_unit_test(malformed_lines_warn_and_are_skipped),
		cmocka_unit_test(too_many_regions_is_an_error),
		cmocka_unit_test(overlapping_unsorted_regions_all_stay_out_of_ram),
		cmocka_unit_test(numbers_that_do_not_fit_or_are_signed_are_refused),
		cmocka_unit_test(a_nul_byte_does_not_hide_the_lines_after_it),
		cmocka_unit_test(a_region_over_the_whole_space_leaves_no_room_for_ram),
		cmocka_unit_test(a_region_up_to_the_top_is_a_hole_up_to_the_limit),
		cmocka_unit_test(reserved_files_are_read_whole),
		cmocka_unit_test(iova_ranges_become_holes_and_a_limit),
		cmocka_unit_test(iova_capability_absent_or_broken),
		cmocka_unit_test(bdfs_are_normalized),
	};

	return cmocka_run_group_tests_name("host regions", tests, NULL, NULL);
}
