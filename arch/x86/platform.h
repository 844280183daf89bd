#ifndef ARCH_X86_PLATFORM_H
#define ARCH_X86_PLATFORM_H

#include "devices/pci.h"
#include "vmm/vm.h"

struct kvm_cpuid2;
struct serial_8250;

struct x86_acpi_pm {
	pthread_mutex_t lock;
	struct vm *vm;
	u16 status, enable, control;
};

/* The PC the guest sees: vm->arch points here. */
struct x86_platform {
	struct kvm_cpuid2 *cpuid; /* what KVM supports; edited per vCPU */
	u64 kernel_entry;
	struct serial_8250 *uart;
	struct pci_bus pci;
	struct x86_acpi_pm pm;
};

int x86_write_boot_tables(struct vm *vm);

/* The ACPI fixed-hardware PM registers: power-off and reset (acpi_pm.c). */
int x86_acpi_pm_init(struct vm *vm, struct x86_acpi_pm *pm);

#endif
