/*
 * The x86 PC board: in-kernel PIC/IOAPIC/LAPIC and PIT with the legacy
 * interrupt routing, the 8250 at COM1, the PCI configuration ports, ACPI
 * power management, and loading a bzImage with its firmware tables.
 */
#include "platform.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "acpi.h"
#include "boot.h"
#include "cpuid.h"
#include "core/log.h"
#include "layout.h"

#define COM1_PORT 0x3f8
#define COM1_IRQ 4
#define PCI_CAM_PORT 0xcf8
/* Pages KVM needs for the VMX real-mode TSS and identity map (layout.h). */
#define KVM_IDENTITY_MAP_ADDR X86_KVM_PRIVATE_BASE
#define KVM_TSS_ADDR (X86_KVM_PRIVATE_BASE + 0x1000)

static void uart_set_irq(void *opaque, int level)
{
	kvm_irq_line(opaque, COM1_IRQ, level);
}

/*
 * GSI n drives PIC pin n and IOAPIC pin n, except that the PIT (GSI 0)
 * arrives on IOAPIC pin 2, matching the MADT interrupt source override.
 */
static int setup_legacy_routing(struct vm *vm)
{
	int err = 0;

	for (u32 gsi = 0; gsi < 24 && !err; gsi++) {
		if (gsi < 16 && gsi != 2)
			err = irq_routing_add_irqchip(&vm->routing, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
								     KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
		if (!err && gsi != 2)
			err = irq_routing_add_irqchip(&vm->routing, gsi, KVM_IRQCHIP_IOAPIC, gsi ? gsi : 2);
	}
	return err ? err : irq_routing_commit(&vm->routing);
}

static int x86_init(struct board *b)
{
	struct x86_platform *pf = calloc(1, sizeof(*pf));
	struct kvm_pit_config pit = { .flags = 0 };
	u64 identity = KVM_IDENTITY_MAP_ADDR;
	struct vm *vm = b->vm;
	int err;

	if (!pf)
		return -ENOMEM;
	b->priv = pf;
	pf->cpuid = x86_supported_cpuid(vm->kvm_fd);
	if (!pf->cpuid)
		return -EINVAL;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0) {
		pr_err("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		pr_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		pr_err("KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}
	err = setup_legacy_routing(vm);
	if (!err)
		err = board_add_uart(b, &vm->pio, COM1_PORT, uart_set_irq, vm);
	b->pci.intx_base = X86_PCI_INTX_GSI_BASE;
	b->pci.intx_count = X86_PCI_INTX_GSI_COUNT;
	if (!err)
		err = io_bus_register(&vm->pio, PCI_CAM_PORT, 8, pci_cam_io, &b->pci, "PCI CAM");
	if (!err)
		err = x86_acpi_pm_init(vm, &pf->pm);
	return err;
}

static int x86_load(struct board *b, const struct boot_config *boot,
		    const struct boot_images *img)
{
	struct x86_platform *pf = b->priv;
	u8 *acpi = guest_mem_ptr(&b->vm->mem, X86_ACPI_BASE, X86_ACPI_SIZE);
	int err;

	err = x86_write_boot_tables(b->vm, b->plan);
	if (err)
		return err;
	if (!acpi || x86_build_acpi(acpi, X86_ACPI_SIZE, X86_ACPI_BASE, b->plan, b->ncpus) < 0) {
		pr_err("ACPI tables do not fit at 0x%llx", X86_ACPI_BASE);
		return -E2BIG;
	}
	return x86_load_kernel(b->vm, b->plan, boot, img, &pf->kernel_entry);
}

static unsigned long x86_vm_type(const struct memory_plan *plan)
{
	(void)plan;
	return 0;
}

static int x86_vcpus_created(struct board *b)
{
	(void)b;
	return 0;
}

static void x86_destroy(struct board *b)
{
	struct x86_platform *pf = b->priv;

	if (!pf)
		return;
	free(pf->cpuid);
	free(pf);
	b->priv = NULL;
}

extern const struct board_layout x86_layout;

const struct board_ops board_native = {
	.layout = &x86_layout,
	.host_addr_bits = x86_host_phys_bits,
	.vm_type = x86_vm_type,
	.init = x86_init,
	.vcpus_created = x86_vcpus_created,
	.load = x86_load,
	.vcpu_init = x86_vcpu_init,
	.vcpu_dump = x86_vcpu_dump,
	.vcpu_report = x86_vcpu_report,
	.destroy = x86_destroy,
};
