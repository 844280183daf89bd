#ifndef ARCH_X86_CPUID_H
#define ARCH_X86_CPUID_H

#include <stdbool.h>

struct kvm_cpuid2;

/* Sets CPUID.1:ECX.TSC_DEADLINE when the in-kernel LAPIC emulates it. */
void x86_cpuid_add_tsc_deadline(struct kvm_cpuid2 *cpuid, bool kvm_emulates_it);

/* KVM_GET_SUPPORTED_CPUID, grown until it fits; NULL on error. */
struct kvm_cpuid2 *x86_supported_cpuid(int kvm_fd);

/* Edits a copy of the supported set for vCPU index of ncpus. */
void x86_cpuid_for_vcpu(struct kvm_cpuid2 *cpuid, unsigned int index, unsigned int ncpus);

#endif
