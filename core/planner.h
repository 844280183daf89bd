/*
 * The memory planner: the one place where guest-physical addresses are
 * chosen.
 *
 * Policy (see README "The memory planner"):
 *   1. Host holes come first. Every range the host says a device cannot
 *      DMA to (IOMMU reserved regions, gaps and the top of the valid IOVA
 *      ranges) is occupied before anything else is placed.
 *   2. Fixed architectural windows (x86 LAPIC/IOAPIC, legacy BIOS area)
 *      sit where the architecture puts them. They may share addresses with
 *      a host hole: neither holds DMA-able RAM.
 *   3. Windows placed "top-down below" an address (the x86 32-bit PCI
 *      hole) take the highest free aligned slot under it. The lowest such
 *      window ends low RAM.
 *   4. RAM fills the remaining free space bottom-up from ram_base, split
 *      into banks around every hole, continuing at high_ram_base; banks
 *      start on the backing's (huge) page, save those in the first MiB
 *      on x86.
 *   5. Windows placed "above RAM" (64-bit MMIO) go after the last bank.
 *
 *        0 ─ RAM ─┤hole├─ RAM ─ … ─┤windows below 4G├─ 4G ─ RAM ─┤64-bit MMIO├─ limit
 *
 * The planner has no I/O and no KVM: `vmm plan` and the unit tests call it
 * exactly as `vmm run` does.
 */
#ifndef CORE_PLANNER_H
#define CORE_PLANNER_H

#include "util.h"

#define PLAN_LABEL_LEN 80
#define PLAN_MAX_REGIONS 128
#define PLAN_MAX_FORBIDDEN 64
#define PLAN_MAX_PLACEMENTS 16

enum region_kind {
	REGION_RAM,       /* guest RAM: backed, usable, DMA-mapped */
	REGION_FIRMWARE,  /* backed by memory, holds firmware tables, reserved */
	REGION_ARCH,      /* fixed architectural window (LAPIC, IOAPIC, GIC) */
	REGION_DEVICE,    /* VMM device window chosen by the planner */
	REGION_HOLE,      /* host reserved range: left empty */
};

/* A range nothing may be placed in (a host reserved region, an IOVA gap). */
struct plan_forbidden {
	u64 start;
	u64 size;
	/* Shown in `vmm plan` and errors, e.g. "host msi (iommu group 7)". */
	char label[PLAN_LABEL_LEN];
	/* Non-relaxable: the guest firmware map marks it reserved. */
	bool firmware_reserved;
	/*
	 * The host's default MSI IOVA window of an IOMMU group (type msi in
	 * sysfs): where the kernel maps the interrupt controller's doorbell
	 * unless the VMM moves it (iommufd's IOMMU_OPTION_SW_MSI_START).
	 * Reserved files describe other hosts: their windows stay holes.
	 */
	bool msi_window;
};

enum window_placement {
	PLACE_FIXED,          /* exactly at .addr */
	PLACE_TOP_DOWN_BELOW, /* highest aligned free slot ending at or below .max_end */
	PLACE_ABOVE_RAM,      /* lowest aligned free slot above the last RAM bank */
};

struct plan_window_request {
	const char *name;  /* key for plan_find(): "pci-ecam" */
	const char *label; /* for people: "PCI ECAM (16 buses)" */
	enum region_kind kind;
	enum window_placement placement;
	u64 addr;     /* PLACE_FIXED */
	u64 max_end;  /* PLACE_TOP_DOWN_BELOW */
	u64 size;
	u64 min_size; /* PLACE_ABOVE_RAM may shrink by halves down to this */
	u64 align;
	bool firmware_reserved;
	/*
	 * PLACE_FIXED below high_ram_base: low RAM ends below it, as below a
	 * top-down window, instead of continuing above it in a second bank.
	 */
	bool ends_low_ram;
	/* What needs it this big, for the error when it does not fit (NULL: nothing). */
	const char *reason;
};

struct plan_policy {
	const char *arch;
	u64 addr_limit;              /* first address the guest cannot use */
	const char *addr_limit_label;
	u64 ram_base;
	u64 high_ram_base;           /* RAM resumes here after the low windows */
	u64 ram_align;               /* bank boundaries; also the smallest bank */
	/*
	 * The RAM backing's page (0: ram_align): every bank starts on one and
	 * ends on one where a hole ends it, so that it is whole huge pages;
	 * but below small_ram_end banks are cut on ram_align, and the bank at
	 * ram_base may end on it (x86: the real-mode area below 1 MiB, where
	 * Linux's trampoline needs room between holes).
	 */
	u64 bank_align;
	u64 small_ram_end;
	u64 min_low_ram;             /* RAM that must exist below the low windows */
	const struct plan_window_request *windows;
	unsigned int nwindows;
};

struct plan_region {
	u64 start;
	u64 size;
	enum region_kind kind;
	bool firmware_reserved;
	const char *name; /* NULL for RAM and holes */
	char label[PLAN_LABEL_LEN];
};

/*
 * What the VMM writes into guest RAM before the first instruction (the
 * kernel, the initrd, boot tables): placed inside RAM banks by the planner
 * too, clear of each other, so that no address is chosen anywhere else.
 */
struct plan_placement {
	u64 start;
	u64 size;
	const char *name; /* key for plan_find_placement(): "kernel" */
	char label[PLAN_LABEL_LEN];
};

struct memory_plan {
	const char *arch;
	u64 ram_size;
	u64 addr_limit;
	char addr_limit_label[PLAN_LABEL_LEN]; /* what sets the limit */
	struct plan_region regions[PLAN_MAX_REGIONS]; /* sorted by start */
	unsigned int nregions;
	struct plan_placement placements[PLAN_MAX_PLACEMENTS]; /* in the order placed */
	unsigned int nplacements;
	char error[512];
};

/*
 * Builds the map. Returns 0, or -ENOSPC/-EINVAL with plan->error naming
 * what blocks the request and what would fit.
 */
int plan_build(const struct plan_policy *policy, u64 ram_size,
	       const struct plan_forbidden *forbidden, unsigned int nforbidden,
	       struct memory_plan *plan);

const struct plan_region *plan_find(const struct memory_plan *plan, const char *name);

enum placement_pref { PLACE_LOWEST, PLACE_HIGHEST };

/*
 * Places size bytes inside one RAM bank, aligned, within [min, max_end),
 * clear of every earlier placement: the lowest or the highest fit. Returns
 * 0 with the address in *out, or -ENOSPC with plan->error naming what
 * needed the room and the holes in the way.
 */
int plan_place_in_ram(struct memory_plan *plan, const char *name, const char *label, u64 size,
		      u64 align, u64 min, u64 max_end, enum placement_pref pref, u64 *out);

/* Places size bytes at exactly addr; -ENOSPC (quietly) when that is not free RAM. */
int plan_place_at(struct memory_plan *plan, const char *name, const char *label, u64 addr,
		  u64 size);

const struct plan_placement *plan_find_placement(const struct memory_plan *plan,
						 const char *name);

/* Index-based iteration over RAM banks: returns NULL past the last. */
const struct plan_region *plan_ram_bank(const struct memory_plan *plan, unsigned int index);

/* Highest address + 1 of any RAM bank. */
u64 plan_ram_end(const struct memory_plan *plan);

const char *region_kind_name(enum region_kind kind);

#endif
