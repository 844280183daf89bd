#ifndef ARCH_X86_E820_H
#define ARCH_X86_E820_H

#include <asm/bootparam.h>

#include "core/planner.h"

/*
 * The BIOS memory map for the guest, derived from the plan: RAM banks are
 * usable, everything marked firmware_reserved is reserved, overlapping
 * reserved ranges are merged, and MMIO windows are left out (they are PCI
 * host bridge windows, described in ACPI). Returns the entry count, or
 * -E2BIG when the table would exceed max entries.
 */
int x86_build_e820(const struct memory_plan *plan, struct boot_e820_entry *table,
		   unsigned int max);

#endif
