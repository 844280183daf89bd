/*
 * CPUID for each vCPU: what KVM supports, plus a topology that matches the
 * MADT: one package, -c N cores, one thread per core, APIC ID = index.
 */
#include "cpuid.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/log.h"

#define CPUID_HYPERVISOR_BIT (1u << 31)
#define CPUID_TSC_DEADLINE_BIT (1u << 24)
#define CPUID_HTT_BIT (1u << 28)
#define CPUID_CMP_LEGACY_BIT (1u << 1)
#define TOPO_LEVEL_SMT 1
#define TOPO_LEVEL_CORE 2

/*
 * The in-kernel LAPIC emulates the TSC-deadline timer, but KVM leaves the
 * bit out of its supported set (api.rst, "Known KVM API problems"). A
 * guest without it calibrates its LAPIC timer against the PIT at boot, a
 * 100 ms busy-wait (far longer nested); with it, Linux skips that.
 */
void x86_cpuid_add_tsc_deadline(struct kvm_cpuid2 *cpuid, bool kvm_emulates_it)
{
	for (unsigned int i = 0; kvm_emulates_it && i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1)
			cpuid->entries[i].ecx |= CPUID_TSC_DEADLINE_BIT;
}

struct kvm_cpuid2 *x86_supported_cpuid(int kvm_fd)
{
	for (unsigned int n = 128; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));

		if (!cpuid)
			return NULL;
		cpuid->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0) {
			x86_cpuid_add_tsc_deadline(cpuid,
				ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0);
			return cpuid;
		}
		free(cpuid);
		if (errno != E2BIG) {
			pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			return NULL;
		}
	}
	return NULL;
}

static unsigned int bits_for(unsigned int count)
{
	unsigned int bits = 0;

	while ((1u << bits) < count)
		bits++;
	return bits;
}

void x86_cpuid_for_vcpu(struct kvm_cpuid2 *cpuid, unsigned int index, unsigned int ncpus)
{
	unsigned int core_bits = bits_for(ncpus);

	for (unsigned int i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffff) | (index << 24) | (ncpus << 16);
			e->ecx |= CPUID_HYPERVISOR_BIT;
			if (ncpus > 1)
				e->edx |= CPUID_HTT_BIT;
			else
				e->edx &= ~CPUID_HTT_BIT;
			break;
		case 4:
			/* EAX[31:26]: cores per package - 1; caches are private but the last level. */
			e->eax &= 0x3fff;
			e->eax |= (ncpus - 1) << 26;
			if (((e->eax >> 5) & 7) >= 3)
				e->eax |= (ncpus - 1) << 14;
			break;
		case 0xb:
		case 0x1f:
			e->edx = index;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = TOPO_LEVEL_SMT << 8;
			} else if (e->index == 1) {
				e->eax = core_bits;
				e->ebx = ncpus;
				e->ecx = (TOPO_LEVEL_CORE << 8) | 1;
			} else {
				e->eax = 0;
				e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0x80000001:
			if (ncpus > 1)
				e->ecx |= CPUID_CMP_LEGACY_BIT;
			break;
		case 0x80000008:
			/* AMD: NC = cores - 1, ApicIdCoreIdSize in bits 15:12. */
			e->ecx = (e->ecx & ~0xf0ffu) | (core_bits << 12) | (ncpus - 1);
			break;
		case 0x8000001e:
			e->eax = index;
			e->ebx = index & 0xff; /* core ID; one thread per core */
			e->ecx = 0;
			break;
		default:
			break;
		}
	}
}
