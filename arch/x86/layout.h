/*
 * The x86-64 guest platform: architectural addresses that never move, and
 * the request handed to the memory planner for everything that does.
 */
#ifndef ARCH_X86_LAYOUT_H
#define ARCH_X86_LAYOUT_H

#include "arch/board.h"

/* Fixed by the architecture or by decades of PC convention. */
#define X86_LEGACY_HOLE_START 0xa0000ULL  /* VGA + option ROM + BIOS area */
#define X86_LEGACY_HOLE_END 0x100000ULL
#define X86_IOAPIC_BASE 0xfec00000ULL
#define X86_LAPIC_BASE 0xfee00000ULL
#define X86_MSI_WINDOW_SIZE 0x100000ULL   /* 0xfee00000-0xfeefffff */
#define X86_KVM_PRIVATE_BASE 0xfffbc000ULL /* identity map page + 3 TSS pages */
#define X86_KVM_PRIVATE_SIZE 0x4000ULL
#define X86_HIGH_RAM_BASE 0x100000000ULL

/*
 * Boot data the planner places in RAM (boot_plan.c), by name. The page
 * tables are a PML4, a PDPT and four page directories: 4 GiB of 2 MiB pages.
 */
#define X86_PLACE_ZERO_PAGE "zero-page"
#define X86_PLACE_CMDLINE "cmdline"
#define X86_PLACE_GDT "gdt"
#define X86_PLACE_PAGE_TABLES "page-tables"
#define X86_PLACE_TRAMPOLINE "trampoline"
#define X86_PLACE_KERNEL "kernel"
#define X86_PLACE_INITRD "initrd"
#define X86_BOOT_CMDLINE_MAX 0x1000ULL
#define X86_BOOT_PAGE_TABLES_SIZE 0x6000ULL
/* ACPI tables live in the BIOS area where the RSDP scan looks. */
#define X86_ACPI_BASE 0xe0000ULL
#define X86_ACPI_SIZE 0x20000ULL

/* PCI: a single segment; an ECAM window for 16 buses is plenty for a small VMM. */
#define X86_PCI_ECAM_BUSES 16
/*
 * Buses the ACPI tables declare (MCFG, the root bridge's _CRS): devices
 * sit on bus 0 only (devices/pci.c). Linux looks for peer host bridges on
 * every declared bus at boot (pcibios_fixup_peer_bridges: 32 reads of
 * configuration space per bus, each a VM exit to the VMM), which cost a
 * nested guest about 0.2 s for the 15 empty ones.
 */
#define X86_PCI_BUSES 1
#define X86_PCI_MMIO32_SIZE (512 * MiB)
#define X86_PCI_MMIO64_SIZE (32 * GiB)

/*
 * PCI INTx: slot S pin P (0 = INTA) raises GSI 16 + (S + P) % 8, i.e.
 * IOAPIC pins 16-23, which no ISA device uses. Rotating by slot spreads
 * devices that only use INTA over all eight lines, as the swizzle on real
 * boards does. The DSDT's _PRT gives the guest these numbers in the "GSI
 * directly" form (ACPI 6.5, 6.2.13), and such entries are level-triggered,
 * active-low by definition: the guest programs the IOAPIC pins that way,
 * and a device model must hold the line asserted (KVM_IRQ_LINE level 1;
 * KVM's IOAPIC applies no polarity) until the guest has serviced it.
 */
#define X86_PCI_INTX_GSI_BASE 16
#define X86_PCI_INTX_GSI_COUNT 8

unsigned int x86_pci_intx_gsi(unsigned int slot, unsigned int pin);

/*
 * Places the boot data, and the kernel and initrd of img (if any), in the
 * plan's RAM: the layout's place_boot (boot_plan.c).
 */
int x86_place_boot(struct memory_plan *plan, const struct boot_images *img);

/* Guest physical address width the host CPU and KVM can back. */
unsigned int x86_host_phys_bits(void);

/*
 * The guest map for ram_size bytes around the given holes, for a CPU of
 * phys_bits (board_plan() is the general form, with an IOVA limit).
 */
int x86_plan_memory(u64 ram_size, unsigned int phys_bits,
		    const struct plan_forbidden *forbidden, unsigned int nforbidden,
		    struct memory_plan *plan);

#endif
