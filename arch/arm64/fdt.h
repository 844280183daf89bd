/*
 * The device tree an arm64 guest boots with, built with libfdt from the
 * memory plan: memory nodes are exactly the planner's RAM banks (so a host
 * hole is simply absent memory), and every device node's reg is the
 * planner's window. Pure: unit-tested by parsing the blob back.
 */
#ifndef ARCH_ARM64_FDT_H
#define ARCH_ARM64_FDT_H

#include <stddef.h>

#include "core/planner.h"
#include "devices/pci.h"

/* SPI numbers (GIC INTID - 32) of the platform's wired interrupts. */
#define ARM64_UART_SPI 1
#define ARM64_PCI_INTX_SPI_BASE 4 /* INTA-D of the host bridge: SPIs 4-7 */
#define ARM64_PCI_INTX_LINES 4

struct arm64_fdt_params {
	const struct memory_plan *plan;
	unsigned int ncpus;
	const char *cmdline;
	u64 initrd_start, initrd_size; /* size 0: no initrd */
};

#define ARM64_FDT_MAX_SIZE (64 * KiB)

/* Writes the blob into buf; returns 0 or a negative libfdt/errno code. */
int arm64_build_fdt(void *buf, size_t size, const struct arm64_fdt_params *p);

#endif
