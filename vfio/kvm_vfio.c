#include "kvm_vfio.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/log.h"
#include "core/vm.h"

/* Headers older than Linux 6.6 name the same attribute after groups only. */
#ifndef KVM_DEV_VFIO_FILE
#define KVM_DEV_VFIO_FILE KVM_DEV_VFIO_GROUP
#define KVM_DEV_VFIO_FILE_ADD KVM_DEV_VFIO_GROUP_ADD
#endif

int kvm_vfio_add_files(struct vm *vm, int *dev_fd, const int *fds, unsigned int n)
{
	if (*dev_fd < 0) {
		struct kvm_create_device create = { .type = KVM_DEV_TYPE_VFIO };

		if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &create) < 0) {
			pr_err("cannot create the KVM-VFIO device: %s", strerror(errno));
			return -errno;
		}
		*dev_fd = (int)create.fd;
	}
	for (unsigned int i = 0; i < n; i++) {
		int32_t fd = fds[i];
		/* KVM_DEV_VFIO_FILE_ADD takes a group or a device file (same value as GROUP_ADD). */
		struct kvm_device_attr attr = {
			.group = KVM_DEV_VFIO_FILE,
			.attr = KVM_DEV_VFIO_FILE_ADD,
			.addr = (u64)(unsigned long)&fd,
		};

		if (ioctl(*dev_fd, KVM_SET_DEVICE_ATTR, &attr) < 0) {
			pr_err("KVM_DEV_VFIO_FILE_ADD: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}
