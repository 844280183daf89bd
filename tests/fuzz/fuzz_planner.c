/*
 * The memory planner through board_plan(), for both boards: random RAM
 * sizes, CPU counts, address widths, IOVA limits and host holes. Every
 * plan must keep the invariants of plan_check.h.
 *
 * Input: board (u8: bit 0 arm64), ram (u64, 4 KiB aligned), ncpus (u8),
 * addr_bits (u8), host page size (u8: log2, 0 for this host's), iova_limit
 * (u64), then up to 64 holes of start (u64), size (u64),
 * firmware_reserved (u8).
 */
#include "arch/board.h"
#include "core/log.h"
#include "fuzz_input.h"
#include "plan_check.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct host_holes host;
	static struct memory_plan plan;
	const struct board_layout *layout;
	struct plan_request req;
	u8 page_shift;
	int ret;

	log_threshold = LOG_QUIET;
	memset(&host, 0, sizeof(host));
	layout = board_layout_find(fuzz_u8(&in) & 1 ? "arm64" : "x86_64");
	req = (struct plan_request){
		.ram_size = fuzz_u64(&in) & ~(u64)0xfff,
		.ncpus = fuzz_u8(&in),
		.addr_bits = fuzz_u8(&in),
		.host = &host,
	};
	page_shift = fuzz_u8(&in);
	/* The top two bits pick a backing's page for bank starts: none, 2 MiB, 32 MiB, 1 GiB. */
	req.bank_align = (const u64[]){ 0, 2 * MiB, 32 * MiB, 1 * GiB }[page_shift >> 6];
	page_shift &= 63;
	req.page_size = page_shift ? 1ULL << page_shift : 0;
	host.iova_limit = fuzz_u64(&in);
	snprintf(host.iova_limit_source, sizeof(host.iova_limit_source), "fuzz IOVA limit");
	while (fuzz_more(&in) && host.n < PLAN_MAX_FORBIDDEN) {
		struct plan_forbidden *h = &host.holes[host.n++];

		h->start = fuzz_u64(&in);
		h->size = fuzz_u64(&in);
		h->firmware_reserved = fuzz_u8(&in) & 1;
		snprintf(h->label, sizeof(h->label), "hole %u", host.n);
	}
	ret = board_plan(layout, &req, &plan);
	plan_check(ret, &plan, req.ram_size, host.holes, host.n);
	return 0;
}
