/* ACPI tables: checksums, what Linux looks for, and iasl's verdict. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <unistd.h>

#include "arch/x86/acpi.h"
#include "arch/x86/aml.h"
#include "arch/x86/layout.h"

#define BASE 0xe0000
#define CAP 0x20000

static u8 sum(const u8 *p, size_t len)
{
	u8 s = 0;

	while (len--)
		s += *p++;
	return s;
}

static u32 get32(const u8 *p) { return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24; }
static u64 get64(const u8 *p) { return get32(p) | (u64)get32(p + 4) << 32; }

static const u8 *table_at(const u8 *buf, u64 gpa)
{
	assert_true(gpa >= BASE && gpa < BASE + CAP);
	return buf + (gpa - BASE);
}

/* Finds a table through RSDP -> XSDT (and FADT -> DSDT). */
static const u8 *find_table(const u8 *buf, const char *sig)
{
	const u8 *xsdt = table_at(buf, get64(buf + 24));
	u32 n = (get32(xsdt + 4) - 36) / 8;

	for (u32 i = 0; i < n; i++) {
		const u8 *t = table_at(buf, get64(xsdt + 36 + 8 * i));

		if (!memcmp(t, sig, 4))
			return t;
		if (!memcmp(sig, "DSDT", 4) && !memcmp(t, "FACP", 4))
			return table_at(buf, get64(t + 140));
	}
	return NULL;
}

static bool contains(const u8 *hay, size_t len, const void *needle, size_t nlen)
{
	for (size_t i = 0; i + nlen <= len; i++)
		if (!memcmp(hay + i, needle, nlen))
			return true;
	return false;
}

static u8 *build(unsigned int ncpus)
{
	struct memory_plan plan;
	u8 *buf = calloc(1, CAP);

	assert_int_equal(x86_plan_memory(512 * MiB, 40, NULL, 0, &plan), 0);
	assert_true(x86_build_acpi(buf, CAP, BASE, &plan, ncpus) > 0);
	return buf;
}

static void every_table_has_a_valid_checksum(void **state)
{
	u8 *buf = build(4);
	const char *sigs[] = { "FACP", "APIC", "MCFG", "DSDT" };

	(void)state;
	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(sum(buf, 20), 0);
	assert_int_equal(sum(buf, 36), 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(sigs); i++) {
		const u8 *t = find_table(buf, sigs[i]);

		assert_non_null(t);
		assert_int_equal(sum(t, get32(t + 4)), 0);
	}
	free(buf);
}

static void madt_lists_one_enabled_lapic_per_cpu(void **state)
{
	u8 *buf = build(3);
	const u8 *madt = find_table(buf, "APIC"), *e;
	unsigned int cpus = 0, ioapics = 0;

	(void)state;
	for (e = madt + 44; e < madt + get32(madt + 4); e += e[1]) {
		assert_true(e[1] >= 2);
		if (e[0] == 0) {
			assert_int_equal(e[3], cpus);
			assert_int_equal(get32(e + 4) & 1, 1);
			cpus++;
		} else if (e[0] == 1) {
			assert_int_equal(get32(e + 4), X86_IOAPIC_BASE);
			ioapics++;
		}
	}
	assert_int_equal(cpus, 3);
	assert_int_equal(ioapics, 1);
	free(buf);
}

static void dsdt_has_the_pci_root_bridge_and_s5(void **state)
{
	u8 *buf = build(1);
	const u8 *dsdt = find_table(buf, "DSDT");
	const u8 s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12 };

	(void)state;
	assert_non_null(dsdt);
	assert_true(contains(dsdt, get32(dsdt + 4), "PCI0", 4));
	assert_true(contains(dsdt, get32(dsdt + 4), s5, sizeof(s5)));
	free(buf);
}

static void pci_intx_gsis_rotate_over_ioapic_pins_16_to_23(void **state)
{
	(void)state;
	assert_int_equal(x86_pci_intx_gsi(1, 0), 17);
	assert_int_equal(x86_pci_intx_gsi(1, 3), 20);
	assert_int_equal(x86_pci_intx_gsi(7, 0), 23);
	assert_int_equal(x86_pci_intx_gsi(7, 1), 16);
	assert_int_equal(x86_pci_intx_gsi(31, 3), 18);
	for (unsigned int slot = 0; slot < 32; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			unsigned int gsi = x86_pci_intx_gsi(slot, pin);

			/* KVM's IOAPIC has 24 pins; 0-15 belong to ISA. */
			assert_in_range(gsi, 16, 23);
			/* The same pin of neighbouring slots never shares a line. */
			if (slot)
				assert_int_not_equal(gsi, x86_pci_intx_gsi(slot - 1, pin));
		}
	}
}

static void dsdt_routes_every_slot_and_pin_to_its_gsi(void **state)
{
	u8 *buf = build(1);
	const u8 *dsdt = find_table(buf, "DSDT");
	const u8 prt[] = { 0x08, '_', 'P', 'R', 'T', 0x12 };

	(void)state;
	assert_true(contains(dsdt, get32(dsdt + 4), prt, sizeof(prt)));
	for (unsigned int slot = 1; slot < 32; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			/*
			 * Package (4) { DWordConst (slot << 16 | 0xffff), pin, Zero,
			 * ByteConst gsi }; pins 0 and 1 are ZeroOp and OneOp.
			 */
			u8 entry[13] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, (u8)slot, 0x00 };
			size_t n = 8;

			if (pin < 2) {
				entry[n++] = (u8)pin;
			} else {
				entry[1] = 0x0c;
				entry[n++] = 0x0a;
				entry[n++] = (u8)pin;
			}
			entry[n++] = 0x00;
			entry[n++] = 0x0a;
			entry[n++] = (u8)x86_pci_intx_gsi(slot, pin);
			assert_true(contains(dsdt, get32(dsdt + 4), entry, n));
		}
	}
	free(buf);
}

static void mcfg_points_at_the_planned_ecam(void **state)
{
	struct memory_plan plan;
	u8 *buf = build(1);
	const u8 *mcfg = find_table(buf, "MCFG");

	(void)state;
	assert_int_equal(x86_plan_memory(512 * MiB, 40, NULL, 0, &plan), 0);
	assert_int_equal(get64(mcfg + 44), plan_find(&plan, PLAN_PCI_ECAM)->start);
	/* Bus 0 only: the guest then probes no empty bus for peer bridges. */
	assert_int_equal(mcfg[55], 0);
	free(buf);
}

static void aml_package_lengths_use_every_encoding(void **state)
{
	static u8 out[0x3000];
	struct aml a;

	(void)state;
	/* Bodies of 10, 100 and 5000 bytes need 1, 2 and 3 length bytes. */
	const size_t bodies[] = { 10, 100, 5000 };
	const u8 first[] = { 11, 0x40 | ((102) & 0xf), 0x80 | ((5003) & 0xf) };

	for (unsigned int i = 0; i < 3; i++) {
		aml_init(&a, out, sizeof(out));
		aml_package(&a, 0);
		for (size_t j = 1; j < bodies[i]; j++)
			aml_integer(&a, 0);
		aml_close(&a);
		assert_false(a.overflow);
		assert_int_equal(out[0], 0x12);
		assert_int_equal(out[1], first[i]);
		assert_int_equal(a.len, 1 + (i + 1) + bodies[i]);
	}
}

static void tables_that_do_not_fit_are_an_error(void **state)
{
	struct memory_plan plan;
	u8 small[200];

	(void)state;
	assert_int_equal(x86_plan_memory(512 * MiB, 40, NULL, 0, &plan), 0);
	assert_int_equal(x86_build_acpi(small, sizeof(small), BASE, &plan, 8), -E2BIG);
}

/* The ACPI compiler's disassembler is the reference parser for AML. */
static void iasl_disassembles_the_tables_without_errors(void **state)
{
	const char *sigs[] = { "DSDT", "FACP", "APIC", "MCFG" };
	char dir[] = "/tmp/vmm-acpi-XXXXXX", cmd[512], path[256];
	u8 *buf = build(2);

	(void)state;
	if (system("command -v iasl >/dev/null 2>&1") != 0) {
		free(buf);
		skip();
	}
	assert_non_null(mkdtemp(dir));
	for (unsigned int i = 0; i < ARRAY_SIZE(sigs); i++) {
		const u8 *t = find_table(buf, sigs[i]);
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.dat", dir, sigs[i]);
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(t, 1, get32(t + 4), f), get32(t + 4));
		fclose(f);
		snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat >%s.log 2>&1 && ! grep -qi 'error' %s.dsl",
			 dir, sigs[i], sigs[i], sigs[i]);
		assert_int_equal(system(cmd), 0);
	}
	snprintf(cmd, sizeof(cmd), "grep -q 'PNP0A08' %s/DSDT.dsl && grep -q '_S5_' %s/DSDT.dsl", dir, dir);
	assert_int_equal(system(cmd), 0);
	/*
	 * The _PRT as iasl reads it, flattened to one line without comments:
	 * 124 entries; slot 1 INTA -> GSI 17, slot 2 INTB -> 19, slot 31
	 * INTD -> 18.
	 */
	snprintf(cmd, sizeof(cmd), "sed 's://.*$::' %s/DSDT.dsl | tr -d ' \\t\\n' > %s/flat", dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd),
		 "grep -q 'Name(_PRT,Package(0x7C){Package(0x04){0x0001FFFF,Zero,Zero,0x11}' %s/flat && "
		 "grep -q 'Package(0x04){0x0002FFFF,One,Zero,0x13}' %s/flat && "
		 "grep -q 'Package(0x04){0x001FFFFF,0x03,Zero,0x12}}' %s/flat",
		 dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_table_has_a_valid_checksum),
		cmocka_unit_test(madt_lists_one_enabled_lapic_per_cpu),
		cmocka_unit_test(dsdt_has_the_pci_root_bridge_and_s5),
		cmocka_unit_test(pci_intx_gsis_rotate_over_ioapic_pins_16_to_23),
		cmocka_unit_test(dsdt_routes_every_slot_and_pin_to_its_gsi),
		cmocka_unit_test(mcfg_points_at_the_planned_ecam),
		cmocka_unit_test(aml_package_lengths_use_every_encoding),
		cmocka_unit_test(tables_that_do_not_fit_are_an_error),
		cmocka_unit_test(iasl_disassembles_the_tables_without_errors),
	};

	return cmocka_run_group_tests_name("x86 acpi", tests, NULL, NULL);
}
