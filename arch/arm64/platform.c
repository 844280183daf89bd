/*
 * The arm64 board: GICv3 + ITS, the 16550 UART (MMIO), the ECAM PCI host
 * bridge with its windows, the virtio devices, and loading the guest.
 */
#include "platform.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/arch.h"
#include "arch/x86/layout.h" /* the shared PCI window names */
#include "devices/serial_8250.h"
#include "devices/virtio/devices.h"
#include "fdt.h"
#include "layout.h"
#include "vfio/host_regions.h"
#include "vmm/console.h"
#include "vmm/irq_routing.h"
#include "vmm/log.h"

int arch_plan_memory(const struct vm_config *cfg, const struct host_holes *host,
		     struct memory_plan *plan)
{
	/* KVM_CREATE_VM with type 0 gives a 40-bit IPA space. */
	struct arm64_plan_limits limits = { .ipa_bits = ARM64_DEFAULT_IPA_BITS };

	if (host && host->iova_limit) {
		limits.iova_limit = host->iova_limit;
		limits.iova_limit_label = host->iova_limit_source;
	}
	return arm64_plan_memory(cfg->ram_size, cfg->ncpus, &limits, host ? host->holes : NULL,
				 host ? host->n : 0, plan);
}

unsigned int arch_pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	/* GSI n is SPI n (routes below); the device tree's interrupt-map agrees. */
	return ARM64_PCI_INTX_SPI_BASE + (slot + pin) % 4;
}

static void uart_set_irq(void *opaque, int level)
{
	struct vm *vm = opaque;

	/* A wired SPI is named by its INTID (SPI number + 32). */
	kvm_irq_line(vm, (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (ARM64_UART_SPI + 32),
		     level);
}

static void uart_console_input(void *opaque, const u8 *data, size_t len)
{
	serial_8250_receive(opaque, data, len);
}

/* GSI i drives SPI i for the wired interrupts, so irqfds can target them. */
static int setup_spi_routing(struct vm *vm)
{
	int err = 0;

	for (u32 spi = 0; spi < IRQ_ROUTING_FIRST_MSI_GSI && !err; spi++)
		err = irq_routing_add_irqchip(vm, spi, 0, spi);
	return err ? err : irq_routing_commit(vm);
}

int arch_vm_init(struct vm *vm)
{
	struct arm64_platform *pf = calloc(1, sizeof(*pf));
	const struct plan_region *uart = plan_find(&vm->plan, PLAN_ARM64_UART);
	const struct plan_region *ecam = plan_find(&vm->plan, PLAN_PCI_ECAM);
	const struct plan_region *m32 = plan_find(&vm->plan, PLAN_PCI_MMIO32);
	const struct plan_region *m64 = plan_find(&vm->plan, PLAN_PCI_MMIO64);
	int err;

	if (!pf)
		return -ENOMEM;
	pf->gic_fd = pf->its_fd = -1;
	vm->arch = pf;
	err = arm64_gic_create(vm, pf);
	if (!err)
		err = setup_spi_routing(vm);
	if (err)
		return err;

	pf->uart = serial_8250_create(uart_set_irq, vm);
	if (!pf->uart)
		return -ENOMEM;
	err = io_bus_register(&vm->mmio, uart->start, 8, serial_8250_io, pf->uart, "UART");
	if (err)
		return err;
	console_set_input(uart_console_input, pf->uart);

	pci_bus_init(&pf->pci);
	vm->pci = &pf->pci;
	err = io_bus_register(&vm->mmio, ecam->start, ecam->size, pci_ecam_io, &pf->pci, "PCI ECAM");
	if (!err)
		err = pci_bus_set_windows(&pf->pci, &vm->mmio, m32->start, m32->size,
					  m64 ? m64->start : 0, m64 ? m64->size : 0);
	/* Every virtio device (each a virtio_pci_add()) is created here. */
	if (!err)
		err = virtio_devices_add(vm);
	return err;
}

int arch_vcpus_created(struct vm *vm)
{
	return arm64_gic_init(vm->arch);
}

int arch_load_guest(struct vm *vm)
{
	return arm64_load_guest(vm, vm->arch);
}

void arch_vm_destroy(struct vm *vm)
{
	struct arm64_platform *pf = vm->arch;

	if (!pf)
		return;
	serial_8250_destroy(pf->uart);
	if (pf->its_fd >= 0)
		close(pf->its_fd);
	if (pf->gic_fd >= 0)
		close(pf->gic_fd);
	free(pf);
	vm->arch = NULL;
}
