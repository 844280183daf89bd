/*
 * ACPI tables for the x86 guest (ACPI 6.5). Linux uses them for SMP (MADT),
 * the PCI host bridge, its windows and INTx routing (DSDT), ECAM (MCFG),
 * and power-off and reset (FADT PM1 control with \_S5, and the reset
 * register).
 */
#include "acpi.h"

#include <errno.h>
#include <string.h>

#include "aml.h"
#include "layout.h"

#define OEM_ID "VMMVMM"
#define OEM_TABLE_ID "VMMGUEST"

struct table_writer {
	u8 *buf;
	size_t cap, len;
	u64 base;
	bool overflow;
};

static void le(u8 *p, u64 v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (u8)(v >> (8 * i));
}

static u8 checksum(const u8 *p, size_t len)
{
	u8 sum = 0;

	while (len--)
		sum += *p++;
	return (u8)-sum;
}

/* Reserves len zeroed bytes at 16-byte alignment; returns the offset. */
static size_t reserve(struct table_writer *w, size_t len)
{
	size_t at = ALIGN_UP(w->len, 16);

	if (at + len > w->cap) {
		w->overflow = true;
		return 0;
	}
	memset(w->buf + at, 0, len);
	w->len = at + len;
	return at;
}

/* The 36-byte header every description table starts with. */
static void header(u8 *t, const char *sig, u32 len, u8 revision)
{
	memcpy(t, sig, 4);
	le(t + 4, len, 4);
	t[8] = revision;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	le(t + 24, 1, 4);             /* OEM revision */
	memcpy(t + 28, "VMM ", 4);    /* creator ID */
	le(t + 32, 1, 4);             /* creator revision */
}

static void finish(u8 *t, u32 len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* Generic Address Structure for a system I/O register. */
static void gas_io(u8 *p, u16 port, u8 bits)
{
	p[0] = 1;                     /* system I/O space */
	p[1] = bits;
	p[2] = 0;
	p[3] = bits == 8 ? 1 : bits == 16 ? 2 : 3;
	le(p + 4, port, 8);
}

/*
 * _PRT of the root bus in the "GSI directly" form (ACPI 6.5, 6.2.13):
 * Source is the integer 0 and SourceIndex the GSI, so no link devices and
 * no _PIC method are needed. Such interrupts are level-triggered and
 * active-low. Slot 0 is the host bridge, which raises no INTx.
 */
static void build_prt(struct aml *a)
{
	aml_name(a, "_PRT");
	aml_package(a, 31 * 4);
	for (unsigned int slot = 1; slot < 32; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			aml_package(a, 4);
			aml_integer(a, (slot << 16) | 0xffff); /* any function of the slot */
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, x86_pci_intx_gsi(slot, pin));
			aml_close(a);
		}
	}
	aml_close(a);
}

static size_t build_dsdt(struct table_writer *w, const struct memory_plan *plan)
{
	const struct plan_region *mmio32 = plan_find(plan, PLAN_PCI_MMIO32);
	const struct plan_region *mmio64 = plan_find(plan, PLAN_PCI_MMIO64);
	size_t at = reserve(w, 0);
	struct aml a;

	if (w->overflow || at + 36 >= w->cap) {
		w->overflow = true;
		return 0;
	}
	aml_init(&a, w->buf + at + 36, w->cap - at - 36);

	aml_scope(&a, "\\_SB_");
	aml_device(&a, "PCI0");
	aml_name(&a, "_HID");
	aml_eisaid(&a, "PNP0A08");   /* PCI Express root bridge */
	aml_name(&a, "_CID");
	aml_eisaid(&a, "PNP0A03");   /* compatible with a PCI root bridge */
	aml_name(&a, "_SEG");
	aml_integer(&a, 0);
	aml_name(&a, "_BBN");
	aml_integer(&a, 0);
	aml_name(&a, "_UID");
	aml_integer(&a, 0);
	aml_name(&a, "_CRS");
	aml_resources(&a);
	aml_res_bus_numbers(&a, 0, X86_PCI_BUSES - 1);
	aml_res_io_fixed(&a, 0xcf8, 8);
	aml_res_io_window(&a, 0x0000, 0x0cf7);
	aml_res_io_window(&a, 0x0d00, 0xffff);
	if (mmio32)
		aml_res_mem32_window(&a, (u32)mmio32->start, (u32)(mmio32->start + mmio32->size - 1));
	if (mmio64)
		aml_res_mem64_window(&a, mmio64->start, mmio64->start + mmio64->size - 1);
	aml_resources_end(&a);
	build_prt(&a);
	aml_close(&a); /* PCI0 */
	aml_close(&a); /* \_SB */

	/* \_S5: the sleep type value written to PM1 control to power off. */
	aml_name(&a, "\\_S5_");
	aml_package(&a, 4);
	aml_integer(&a, ACPI_SLP_TYP_S5);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a);

	if (a.overflow || a.depth) {
		w->overflow = true;
		return 0;
	}
	/* Claim what the AML wrote in place (reserve() would zero it). */
	w->len = at + 36 + a.len;
	memset(w->buf + at, 0, 36);
	header(w->buf + at, "DSDT", (u32)(36 + a.len), 2);
	finish(w->buf + at, (u32)(36 + a.len));
	return at;
}

static size_t build_facs(struct table_writer *w)
{
	size_t at = reserve(w, 64);

	if (w->overflow)
		return 0;
	memcpy(w->buf + at, "FACS", 4);
	le(w->buf + at + 4, 64, 4);
	w->buf[at + 32] = 2;          /* version */
	return at;
}

static size_t build_fadt(struct table_writer *w, size_t dsdt, size_t facs)
{
	const u32 len = 276;
	size_t at = reserve(w, len);
	u8 *t = w->buf + at;

	if (w->overflow)
		return 0;
	header(t, "FACP", len, 6);
	le(t + 36, w->base + facs, 4);
	le(t + 40, w->base + dsdt, 4);
	le(t + 46, ACPI_SCI_IRQ, 2);
	/* SMI_CMD = 0: the platform is always in ACPI mode. */
	le(t + 56, ACPI_PM1A_EVT_PORT, 4);
	le(t + 64, ACPI_PM1A_CNT_PORT, 4);
	t[88] = 4;                    /* PM1_EVT_LEN */
	t[89] = 2;                    /* PM1_CNT_LEN */
	le(t + 96, 101, 2);           /* C2 not supported */
	le(t + 98, 1001, 2);          /* C3 not supported */
	/* IAPC_BOOT_ARCH: no VGA, no ASPM control, no CMOS RTC, no 8042. */
	le(t + 109, (1 << 2) | (1 << 4) | (1 << 5), 2);
	/* Flags: WBINVD, C1, power/sleep buttons absent, reset register, headless. */
	le(t + 112, (1 << 0) | (1 << 2) | (1 << 4) | (1 << 5) | (1 << 10) | (1 << 12), 4);
	gas_io(t + 116, ACPI_RESET_PORT, 8);
	t[128] = ACPI_RESET_VALUE;
	t[131] = 5;                   /* FADT minor version: ACPI 6.5 */
	le(t + 132, w->base + facs, 8);
	le(t + 140, w->base + dsdt, 8);
	gas_io(t + 148, ACPI_PM1A_EVT_PORT, 32);
	gas_io(t + 172, ACPI_PM1A_CNT_PORT, 16);
	finish(t, len);
	return at;
}

static size_t build_madt(struct table_writer *w, unsigned int ncpus)
{
	const u32 len = 44 + 8 * ncpus + 12 + 10 + 10 + 6;
	size_t at = reserve(w, len);
	u8 *t = w->buf + at, *e;

	if (w->overflow)
		return 0;
	header(t, "APIC", len, 5);
	le(t + 36, X86_LAPIC_BASE, 4);
	le(t + 40, 1, 4);             /* PCAT_COMPAT: there are 8259 PICs */
	e = t + 44;
	for (unsigned int i = 0; i < ncpus; i++, e += 8) {
		e[0] = 0;                 /* processor local APIC */
		e[1] = 8;
		e[2] = (u8)i;             /* ACPI processor UID */
		e[3] = (u8)i;             /* APIC ID = vCPU index */
		le(e + 4, 1, 4);          /* enabled */
	}
	e[0] = 1;                     /* I/O APIC, ID after the CPUs' */
	e[1] = 12;
	e[2] = (u8)ncpus;
	le(e + 4, X86_IOAPIC_BASE, 4);
	le(e + 8, 0, 4);              /* GSI base */
	e += 12;
	/* ISA IRQ 0 (PIT) arrives on IOAPIC pin 2, as on every PC. */
	e[0] = 2, e[1] = 10, e[2] = 0, e[3] = 0;
	le(e + 4, 2, 4);
	le(e + 8, 0, 2);
	e += 10;
	/* The SCI is level-triggered, active high. */
	e[0] = 2, e[1] = 10, e[2] = 0, e[3] = ACPI_SCI_IRQ;
	le(e + 4, ACPI_SCI_IRQ, 4);
	le(e + 8, 0x000d, 2);
	e += 10;
	/* LINT1 of every CPU is NMI. */
	e[0] = 4, e[1] = 6, e[2] = 0xff;
	le(e + 3, 0, 2);
	e[5] = 1;
	finish(t, len);
	return at;
}

static size_t build_mcfg(struct table_writer *w, const struct memory_plan *plan)
{
	const struct plan_region *ecam = plan_find(plan, PLAN_PCI_ECAM);
	const u32 len = 44 + 16;
	size_t at;
	u8 *t;

	if (!ecam)
		return 0;
	at = reserve(w, len);
	if (w->overflow)
		return 0;
	t = w->buf + at;
	header(t, "MCFG", len, 1);
	le(t + 44, ecam->start, 8);
	le(t + 52, 0, 2);             /* segment */
	t[54] = 0;                    /* first bus */
	t[55] = X86_PCI_BUSES - 1;
	finish(t, len);
	return at;
}

int x86_build_acpi(u8 *buf, size_t cap, u64 base, const struct memory_plan *plan,
		   unsigned int ncpus)
{
	struct table_writer w = { .buf = buf, .cap = cap, .base = base };
	size_t rsdp, xsdt, dsdt, facs, fadt, madt, mcfg;
	unsigned int nentries = 0;
	u8 *t;

	/* RSDP first: the legacy scan finds it at a 16-byte boundary from base. */
	rsdp = reserve(&w, 36);
	dsdt = build_dsdt(&w, plan);
	facs = build_facs(&w);
	fadt = build_fadt(&w, dsdt, facs);
	madt = build_madt(&w, ncpus);
	mcfg = build_mcfg(&w, plan);
	xsdt = reserve(&w, 36 + 8 * 3);
	if (w.overflow)
		return -E2BIG;

	t = buf + xsdt;
	le(t + 36 + 8 * nentries++, base + fadt, 8);
	le(t + 36 + 8 * nentries++, base + madt, 8);
	if (mcfg)
		le(t + 36 + 8 * nentries++, base + mcfg, 8);
	header(t, "XSDT", 36 + 8 * nentries, 1);
	finish(t, 36 + 8 * nentries);

	t = buf + rsdp;
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, OEM_ID, 6);
	t[15] = 2;                    /* revision: ACPI 2.0+ with XSDT */
	le(t + 20, 36, 4);
	le(t + 24, base + xsdt, 8);
	t[8] = checksum(t, 20);       /* over the ACPI 1.0 part */
	t[32] = checksum(t, 36);      /* over the whole structure */
	return (int)w.len;
}
