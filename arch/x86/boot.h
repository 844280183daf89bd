#ifndef ARCH_X86_BOOT_H
#define ARCH_X86_BOOT_H

#include "arch/board.h"
#include "core/vm.h"

/*
 * Loads the bzImage and initrd into guest RAM, writes the command line and
 * the zero page (boot_params with the e820 map and the RSDP address), and
 * returns the 64-bit entry point.
 */
int x86_load_kernel(struct vm *vm, const struct memory_plan *plan, const struct boot_config *boot,
		    u64 *entry);

/* Identity map of the first 4 GiB with 2 MiB pages, and the GDT (vcpu.c). */
int x86_write_boot_tables(struct vm *vm);

/* Where the kernel goes: its preferred address if free, else the lowest aligned fit. */
int x86_choose_kernel_address(const struct memory_plan *plan, u64 pref, u64 align,
			      u64 size, u64 *out);

/* Highest page-aligned spot for the initrd below max_end, clear of [avoid, +avoid_len). */
int x86_choose_initrd_address(const struct memory_plan *plan, u64 size, u64 max_end,
			      u64 avoid, u64 avoid_len, u64 *out);

#endif
