/*
 * reserved_regions text (sysfs or --reserved files): any bytes. Every hole
 * parsed is non-empty and inside the 64-bit space, and an x86 plan
 * around them keeps the planner's invariants.
 */
#include "arch/board.h"
#include "core/log.h"
#include "fuzz_input.h"
#include "plan_check.h"
#include "vfio/host_regions.h"

static unsigned int warnings;

static void count_warning(const char *message)
{
	FUZZ_CHECK(memchr(message, '\0', 256) != NULL);
	warnings++;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct host_holes host;
	static struct memory_plan plan;
	const struct plan_request req = { .ram_size = 256 * MiB, .ncpus = 1, .host = &host,
					  .addr_bits = 40 };
	int ret;

	log_threshold = LOG_QUIET;
	memset(&host, 0, sizeof(host));
	ret = host_parse_reserved_regions((const char *)data, size, "fuzz", &host, count_warning);
	FUZZ_CHECK(ret == -E2BIG || (ret >= 0 && (unsigned int)ret == host.n));
	for (unsigned int i = 0; i < host.n; i++) {
		const struct plan_forbidden *h = &host.holes[i];

		FUZZ_CHECK(h->size > 0);
		/* Up to 2^64 - 1 at most: a sum that wraps ends exactly there. */
		FUZZ_CHECK(h->start + h->size >= h->start || h->start + h->size == 0);
	}
	ret = board_plan(board_layout_find("x86_64"), &req, &plan);
	plan_check(ret, &plan, req.ram_size, host.holes, host.n);
	return 0;
}
