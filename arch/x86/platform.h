/* The PC board's own state and the functions its files share. */
#ifndef ARCH_X86_PLATFORM_H
#define ARCH_X86_PLATFORM_H

#include "arch/board.h"

struct kvm_cpuid2;

struct x86_acpi_pm {
	pthread_mutex_t lock;
	struct vm *vm;
	u16 status, enable, control;
};

/* The PC the guest sees: board->priv points here. */
struct x86_platform {
	struct kvm_cpuid2 *cpuid; /* what KVM supports; edited per vCPU */
	u64 kernel_entry;
	struct x86_acpi_pm pm;
};

/* The ACPI fixed-hardware PM registers: power-off and reset (acpi_pm.c). */
int x86_acpi_pm_init(struct vm *vm, struct x86_acpi_pm *pm);

/* vcpu.c */
int x86_vcpu_init(struct board *b, struct vcpu *vcpu);
void x86_vcpu_dump(struct board *b, struct vcpu *vcpu);
void x86_vcpu_report(struct board *b, struct vcpu *vcpu);

#endif
