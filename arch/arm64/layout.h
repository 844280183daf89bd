/*
 * The arm64 guest platform's map policy (it is plain data, so it is built
 * into every VMM binary: `vmm plan --arch arm64` works on any host).
 *
 * Unlike QEMU's virt board (RAM at 1 GiB, devices at fixed addresses
 * below it), RAM starts at guest physical 0 where the host allows, so that
 * devices limited to 32-bit DMA have low RAM; every device window (GIC
 * distributor and redistributors, ITS, UART, ECAM, 32-bit MMIO) is placed
 * by the planner top-down below 4 GiB, around the host's holes; RAM fills
 * what is left from 0 and continues at 4 GiB; 64-bit MMIO goes above RAM.
 * With an SMMU's software-MSI window at 0x8000000 the guest sees a hole
 * in its RAM there, unless the host lets the VMM move that window
 * (PLAN_MSI_WINDOW): then it sits with the device windows below 4 GiB
 * and RAM is one bank from 0.
 */
#ifndef ARCH_ARM64_LAYOUT_H
#define ARCH_ARM64_LAYOUT_H

#include "arch/board.h"

#define ARM64_GICD_SIZE 0x10000ULL
#define ARM64_GICR_SIZE_PER_CPU 0x20000ULL /* RD_base + SGI_base frames */
#define ARM64_ITS_SIZE 0x20000ULL
#define ARM64_UART_SIZE 0x1000ULL
#define ARM64_PCI_ECAM_BUSES 16
#define ARM64_PCI_MMIO32_SIZE (256 * MiB)
#define ARM64_PCI_MMIO64_SIZE (32 * GiB)
#define ARM64_HIGH_RAM_BASE 0x100000000ULL

#define PLAN_ARM64_GICD "gic-dist"
#define PLAN_ARM64_GICR "gic-redist"
#define PLAN_ARM64_ITS "gic-its"
#define PLAN_ARM64_UART "uart"

/* What the planner places in RAM for the boot (boot_plan.c), by name. */
#define ARM64_PLACE_KERNEL "kernel"
#define ARM64_PLACE_FDT "fdt"
#define ARM64_PLACE_INITRD "initrd"

/*
 * KVM_CREATE_VM's machine type for plan on a host whose KVM offers IPA
 * spaces up to host_ipa_limit bits (0: no KVM_CAP_ARM_VM_IPA_SIZE): the
 * smallest space holding every region of the plan.
 */
unsigned long arm64_vm_type_for(const struct memory_plan *plan, unsigned int host_ipa_limit);

struct boot_images;
int arm64_place_boot(struct memory_plan *plan, const struct boot_images *img);
/* ECAM and MMIO windows have the names every board uses (arch/board.h). */

/* KVM_CREATE_VM with machine type 0 gives a 40-bit IPA space. */
#define ARM64_DEFAULT_IPA_BITS 40

#endif
