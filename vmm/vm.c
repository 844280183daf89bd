/* The life of a VM: build it from the config, run it, tear it down. */
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "arch/arch.h"
#include "console.h"
#include "irq_routing.h"
#include "log.h"
#include "size.h"
#include "vfio/host_collect.h"
#include "vfio/vfio.h"
#include "devices/virtio/devices.h"

void vm_request_stop(struct vm *vm, int status)
{
	int expected = -1;
	u64 one = 1;

	/* The first reason to stop is the one reported. */
	atomic_compare_exchange_strong(&vm->exit_status, &expected, status);
	if (write(vm->stop_fd, &one, sizeof(one)) < 0)
		pr_warn("cannot signal the main loop: %s", strerror(errno));
}

static void on_stop_request(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	u64 count;

	(void)events;
	if (read(vm->stop_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		pr_warn("stop eventfd: %s", strerror(errno));
	event_loop_stop(&vm->loop);
}

static void on_signal(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo info;

	(void)events;
	if (read(vm->signal_fd, &info, sizeof(info)) != sizeof(info))
		return;
	pr_info("stopping the guest on signal %u", info.ssi_signo);
	vm_request_stop(vm, 128 + (int)info.ssi_signo);
}

static void on_timeout(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;

	(void)events;
	pr_info("--timeout of %u s reached: stopping the guest", vm->cfg->timeout_sec);
	vm_request_stop(vm, EXIT_TIMEOUT);
}

/* Refuses RAM beyond what the host has: MAP_NORESERVE would defer the failure to an OOM kill. */
static int check_host_memory(u64 ram_size)
{
	long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
	char want[32], have[32];

	if (pages <= 0 || page_size <= 0)
		return 0;
	if (ram_size > (u64)pages * (u64)page_size) {
		pr_err("-m %s is more than this host's memory (%s); use a smaller -m",
		       format_size(ram_size, want, sizeof(want)),
		       format_size((u64)pages * (u64)page_size, have, sizeof(have)));
		return -ENOMEM;
	}
	return 0;
}

static int setup_event_sources(struct vm *vm, int *timer_fd)
{
	sigset_t stop_signals;
	int err;

	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return -errno;
	err = event_loop_add(&vm->loop, vm->stop_fd, EPOLLIN, on_stop_request, vm);
	if (err)
		return err;

	/* Blocked in every thread (vCPU threads inherit the mask); read via signalfd. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	vm->signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->signal_fd < 0)
		return -errno;
	err = event_loop_add(&vm->loop, vm->signal_fd, EPOLLIN, on_signal, vm);
	if (err)
		return err;

	if (vm->cfg->timeout_sec) {
		struct itimerspec when = { .it_value.tv_sec = vm->cfg->timeout_sec };

		*timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (*timer_fd < 0 || timerfd_settime(*timer_fd, 0, &when, NULL) < 0)
			return -errno;
		err = event_loop_add(&vm->loop, *timer_fd, EPOLLIN, on_timeout, vm);
	}
	return err;
}

int vm_run(const struct vm_config *cfg)
{
	struct vm vm = { .cfg = cfg, .kvm_fd = -1, .vm_fd = -1, .stop_fd = -1,
			 .signal_fd = -1, .nvcpus_planned = cfg->ncpus };
	int timer_fd = -1, err, status;

	atomic_init(&vm.exit_status, -1);
	atomic_init(&vm.stopping, false);
	vm.pio.name = "port I/O";
	vm.mmio.name = "MMIO";

	/* The host's holes come first: sysfs and --reserved, then the VFIO container. */
	err = vfio_collect_host_holes(cfg, "/sys", &vm.host);
	if (!err)
		err = vfio_prepare(&vm);
	if (!err) {
		err = arch_plan_memory(cfg, &vm.host, &vm.plan);
		if (err)
			pr_err("%s", vm.plan.error);
	}
	if (err) {
		vfio_teardown(&vm);
		return EXIT_FAILURE_VMM;
	}
	err = check_host_memory(cfg->ram_size);
	if (!err)
		err = event_loop_init(&vm.loop);
	if (!err)
		err = kvm_open(&vm);
	if (!err)
		err = kvm_create_vm(&vm);
	if (!err)
		err = guest_mem_alloc(&vm.mem, &vm.plan);
	if (!err)
		err = kvm_map_memory(&vm);
	if (!err)
		err = setup_event_sources(&vm, &timer_fd);
	if (!err)
		err = arch_vm_init(&vm);
	if (!err)
		err = vfio_attach(&vm);
	if (!err)
		err = arch_load_guest(&vm);
	if (!err)
		err = vcpus_create(&vm);
	if (!err)
		err = arch_vcpus_created(&vm);
	if (!err)
		vfio_start(&vm);
	if (!err)
		err = console_init(&vm);
	if (!err)
		err = vcpus_start(&vm);
	if (!err)
		err = event_loop_run(&vm.loop);

	vcpus_kick_and_join(&vm);
	console_restore();
	status = atomic_load(&vm.exit_status);
	if (err || status < 0)
		status = EXIT_FAILURE_VMM;

	/* Teardown in the reverse order of setup. */
	vcpus_destroy(&vm);
	virtio_devices_destroy(&vm);
	vfio_teardown(&vm);
	arch_vm_destroy(&vm);
	irq_routing_free(&vm);
	if (timer_fd >= 0)
		close(timer_fd);
	if (vm.signal_fd >= 0)
		close(vm.signal_fd);
	if (vm.stop_fd >= 0)
		close(vm.stop_fd);
	if (vm.vm_fd >= 0)
		close(vm.vm_fd);
	guest_mem_free(&vm.mem);
	if (vm.kvm_fd >= 0)
		close(vm.kvm_fd);
	event_loop_destroy(&vm.loop);
	return status;
}
