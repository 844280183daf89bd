/*
 * The x86 PC platform: in-kernel PIC/IOAPIC/LAPIC and PIT, the legacy
 * interrupt routing, the 8250 console, the PCI host bridge, ACPI power
 * management, and loading the guest.
 */
#include "platform.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "acpi.h"
#include "arch/arch.h"
#include "boot.h"
#include "cpuid.h"
#include "devices/serial_8250.h"
#include "devices/virtio/devices.h"
#include "layout.h"
#include "vfio/host_regions.h"
#include "vmm/console.h"
#include "vmm/irq_routing.h"
#include "vmm/log.h"

#define COM1_PORT 0x3f8
#define COM1_IRQ 4
#define PCI_CAM_PORT 0xcf8
/* Pages KVM needs for the VMX real-mode TSS and identity map (layout.h). */
#define KVM_IDENTITY_MAP_ADDR X86_KVM_PRIVATE_BASE
#define KVM_TSS_ADDR (X86_KVM_PRIVATE_BASE + 0x1000)

int arch_plan_memory(const struct vm_config *cfg, const struct host_holes *host,
		     struct memory_plan *plan)
{
	struct x86_plan_limits limits = { .phys_bits = x86_host_phys_bits() };

	if (host && host->iova_limit) {
		limits.iova_limit = host->iova_limit;
		limits.iova_limit_label = host->iova_limit_source;
	}
	return x86_plan_memory_limited(cfg->ram_size, &limits, host ? host->holes : NULL,
				       host ? host->n : 0, plan);
}

static void uart_set_irq(void *opaque, int level)
{
	kvm_irq_line(opaque, COM1_IRQ, level);
}

static void uart_console_input(void *opaque, const u8 *data, size_t len)
{
	serial_8250_receive(opaque, data, len);
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
			err = irq_routing_add_irqchip(vm, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
								     KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
		if (!err && gsi != 2)
			err = irq_routing_add_irqchip(vm, gsi, KVM_IRQCHIP_IOAPIC, gsi ? gsi : 2);
	}
	return err ? err : irq_routing_commit(vm);
}

int arch_vm_init(struct vm *vm)
{
	struct x86_platform *pf = calloc(1, sizeof(*pf));
	struct kvm_pit_config pit = { .flags = 0 };
	const struct plan_region *ecam, *mmio32, *mmio64;
	u64 identity = KVM_IDENTITY_MAP_ADDR;
	int err;

	if (!pf)
		return -ENOMEM;
	vm->arch = pf;
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
	if (err)
		return err;

	pf->uart = serial_8250_create(uart_set_irq, vm);
	if (!pf->uart)
		return -ENOMEM;
	err = io_bus_register(&vm->pio, COM1_PORT, 8, serial_8250_io, pf->uart, "COM1");
	if (err)
		return err;
	console_set_input(uart_console_input, pf->uart);

	pci_bus_init(&pf->pci);
	vm->pci = &pf->pci;
	err = io_bus_register(&vm->pio, PCI_CAM_PORT, 8, pci_cam_io, &pf->pci, "PCI CAM");
	ecam = plan_find(&vm->plan, PLAN_PCI_ECAM);
	mmio32 = plan_find(&vm->plan, PLAN_PCI_MMIO32);
	mmio64 = plan_find(&vm->plan, PLAN_PCI_MMIO64);
	if (!err && ecam)
		err = io_bus_register(&vm->mmio, ecam->start, ecam->size, pci_ecam_io, &pf->pci,
				      "PCI ECAM");
	if (!err)
		err = pci_bus_set_windows(&pf->pci, &vm->mmio, mmio32 ? mmio32->start : 0,
					  mmio32 ? mmio32->size : 0, mmio64 ? mmio64->start : 0,
					  mmio64 ? mmio64->size : 0);
	if (!err)
		err = x86_acpi_pm_init(vm, &pf->pm);
	/* Every virtio device (each a virtio_pci_add()) is created here. */
	if (!err)
		err = virtio_devices_add(vm);
	return err;
}

int arch_load_guest(struct vm *vm)
{
	struct x86_platform *pf = vm->arch;
	u8 *acpi = guest_mem_ptr(&vm->mem, X86_ACPI_BASE, X86_ACPI_SIZE);
	int err;

	err = x86_write_boot_tables(vm);
	if (err)
		return err;
	if (!acpi || x86_build_acpi(acpi, X86_ACPI_SIZE, X86_ACPI_BASE, &vm->plan,
				    vm->nvcpus_planned) < 0) {
		pr_err("ACPI tables do not fit at 0x%llx", X86_ACPI_BASE);
		return -E2BIG;
	}
	return x86_load_kernel(vm, &pf->kernel_entry);
}

int arch_vcpus_created(struct vm *vm)
{
	(void)vm;
	return 0;
}

unsigned int arch_pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	/* IOAPIC pins 16-23 spread over slots and pins; the DSDT's _PRT says the same. */
	return 16 + ((slot + pin) % 8);
}

void arch_vm_destroy(struct vm *vm)
{
	struct x86_platform *pf = vm->arch;

	if (!pf)
		return;
	serial_8250_destroy(pf->uart);
	free(pf->cpuid);
	free(pf);
	vm->arch = NULL;
}
