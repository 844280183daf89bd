/*
 * arm64 vCPUs: the host's preferred target with PSCI 0.2, so the guest
 * starts secondaries and powers off or resets through PSCI calls that KVM
 * handles (system events reach vmm/vcpu.c). vCPU 0 enters the kernel with
 * x0 = the device tree; the others start powered off.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "platform.h"
#include "core/log.h"

#define CORE_REG(name) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
			KVM_REG_ARM_CORE_REG(name))

static int set_core_reg(struct vcpu *vcpu, u64 id, u64 value)
{
	struct kvm_one_reg reg = { .id = id, .addr = (u64)(unsigned long)&value };

	return ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg) < 0 ? -errno : 0;
}

int arm64_vcpu_init(struct board *b, struct vcpu *vcpu)
{
	struct arm64_platform *pf = b->priv;
	struct vm *vm = b->vm;
	struct kvm_vcpu_init init;
	int err;

	if (ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0) {
		pr_err("KVM_ARM_PREFERRED_TARGET: %s", strerror(errno));
		return -errno;
	}
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (vcpu->index > 0)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(vcpu->fd, KVM_ARM_VCPU_INIT, &init) < 0) {
		pr_err("vCPU %u: KVM_ARM_VCPU_INIT: %s", vcpu->index, strerror(errno));
		return -errno;
	}
	if (vcpu->index > 0)
		return 0;
	/* booting.rst: MMU off, x0 = device tree, x1-x3 = 0, enter at the Image. */
	err = set_core_reg(vcpu, CORE_REG(regs.regs[0]), pf->fdt_addr);
	if (!err)
		err = set_core_reg(vcpu, CORE_REG(regs.pc), pf->kernel_entry);
	if (err)
		pr_err("vCPU 0: cannot set its boot registers: %s", strerror(-err));
	return err;
}

void arm64_vcpu_dump(struct board *b, struct vcpu *vcpu)
{
	(void)b;
	struct kvm_one_reg reg;
	u64 pc = 0, pstate = 0;

	reg = (struct kvm_one_reg){ .id = CORE_REG(regs.pc), .addr = (u64)(unsigned long)&pc };
	ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg);
	reg = (struct kvm_one_reg){ .id = CORE_REG(regs.pstate), .addr = (u64)(unsigned long)&pstate };
	ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg);
	pr_err("vCPU %u: pc 0x%llx pstate 0x%llx", vcpu->index, (unsigned long long)pc,
	       (unsigned long long)pstate);
}
