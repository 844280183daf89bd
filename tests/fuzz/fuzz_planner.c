/*
 * The memory planner through board_plan(), for both boards: random RAM
 * sizes, CPU counts, address widths, IOVA limits and host holes. Every
 * plan must keep the invariants of plan_check.h.
 *
 * Input: board (u8: bit 0 arm64; bits 1-2 the MSI window: 0 the host's,
 * 1 placed by the board, 2 at an address, 3 where the board placed it
 * before), with bits 1-2 set the window's address
 * (u64) and size (u8, MiB), ram (u64, 4 KiB aligned), ncpus (u8),
 * addr_bits (u8), host page size (u8: log2, 0 for this host's), iova_limit
 * (u64), then up to 64 holes of start (u64), size (u64), flags (u8: bit 0
 * firmware_reserved, bit 1 a host default MSI window).
 * A window the VMM placed must be 1 MiB aligned and overlap nothing else.
 */
#include "arch/board.h"
#include "core/log.h"
#include "fuzz_input.h"
#include "plan_check.h"

/* A window the VMM placed: 1 MiB aligned, where asked, clear of every region and hole. */
static void msi_window_check(const struct memory_plan *plan, const struct plan_request *req,
			     const struct plan_forbidden *holes, unsigned int nholes)
{
	const struct plan_region *msi = plan_find(plan, PLAN_MSI_WINDOW);
	u64 hs, hsize;

	if (!msi)
		return;
	PLAN_CHECK(req->msi_window != PLAN_MSI_HOST);
	PLAN_CHECK(IS_ALIGNED(msi->start, PLAN_MSI_WINDOW_ALIGN));
	PLAN_CHECK(req->msi_window == PLAN_MSI_AUTO || msi->start == req->msi_window_addr);
	for (unsigned int i = 0; i < plan->nregions; i++)
		PLAN_CHECK(&plan->regions[i] == msi ||
			   !ranges_overlap(msi->start, msi->size, plan->regions[i].start,
					   plan->regions[i].size));
	for (unsigned int i = 0; i < nholes; i++)
		if (hole_below(&holes[i], plan->addr_limit, &hs, &hsize))
			PLAN_CHECK(!ranges_overlap(msi->start, msi->size, hs, hsize));
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct host_holes host;
	static struct memory_plan plan;
	const struct board_layout *layout;
	struct plan_request req;
	u8 board, flags, page_shift;
	int ret;

	log_threshold = LOG_QUIET;
	memset(&host, 0, sizeof(host));
	board = fuzz_u8(&in);
	layout = board_layout_find(board & 1 ? "arm64" : "x86_64");
	req = (struct plan_request){ .host = &host };
	if (board & 6) {
		static const enum plan_msi_window modes[] = { PLAN_MSI_HOST, PLAN_MSI_AUTO,
							      PLAN_MSI_AT, PLAN_MSI_CHOSEN };

		req.msi_window = modes[(board >> 1) & 3];
		req.msi_window_addr = fuzz_u64(&in);
		req.msi_window_size = (u64)fuzz_u8(&in) * MiB;
	}
	req.ram_size = fuzz_u64(&in) & ~(u64)0xfff;
	req.ncpus = fuzz_u8(&in);
	req.addr_bits = fuzz_u8(&in);
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
		flags = fuzz_u8(&in);
		h->firmware_reserved = flags & 1;
		h->msi_window = flags & 2;
		snprintf(h->label, sizeof(h->label), "hole %u", host.n);
	}
	ret = board_plan(layout, &req, &plan);
	plan_check(ret, &plan, req.ram_size, host.holes, host.n);
	if (!ret)
		msi_window_check(&plan, &req, host.holes, host.n);
	return 0;
}
