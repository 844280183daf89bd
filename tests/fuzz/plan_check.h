/*
 * What every memory plan must satisfy, checked after each plan a fuzz
 * target builds: aborts (a crash for libFuzzer) on the first violation.
 */
#ifndef TESTS_FUZZ_PLAN_CHECK_H
#define TESTS_FUZZ_PLAN_CHECK_H

#include "core/planner.h"
#include "fuzz_input.h"

/* [start, start + size) of a host hole as the planner must honour it, clipped to limit. */
static inline bool hole_below(const struct plan_forbidden *h, u64 limit, u64 *start, u64 *size)
{
	u64 end = h->start + h->size < h->start ? UINT64_MAX : h->start + h->size;

	if (!h->size || h->start >= limit)
		return false;
	*start = h->start;
	*size = MIN(end, limit) - h->start;
	return true;
}

/* Shown before an invariant fails, to read the failing plan. */
static inline void plan_dump(const struct memory_plan *plan, const struct plan_forbidden *holes,
			     unsigned int nholes)
{
	fprintf(stderr, "plan: limit 0x%llx, ram 0x%llx\n", (unsigned long long)plan->addr_limit,
		(unsigned long long)plan->ram_size);
	for (unsigned int i = 0; i < plan->nregions; i++)
		fprintf(stderr, "  0x%016llx +0x%llx %s %s\n",
			(unsigned long long)plan->regions[i].start,
			(unsigned long long)plan->regions[i].size,
			region_kind_name(plan->regions[i].kind), plan->regions[i].label);
	for (unsigned int i = 0; i < nholes; i++)
		fprintf(stderr, "  hole 0x%016llx +0x%llx\n", (unsigned long long)holes[i].start,
			(unsigned long long)holes[i].size);
}

#define PLAN_CHECK(cond)                                     \
	do {                                                 \
		if (!(cond))                                 \
			plan_dump(plan, holes, nholes);      \
		FUZZ_CHECK(cond);                            \
	} while (0)

/*
 * ret and plan from plan_build (or board_plan) for ram bytes around holes:
 * on success, RAM adds up to the request, every region lies below the
 * address limit, no RAM byte is in a hole, and regions that are not holes
 * do not overlap; on failure there is an error message.
 */
static inline void plan_check(int ret, const struct memory_plan *plan, u64 ram,
			      const struct plan_forbidden *holes, unsigned int nholes)
{
	u64 total = 0;

	if (ret) {
		PLAN_CHECK(ret < 0);
		PLAN_CHECK(plan->error[0] != '\0');
		PLAN_CHECK(memchr(plan->error, '\0', sizeof(plan->error)) != NULL);
		return;
	}
	PLAN_CHECK(plan->nregions <= PLAN_MAX_REGIONS);
	for (unsigned int i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];

		PLAN_CHECK(r->size > 0);
		PLAN_CHECK(r->start + r->size > r->start);
		PLAN_CHECK(r->start + r->size <= plan->addr_limit);
		if (i)
			PLAN_CHECK(plan->regions[i - 1].start <= r->start);
		if (r->kind == REGION_RAM) {
			total += r->size;
			for (unsigned int h = 0; h < nholes; h++) {
				u64 hs, hsize;

				if (hole_below(&holes[h], plan->addr_limit, &hs, &hsize))
					PLAN_CHECK(!ranges_overlap(r->start, r->size, hs, hsize));
			}
		}
		if (r->kind == REGION_HOLE)
			continue;
		for (unsigned int j = i + 1; j < plan->nregions; j++) {
			const struct plan_region *o = &plan->regions[j];

			if (o->kind != REGION_HOLE)
				PLAN_CHECK(!ranges_overlap(r->start, r->size, o->start, o->size));
		}
	}
	PLAN_CHECK(total == ram);
}

#endif
