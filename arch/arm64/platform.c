/*
 * The arm64 board: GICv3 + ITS with the wired interrupts routed to SPIs,
 * the 16550 UART (MMIO), and loading an Image with its device tree.
 */
#include "platform.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fdt.h"
#include "layout.h"

static void uart_set_irq(void *opaque, int level)
{
	struct vm *vm = opaque;

	/* A wired SPI is named by its INTID (SPI number + 32). */
	kvm_irq_line(vm, (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (ARM64_UART_SPI + 32),
		     level);
}

/* GSI i drives SPI i for the wired interrupts, so irqfds can target them. */
static int setup_spi_routing(struct vm *vm)
{
	int err = 0;

	for (u32 spi = 0; spi < IRQ_ROUTING_FIRST_MSI_GSI && !err; spi++)
		err = irq_routing_add_irqchip(&vm->routing, spi, 0, spi);
	return err ? err : irq_routing_commit(&vm->routing);
}

static int arm64_init(struct board *b)
{
	struct arm64_platform *pf = calloc(1, sizeof(*pf));
	const struct plan_region *uart = plan_find(b->plan, PLAN_ARM64_UART);
	int err;

	if (!pf)
		return -ENOMEM;
	pf->gic_fd = pf->its_fd = -1;
	b->priv = pf;
	err = arm64_gic_create(b->vm, b->plan, pf);
	if (!err)
		err = setup_spi_routing(b->vm);
	if (!err)
		err = board_add_uart(b, &b->vm->mmio, uart->start, uart_set_irq, b->vm);
	b->pci.intx_base = ARM64_PCI_INTX_SPI_BASE;
	b->pci.intx_count = ARM64_PCI_INTX_LINES;
	return err;
}

static int arm64_vcpus_created(struct board *b)
{
	return arm64_gic_init(b->priv);
}

/* KVM_CAP_ARM_VM_IPA_SIZE: the largest IPA space a VM may have; 0 without the capability. */
static unsigned int host_ipa_limit(void)
{
	static int cached = -1;
	int fd;

	if (cached < 0) {
		fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		cached = fd < 0 ? 0 : ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);
		if (cached < 0)
			cached = 0;
		if (fd >= 0)
			close(fd);
	}
	return (unsigned int)cached;
}

static unsigned int arm64_host_addr_bits(void)
{
	unsigned int limit = host_ipa_limit();

	/* Without the capability a VM gets the 40-bit default. */
	return limit ? limit : ARM64_DEFAULT_IPA_BITS;
}

static unsigned long arm64_vm_type(const struct memory_plan *plan)
{
	return arm64_vm_type_for(plan, host_ipa_limit());
}

static void arm64_destroy(struct board *b)
{
	struct arm64_platform *pf = b->priv;

	if (!pf)
		return;
	if (pf->its_fd >= 0)
		close(pf->its_fd);
	if (pf->gic_fd >= 0)
		close(pf->gic_fd);
	free(pf);
	b->priv = NULL;
}

extern const struct board_layout arm64_layout;

const struct board_ops board_native = {
	.layout = &arm64_layout,
	.host_addr_bits = arm64_host_addr_bits,
	.vm_type = arm64_vm_type,
	.init = arm64_init,
	.vcpus_created = arm64_vcpus_created,
	.load = arm64_load_guest,
	.vcpu_init = arm64_vcpu_init,
	.vcpu_dump = arm64_vcpu_dump,
	.destroy = arm64_destroy,
};
