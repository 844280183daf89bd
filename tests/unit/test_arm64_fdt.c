/* The arm64 device tree, parsed back with libfdt and checked against the plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>

#include "plan_helpers.h"
#include "arch/arm64/fdt.h"
#include "arch/arm64/layout.h"
#include "arch/x86/layout.h"

static u8 blob[ARM64_FDT_MAX_SIZE];
static struct memory_plan plan;

static int build(void **state)
{
	struct plan_forbidden smmu = { .start = 0x8000000, .size = 0x100000, .label = "host msi" };
	const struct arm64_fdt_params p = {
		.plan = &plan, .ncpus = 3, .cmdline = "console=ttyS0 quiet",
		.initrd_start = 0x10000000, .initrd_size = 0x200000,
	};

	(void)state;
	assert_int_equal(plan_on_board("arm64", 1 * GiB, 3, 40, &smmu, 1, 0, NULL, &plan), 0);
	assert_int_equal(arm64_build_fdt(blob, sizeof(blob), &p), 0);
	assert_int_equal(fdt_check_header(blob), 0);
	return 0;
}

static u64 reg_cell(const void *prop, unsigned int index)
{
	fdt64_t v;

	/* Properties are only 4-byte aligned. */
	memcpy(&v, (const u8 *)prop + 8 * index, 8);
	return fdt64_to_cpu(v);
}

static void memory_nodes_are_the_plans_ram_banks(void **state)
{
	const struct plan_region *bank;
	unsigned int banks = 0, nodes = 0;
	int node;

	(void)state;
	for (unsigned int i = 0; (bank = plan_ram_bank(&plan, i)); i++) {
		char path[64];
		const void *reg;
		int len;

		snprintf(path, sizeof(path), "/memory@%llx", (unsigned long long)bank->start);
		node = fdt_path_offset(blob, path);
		assert_true(node >= 0);
		reg = fdt_getprop(blob, node, "reg", &len);
		assert_int_equal(len, 16);
		assert_int_equal(reg_cell(reg, 0), bank->start);
		assert_int_equal(reg_cell(reg, 1), bank->size);
		banks++;
	}
	fdt_for_each_subnode(node, blob, 0)
		if (!strncmp(fdt_get_name(blob, node, NULL), "memory@", 7))
			nodes++;
	assert_int_equal(nodes, banks);
	/* The SMMU MSI window is absent memory: no node covers 0x8000000. */
	assert_int_equal(banks, 2);
	assert_true(fdt_path_offset(blob, "/memory@8100000") >= 0);
}

static void gic_and_its_sit_where_the_planner_put_them(void **state)
{
	const struct plan_region *d = plan_find(&plan, PLAN_ARM64_GICD);
	const struct plan_region *r = plan_find(&plan, PLAN_ARM64_GICR);
	const struct plan_region *its = plan_find(&plan, PLAN_ARM64_ITS);
	char path[96];
	const void *reg;
	int gic, node, len;

	(void)state;
	snprintf(path, sizeof(path), "/interrupt-controller@%llx", (unsigned long long)d->start);
	gic = fdt_path_offset(blob, path);
	assert_true(gic >= 0);
	assert_int_equal(fdt_node_check_compatible(blob, gic, "arm,gic-v3"), 0);
	reg = fdt_getprop(blob, gic, "reg", &len);
	assert_int_equal(len, 32);
	assert_int_equal(reg_cell(reg, 0), d->start);
	assert_int_equal(reg_cell(reg, 2), r->start);
	assert_int_equal(reg_cell(reg, 3), 3 * ARM64_GICR_SIZE_PER_CPU);
	node = fdt_node_offset_by_compatible(blob, -1, "arm,gic-v3-its");
	assert_true(node >= 0);
	assert_true(fdt_getprop(blob, node, "msi-controller", NULL) != NULL);
	reg = fdt_getprop(blob, node, "reg", &len);
	assert_int_equal(reg_cell(reg, 0), its->start);
}

static void pci_msi_map_sends_every_requester_id_to_the_its(void **state)
{
	const struct plan_region *ecam = plan_find(&plan, PLAN_PCI_ECAM);
	int pci = fdt_node_offset_by_compatible(blob, -1, "pci-host-ecam-generic");
	int its = fdt_node_offset_by_compatible(blob, -1, "arm,gic-v3-its");
	const fdt32_t *map;
	const void *reg;
	int len;

	(void)state;
	assert_true(pci >= 0);
	reg = fdt_getprop(blob, pci, "reg", &len);
	assert_int_equal(reg_cell(reg, 0), ecam->start);
	map = fdt_getprop(blob, pci, "msi-map", &len);
	assert_int_equal(len, 16);
	assert_int_equal(fdt32_to_cpu(map[0]), 0);                   /* RID base */
	assert_int_equal(fdt32_to_cpu(map[1]), fdt_get_phandle(blob, its));
	assert_int_equal(fdt32_to_cpu(map[2]), 0);                   /* DeviceID = RID */
	assert_int_equal(fdt32_to_cpu(map[3]), 0x10000);
}

static void chosen_has_bootargs_initrd_and_a_console(void **state)
{
	int chosen = fdt_path_offset(blob, "/chosen"), len;
	const char *out;

	(void)state;
	assert_string_equal(fdt_getprop(blob, chosen, "bootargs", NULL), "console=ttyS0 quiet");
	assert_int_equal(reg_cell(fdt_getprop(blob, chosen, "linux,initrd-start", NULL), 0), 0x10000000);
	assert_int_equal(reg_cell(fdt_getprop(blob, chosen, "linux,initrd-end", NULL), 0), 0x10200000);
	out = fdt_getprop(blob, chosen, "stdout-path", &len);
	assert_non_null(out);
	assert_true(fdt_path_offset(blob, out) >= 0);
	assert_int_equal(fdt_node_check_compatible(blob, fdt_path_offset(blob, out), "ns16550a"), 0);
}

static void cpus_use_psci(void **state)
{
	int cpus = fdt_path_offset(blob, "/cpus"), cpu, n = 0;

	(void)state;
	fdt_for_each_subnode(cpu, blob, cpus) {
		assert_string_equal(fdt_getprop(blob, cpu, "enable-method", NULL), "psci");
		n++;
	}
	assert_int_equal(n, 3);
	assert_true(fdt_node_offset_by_compatible(blob, -1, "arm,psci-0.2") >= 0);
	assert_true(fdt_node_offset_by_compatible(blob, -1, "arm,armv8-timer") >= 0);
}

static void a_too_small_buffer_is_an_error(void **state)
{
	static u8 tiny[256];
	const struct arm64_fdt_params p = { .plan = &plan, .ncpus = 1 };

	(void)state;
	assert_true(arm64_build_fdt(tiny, sizeof(tiny), &p) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(memory_nodes_are_the_plans_ram_banks),
		cmocka_unit_test(gic_and_its_sit_where_the_planner_put_them),
		cmocka_unit_test(pci_msi_map_sends_every_requester_id_to_the_its),
		cmocka_unit_test(chosen_has_bootargs_initrd_and_a_console),
		cmocka_unit_test(cpus_use_psci),
		cmocka_unit_test(a_too_small_buffer_is_an_error),
	};

	return cmocka_run_group_tests_name("arm64 fdt", tests, build, NULL);
}
