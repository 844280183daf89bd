/* vCPU threads: KVM_RUN and the dispatch of exits to the I/O buses. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "vm.h"


static void kick_handler(int sig)
{
	(void)sig;
}

int vcpus_create(struct vm *vm, unsigned int ncpus, const struct vcpu_ops *ops)
{
	vm->vcpu_ops = ops;
	vm->vcpus = calloc(ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned int i = 0; i < ncpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];
		int err;

		vcpu->vm = vm;
		vcpu->index = i;
		vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (vcpu->fd < 0) {
			pr_err("KVM_CREATE_VCPU %u: %s", i, strerror(errno));
			return -errno;
		}
		vm->nvcpus++;
		vcpu->run = mmap(NULL, vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				 vcpu->fd, 0);
		if (vcpu->run == MAP_FAILED) {
			vcpu->run = NULL;
			pr_err("mmap of vCPU %u state: %s", i, strerror(errno));
			return -errno;
		}
		err = ops->init(ops->opaque, vcpu);
		if (err)
			return err;
	}
	if (ncpus)
		coalesced_io_start(&vm->coalesced, vm->vm_fd, vm->vcpus[0].run, vm->vcpu_mmap_size);
	return 0;
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	u8 *data = (u8 *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	for (u32 i = 0; i < run->io.count; i++) {
		io_bus_access(&vcpu->vm->pio, run->io.port, data, run->io.size, is_write);
		data += run->io.size;
	}
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (!io_bus_access(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data,
			   run->mmio.len, run->mmio.is_write))
		pr_debug("vCPU %u: unclaimed MMIO %s at 0x%llx", vcpu->index,
			 run->mmio.is_write ? "write" : "read",
			 (unsigned long long)run->mmio.phys_addr);
}

/* Returns false when the thread must stop. */
static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	/* Batched writes happened before whatever made this exit. */
	coalesced_io_flush(&vm->coalesced);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: what a PC does next is reset. */
		pr_debug("vCPU %u: shutdown (triple fault): reset", vcpu->index);
		vm_request_stop(vm, EXIT_RESET);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_stop(vm, EXIT_POWEROFF);
			return false;
		case KVM_SYSTEM_EVENT_RESET:
			vm_request_stop(vm, EXIT_RESET);
			return false;
		default:
			pr_err("vCPU %u: system event %u (crash)", vcpu->index, run->system_event.type);
			vm_request_stop(vm, EXIT_FAILURE_VMM);
			return false;
		}
	case KVM_EXIT_FAIL_ENTRY:
		pr_err("vCPU %u: hardware refused to enter the guest (reason 0x%llx)", vcpu->index,
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		pr_err("vCPU %u: KVM internal error, suberror %u", vcpu->index,
		       run->internal.suberror);
		break;
	default:
		pr_err("vCPU %u: unexpected exit reason %u", vcpu->index, run->exit_reason);
		break;
	}
	if (vm->vcpu_ops->dump)
		vm->vcpu_ops->dump(vm->vcpu_ops->opaque, vcpu);
	vm_request_stop(vm, EXIT_FAILURE_VMM);
	return false;
}

/*
 * The VMM's own start-up cost: CPU time of all its threads from exec to
 * the boot vCPU's first KVM_RUN (make bench reads it from -d output).
 */
static void report_startup_cpu(const struct vcpu *vcpu)
{
	if (vcpu->index == 0 && log_threshold >= LOG_DEBUG)
		pr_debug("first KVM_RUN after %.2f ms of VMM CPU time since exec",
			 log_process_cpu_ms());
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t unblock;

	sigemptyset(&unblock);
	sigaddset(&unblock, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
	if (vm->vcpu_ops->thread_start)
		vm->vcpu_ops->thread_start(vm->vcpu_ops->thread_opaque, vcpu);
	report_startup_cpu(vcpu);

	while (!atomic_load(&vm->stopping)) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			pr_err("vCPU %u: KVM_RUN: %s", vcpu->index, strerror(errno));
			vm_request_stop(vm, EXIT_FAILURE_VMM);
			break;
		}
		if (!handle_exit(vcpu))
			break;
	}
	if (vm->vcpu_ops->report && log_threshold >= LOG_DEBUG)
		vm->vcpu_ops->report(vm->vcpu_ops->opaque, vcpu);
	return NULL;
}

int vcpus_start(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	/* No SA_RESTART: the kick must make KVM_RUN return with EINTR. */
	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];
		int err = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);

		if (err) {
			pr_err("cannot start vCPU thread %u: %s", i, strerror(err));
			return -err;
		}
		vcpu->started = true;
	}
	return 0;
}

void vcpus_kick_and_join(struct vm *vm)
{
	atomic_store(&vm->stopping, true);
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		if (!vcpu->started)
			continue;
		/* immediate_exit covers a kick that lands just before KVM_RUN. */
		vcpu->run->immediate_exit = 1;
		pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
	}
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
		vm->vcpus[i].started = false;
	}
	/* The guest's last batched writes (the end of its last console line). */
	coalesced_io_flush(&vm->coalesced);
}

void vcpus_destroy(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		if (vcpu->run)
			munmap(vcpu->run, vm->vcpu_mmap_size);
		if (vcpu->fd >= 0)
			close(vcpu->fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nvcpus = 0;
}
