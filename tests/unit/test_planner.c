/* The memory planner: x86 layouts with and without host holes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "plan_helpers.h"
#include "arch/arm64/layout.h"
#include "arch/x86/layout.h"
#include "core/planner.h"

static u64 ram_total(const struct memory_plan *plan)
{
	const struct plan_region *bank;
	u64 total = 0;

	for (unsigned int i = 0; (bank = plan_ram_bank(plan, i)); i++)
		total += bank->size;
	return total;
}

/* No two regions but a hole and a fixed window may share an address. */
static void assert_no_ram_overlaps(const struct memory_plan *plan)
{
	for (unsigned int i = 0; i < plan->nregions; i++) {
		const struct plan_region *a = &plan->regions[i];

		for (unsigned int j = i + 1; j < plan->nregions; j++) {
			const struct plan_region *b = &plan->regions[j];

			if (a->kind == REGION_RAM || b->kind == REGION_RAM ||
			    a->kind == REGION_DEVICE || b->kind == REGION_DEVICE)
				assert_false(ranges_overlap(a->start, a->size, b->start, b->size));
		}
	}
}

static bool ram_touches(const struct memory_plan *plan, u64 start, u64 size)
{
	const struct plan_region *bank;

	for (unsigned int i = 0; (bank = plan_ram_bank(plan, i)); i++)
		if (ranges_overlap(bank->start, bank->size, start, size))
			return true;
	return false;
}

static void small_guest_is_one_low_bank_after_the_bios_area(void **state)
{
	struct memory_plan plan;

	(void)state;
	assert_int_equal(x86_plan_memory(256 * MiB, 40, NULL, 0, &plan), 0);
	assert_int_equal(ram_total(&plan), 256 * MiB);
	assert_int_equal(plan_ram_bank(&plan, 0)->start, 0);
	assert_int_equal(plan_ram_bank(&plan, 0)->size, X86_LEGACY_HOLE_START);
	assert_int_equal(plan_ram_bank(&plan, 1)->start, X86_LEGACY_HOLE_END);
	assert_null(plan_ram_bank(&plan, 2));
	assert_false(ram_touches(&plan, X86_LAPIC_BASE, X86_MSI_WINDOW_SIZE));
	assert_no_ram_overlaps(&plan);
}

static void large_guest_continues_above_4g_around_the_pci_hole(void **state)
{
	struct memory_plan plan;
	const struct plan_region *ecam, *mmio32, *mmio64;

	(void)state;
	assert_int_equal(x86_plan_memory(8 * GiB, 40, NULL, 0, &plan), 0);
	assert_int_equal(ram_total(&plan), 8 * GiB);
	ecam = plan_find(&plan, PLAN_PCI_ECAM);
	mmio32 = plan_find(&plan, PLAN_PCI_MMIO32);
	mmio64 = plan_find(&plan, PLAN_PCI_MMIO64);
	assert_non_null(ecam);
	assert_non_null(mmio32);
	assert_non_null(mmio64);
	assert_true(ecam->start + ecam->size <= X86_IOAPIC_BASE);
	assert_true(IS_ALIGNED(ecam->start, ecam->size));
	assert_true(mmio32->start + mmio32->size <= 4 * GiB);
	assert_true(mmio64->start >= plan_ram_end(&plan));
	assert_true(plan_ram_bank(&plan, 2)->start == X86_HIGH_RAM_BASE);
	assert_false(ram_touches(&plan, mmio32->start, 4 * GiB - mmio32->start));
	assert_no_ram_overlaps(&plan);
}

static void host_hole_in_low_ram_splits_a_bank_and_keeps_the_total(void **state)
{
	struct plan_forbidden hole = { .start = 0x10000000, .size = 0x200000,
				       .label = "host direct", .firmware_reserved = true };
	struct memory_plan plan;

	(void)state;
	assert_int_equal(x86_plan_memory(512 * MiB, 40, &hole, 1, &plan), 0);
	assert_int_equal(ram_total(&plan), 512 * MiB);
	assert_false(ram_touches(&plan, hole.start, hole.size));
	/* The hole is reported with its label. */
	bool found = false;
	for (unsigned int i = 0; i < plan.nregions; i++)
		if (plan.regions[i].kind == REGION_HOLE && plan.regions[i].start == hole.start &&
		    strstr(plan.regions[i].label, "host direct"))
			found = true;
	assert_true(found);
	assert_no_ram_overlaps(&plan);
}

static void device_windows_move_around_a_host_hole(void **state)
{
	/* A bridge window exactly where the ECAM would go. */
	struct plan_forbidden hole = { .start = 0xfd000000, .size = 0x1000000,
				       .label = "host reserved" };
	struct memory_plan plan;
	const struct plan_region *ecam;

	(void)state;
	assert_int_equal(x86_plan_memory(1 * GiB, 40, &hole, 1, &plan), 0);
	ecam = plan_find(&plan, PLAN_PCI_ECAM);
	assert_non_null(ecam);
	assert_false(ranges_overlap(ecam->start, ecam->size, hole.start, hole.size));
	assert_no_ram_overlaps(&plan);
}

static void ram_beyond_the_address_limit_is_refused_with_what_fits(void **state)
{
	struct memory_plan plan;

	(void)state;
	/* 36 bits: 64 GiB of address space cannot hold 100 GiB. */
	assert_int_equal(x86_plan_memory(100 * GiB, 36, NULL, 0, &plan), -ENOSPC);
	assert_non_null(strstr(plan.error, "guest physical address limit"));
	assert_non_null(strstr(plan.error, "try -m"));
}

static void iova_limit_hole_caps_ram_below_it(void **state)
{
	/* A 39-bit IOMMU: everything from 512 GiB up is unusable. */
	struct plan_forbidden limit = { .start = 1ULL << 39, .size = (1ULL << 40) - (1ULL << 39),
					.label = "IOVA limit" };
	struct memory_plan plan;

	(void)state;
	assert_int_equal(x86_plan_memory(16 * GiB, 40, &limit, 1, &plan), 0);
	assert_true(plan_ram_end(&plan) <= 1ULL << 39);
	assert_int_equal(plan_ram_bank(&plan, 0)->start, 0);
}

static void identical_holes_from_two_sources_merge_into_one_row(void **state)
{
	struct plan_forbidden holes[2] = {
		{ .start = 0xfee00000, .size = 0x100000, .label = "host msi (group 1)" },
		{ .start = 0xfee00000, .size = 0x100000, .label = "host msi (file b)" },
	};
	struct memory_plan plan;
	unsigned int rows = 0;

	(void)state;
	assert_int_equal(x86_plan_memory(256 * MiB, 40, holes, 2, &plan), 0);
	for (unsigned int i = 0; i < plan.nregions; i++) {
		if (plan.regions[i].kind != REGION_HOLE)
			continue;
		rows++;
		assert_non_null(strstr(plan.regions[i].label, "group 1"));
		assert_non_null(strstr(plan.regions[i].label, "file b"));
	}
	assert_int_equal(rows, 1);
}

static void unaligned_ram_size_is_refused(void **state)
{
	struct memory_plan plan;

	(void)state;
	assert_int_equal(x86_plan_memory(256 * MiB + 1, 40, NULL, 0, &plan), -EINVAL);
	assert_int_equal(x86_plan_memory(0, 40, NULL, 0, &plan), -EINVAL);
}

static void regions_come_out_sorted(void **state)
{
	struct memory_plan plan;

	(void)state;
	assert_int_equal(x86_plan_memory(6 * GiB, 40, NULL, 0, &plan), 0);
	for (unsigned int i = 1; i < plan.nregions; i++)
		assert_true(plan.regions[i - 1].start <= plan.regions[i].start);
}

static bool ram_overlaps_any(const struct memory_plan *plan, const struct plan_forbidden *f,
			     unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (ram_touches(plan, f[i].start, f[i].size))
			return true;
	return false;
}

/* AMD hosts reserve the HyperTransport range just below 1 TiB. */
static void amd_hypertransport_hole_splits_high_ram(void **state)
{
	struct plan_forbidden ht[] = {
		{ .start = 0xfee00000, .size = 0x100000, .label = "host msi" },
		{ .start = 0xfd00000000ULL, .size = 0x300000000ULL, .label = "host reserved" },
	};
	struct memory_plan plan;

	(void)state;
	assert_int_equal(x86_plan_memory(1100 * GiB, 48, ht, 2, &plan), 0);
	assert_int_equal(ram_total(&plan), 1100 * GiB);
	assert_false(ram_overlaps_any(&plan, ht, 2));
	assert_true(plan_ram_end(&plan) > 0x10000000000ULL);
	assert_true(plan_find(&plan, PLAN_PCI_MMIO64)->start >= plan_ram_end(&plan));
}

/* arm64 with an SMMUv3: the software-MSI window, and RAM from 0. */
static void arm64_smmu_msi_window_is_a_hole_in_low_ram(void **state)
{
	struct plan_forbidden smmu = { .start = 0x8000000, .size = 0x100000,
				       .label = "host msi", .firmware_reserved = true };
	struct memory_plan plan;
	const char *windows[] = { PLAN_ARM64_GICD, PLAN_ARM64_GICR, PLAN_ARM64_ITS,
				  PLAN_ARM64_UART, PLAN_PCI_ECAM, PLAN_PCI_MMIO32 };

	(void)state;
	assert_int_equal(plan_on_board("arm64", 1 * GiB, 4, 40, &smmu, 1, 0, NULL, &plan), 0);
	assert_int_equal(plan_ram_bank(&plan, 0)->start, 0);
	assert_int_equal(plan_ram_bank(&plan, 0)->size, 0x8000000);
	assert_int_equal(plan_ram_bank(&plan, 1)->start, 0x8100000);
	assert_int_equal(ram_total(&plan), 1 * GiB);
	for (unsigned int i = 0; i < ARRAY_SIZE(windows); i++) {
		const struct plan_region *w = plan_find(&plan, windows[i]);

		assert_non_null(w);
		assert_true(w->start + w->size <= 4 * GiB);
		assert_false(ram_touches(&plan, w->start, w->size));
		assert_false(ranges_overlap(w->start, w->size, smmu.start, smmu.size));
	}
	assert_int_equal(plan_find(&plan, PLAN_ARM64_GICR)->size, 4 * ARM64_GICR_SIZE_PER_CPU);
	assert_true(IS_ALIGNED(plan_find(&plan, PLAN_ARM64_ITS)->start, 0x10000));
}

/*
 * A board whose PCI host bridge and its config space sit at 1 GiB (the
 * Juno case from the LPC guest-MSI discussion) plus the SMMU MSI window:
 * RAM goes around both and the guest's devices move away from them.
 */
static void arm64_board_bridge_windows_are_avoided(void **state)
{
	struct plan_forbidden board[] = {
		{ .start = 0x8000000, .size = 0x100000, .label = "host msi" },
		{ .start = 0x40000000, .size = 0x10000000, .label = "host reserved" },
		{ .start = 0x50000000, .size = 0x8000000, .label = "host reserved" },
		{ .start = 0xfe000000, .size = 0x2000000, .label = "host reserved" },
	};
	struct memory_plan plan;

	(void)state;
	assert_int_equal(plan_on_board("arm64", 6 * GiB, 2, 40, board, 4, 0, NULL, &plan), 0);
	assert_int_equal(ram_total(&plan), 6 * GiB);
	assert_false(ram_overlaps_any(&plan, board, 4));
	for (unsigned int i = 0; i < plan.nregions; i++)
		if (plan.regions[i].kind == REGION_DEVICE)
			for (unsigned int j = 0; j < 4; j++)
				assert_false(ranges_overlap(plan.regions[i].start, plan.regions[i].size,
							    board[j].start, board[j].size));
}

/* A 39-bit SMMU caps arm64 RAM too, and says so. */
static void arm64_iova_limit_is_named_when_ram_does_not_fit(void **state)
{
	struct memory_plan plan;

	(void)state;
	assert_int_equal(plan_on_board("arm64", 600 * GiB, 1, 44, NULL, 0, 1ULL << 39, "host IOVA limit", &plan), -ENOSPC);
	assert_non_null(strstr(plan.error, "host IOVA limit"));
	assert_int_equal(plan_on_board("arm64", 64 * GiB, 1, 44, NULL, 0, 1ULL << 39, "host IOVA limit", &plan), 0);
	assert_true(plan_ram_end(&plan) <= 1ULL << 39);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small_guest_is_one_low_bank_after_the_bios_area),
		cmocka_unit_test(large_guest_continues_above_4g_around_the_pci_hole),
		cmocka_unit_test(host_hole_in_low_ram_splits_a_bank_and_keeps_the_total),
		cmocka_unit_test(device_windows_move_around_a_host_hole),
		cmocka_unit_test(ram_beyond_the_address_limit_is_refused_with_what_fits),
		cmocka_unit_test(iova_limit_hole_caps_ram_below_it),
		cmocka_unit_test(identical_holes_from_two_sources_merge_into_one_row),
		cmocka_unit_test(unaligned_ram_size_is_refused),
		cmocka_unit_test(regions_come_out_sorted),
		cmocka_unit_test(amd_hypertransport_hole_splits_high_ram),
		cmocka_unit_test(arm64_smmu_msi_window_is_a_hole_in_low_ram),
		cmocka_unit_test(arm64_board_bridge_windows_are_avoided),
		cmocka_unit_test(arm64_iova_limit_is_named_when_ram_does_not_fit),
	};

	return cmocka_run_group_tests_name("planner", tests, NULL, NULL);
}
