/*
 * The planner's promises, checked over thousands of random requests with
 * fixed seeds (so a failure is reproducible): random host holes anywhere
 * (the first MiB included), RAM sizes, address widths, IOVA limits and
 * host page sizes, on both boards. Whatever the outcome:
 *  - success: no RAM byte inside a host hole; no two non-hole regions
 *    overlap; everything below the address limit; RAM totals the request;
 *    banks aligned to the host page, and every bank but the first (and
 *    those in x86's first MiB) starting on the backing's (huge) page and,
 *    but the last, ending on one; boot
 *    data inside RAM, not overlapping;
 *  - failure: an error that says why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/layout.h"
#include "arch/board.h"
#include "core/log.h"

#define CASES 3000

static u64 rng_state;

static u64 next_random(void)
{
	/* xorshift64*: fixed seed, same sequence on every run. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static u64 random_below(u64 n)
{
	return n ? next_random() % n : 0;
}

static void random_request(struct plan_request *req, struct host_holes *host, bool arm64)
{
	static const u64 pages[] = { 4 * KiB, 16 * KiB, 64 * KiB };
	unsigned int nholes = (unsigned int)random_below(10);

	memset(host, 0, sizeof(*host));
	memset(req, 0, sizeof(*req));
	req->ncpus = 1 + (unsigned int)random_below(8);
	req->addr_bits = 36 + (unsigned int)random_below(9);
	req->page_size = arm64 ? pages[random_below(3)] : 4 * KiB;
	req->ram_size = (1 + random_below(arm64 ? 1024 : 4096)) * 64 * KiB * (1 + random_below(64));
	if (random_below(4) == 0)
		host->iova_limit = 1ULL << (32 + random_below(10));
	snprintf(host->iova_limit_source, sizeof(host->iova_limit_source), "test IOVA limit");
	for (unsigned int i = 0; i < nholes; i++) {
		struct plan_forbidden *h = &host->holes[host->n++];
		/* Half of them low (first 16 MiB), the rest anywhere below 64 GiB. */
		u64 span = random_below(2) ? 16 * MiB : 64 * GiB;

		h->start = random_below(span) & ~0xfffULL;
		h->size = (1 + random_below(random_below(2) ? 16 : 4096)) * 4 * KiB;
		h->firmware_reserved = random_below(2);
		snprintf(h->label, sizeof(h->label), "random hole %u", i);
	}
	req->host = host;
	/* A quarter each: no huge pages, 2 MiB, 32 MiB (THP on 16 KiB pages), 1 GiB. */
	req->bank_align = (u64[]){ 0, 2 * MiB, 32 * MiB, 1 * GiB }[random_below(4)];
}

static void check_plan(const struct memory_plan *plan, const struct plan_request *req)
{
	const struct host_holes *host = req->host;
	u64 ram = 0, big = MAX(req->bank_align, req->page_size), end = plan_ram_end(plan);
	u64 small_end = strcmp(plan->arch, "x86_64") ? 0 : 1 * MiB;
	bool first = true;

	for (unsigned int i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];

		if (r->kind == REGION_HOLE)
			continue;
		assert_true(r->size > 0);
		assert_true(r->start + r->size <= plan->addr_limit);
		for (unsigned int j = i + 1; j < plan->nregions; j++)
			if (plan->regions[j].kind != REGION_HOLE)
				assert_false(ranges_overlap(r->start, r->size, plan->regions[j].start,
							    plan->regions[j].size));
		if (r->kind != REGION_RAM)
			continue;
		ram += r->size;
		assert_true(IS_ALIGNED(r->start | r->size, req->page_size));
		/* x86 cuts its first MiB (real mode) on small pages. */
		if (!first && r->start >= small_end)
			assert_true(IS_ALIGNED(r->start, big));
		if (!first && r->start >= small_end && r->start + r->size != end)
			assert_true(IS_ALIGNED(r->size, big));
		first = false;
		for (unsigned int h = 0; h < host->n; h++)
			assert_false(ranges_overlap(r->start, r->size, host->holes[h].start,
						    host->holes[h].size));
	}
	assert_int_equal(ram, req->ram_size);
	for (unsigned int i = 0; i < plan->nplacements; i++) {
		const struct plan_placement *p = &plan->placements[i];
		bool inside = false;

		for (unsigned int b = 0; b < plan->nregions; b++) {
			const struct plan_region *r = &plan->regions[b];

			inside |= r->kind == REGION_RAM && p->start >= r->start &&
				  p->start + p->size <= r->start + r->size;
		}
		assert_true(inside);
		for (unsigned int j = i + 1; j < plan->nplacements; j++)
			assert_false(ranges_overlap(p->start, p->size, plan->placements[j].start,
						    plan->placements[j].size));
	}
}

static void random_plans_keep_every_promise(const char *board, u64 seed)
{
	const struct board_layout *layout = board_layout_find(board);
	static struct memory_plan plan;
	static struct host_holes host;
	unsigned int ok = 0, refused = 0;

	assert_non_null(layout);
	rng_state = seed;
	for (unsigned int i = 0; i < CASES; i++) {
		struct plan_request req;

		random_request(&req, &host, !strcmp(board, "arm64"));
		if (board_plan_boot(layout, &req, NULL, &plan) == 0) {
			check_plan(&plan, &req);
			ok++;
		} else {
			assert_true(strlen(plan.error) > 10);
			refused++;
		}
	}
	/* Both outcomes must have been exercised for the test to mean anything. */
	assert_true(ok > CASES / 4);
	assert_true(refused > 0);
	print_message("%s: %u plans checked, %u refused with a reason\n", board, ok, refused);
}

static void x86_random_plans(void **state)
{
	(void)state;
	random_plans_keep_every_promise("x86_64", 0x5eed0001);
}

static void arm64_random_plans(void **state)
{
	(void)state;
	random_plans_keep_every_promise("arm64", 0x5eed0002);
}

/* A host whose KVM offers 36 bits (Apple M1): the VM type asks only for what the plan uses. */
static void arm64_vm_type_follows_the_plan_and_the_host(void **state)
{
	const struct board_layout *layout = board_layout_find("arm64");
	struct plan_request req = { .ram_size = 1 * GiB, .ncpus = 1, .addr_bits = 36 };
	static struct memory_plan plan;

	(void)state;
	assert_int_equal(board_plan(layout, &req, &plan), 0);
	assert_int_equal(plan.addr_limit, 1ULL << 36);
	assert_non_null(strstr(plan.addr_limit_label, "36 bits"));
	assert_int_equal(arm64_vm_type_for(&plan, 36), 36);
	assert_int_equal(arm64_vm_type_for(&plan, 0), 0);    /* no capability: the default */
	req.addr_bits = 48;
	assert_int_equal(board_plan(layout, &req, &plan), 0);
	/* 1 GiB of RAM and a 32 GiB window above 4 GiB need 36 bits, not 48. */
	assert_int_equal(arm64_vm_type_for(&plan, 48), 36);
	/* More RAM than 36 bits hold on such a host: refused, naming the limit. */
	req.addr_bits = 36;
	req.ram_size = 80 * GiB;
	assert_int_not_equal(board_plan(layout, &req, &plan), 0);
	assert_non_null(strstr(plan.error, "36 bits"));
}

/* Banks follow the host page: 16 KiB and 64 KiB hosts get aligned banks around a 4 KiB hole. */
static void banks_align_to_the_host_page(void **state)
{
	const struct board_layout *layout = board_layout_find("arm64");
	static const u64 pages[] = { 4 * KiB, 16 * KiB, 64 * KiB };
	struct host_holes host = { .n = 1 };
	static struct memory_plan plan;

	(void)state;
	host.holes[0] = (struct plan_forbidden){ .start = 0x8001000, .size = 0x1000, .label = "hole" };
	for (unsigned int i = 0; i < 3; i++) {
		struct plan_request req = { .ram_size = 512 * MiB, .ncpus = 1, .host = &host,
					    .page_size = pages[i] };
		const struct plan_region *bank;

		assert_int_equal(board_plan(layout, &req, &plan), 0);
		for (unsigned int b = 0; (bank = plan_ram_bank(&plan, b)); b++) {
			assert_true(IS_ALIGNED(bank->start | bank->size, MAX(pages[i], 64 * KiB)));
			assert_false(ranges_overlap(bank->start, bank->size, 0x8001000, 0x1000));
		}
	}
	/* x86 at 16 KiB pages: the banks around a 4 KiB hole grow to 16 KiB boundaries. */
	layout = board_layout_find("x86_64");
	{
		struct plan_request req = { .ram_size = 512 * MiB, .ncpus = 1, .host = &host,
					    .page_size = 16 * KiB };
		const struct plan_region *bank;

		assert_int_equal(board_plan(layout, &req, &plan), 0);
		for (unsigned int b = 0; (bank = plan_ram_bank(&plan, b)); b++)
			assert_true(IS_ALIGNED(bank->start | bank->size, 16 * KiB));
	}
}

/* x86 boot data with holes at the old fixed addresses: it moves; with the first MiB gone, a clear error. */
static void x86_boot_data_moves_around_low_holes(void **state)
{
	const struct board_layout *layout = board_layout_find("x86_64");
	struct host_holes host = { .n = 4 };
	struct plan_request req = { .ram_size = 512 * MiB, .ncpus = 2, .host = &host, .addr_bits = 40,
				    .page_size = 4 * KiB };
	static struct memory_plan plan;

	(void)state;
	host.holes[0] = (struct plan_forbidden){ .start = 0x7000, .size = 0x1000, .label = "a" };
	host.holes[1] = (struct plan_forbidden){ .start = 0x9000, .size = 0x3000, .label = "b" };
	host.holes[2] = (struct plan_forbidden){ .start = 0x20000, .size = 0x1000, .label = "c" };
	host.holes[3] = (struct plan_forbidden){ .start = 0x1000000, .size = 0x1000000, .label = "d" };
	assert_int_equal(board_plan_boot(layout, &req, NULL, &plan), 0);
	check_plan(&plan, &req);
	assert_non_null(plan_find_placement(&plan, "zero-page"));
	assert_non_null(plan_find_placement(&plan, "page-tables"));
	assert_true(plan_find_placement(&plan, "page-tables")->start >= 0xc000);

	host.n = 1;
	host.holes[0] = (struct plan_forbidden){ .start = 0, .size = 0x100000, .label = "first MiB" };
	assert_int_not_equal(board_plan_boot(layout, &req, NULL, &plan), 0);
	assert_non_null(strstr(plan.error, "trampoline"));
	assert_non_null(strstr(plan.error, "first MiB"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(x86_random_plans),
		cmocka_unit_test(arm64_random_plans),
		cmocka_unit_test(arm64_vm_type_follows_the_plan_and_the_host),
		cmocka_unit_test(banks_align_to_the_host_page),
		cmocka_unit_test(x86_boot_data_moves_around_low_holes),
	};

	log_threshold = LOG_QUIET;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
