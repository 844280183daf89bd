/*
 * The arm64 Image header, then its placement in a RAM bank of the
 * input's choosing: a parsed header is consistent, and a placed kernel
 * is inside the bank at a 2 MiB aligned base + text_offset.
 *
 * Input: bank start (u64), bank size (u64), then the image.
 */
#include "arch/arm64/image.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	u64 bank_start = fuzz_u64(&in), bank_size = fuzz_u64(&in), bank_end, addr;
	struct arm64_image_info info;
	size_t len = size - MIN(size, in.pos);
	char err[200];
	u8 *image;
	int ret;

	bank_end = bank_start + bank_size < bank_start ? UINT64_MAX : bank_start + bank_size;
	image = malloc(len ? len : 1);
	memcpy(image, data + in.pos, len);
	ret = arm64_image_parse(image, len, &info, err, sizeof(err));
	free(image);
	if (ret) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		return 0;
	}
	FUZZ_CHECK(info.image_size >= len);
	FUZZ_CHECK(info.text_offset < ARM64_IMAGE_BASE_ALIGN && !(info.text_offset & 0xfff));
	if (arm64_image_place(&info, bank_start, bank_end, &addr))
		return 0;
	FUZZ_CHECK(addr >= bank_start && addr < bank_end);
	FUZZ_CHECK(info.image_size <= bank_end - addr);
	FUZZ_CHECK((addr - info.text_offset) % ARM64_IMAGE_BASE_ALIGN == 0);
	return 0;
}
