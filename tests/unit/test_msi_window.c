/*
 * Where the planner puts the MSI IOVA window (board_plan with
 * enum plan_msi_window): the host's default left as a hole, a window the
 * board chooses, one at the user's address, a fleet's reserved files, and
 * the refusals (no room, misaligned, overlapping, a board whose window is
 * architectural).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "arch/board.h"

static struct host_holes host;
static struct memory_plan plan;

static void add_hole(u64 start, u64 size, const char *label, bool msi_window)
{
	struct plan_forbidden *h = &host.holes[host.n++];

	*h = (struct plan_forbidden){ .start = start, .size = size, .firmware_reserved = true,
				      .msi_window = msi_window };
	snprintf(h->label, sizeof(h->label), "%s", label);
}

static int setup(void **state)
{
	(void)state;
	memset(&host, 0, sizeof(host));
	return 0;
}

static int plan_arm64(enum plan_msi_window where, u64 addr, u64 size, u64 ram)
{
	const struct plan_request req = {
		.ram_size = ram, .ncpus = 2, .host = &host, .addr_bits = 40, .page_size = 4096,
		.msi_window = where, .msi_window_addr = addr, .msi_window_size = size,
	};

	return board_plan(board_layout_find("arm64"), &req, &plan);
}

static unsigned int ram_banks(void)
{
	unsigned int n = 0;

	while (plan_ram_bank(&plan, n))
		n++;
	return n;
}

/* The window is clear of every other region of the plan. */
static void assert_window_alone(const struct plan_region *w)
{
	for (unsigned int i = 0; i < plan.nregions; i++)
		if (&plan.regions[i] != w)
			assert_false(ranges_overlap(w->start, w->size, plan.regions[i].start,
						    plan.regions[i].size));
}

static void the_host_default_stays_a_hole_in_ram(void **state)
{
	(void)state;
	add_hole(0x8000000, 0x100000, "MSI IOVA window (host default, iommu group 0)", true);
	assert_int_equal(plan_arm64(PLAN_MSI_HOST, 0, 0, 1 * GiB), 0);
	assert_null(plan_find(&plan, PLAN_MSI_WINDOW));
	assert_int_equal(plan_ram_bank(&plan, 0)->start, 0);
	assert_int_equal(plan_ram_bank(&plan, 0)->size, 0x8000000);
	assert_int_equal(plan_ram_bank(&plan, 1)->start, 0x8100000);
}

static void a_chosen_window_leaves_ram_one_bank(void **state)
{
	const struct plan_region *w;

	(void)state;
	assert_int_equal(plan_arm64(PLAN_MSI_AUTO, 0, 1 * MiB, 1 * GiB), 0);
	w = plan_find(&plan, PLAN_MSI_WINDOW);
	assert_non_null(w);
	assert_int_equal(w->kind, REGION_HOLE);
	assert_string_equal(w->label, "MSI IOVA window (chosen by vmm)");
	assert_int_equal(w->size, 1 * MiB);
	assert_true(IS_ALIGNED(w->start, PLAN_MSI_WINDOW_ALIGN));
	/* With the device windows below 4 GiB, above RAM. */
	assert_true(w->start + w->size <= 4 * GiB);
	assert_true(w->start >= plan_ram_end(&plan));
	assert_window_alone(w);
	assert_int_equal(ram_banks(), 1);
	assert_int_equal(plan_ram_bank(&plan, 0)->start, 0);
	assert_int_equal(plan_ram_bank(&plan, 0)->size, 1 * GiB);
}

/* Planned again where it was chosen (the devices have it): the same map, whatever -m. */
static void a_chosen_window_plans_the_same_again(void **state)
{
	static struct memory_plan first;
	u64 ram[] = { 256 * MiB, 1 * GiB, 4 * GiB, 16 * GiB };

	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(ram); i++) {
		const struct plan_region *w;

		assert_int_equal(plan_arm64(PLAN_MSI_AUTO, 0, 1 * MiB, ram[i]), 0);
		first = plan;
		w = plan_find(&first, PLAN_MSI_WINDOW);
		assert_int_equal(plan_arm64(PLAN_MSI_CHOSEN, w->start, w->size, ram[i]), 0);
		assert_int_equal(plan.nregions, first.nregions);
		for (unsigned int r = 0; r < plan.nregions; r++) {
			assert_int_equal(plan.regions[r].start, first.regions[r].start);
			assert_int_equal(plan.regions[r].size, first.regions[r].size);
			assert_int_equal(plan.regions[r].kind, first.regions[r].kind);
		}
		/* Low RAM ends below the window: never a bank on each side of it below 4 GiB. */
		assert_int_equal(plan_ram_bank(&plan, 0)->start, 0);
		assert_true(plan_ram_bank(&plan, 0)->start + plan_ram_bank(&plan, 0)->size <= w->start);
		assert_true(!plan_ram_bank(&plan, 1) || plan_ram_bank(&plan, 1)->start >= 4 * GiB);
	}
}

static void the_size_defaults_to_one_mib_and_may_be_larger(void **state)
{
	(void)state;
	assert_int_equal(plan_arm64(PLAN_MSI_AUTO, 0, 0, 256 * MiB), 0);
	assert_int_equal(plan_find(&plan, PLAN_MSI_WINDOW)->size, 1 * MiB);
	assert_int_equal(plan_arm64(PLAN_MSI_AUTO, 0, 4 * MiB, 256 * MiB), 0);
	assert_int_equal(plan_find(&plan, PLAN_MSI_WINDOW)->size, 4 * MiB);
	assert_window_alone(plan_find(&plan, PLAN_MSI_WINDOW));
}

static void the_users_address_is_kept(void **state)
{
	const struct plan_region *w;

	(void)state;
	assert_int_equal(plan_arm64(PLAN_MSI_AT, 0x30000000, 2 * MiB, 512 * MiB), 0);
	w = plan_find(&plan, PLAN_MSI_WINDOW);
	assert_non_null(w);
	assert_int_equal(w->start, 0x30000000);
	assert_int_equal(w->size, 2 * MiB);
	assert_window_alone(w);
	assert_int_equal(ram_banks(), 1);
}

/* One layout for a fleet: each host's reserved file, and the window clear of all. */
static void several_hosts_reserved_files_are_all_avoided(void **state)
{
	const struct plan_region *w;
	u64 first;

	(void)state;
	assert_int_equal(plan_arm64(PLAN_MSI_AUTO, 0, 1 * MiB, 1 * GiB), 0);
	first = plan_find(&plan, PLAN_MSI_WINDOW)->start;
	/* Host A reserves where the window went, host B the MiB below it. */
	add_hole(first, 1 * MiB, "host reserved (file host-a.txt)", false);
	add_hole(first - 1 * MiB, 1 * MiB, "host direct (file host-b.txt)", false);
	add_hole(0x8000000, 0x100000, "host msi (file host-b.txt)", false);
	assert_int_equal(plan_arm64(PLAN_MSI_AUTO, 0, 1 * MiB, 1 * GiB), 0);
	w = plan_find(&plan, PLAN_MSI_WINDOW);
	assert_non_null(w);
	for (unsigned int i = 0; i < host.n; i++)
		assert_false(ranges_overlap(w->start, w->size, host.holes[i].start,
					    host.holes[i].size));
	assert_window_alone(w);
}

static void no_room_is_an_error_naming_the_window(void **state)
{
	(void)state;
	/* Everything from 256 MiB to the 32-bit MMIO window is the host's. */
	add_hole(0x10000000, 0xe0000000 - 0x10000000, "host reserved (file big.txt)", false);
	assert_int_equal(plan_arm64(PLAN_MSI_AUTO, 0, 512 * MiB, 128 * MiB), -ENOSPC);
	assert_non_null(strstr(plan.error, "no room for MSI IOVA window (chosen by vmm)"));
}

static void a_misaligned_address_or_size_is_refused(void **state)
{
	(void)state;
	assert_int_equal(plan_arm64(PLAN_MSI_AT, 0x30080000, 1 * MiB, 512 * MiB), -EINVAL);
	assert_non_null(strstr(plan.error, "multiples of 1 MiB"));
	assert_int_equal(plan_arm64(PLAN_MSI_AT, 0x30000000, 0x180000, 512 * MiB), -EINVAL);
	assert_non_null(strstr(plan.error, "multiples of 1 MiB"));
}

static void an_overlap_names_what_is_there(void **state)
{
	(void)state;
	assert_int_equal(plan_arm64(PLAN_MSI_AT, 0x8000000, 1 * MiB, 1 * GiB), -EADDRINUSE);
	assert_non_null(strstr(plan.error, "overlaps guest RAM 0x0-0x3fffffff"));
	assert_int_equal(plan_arm64(PLAN_MSI_AT, 0xff000000, 1 * MiB, 1 * GiB), -EADDRINUSE);
	assert_non_null(strstr(plan.error, "PCI ECAM"));
	add_hole(0x50000000, 2 * MiB, "host reserved (file host-a.txt)", false);
	assert_int_equal(plan_arm64(PLAN_MSI_AT, 0x50100000, 1 * MiB, 1 * GiB), -EADDRINUSE);
	assert_non_null(strstr(plan.error, "host reserved (file host-a.txt) 0x50000000-0x501fffff"));
	assert_int_equal(plan_arm64(PLAN_MSI_AT, 0x1000000000000ULL, 1 * MiB, 1 * GiB), -EINVAL);
	assert_non_null(strstr(plan.error, "beyond"));
}

static void x86_refuses_to_move_its_architectural_window(void **state)
{
	const struct plan_request req = {
		.ram_size = 1 * GiB, .ncpus = 1, .addr_bits = 46, .msi_window = PLAN_MSI_AT,
		.msi_window_addr = 0x30000000,
	};

	(void)state;
	assert_int_equal(board_plan(board_layout_find("x86_64"), &req, &plan), -EINVAL);
	assert_non_null(strstr(plan.error, "cannot move on x86_64: 0xfee00000-0xfeefffff"));
	assert_non_null(board_layout_find("x86_64")->msi_window_fixed);
	assert_null(board_layout_find("arm64")->msi_window_fixed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(the_host_default_stays_a_hole_in_ram, setup),
		cmocka_unit_test_setup(a_chosen_window_leaves_ram_one_bank, setup),
		cmocka_unit_test_setup(a_chosen_window_plans_the_same_again, setup),
		cmocka_unit_test_setup(the_size_defaults_to_one_mib_and_may_be_larger, setup),
		cmocka_unit_test_setup(the_users_address_is_kept, setup),
		cmocka_unit_test_setup(several_hosts_reserved_files_are_all_avoided, setup),
		cmocka_unit_test_setup(no_room_is_an_error_naming_the_window, setup),
		cmocka_unit_test_setup(a_misaligned_address_or_size_is_refused, setup),
		cmocka_unit_test_setup(an_overlap_names_what_is_there, setup),
		cmocka_unit_test_setup(x86_refuses_to_move_its_architectural_window, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
