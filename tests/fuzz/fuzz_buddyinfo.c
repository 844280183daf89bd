/*
 * /proc/buddyinfo as the VMM reads it to decide whether the guest's
 * images go into huge pages: any text, any page and block size. The
 * bytes counted never exceed what the digits could say, more blocks are
 * never fewer bytes, and a larger block never counts more.
 */
#include "core/mem_backing.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	unsigned int page_shift = 10 + fuzz_u8(&in) % 8, block_shift = page_shift + fuzz_u8(&in) % 16;
	u64 page = 1ULL << page_shift, block = 1ULL << block_shift, small, large;
	size_t rest = size - MIN(size, in.pos);
	char *text = malloc(rest + 1);

	memcpy(text, data + (size - rest), rest);
	text[rest] = '\0';
	small = buddyinfo_free_bytes(text, page, block);
	large = buddyinfo_free_bytes(text, page, block * 2);
	FUZZ_CHECK(large <= small);
	/* Every count is a multiple of a block, and of the page. */
	FUZZ_CHECK(small % page == 0 || small == UINT64_MAX);
	/* No page size: nothing is counted. */
	FUZZ_CHECK(buddyinfo_free_bytes(text, 0, block) == 0);
	FUZZ_CHECK(buddyinfo_free_bytes(text, page, page / 2) == 0);
	free(text);
	return 0;
}
