#ifndef ARCH_X86_ACPI_H
#define ARCH_X86_ACPI_H

#include "core/planner.h"

/* The fixed-hardware ACPI registers our PM device implements (I/O ports). */
#define ACPI_PM1A_EVT_PORT 0x600 /* PM1 status + enable, 2 bytes each */
#define ACPI_PM1A_CNT_PORT 0x604 /* PM1 control, 2 bytes */
#define ACPI_RESET_PORT 0x608    /* FADT reset register, 1 byte */
#define ACPI_PM_PORTS_LEN 0x10
#define ACPI_RESET_VALUE 0x06
#define ACPI_SLP_TYP_S5 5
#define ACPI_SCI_IRQ 9

/*
 * Writes RSDP, XSDT, FADT, FACS, DSDT, MADT and MCFG into buf, which the
 * guest sees at guest address base. Returns bytes used or -E2BIG.
 */
int x86_build_acpi(u8 *buf, size_t cap, u64 base, const struct memory_plan *plan,
		   unsigned int ncpus);

#endif
