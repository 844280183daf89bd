/*
 * What a vCPU thread does once it runs the guest (vmm/vcpu.c
 * vcpu_thread): KVM_RUN, and the handlers its exits dispatch to through
 * the I/O buses — the UART, PCI config space (host bridge, virtio-pci,
 * passed-through functions), MSI-X tables, virtio-pci BARs, passed-
 * through BAR pages that trap, ACPI PM and the i8042 (x86). Whatever the
 * guest can make a vCPU do is here; nothing that builds a VM (no
 * KVM_CREATE_*, VFIO_GROUP_*, open, socket, exec, clone) is.
 */
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vfio.h>

#include "internal.h"

static const struct sandbox_rule sandbox_policy_vcpu_rules[] = {
	/* The guest runs inside this ioctl (vmm/vcpu.c vcpu_thread). */
	SB_IOCTL(KVM_RUN),

	/*
	 * Interrupts the guest programs. KVM_IRQ_LINE: the UART's level on
	 * every register access (devices/serial_8250.c update_irq, through
	 * kvm_irq_line; on arm64 an SPI by INTID). KVM_SET_GSI_ROUTING: an
	 * MSI-X or MSI message written by the guest becomes a route
	 * (vmm/irq_routing.c irq_routing_set_msi, from devices/msix.c and
	 * vfio/pci_irq.c). KVM_IRQFD: vectors wired and unwired on mask,
	 * unmask and enable (devices/msix.c update_vector), VFIO INTx
	 * switched off and on around MSI (vfio/pci_irq.c intx_enable,
	 * intx_disable).
	 */
	SB_IOCTL(KVM_IRQ_LINE),
	SB_IOCTL(KVM_SET_GSI_ROUTING),
	SB_IOCTL(KVM_IRQFD),

	/*
	 * The guest moves BARs. KVM_IOEVENTFD: virtio notify areas follow
	 * BAR0 and the memory enable bit (devices/virtio/virtio_pci.c
	 * update_ioeventfds). KVM_SET_USER_MEMORY_REGION: a passed-through
	 * BAR's memslots follow it (vfio/pci_bars.c map_bar, unmap_bar).
	 */
	SB_IOCTL(KVM_IOEVENTFD),
	SB_IOCTL(KVM_SET_USER_MEMORY_REGION),

	/*
	 * The guest's UART driver asks for transmit interrupts: its THR
	 * writes stop being batched, once (devices/serial_8250.c, through
	 * core/coalesced_io.c coalesced_io_set).
	 */
	SB_IOCTL(KVM_UNREGISTER_COALESCED_MMIO),

	/*
	 * Passed-through functions. VFIO_DEVICE_SET_IRQS: the MSI-X vectors
	 * the guest unmasks, MSI enable, INTx trigger and unmask
	 * (vfio/pci_irq.c set_irqs). pread64/pwrite64: config space bytes
	 * that are not emulated (vfio/pci_config.c) and BAR bytes on trapped
	 * pages beside the MSI-X table (vfio/pci_bars.c bar_trap).
	 */
	SB_IOCTL(VFIO_DEVICE_SET_IRQS),
	SB_ALLOW(pread64),
	SB_ALLOW(pwrite64),


	/*
	 * virtio-net activation, when the guest sets DRIVER_OK, hands the
	 * negotiated receive offloads to the tap (devices/virtio/tap.c
	 * tap_set_offload).
	 */
	SB_IOCTL(TUNSETOFFLOAD),

	/*
	 * State dump after a fatal exit (arch/<arch>/vcpu.c, *_vcpu_dump), and
	 * at -d the interrupt state of a vCPU that stops (x86_vcpu_report).
	 */
#if defined(__x86_64__)
	SB_IOCTL(KVM_GET_REGS),
	SB_IOCTL(KVM_GET_SREGS),
	SB_IOCTL(KVM_GET_LAPIC),
	SB_IOCTL(KVM_GET_VCPU_EVENTS),
#elif defined(__aarch64__)
	SB_IOCTL(KVM_GET_ONE_REG),
#endif
};

SB_POLICY(sandbox_policy_vcpu, "vcpu");
