/*
 * What every VMM thread needs once set-up is over, whatever its role:
 * the C library's own needs (memory, locks, thread exit, fatal messages)
 * and the few device paths that both the vCPU threads and the main
 * thread run. Role-specific calls are in policy_vcpu.c and policy_main.c.
 */
#include <signal.h>
#include <sys/mman.h>

#include "internal.h"

static const struct sandbox_rule sandbox_policy_common_rules[] = {
	/*
	 * Memory. malloc grows the main arena with brk, a thread's arena
	 * (vCPU threads get their own) with mmap + mprotect, and serves large
	 * blocks with mmap; free returns them with munmap, and trims with
	 * madvise(MADV_DONTNEED), which is also how glibc drops an exiting
	 * thread's stack. Nothing after set-up maps executable memory, so
	 * PROT_EXEC is refused: code injected by an attacker stays data.
	 */
	SB_ALLOW(brk),
	SB_ALLOW_IF(mmap, SB_ARG_CLEAR(2, PROT_EXEC)),
	SB_ALLOW_IF(mprotect, SB_ARG_CLEAR(2, PROT_EXEC)),
	SB_ALLOW(munmap),
	SB_ALLOW_IF(madvise, SB_ARG_EQ(2, MADV_DONTNEED)),

	/* pthread mutexes and condition variables when contended, pthread_join. */
	SB_ALLOW(futex),

	/*
	 * Signals: pthread_sigmask and glibc's own masking around
	 * pthread_kill and thread exit; returning from a handler (the vCPU
	 * kick, vmm/vcpu.c); the kernel restarting a call a stop/continue
	 * interrupted.
	 */
	SB_ALLOW(rt_sigprocmask),
	SB_ALLOW(rt_sigreturn),
	SB_ALLOW(restart_syscall),

	/*
	 * Ending: a thread returning from its start routine ends in exit;
	 * the process (main returning, _exit in the SIGSYS handler) in
	 * exit_group.
	 */
	SB_ALLOW(exit),
	SB_ALLOW(exit_group),

	/*
	 * Output. write: log lines (vmm/log.c, one fprintf to unbuffered
	 * stderr), the guest console (vmm/console.c console_write, called by
	 * the UART on vCPU threads and virtio-console on the main thread),
	 * eventfd_write (vm_request_stop from any thread, virtio kicks and
	 * MSI-X signals), and the sandbox's own reports. writev: virtio-net
	 * sends a frame from the guest's buffers to the tap (main thread),
	 * and glibc writes its fatal error messages (malloc corruption,
	 * assert) with it, on any thread, so that such a crash is still
	 * reported as itself.
	 */
	SB_ALLOW(write),
	SB_ALLOW(writev),

	/*
	 * poll on x86-64, ppoll on arm64 (which has no poll): the console
	 * waits a bounded time for a full stdout before it drops the guest's
	 * output (core/console.c output_ready; UART on vCPU threads,
	 * virtio-console on the main thread), and reading an MSI-X PBA polls
	 * each masked vector's eventfd with a zero timeout (devices/msix.c
	 * vector_pending, vCPU threads).
	 */
	SB_ALLOW(poll),
	SB_ALLOW(ppoll),

	/*
	 * Eventfds are made lazily after set-up: an MSI-X vector gets its
	 * eventfd when the guest first unmasks it (devices/msix.c
	 * vector_fd_locked, from a vCPU's table write) or when a virtio
	 * back-end first signals it (msix_signal, main thread); a passed-
	 * through device's MSI eventfd when the guest enables MSI
	 * (vfio/pci_irq.c vfio_msi_config_written, vCPU thread).
	 */
	SB_ALLOW(eventfd2),

	/*
	 * epoll_ctl on the event loop: the main thread's callbacks add and
	 * remove sources (console EOF, virtio-net's tap interest), and so
	 * does virtio-net activation and reset, which run on the vCPU thread
	 * that writes the device status (devices/virtio/net.c
	 * net_update_tap_events).
	 */
	SB_ALLOW(epoll_ctl),

	/*
	 * virtio-blk's io_uring: submissions and completions on the main
	 * thread, and the drain of in-flight requests when the guest resets
	 * the device, on a vCPU thread (devices/virtio/blk_ring.c blk_drain). Not
	 * io_uring_setup: a new ring would escape every filter.
	 */
	SB_ALLOW(io_uring_enter),

	/*
	 * Time and identity, cheap and harmless: clock_gettime when the vDSO
	 * cannot serve it; getpid and gettid for glibc's pthread_kill, raise
	 * and abort.
	 */
	SB_ALLOW(clock_gettime),
	SB_ALLOW(getpid),
	SB_ALLOW(gettid),
	/* abort() (assert, malloc corruption) ends with SIGABRT to itself. */
	{ .nr = SCMP_SYS(tgkill), .nargs = 1, .args = { SB_ARG_EQ(2, SIGABRT) },
	  .arg0_self_pid = true },
};

SB_POLICY(sandbox_policy_common, "common");
