/*
 * The in-kernel GICv3 and ITS (Documentation/virt/kvm/devices/arm-vgic-v3.rst
 * and arm-vgic-its.rst): created and placed before the vCPUs, initialised
 * after them. Once the ITS exists, KVM MSI routes carry a DeviceID.
 */
#include "platform.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "layout.h"
#include "core/log.h"

/* SGIs + PPIs (32) + 64 SPIs, more than the platform wires. */
#define GIC_NR_IRQS 96

static int set_attr(int fd, u32 group, u64 attr, void *value)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (u64)(unsigned long)value };

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

static int create_device(struct vm *vm, u32 type, const char *what)
{
	struct kvm_create_device dev = { .type = type };

	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &dev) < 0) {
		pr_err("cannot create the in-kernel %s: %s (the host needs a GICv3 with KVM vGIC support)",
		       what, strerror(errno));
		return -errno;
	}
	return (int)dev.fd;
}

int arm64_gic_create(struct vm *vm, const struct memory_plan *plan, struct arm64_platform *pf)
{
	u64 dist = plan_find(plan, PLAN_ARM64_GICD)->start;
	u64 redist = plan_find(plan, PLAN_ARM64_GICR)->start;
	u64 its = plan_find(plan, PLAN_ARM64_ITS)->start;
	u32 nr_irqs = GIC_NR_IRQS;
	int err;

	pf->gic_fd = create_device(vm, KVM_DEV_TYPE_ARM_VGIC_V3, "GICv3");
	if (pf->gic_fd < 0)
		return pf->gic_fd;
	err = set_attr(pf->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
	if (!err)
		err = set_attr(pf->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST,
			       &redist);
	if (!err)
		err = set_attr(pf->gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
	if (err) {
		pr_err("cannot configure the GICv3: %s", strerror(-err));
		return err;
	}
	pf->its_fd = create_device(vm, KVM_DEV_TYPE_ARM_VGIC_ITS, "GICv3 ITS");
	if (pf->its_fd < 0)
		return pf->its_fd;
	err = set_attr(pf->its_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, &its);
	if (err) {
		pr_err("cannot place the ITS at 0x%llx: %s", (unsigned long long)its, strerror(-err));
		return err;
	}
	/* KVM_CAP_MSI_DEVID reads 1 on the VM only once an ITS exists. */
	vm->routing.msi_devid = kvm_check_extension(vm, KVM_CAP_MSI_DEVID) > 0;
	if (!vm->routing.msi_devid)
		pr_warn("KVM does not take DeviceIDs in MSI routes: MSIs through the ITS will fail");
	return 0;
}

int arm64_gic_init(struct arm64_platform *pf)
{
	int err = set_attr(pf->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);

	if (!err)
		err = set_attr(pf->its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (err)
		pr_err("cannot initialise the GICv3/ITS: %s", strerror(-err));
	return err;
}
