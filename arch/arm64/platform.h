#ifndef ARCH_ARM64_PLATFORM_H
#define ARCH_ARM64_PLATFORM_H

#include "devices/pci.h"
#include "vmm/vm.h"

struct serial_8250;

/* The arm64 board the guest sees: vm->arch points here. */
struct arm64_platform {
	int gic_fd, its_fd;
	struct serial_8250 *uart;
	struct pci_bus pci;
	u64 kernel_entry;
	u64 fdt_addr;
};

int arm64_gic_create(struct vm *vm, struct arm64_platform *pf);
int arm64_gic_init(struct arm64_platform *pf);
int arm64_load_guest(struct vm *vm, struct arm64_platform *pf);

#endif
