/* Planning through the board interface, as `vmm plan --arch` does, for tests. */
#ifndef TESTS_UNIT_PLAN_HELPERS_H
#define TESTS_UNIT_PLAN_HELPERS_H

#include <stdio.h>
#include <string.h>

#include "arch/board.h"

/* ram on board (by name) for ncpus, addr_bits wide, around holes, under an optional IOVA limit. */
static inline int plan_on_board(const char *board, u64 ram, unsigned int ncpus,
				unsigned int addr_bits, const struct plan_forbidden *holes,
				unsigned int nholes, u64 iova_limit, const char *iova_label,
				struct memory_plan *plan)
{
	static struct host_holes host;
	const struct plan_request req = {
		.ram_size = ram, .ncpus = ncpus, .host = &host, .addr_bits = addr_bits,
	};

	memset(&host, 0, sizeof(host));
	if (nholes)
		memcpy(host.holes, holes, nholes * sizeof(*holes));
	host.n = nholes;
	host.iova_limit = iova_limit;
	snprintf(host.iova_limit_source, sizeof(host.iova_limit_source), "%s",
		 iova_label ? iova_label : "");
	return board_plan(board_layout_find(board), &req, plan);
}

#endif
