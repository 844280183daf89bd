/* The memory planner; the policy is described in planner.h. */
#include "planner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "size.h"

/* Occupied address ranges, [start, end), unsorted; a few dozen at most. */
struct occupancy {
	u64 start[PLAN_MAX_REGIONS];
	u64 end[PLAN_MAX_REGIONS];
	unsigned int n;
};

static int occupy(struct occupancy *occ, u64 start, u64 size)
{
	if (occ->n == PLAN_MAX_REGIONS)
		return -E2BIG;
	occ->start[occ->n] = start;
	occ->end[occ->n] = start + size;
	occ->n++;
	return 0;
}

/* Index of an occupied range overlapping [start, start+size), or -1. */
static int first_overlap(const struct occupancy *occ, u64 start, u64 size)
{
	for (unsigned int i = 0; i < occ->n; i++)
		if (ranges_overlap(start, size, occ->start[i], occ->end[i] - occ->start[i]))
			return (int)i;
	return -1;
}

static bool find_top_down(const struct occupancy *occ, u64 size, u64 align,
			  u64 max_end, u64 *out)
{
	u64 candidate;
	int hit;

	if (size > max_end)
		return false;
	candidate = ALIGN_DOWN(max_end - size, align);
	while ((hit = first_overlap(occ, candidate, size)) >= 0) {
		if (occ->start[hit] < size)
			return false;
		candidate = ALIGN_DOWN(occ->start[hit] - size, align);
	}
	*out = candidate;
	return true;
}

/*
 * x rounded up to align, when that is at most limit. Limits reach the top
 * of the 64-bit space (a 64-bit address width), where ALIGN_UP would wrap
 * to 0 and send a search back to the start.
 */
static bool align_up_below(u64 x, u64 align, u64 limit, u64 *out)
{
	if (x > limit || limit - x < align - 1)
		return false;
	*out = ALIGN_UP(x, align);
	return true;
}

static bool find_bottom_up(const struct occupancy *occ, u64 size, u64 align,
			   u64 min_start, u64 limit, u64 *out)
{
	u64 candidate;
	int hit;

	if (!align_up_below(min_start, align, limit, &candidate))
		return false;
	while (size <= limit - candidate) {
		hit = first_overlap(occ, candidate, size);
		if (hit < 0) {
			*out = candidate;
			return true;
		}
		if (!align_up_below(occ->end[hit], align, limit, &candidate))
			return false;
	}
	return false;
}

static int add_region(struct memory_plan *plan, u64 start, u64 size,
		      enum region_kind kind, bool reserved, const char *name,
		      const char *label)
{
	struct plan_region *r;

	if (plan->nregions == PLAN_MAX_REGIONS) {
		snprintf(plan->error, sizeof(plan->error),
			 "too many regions in the guest map (limit %d)", PLAN_MAX_REGIONS);
		return -E2BIG;
	}
	r = &plan->regions[plan->nregions++];
	r->start = start;
	r->size = size;
	r->kind = kind;
	r->firmware_reserved = reserved;
	r->name = name;
	snprintf(r->label, sizeof(r->label), "%s", label);
	return 0;
}

static int compare_regions(const void *a, const void *b)
{
	const struct plan_region *ra = a, *rb = b;

	if (ra->start != rb->start)
		return ra->start < rb->start ? -1 : 1;
	return (int)ra->kind - (int)rb->kind;
}

/*
 * Records host holes below the address limit. Identical ranges from
 * several sources (the sysfs file and a --reserved file, say) become one
 * row naming every source.
 */
static int add_holes(struct memory_plan *plan, struct occupancy *occ,
		     const struct plan_forbidden *forbidden, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct plan_forbidden *f = &forbidden[i];
		u64 size = f->size;
		bool merged = false;
		int err;

		if (!size || f->start >= plan->addr_limit)
			continue;
		if (f->start + size > plan->addr_limit || f->start + size < f->start)
			size = plan->addr_limit - f->start;
		for (unsigned int j = 0; j < plan->nregions; j++) {
			struct plan_region *r = &plan->regions[j];
			size_t used = strlen(r->label);

			if (r->kind != REGION_HOLE || r->start != f->start || r->size != size)
				continue;
			if (!strstr(r->label, f->label) && used + 2 < sizeof(r->label))
				snprintf(r->label + used, sizeof(r->label) - used, ", %s", f->label);
			r->firmware_reserved |= f->firmware_reserved;
			merged = true;
			break;
		}
		if (merged)
			continue;
		err = add_region(plan, f->start, size, REGION_HOLE, f->firmware_reserved,
				 NULL, f->label);
		if (!err)
			err = occupy(occ, f->start, size);
		if (err)
			return err;
	}
	return 0;
}

/*
 * True when host holes leave nothing between from and the address limit:
 * a reserved region the size of the address space, say. Saying so beats
 * the first window's "no room" error, which would blame the window.
 */
static bool holes_cover_everything(const struct occupancy *occ, u64 from, u64 limit)
{
	u64 cursor = from;
	int hit;

	while (cursor < limit && (hit = first_overlap(occ, cursor, 1)) >= 0)
		cursor = occ->end[hit];
	return cursor >= limit;
}

static int place_window(struct memory_plan *plan, struct occupancy *occ,
			const struct plan_window_request *w, u64 ram_end, const char *limit_label)
{
	u64 size = w->size, addr = 0;
	bool found = false;

	switch (w->placement) {
	case PLACE_FIXED:
		addr = w->addr;
		/* Fixed windows may share addresses with host holes, not with each other. */
		for (unsigned int i = 0; i < plan->nregions; i++) {
			const struct plan_region *r = &plan->regions[i];

			if (r->kind != REGION_HOLE &&
			    ranges_overlap(addr, size, r->start, r->size)) {
				snprintf(plan->error, sizeof(plan->error),
					 "%s at 0x%llx overlaps %s", w->label,
					 (unsigned long long)addr, r->label);
				return -EINVAL;
			}
		}
		found = true;
		break;
	case PLACE_TOP_DOWN_BELOW:
		found = find_top_down(occ, size, w->align, MIN(w->max_end, plan->addr_limit), &addr);
		break;
	case PLACE_ABOVE_RAM:
		for (;;) {
			found = find_bottom_up(occ, size, w->align, ram_end, plan->addr_limit, &addr);
			if (found || size / 2 < w->min_size || !w->min_size)
				break;
			size /= 2;
		}
		break;
	}
	if (!found) {
		char sz[32];

		snprintf(plan->error, sizeof(plan->error),
			 "no room for %s (%s, aligned to 0x%llx) below 0x%llx (%s)%s%s",
			 w->label, format_size(size, sz, sizeof(sz)),
			 (unsigned long long)w->align,
			 (unsigned long long)(w->placement == PLACE_TOP_DOWN_BELOW ?
						      w->max_end : plan->addr_limit),
			 w->placement == PLACE_TOP_DOWN_BELOW ? "window ceiling" :
								 limit_label,
			 w->reason ? "; it holds " : "", w->reason ? w->reason : "");
		return -ENOSPC;
	}
	if (occupy(occ, addr, size))
		return -E2BIG;
	return add_region(plan, addr, size, w->kind, w->firmware_reserved, w->name, w->label);
}

/* Appends the labels of holes inside [lo, hi) to buf, for error messages. */
static void describe_holes(const struct memory_plan *plan, u64 lo, u64 hi,
			   char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < plan->nregions && used + 1 < len; i++) {
		const struct plan_region *r = &plan->regions[i];

		if (r->kind == REGION_RAM || !ranges_overlap(lo, hi - lo, r->start, r->size))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s 0x%llx-0x%llx",
					 used ? ", " : "", r->label,
					 (unsigned long long)r->start,
					 (unsigned long long)(r->start + r->size - 1));
	}
}

/* How RAM is cut: small pages below small_end, the backing's big pages above. */
struct ram_grid {
	u64 align, big, small_end, first;
};

/* The first address at or after x where a bank may start, below limit. */
static bool bank_start(const struct ram_grid *g, u64 x, u64 limit, u64 *out)
{
	return align_up_below(x, x < g->small_end ? g->align : g->big, limit, out);
}

/*
 * Fills [from, to) with RAM banks around occupied ranges, taking from
 * *remaining. Banks start on big (the backing's page) and end on big
 * where a hole or window ends them, so that each is whole huge pages.
 * Below small_end (x86: 1 MiB, the real-mode area, where Linux's
 * trampoline must find room between holes) banks are cut on align, and
 * so is the end of a bank at first (ram_base).
 */
static int place_ram_span(struct memory_plan *plan, const struct occupancy *occ,
			  u64 from, u64 to, const struct ram_grid *g, u64 *remaining)
{
	u64 cursor;

	if (!bank_start(g, from, to, &cursor))
		return 0;
	while (*remaining && cursor < to) {
		u64 next = to, bank_end;
		int hit = first_overlap(occ, cursor, 1);
		bool small = cursor < g->small_end || cursor == g->first;

		if (hit >= 0) {
			if (!bank_start(g, occ->end[hit], to, &cursor))
				break;
			continue;
		}
		for (unsigned int i = 0; i < occ->n; i++)
			if (occ->start[i] > cursor && occ->start[i] < next)
				next = occ->start[i];
		if (cursor < g->small_end)
			next = MIN(next, g->small_end);
		bank_end = ALIGN_DOWN(next, small ? g->align : g->big);
		if (bank_end > cursor) {
			u64 size = MIN(bank_end - cursor, *remaining);
			int err = add_region(plan, cursor, size, REGION_RAM, false, NULL, "RAM");

			if (err)
				return err;
			*remaining -= size;
		}
		if (!bank_start(g, next, to, &cursor))
			break;
	}
	return 0;
}

int plan_build(const struct plan_policy *policy, u64 ram_size,
	       const struct plan_forbidden *forbidden, unsigned int nforbidden,
	       struct memory_plan *plan)
{
	struct occupancy occ = { .n = 0 };
	u64 low_ceiling = policy->high_ram_base, remaining, placed_low = 0;
	u64 big = MAX(policy->bank_align, policy->ram_align);
	const struct ram_grid grid = { policy->ram_align, big, policy->small_ram_end,
				       policy->ram_base };
	int err;

	memset(plan, 0, sizeof(*plan));
	plan->arch = policy->arch;
	plan->addr_limit = policy->addr_limit;
	snprintf(plan->addr_limit_label, sizeof(plan->addr_limit_label), "%s",
		 policy->addr_limit_label ? policy->addr_limit_label : "");
	plan->ram_size = ram_size;

	if (big & (big - 1)) {
		snprintf(plan->error, sizeof(plan->error), "RAM bank alignment 0x%llx is not a power of two",
			 (unsigned long long)big);
		return -EINVAL;
	}
	if (!ram_size || !IS_ALIGNED(ram_size, policy->ram_align)) {
		snprintf(plan->error, sizeof(plan->error),
			 "RAM size must be a non-zero multiple of %llu KiB",
			 (unsigned long long)(policy->ram_align / KiB));
		return -EINVAL;
	}

	err = add_holes(plan, &occ, forbidden, nforbidden);
	if (err)
		return err;
	if (holes_cover_everything(&occ, policy->ram_base, policy->addr_limit)) {
		char holes[384];

		describe_holes(plan, policy->ram_base, policy->addr_limit, holes, sizeof(holes));
		snprintf(plan->error, sizeof(plan->error),
			 "the host's reserved regions cover every guest address from 0x%llx to the %s at 0x%llx, so no RAM can be placed: %s",
			 (unsigned long long)policy->ram_base, policy->addr_limit_label,
			 (unsigned long long)policy->addr_limit, holes);
		return -ENOSPC;
	}

	/* Fixed windows, then those that shape the low hole, then RAM. */
	for (unsigned int i = 0; i < policy->nwindows; i++) {
		const struct plan_window_request *w = &policy->windows[i];

		if (w->placement != PLACE_FIXED)
			continue;
		err = place_window(plan, &occ, w, 0, policy->addr_limit_label);
		if (err)
			return err;
		if (w->ends_low_ram && w->addr < low_ceiling)
			low_ceiling = w->addr;
	}
	for (unsigned int i = 0; i < policy->nwindows; i++) {
		const struct plan_window_request *w = &policy->windows[i];

		if (w->placement != PLACE_TOP_DOWN_BELOW)
			continue;
		err = place_window(plan, &occ, w, 0, policy->addr_limit_label);
		if (err)
			return err;
		low_ceiling = MIN(low_ceiling, plan->regions[plan->nregions - 1].start);
	}

	remaining = ram_size;
	err = place_ram_span(plan, &occ, policy->ram_base, low_ceiling, &grid, &remaining);
	if (err)
		return err;
	placed_low = ram_size - remaining;
	if (placed_low < MIN(policy->min_low_ram, ram_size)) {
		char holes[256];

		describe_holes(plan, policy->ram_base, low_ceiling, holes, sizeof(holes));
		snprintf(plan->error, sizeof(plan->error),
			 "only 0x%llx bytes of RAM fit below 0x%llx, the guest needs 0x%llx there; blocked by: %s",
			 (unsigned long long)placed_low, (unsigned long long)low_ceiling,
			 (unsigned long long)policy->min_low_ram, holes[0] ? holes : "nothing");
		return -ENOSPC;
	}
	err = place_ram_span(plan, &occ, MAX(policy->high_ram_base, low_ceiling),
			     policy->addr_limit, &grid, &remaining);
	if (err)
		return err;
	if (remaining) {
		char want[32], fits[32], holes[384];
		u64 placed = ram_size - remaining;

		describe_holes(plan, policy->ram_base, policy->addr_limit, holes, sizeof(holes));
		snprintf(plan->error, sizeof(plan->error),
			 "cannot place %s of RAM: it is blocked by the %s at 0x%llx, and only %s fits below it around %s; try -m %lluM or less",
			 format_size(ram_size, want, sizeof(want)), policy->addr_limit_label,
			 (unsigned long long)policy->addr_limit,
			 format_size(placed, fits, sizeof(fits)), holes[0] ? holes : "no holes",
			 (unsigned long long)(placed / MiB));
		return -ENOSPC;
	}
	/* RAM is occupied space for what follows. */
	for (unsigned int i = 0; i < plan->nregions; i++)
		if (plan->regions[i].kind == REGION_RAM &&
		    occupy(&occ, plan->regions[i].start, plan->regions[i].size))
			return -E2BIG;

	for (unsigned int i = 0; i < policy->nwindows; i++) {
		const struct plan_window_request *w = &policy->windows[i];

		if (w->placement != PLACE_ABOVE_RAM)
			continue;
		err = place_window(plan, &occ, w, MAX(plan_ram_end(plan), policy->high_ram_base),
				   policy->addr_limit_label);
		if (err)
			return err;
	}
	qsort(plan->regions, plan->nregions, sizeof(plan->regions[0]), compare_regions);
	return 0;
}

const struct plan_region *plan_find(const struct memory_plan *plan, const char *name)
{
	for (unsigned int i = 0; i < plan->nregions; i++)
		if (plan->regions[i].name && !strcmp(plan->regions[i].name, name))
			return &plan->regions[i];
	return NULL;
}

const struct plan_region *plan_ram_bank(const struct memory_plan *plan, unsigned int index)
{
	for (unsigned int i = 0; i < plan->nregions; i++)
		if (plan->regions[i].kind == REGION_RAM && index-- == 0)
			return &plan->regions[i];
	return NULL;
}

u64 plan_ram_end(const struct memory_plan *plan)
{
	u64 end = 0;

	for (unsigned int i = 0; i < plan->nregions; i++)
		if (plan->regions[i].kind == REGION_RAM)
			end = MAX(end, plan->regions[i].start + plan->regions[i].size);
	return end;
}

const char *region_kind_name(enum region_kind kind)
{
	switch (kind) {
	case REGION_RAM: return "ram";
	case REGION_FIRMWARE: return "firmware";
	case REGION_ARCH: return "arch";
	case REGION_DEVICE: return "device";
	case REGION_HOLE: return "hole";
	}
	return "?";
}

/* Whether [start, start+size) is inside one RAM bank. */
static bool inside_ram(const struct memory_plan *plan, u64 start, u64 size)
{
	const struct plan_region *bank;

	for (unsigned int i = 0; (bank = plan_ram_bank(plan, i)); i++)
		if (start >= bank->start && size <= bank->size &&
		    start - bank->start <= bank->size - size)
			return true;
	return false;
}

static const struct plan_placement *placement_overlapping(const struct memory_plan *plan,
							  u64 start, u64 size)
{
	for (unsigned int i = 0; i < plan->nplacements; i++) {
		const struct plan_placement *p = &plan->placements[i];

		if (ranges_overlap(start, size, p->start, p->size))
			return p;
	}
	return NULL;
}

static int record_placement(struct memory_plan *plan, const char *name, const char *label,
			    u64 start, u64 size)
{
	struct plan_placement *p;

	if (plan->nplacements == PLAN_MAX_PLACEMENTS) {
		snprintf(plan->error, sizeof(plan->error), "too many boot placements (limit %d)",
			 PLAN_MAX_PLACEMENTS);
		return -E2BIG;
	}
	p = &plan->placements[plan->nplacements++];
	p->start = start;
	p->size = size;
	p->name = name;
	snprintf(p->label, sizeof(p->label), "%s", label);
	return 0;
}

int plan_place_at(struct memory_plan *plan, const char *name, const char *label, u64 addr,
		  u64 size)
{
	if (!size || !inside_ram(plan, addr, size) || placement_overlapping(plan, addr, size))
		return -ENOSPC;
	return record_placement(plan, name, label, addr, size);
}

/* The lowest or highest aligned fit in [lo, hi) clear of placements. */
static bool fit_in_span(const struct memory_plan *plan, u64 lo, u64 hi, u64 size, u64 align,
			enum placement_pref pref, u64 *out)
{
	const struct plan_placement *p;
	u64 at;

	if (hi < lo || hi - lo < size)
		return false;
	if (pref == PLACE_LOWEST) {
		for (at = ALIGN_UP(lo, align); at >= lo && at <= hi - size; at = ALIGN_UP(p->start + p->size, align)) {
			p = placement_overlapping(plan, at, size);
			if (!p) {
				*out = at;
				return true;
			}
		}
		return false;
	}
	for (at = ALIGN_DOWN(hi - size, align); at >= lo;) {
		p = placement_overlapping(plan, at, size);
		if (!p) {
			*out = at;
			return true;
		}
		if (p->start < size || p->start - size < lo)
			return false;
		at = ALIGN_DOWN(p->start - size, align);
	}
	return false;
}

int plan_place_in_ram(struct memory_plan *plan, const char *name, const char *label, u64 size,
		      u64 align, u64 min, u64 max_end, enum placement_pref pref, u64 *out)
{
	const struct plan_region *bank;
	unsigned int nbanks = 0;
	bool found = false;
	u64 at = 0;

	while (plan_ram_bank(plan, nbanks))
		nbanks++;
	for (unsigned int i = 0; i < nbanks && (!found || pref == PLACE_HIGHEST); i++) {
		unsigned int b = pref == PLACE_LOWEST ? i : nbanks - 1 - i;
		u64 lo, hi;

		bank = plan_ram_bank(plan, b);
		lo = MAX(bank->start, min);
		hi = MIN(bank->start + bank->size, max_end);
		if (fit_in_span(plan, lo, hi, size, align ? align : 1, pref, &at)) {
			found = true;
			break;
		}
	}
	if (!found) {
		char sz[32], holes[256];

		describe_holes(plan, min, MIN(max_end, plan->addr_limit), holes, sizeof(holes));
		snprintf(plan->error, sizeof(plan->error),
			 "no room in guest RAM for the %s (%s, aligned to 0x%llx) between 0x%llx and 0x%llx; in the way: %s",
			 label, format_size(size, sz, sizeof(sz)), (unsigned long long)align,
			 (unsigned long long)min, (unsigned long long)max_end,
			 holes[0] ? holes : "the RAM is too small");
		return -ENOSPC;
	}
	*out = at;
	return record_placement(plan, name, label, at, size);
}

const struct plan_placement *plan_find_placement(const struct memory_plan *plan,
						 const char *name)
{
	for (unsigned int i = 0; i < plan->nplacements; i++)
		if (!strcmp(plan->placements[i].name, name))
			return &plan->placements[i];
	return NULL;
}
