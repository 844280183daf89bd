/* arm64 Image header checks and kernel placement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "arch/arm64/image.h"

static void put_le(u8 *p, u64 v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * i));
}

static u8 *make_image(size_t len)
{
	u8 *img = calloc(1, len);

	put_le(img + 8, 0, 8);             /* text_offset, as 5.x+ kernels */
	put_le(img + 16, 40 * MiB, 8);      /* image_size */
	put_le(img + 24, 0xa, 8);           /* LE, 4K pages, anywhere */
	put_le(img + 56, ARM64_IMAGE_MAGIC, 4);
	return img;
}

static void a_modern_header_parses(void **state)
{
	struct arm64_image_info info;
	char err[200];
	u8 *img = make_image(4096);

	(void)state;
	assert_int_equal(arm64_image_parse(img, 4096, &info, err, sizeof(err)), 0);
	assert_int_equal(info.text_offset, 0);
	assert_int_equal(info.image_size, 40 * MiB);
	assert_true(info.anywhere);
	free(img);
}

static void bad_images_are_refused_with_a_reason(void **state)
{
	struct arm64_image_info info;
	char err[200];
	u8 *img = make_image(4096);

	(void)state;
	assert_int_equal(arm64_image_parse(img, 32, &info, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too small"));
	put_le(img + 56, 0x464c457f, 4); /* an ELF vmlinux */
	assert_int_equal(arm64_image_parse(img, 4096, &info, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an arm64 Linux Image"));
	put_le(img + 56, ARM64_IMAGE_MAGIC, 4);
	put_le(img + 24, 1, 8);          /* big-endian */
	assert_int_equal(arm64_image_parse(img, 4096, &info, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "big-endian"));
	put_le(img + 24, 0, 8);
	put_le(img + 16, 100, 8);        /* smaller than the file: truncated header */
	assert_int_equal(arm64_image_parse(img, 4096, &info, err, sizeof(err)), -EINVAL);
	put_le(img + 16, 40 * MiB, 8);
	put_le(img + 8, 0x123, 8);       /* misaligned text_offset */
	assert_int_equal(arm64_image_parse(img, 4096, &info, err, sizeof(err)), -EINVAL);
	free(img);
}

static void old_kernels_default_their_text_offset(void **state)
{
	struct arm64_image_info info;
	char err[200];
	u8 *img = make_image(4096);

	(void)state;
	put_le(img + 16, 0, 8);
	assert_int_equal(arm64_image_parse(img, 4096, &info, err, sizeof(err)), 0);
	assert_int_equal(info.text_offset, 0x80000);
	free(img);
}

static void placement_is_2m_aligned_plus_text_offset(void **state)
{
	struct arm64_image_info info = { .text_offset = 0x80000, .image_size = 30 * MiB };
	u64 addr;

	(void)state;
	assert_int_equal(arm64_image_place(&info, 0, 128 * MiB, &addr), 0);
	assert_int_equal(addr, 0x80000);
	/* A bank starting past the SMMU MSI window at 0x8100000. */
	assert_int_equal(arm64_image_place(&info, 0x8100000, 1 * GiB, &addr), 0);
	assert_int_equal(addr, 0x8200000 + 0x80000);
	assert_int_equal(arm64_image_place(&info, 0, 16 * MiB, &addr), -ENOSPC);
	/* A bank at the top of the space: aligning its start wrapped to 0 (found by fuzzing). */
	info.image_size = 0x1000;
	assert_int_equal(arm64_image_place(&info, 0xffffffffffe00001ULL, UINT64_MAX, &addr),
			 -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_modern_header_parses),
		cmocka_unit_test(bad_images_are_refused_with_a_reason),
		cmocka_unit_test(old_kernels_default_their_text_offset),
		cmocka_unit_test(placement_is_2m_aligned_plus_text_offset),
	};

	return cmocka_run_group_tests_name("arm64 Image", tests, NULL, NULL);
}
