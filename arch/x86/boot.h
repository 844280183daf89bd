#ifndef ARCH_X86_BOOT_H
#define ARCH_X86_BOOT_H

#include "arch/board.h"
#include "core/vm.h"

/* The kernel at its preferred address if that is free RAM, else the lowest aligned fit. */
int x86_choose_kernel_address(struct memory_plan *plan, u64 pref, u64 align, u64 size,
			      bool relocatable, u64 *out);

/* The initrd as high as fits below max_end, clear of what is placed. */
int x86_choose_initrd_address(struct memory_plan *plan, u64 size, u64 max_end, u64 *out);

/*
 * Writes the planned kernel and initrd, the command line and the zero
 * page (boot_params with the e820 map and the RSDP address); returns the
 * 64-bit entry point.
 */
int x86_load_kernel(struct vm *vm, const struct memory_plan *plan, const struct boot_config *boot,
		    const struct boot_images *img, u64 *entry);

/* The identity map of the first 4 GiB and the GDT, where the plan put them (vcpu.c). */
int x86_write_boot_tables(struct vm *vm, const struct memory_plan *plan);

#endif
