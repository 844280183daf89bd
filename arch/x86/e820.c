#include "e820.h"

#include <errno.h>
#include <stdlib.h>

#define E820_USABLE 1
#define E820_RESERVED 2

static int compare_entries(const void *a, const void *b)
{
	const struct boot_e820_entry *ea = a, *eb = b;

	if (ea->addr != eb->addr)
		return ea->addr < eb->addr ? -1 : 1;
	return 0;
}

int x86_build_e820(const struct memory_plan *plan, struct boot_e820_entry *table,
		   unsigned int max)
{
	struct boot_e820_entry all[PLAN_MAX_REGIONS];
	unsigned int n = 0, out = 0;

	for (unsigned int i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];

		if (r->kind == REGION_RAM)
			all[n++] = (struct boot_e820_entry){ r->start, r->size, E820_USABLE };
		else if (r->firmware_reserved)
			all[n++] = (struct boot_e820_entry){ r->start, r->size, E820_RESERVED };
	}
	qsort(all, n, sizeof(all[0]), compare_entries);

	for (unsigned int i = 0; i < n; i++) {
		struct boot_e820_entry *last = out ? &table[out - 1] : NULL;

		/* The planner never overlaps RAM with anything; reserved may overlap reserved. */
		if (last && last->type == all[i].type && all[i].addr <= last->addr + last->size) {
			u64 end = MAX(last->addr + last->size, all[i].addr + all[i].size);

			last->size = end - last->addr;
			continue;
		}
		if (out == max)
			return -E2BIG;
		table[out++] = all[i];
	}
	return (int)out;
}
