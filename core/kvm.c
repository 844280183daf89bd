/* /dev/kvm, the VM file descriptor, memslots, and the stop request. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "vm.h"

void vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->stop_fd = -1;
	vm->loop.epoll_fd = -1;
	vm->pio.name = "port I/O";
	vm->mmio.name = "MMIO";
	atomic_init(&vm->exit_status, -1);
	atomic_init(&vm->stopping, false);
	irq_routing_init(&vm->routing);
	coalesced_io_init(&vm->coalesced, &vm->pio, &vm->mmio);
}

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

static int kvm_open(struct vm *vm)
{
	int version;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		int err = errno;

		if (err == ENOENT)
			pr_err("/dev/kvm does not exist: load the kvm module (modprobe kvm_intel or kvm_amd) and enable virtualization in firmware");
		else if (err == EACCES || err == EPERM)
			pr_err("no permission to open /dev/kvm: run as root or add your user to the 'kvm' group");
		else
			pr_err("cannot open /dev/kvm: %s", strerror(err));
		return -err;
	}
	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		pr_err("/dev/kvm speaks API version %d, this VMM needs %d", version, KVM_API_VERSION);
		return -EINVAL;
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0) {
		pr_err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int kvm_check_extension(struct vm *vm, int cap)
{
	int fd = vm->vm_fd >= 0 ? vm->vm_fd : vm->kvm_fd;
	int ret = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return ret < 0 ? 0 : ret;
}

int vm_create(struct vm *vm, unsigned long type, unsigned int ncpus)
{
	int max_vcpus, err;

	err = event_loop_init(&vm->loop);
	if (err)
		return err;
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return -errno;
	err = event_loop_add(&vm->loop, vm->stop_fd, EPOLLIN, on_stop_request, vm);
	if (!err)
		err = kvm_open(vm);
	if (err)
		return err;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, type);
	vm->routing.vm_fd = vm->vm_fd;
	if (vm->vm_fd < 0) {
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		return -errno;
	}
	max_vcpus = kvm_check_extension(vm, KVM_CAP_MAX_VCPUS);
	if (!max_vcpus)
		max_vcpus = kvm_check_extension(vm, KVM_CAP_NR_VCPUS);
	if (!max_vcpus)
		max_vcpus = 4; /* documented default when neither capability exists */
	if (ncpus > (unsigned int)max_vcpus) {
		pr_err("%u vCPUs requested but this host's KVM allows at most %d; use -c %d or fewer",
		       ncpus, max_vcpus, max_vcpus);
		return -EINVAL;
	}
	return 0;
}

void vm_destroy(struct vm *vm)
{
	irq_routing_destroy(&vm->routing);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	if (vm->loop.epoll_fd >= 0)
		event_loop_destroy(&vm->loop);
	vm->vm_fd = vm->kvm_fd = vm->stop_fd = -1;
}

int kvm_map_memory(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->mem.nbanks; i++) {
		const struct guest_bank *b = &vm->mem.banks[i];
		struct kvm_userspace_memory_region region = {
			.slot = i,
			.guest_phys_addr = b->gpa,
			.memory_size = b->size,
			.userspace_addr = (unsigned long)b->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
			pr_err("KVM_SET_USER_MEMORY_REGION [0x%llx, +0x%llx): %s",
			       (unsigned long long)b->gpa, (unsigned long long)b->size,
			       strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int kvm_memslot_alloc(struct vm *vm)
{
	int max = kvm_check_extension(vm, KVM_CAP_NR_MEMSLOTS);

	if (vm->next_memslot < (int)vm->mem.nbanks)
		vm->next_memslot = (int)vm->mem.nbanks;
	if (max && vm->next_memslot >= max)
		return -ENOSPC;
	return vm->next_memslot++;
}

int kvm_set_memslot(struct vm *vm, int slot, u64 gpa, u64 size, void *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = (u32)slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (unsigned long)hva,
	};

	/* No message: the caller knows what the slot was for and how often to say so. */
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

int kvm_irq_line(struct vm *vm, unsigned int gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0) {
		pr_warn("KVM_IRQ_LINE %u: %s", gsi, strerror(errno));
		return -errno;
	}
	return 0;
}

int kvm_ioeventfd(struct vm *vm, u64 addr, u32 len, int fd, bool pio, bool assign)
{
	struct kvm_ioeventfd ioev = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &ioev) < 0) {
		pr_warn("KVM_IOEVENTFD %s 0x%llx: %s", assign ? "assign" : "deassign",
			(unsigned long long)addr, strerror(errno));
		return -errno;
	}
	return 0;
}
