/*
 * MSI of a passed-through function, driven as a guest drives it through
 * config space: the device's Multiple Message Capable shows, the guest's
 * Multiple Message Enable picks how many vectors VFIO enables, each
 * vector routes the guest's data with its number in the low bits, a
 * masked vector's irqfd is detached, a signal meanwhile shows in the
 * Pending bits, and disabling turns VFIO's MSI off. The device's config
 * space is a memfd; VFIO and KVM are played by this test's ioctl().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/kvm.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/irq_routing.h"
#include "core/log.h"
#include "core/vm.h"
#include "vfio/pci_dev.h"
#include "tests/ioctl_shim.h"

#define FAKE_VM_FD 999
#define CAP 0x50

static int device_fd = -1;
static unsigned int msi_count, set_irqs_calls;
static bool msi_refuse_many, msi_refuse_all;
static unsigned int irqfd_assigned[1024];

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
	if (fd == device_fd && request == VFIO_DEVICE_SET_IRQS) {
		struct vfio_irq_set *set = arg;

		if (set->index != VFIO_PCI_MSI_IRQ_INDEX)
			return 0;
		set_irqs_calls++;
		if (msi_refuse_all || (msi_refuse_many && set->count > 1)) {
			errno = ENOSPC;
			return -1;
		}
		msi_count = set->count;
		return 0;
	}
	if (fd != FAKE_VM_FD)
		return real_ioctl(fd, request, arg);
	if (request == KVM_IRQFD) {
		struct kvm_irqfd *irqfd = arg;

		irqfd_assigned[irqfd->gsi % 1024] = !(irqfd->flags & KVM_IRQFD_FLAG_DEASSIGN);
		return 0;
	}
	return 0; /* KVM_SET_GSI_ROUTING and the rest */
}

struct fixture {
	struct vm vm;
	struct vfio_pci_dev d;
};

static void cfg_write(struct fixture *f, u32 offset, u32 value, u32 len)
{
	vfio_config_access(&f->d.pci, offset, (u8 *)&value, len, true);
}

static u32 cfg_read(struct fixture *f, u32 offset, u32 len)
{
	u32 value = 0;

	vfio_config_access(&f->d.pci, offset, (u8 *)&value, len, false);
	return value;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	/* A 64-bit MSI capability with per-vector masking, 8 vectors capable. */
	u16 flags = PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (3 << 1);

	log_threshold = LOG_QUIET;
	vm_init(&f->vm);
	f->vm.vm_fd = f->vm.routing.vm_fd = FAKE_VM_FD;
	device_fd = memfd_create("config", 0);
	assert_true(device_fd >= 0);
	f->d.pci.config[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	f->d.pci.config[PCI_CAPABILITY_LIST] = CAP;
	f->d.pci.config[CAP] = PCI_CAP_ID_MSI;
	memcpy(&f->d.pci.config[CAP + PCI_MSI_FLAGS], &flags, 2);
	assert_int_equal(pwrite(device_fd, f->d.pci.config, 256, 0), 256);
	f->d.vm = &f->vm;
	f->d.fd = device_fd;
	f->d.msi_cap = CAP;
	f->d.pci.opaque = &f->d;
	for (unsigned int i = 0; i < ARRAY_SIZE(f->d.msi); i++)
		irq_route_init(&f->d.msi[i], &f->vm);
	irq_route_init(&f->d.intx, &f->vm);
	vfio_msi_setup_config(&f->d);
	msi_count = set_irqs_calls = 0;
	msi_refuse_many = msi_refuse_all = false;
	memset(irqfd_assigned, 0, sizeof(irqfd_assigned));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vfio_msi_release(&f->d);
	irq_routing_destroy(&f->vm.routing);
	close(device_fd);
	free(f);
	return 0;
}

static const struct kvm_irq_routing_entry *route_of(const struct fixture *f, unsigned int vector)
{
	for (u32 i = 0; f->vm.routing.table && i < f->vm.routing.table->nr; i++)
		if ((int)f->vm.routing.table->entries[i].gsi == f->d.msi[vector].gsi)
			return &f->vm.routing.table->entries[i];
	return NULL;
}

static bool attached(const struct fixture *f, unsigned int vector)
{
	int gsi = f->d.msi[vector].gsi;

	/* What KVM was told agrees with what the route believes. */
	assert_int_equal(gsi >= 0 && irqfd_assigned[gsi % 1024], f->d.msi[vector].attached);
	return f->d.msi[vector].attached;
}

static void enable(struct fixture *f, unsigned int log2_vectors, u32 mask)
{
	cfg_write(f, CAP + PCI_MSI_ADDRESS_LO, 0xfee01000, 4);
	cfg_write(f, CAP + PCI_MSI_ADDRESS_HI, 0, 4);
	cfg_write(f, CAP + PCI_MSI_DATA_64, 0x4023, 2);
	cfg_write(f, CAP + PCI_MSI_MASK_64, mask, 4);
	cfg_write(f, CAP + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | (log2_vectors << 4), 2);
}

static void the_guest_sees_the_device_capable_of_8_vectors(void **state)
{
	struct fixture *f = *state;
	u16 flags = (u16)cfg_read(f, CAP + PCI_MSI_FLAGS, 2);

	assert_int_equal((flags & PCI_MSI_FLAGS_QMASK) >> 1, 3);
	assert_true(flags & PCI_MSI_FLAGS_MASKBIT);
	assert_false(flags & PCI_MSI_FLAGS_ENABLE);
}

static void four_vectors_route_the_data_with_their_number(void **state)
{
	struct fixture *f = *state;

	enable(f, 2, 0);
	assert_int_equal(msi_count, 4);
	for (unsigned int i = 0; i < 4; i++) {
		const struct kvm_irq_routing_entry *e = route_of(f, i);

		assert_non_null(e);
		assert_int_equal(e->u.msi.address_lo, 0xfee01000);
		assert_int_equal(e->u.msi.data, 0x4020 | i);
		assert_true(attached(f, i));
	}
	assert_int_equal(f->d.msi[4].gsi, -1);
}

static void a_masked_vector_is_detached_and_its_signal_pending(void **state)
{
	struct fixture *f = *state;

	enable(f, 3, 1u << 5);
	assert_int_equal(msi_count, 8);
	assert_false(attached(f, 5));
	assert_true(attached(f, 4));
	assert_int_equal(cfg_read(f, CAP + PCI_MSI_PENDING_64, 4), 0);
	/* The device fires vector 5 while the guest has it masked. */
	assert_int_equal(eventfd_write(f->d.msi[5].fd, 1), 0);
	assert_int_equal(cfg_read(f, CAP + PCI_MSI_PENDING_64, 4), 1u << 5);
	/* Pending bits are read-only. */
	cfg_write(f, CAP + PCI_MSI_PENDING_64, 0, 4);
	assert_int_equal(cfg_read(f, CAP + PCI_MSI_PENDING_64, 4), 1u << 5);
	cfg_write(f, CAP + PCI_MSI_MASK_64, 0, 4);
	assert_true(attached(f, 5));
	/* Only the 8 vectors it has can be masked. */
	cfg_write(f, CAP + PCI_MSI_MASK_64, 0xffffffff, 4);
	assert_int_equal(cfg_read(f, CAP + PCI_MSI_MASK_64, 4), 0xff);
}

static void more_than_capable_is_clamped_and_a_host_refusal_gives_one(void **state)
{
	struct fixture *f = *state;

	/* 32 asked of an 8-vector device: 8. */
	enable(f, 5, 0);
	assert_int_equal(msi_count, 8);
	cfg_write(f, CAP + PCI_MSI_FLAGS, 0, 2);
	assert_false(attached(f, 0));
	/* A host without multiple MSI (no interrupt remapping): one vector. */
	msi_refuse_many = true;
	enable(f, 2, 0);
	assert_int_equal(msi_count, 1);
	assert_true(attached(f, 0));
	assert_false(attached(f, 1));
}

/* The warnings fn logs, one per line. */
static char warnings[8192];

static void capture_warnings(struct fixture *f, void (*fn)(struct fixture *f))
{
	FILE *log = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	fflush(stderr);
	dup2(fileno(log), STDERR_FILENO);
	log_threshold = LOG_WARN;
	fn(f);
	log_threshold = LOG_QUIET;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(log);
	n = fread(warnings, 1, sizeof(warnings) - 1, log);
	warnings[n] = 0;
	fclose(log);
}

static unsigned int lines_with(const char *what)
{
	unsigned int n = 0;

	for (const char *p = warnings; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void enable_disable_many_times(struct fixture *f)
{
	for (unsigned int i = 0; i < 20; i++) {
		enable(f, 2, 0);
		cfg_write(f, CAP + PCI_MSI_FLAGS, 0, 2);
	}
}

static void a_refusing_host_is_said_once_however_often_the_guest_asks(void **state)
{
	struct fixture *f = *state;

	/* Every SET_IRQS on MSI is refused: each enable tries 4 vectors, then 1. */
	msi_refuse_all = true;
	capture_warnings(f, enable_disable_many_times);
	assert_int_equal(lines_with("VFIO_DEVICE_SET_IRQS MSI"), 1);
	assert_int_equal(lines_with("cannot enable 4 MSI vectors"), 1);
	assert_int_equal(set_irqs_calls, 40);
	assert_int_equal(f->d.set_irqs_refused[VFIO_PCI_MSI_IRQ_INDEX], 40);
	assert_int_equal(f->d.msi_enabled, 0);
	/* A host that takes one vector: the guest gets it, nothing more is said. */
	msi_refuse_all = false;
	msi_refuse_many = true;
	capture_warnings(f, enable_disable_many_times);
	assert_string_equal(warnings, "");
	enable(f, 2, 0);
	assert_int_equal(msi_count, 1);
	assert_true(attached(f, 0));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(the_guest_sees_the_device_capable_of_8_vectors),
		T(four_vectors_route_the_data_with_their_number),
		T(a_masked_vector_is_detached_and_its_signal_pending),
		T(more_than_capable_is_clamped_and_a_host_refusal_gives_one),
		T(a_refusing_host_is_said_once_however_often_the_guest_asks),
	};

	return cmocka_run_group_tests_name("vfio-msi", tests, NULL, NULL);
}
