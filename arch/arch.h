/*
 * What each architecture provides to the generic VMM (vmm/). One file per
 * concern under arch/<name>/ implements these.
 */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

#include "vmm/config.h"
#include "vmm/planner.h"
#include "vmm/vm.h"

#if defined(__x86_64__)
#define VMM_NATIVE_ARCH "x86_64"
#elif defined(__aarch64__)
#define VMM_NATIVE_ARCH "arm64"
#endif

struct host_holes;

/* Guest map for cfg, around the host's holes (may be NULL). Needs no /dev/kvm. */
int arch_plan_memory(const struct vm_config *cfg, const struct host_holes *host,
		     struct memory_plan *plan);

/* In-kernel interrupt controllers, timers, platform devices. Before vCPUs. */
int arch_vm_init(struct vm *vm);

/* Kernel, initrd, command line and firmware tables into guest memory. */
int arch_load_guest(struct vm *vm);

/* After every vCPU exists (arm64 initialises its vGIC here). */
int arch_vcpus_created(struct vm *vm);

/* CPUID, registers, interrupt controller state of one vCPU. */
int arch_vcpu_init(struct vm *vm, struct vcpu *vcpu);

/* Prints the vCPU state after a fatal exit. */
void arch_vcpu_dump(struct vcpu *vcpu);

void arch_vm_destroy(struct vm *vm);

/* The GSI a PCI slot's INTx pin (0 = INTA) is wired to, as the firmware says. */
unsigned int arch_pci_intx_gsi(unsigned int slot, unsigned int pin);

#endif
