/*
 * What the main thread does once the vCPUs run: the event loop
 * (vmm/event_loop.c) and the callbacks registered on it — the stop
 * eventfd, signalfd and --timeout timer (vmm/vm.c), console input
 * (vmm/console.c), virtio queue kicks and back-ends (virtio-rng,
 * virtio-console, virtio-blk's io_uring completions, virtio-net's tap)
 * — and, after the guest stops, the teardown at the end of vm_run():
 * joining the vCPU threads, restoring the terminal, and undoing every
 * device, VFIO and KVM object. Nothing that builds a VM is here.
 */
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

static const struct sandbox_rule sandbox_policy_main_rules[] = {
	/*
	 * The loop itself: epoll_wait on x86-64, epoll_pwait where glibc
	 * uses it (arm64 has no epoll_wait).
	 */
	SB_ALLOW(epoll_wait),
	SB_ALLOW(epoll_pwait),

	/*
	 * Reading what woke the loop: the stop eventfd, the signalfd, the
	 * timer, console input from stdin, virtio kick eventfds
	 * (virtio_pci.c on_kick), virtio-blk's completion eventfd,
	 * virtio-net's resume eventfd and tap frames (net.c read into the
	 * bounce buffer). readv: virtio-net reads a frame straight into the
	 * guest's buffers (its writev to the tap is in the common policy).
	 */
	SB_ALLOW(read),
	SB_ALLOW(readv),

	/* virtio-rng fills the guest's buffers (devices/virtio/rng.c). */
	SB_ALLOW(getrandom),

	/*
	 * Console input reaches the UART on this thread, which raises its
	 * interrupt line (serial_8250_receive -> kvm_irq_line).
	 */
	SB_IOCTL(KVM_IRQ_LINE),

	/*
	 * Stopping the vCPUs: pthread_kill with the kick signal
	 * (vmm/vcpu.c vcpus_kick_and_join), to threads of this process only.
	 */
	{ .nr = SCMP_SYS(tgkill), .nargs = 1,
	  .args = { SB_ARG_EQ(2, SANDBOX_VCPU_KICK_SIGNAL) }, .arg0_self_pid = true },

	/*
	 * The terminal back to how it was (vmm/console.c console_restore:
	 * tcsetattr(TCSAFLUSH) is TCSETSF), on stdin only.
	 */
	SB_ALLOW_IF(ioctl, SB_ARG_EQ(0, STDIN_FILENO), SB_IOCTL_ARG(TCSETSF)),

	/*
	 * Teardown, device by device (vm_run after the loop):
	 *  - virtio_devices_destroy: ioeventfds deassigned
	 *    (virtio_pci_remove), MSI-X irqfds deassigned (msix_destroy ->
	 *    msix_reset -> update_vector), io_uring drained (blk_drain,
	 *    common policy) and exited (munmap, close);
	 *  - vfio_teardown: interrupts off (vfio_irq_release: SET_IRQS,
	 *    KVM_IRQFD deassign), BAR memslots deleted and BARs unmapped
	 *    (vfio_bars_release), the device reset for the host
	 *    (vfio_pci_dev_close), guest RAM unmapped from the IOMMU, groups
	 *    detached (vfio/container.c container_dma_unmap,
	 *    container_destroy);
	 *  - vcpus_destroy, guest_mem_free: munmap (common policy) and close.
	 */
	SB_IOCTL(KVM_IRQFD),
	SB_IOCTL(KVM_IOEVENTFD),
	SB_IOCTL(KVM_SET_USER_MEMORY_REGION),
	SB_IOCTL(VFIO_DEVICE_SET_IRQS),
	SB_IOCTL(VFIO_DEVICE_RESET),
	SB_IOCTL(VFIO_IOMMU_UNMAP_DMA),
	SB_IOCTL(VFIO_GROUP_UNSET_CONTAINER),
	SB_ALLOW(close),
};

SB_POLICY(sandbox_policy_main, "main");
