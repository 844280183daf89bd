/*
 * Memslots of a passed-through BAR when KVM refuses them: the refusal is
 * reported once per BAR, and the mapping is tried again on the next move
 * or enable of the BAR. KVM is played by an ioctl() of this test on a
 * made-up VM descriptor; every other ioctl goes to the kernel.
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
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/log.h"
#include "core/vm.h"
#include "vfio/pci_dev.h"
#include "tests/ioctl_shim.h"

#define FAKE_VM_FD 999
#define BAR_SIZE 0x10000ULL
#define BAR_GPA 0xc0000000ULL

static unsigned int memslot_calls;
static bool memslot_refuse;
static struct kvm_userspace_memory_region last_region;

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
	if (fd != FAKE_VM_FD)
		return real_ioctl(fd, request, arg);
	if (request != KVM_SET_USER_MEMORY_REGION) {
		errno = ENOTTY;
		return -1;
	}
	memslot_calls++;
	memcpy(&last_region, arg, sizeof(last_region));
	if (memslot_refuse) {
		errno = EEXIST;
		return -1;
	}
	return 0;
}

struct fixture {
	struct vm vm;
	struct pci_bus bus;
	struct vfio_pci_dev d;
	FILE *log;
	int saved_stderr;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vfio_bar *bar = &f->d.bars[0];

	vm_init(&f->vm);
	f->vm.vm_fd = FAKE_VM_FD;
	f->d.vm = &f->vm;
	pci_bus_init(&f->bus);
	f->bus.mmio32 = (struct pci_window){ .bus = &f->bus, .base = BAR_GPA, .size = 0x10000000, .next = BAR_GPA };
	f->d.bus = &f->bus;
	snprintf(f->d.bdf, sizeof(f->d.bdf), "0000:01:00.0");
	*bar = (struct vfio_bar){ .owner = &f->d, .index = 0, .size = BAR_SIZE, .present = true,
				  .map = aligned_alloc(4096, BAR_SIZE), .slots = { 10, 11, 12 } };
	f->d.pci.bars[0].size = BAR_SIZE;
	pci_set_u32(&f->d.pci, PCI_BASE_ADDRESS_0, (u32)BAR_GPA);
	f->d.pci.config[PCI_COMMAND] = PCI_COMMAND_MEMORY;
	/* Messages go to a file the test reads. */
	fflush(stderr);
	f->log = tmpfile();
	f->saved_stderr = dup(STDERR_FILENO);
	dup2(fileno(f->log), STDERR_FILENO);
	memslot_calls = 0;
	memslot_refuse = false;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dup2(f->saved_stderr, STDERR_FILENO);
	close(f->saved_stderr);
	fclose(f->log);
	free(f->d.bars[0].map);
	free(f);
	return 0;
}

/* Lines logged so far that mention what. */
static unsigned int logged(struct fixture *f, const char *what)
{
	char line[512];
	unsigned int n = 0;

	fflush(stderr);
	rewind(f->log);
	while (fgets(line, sizeof(line), f->log))
		n += strstr(line, what) != NULL;
	return n;
}

static void move_bar(struct fixture *f, u64 gpa)
{
	pci_set_u32(&f->d.pci, PCI_BASE_ADDRESS_0, (u32)gpa);
	vfio_bars_update_mappings(&f->d);
}

static void a_refused_memslot_is_said_once_and_retried(void **state)
{
	struct fixture *f = *state;
	struct vfio_bar *bar = &f->d.bars[0];

	memslot_refuse = true;
	vfio_bars_update_mappings(&f->d);
	assert_int_equal(memslot_calls, 1);
	assert_false(bar->slot_used[0]);
	assert_int_equal(logged(f, "BAR0"), 1);

	/* The guest enables decoding again at the same address: tried again. */
	vfio_bars_update_mappings(&f->d);
	assert_int_equal(memslot_calls, 2);
	/* And moves it: tried at the new place. Still refused, still one message. */
	move_bar(f, BAR_GPA + 0x100000);
	assert_int_equal(memslot_calls, 3);
	assert_int_equal(last_region.guest_phys_addr, BAR_GPA + 0x100000);
	assert_int_equal(logged(f, "BAR0"), 1);

	/* KVM accepts it now: mapped, and left alone while nothing changes. */
	memslot_refuse = false;
	vfio_bars_update_mappings(&f->d);
	assert_int_equal(memslot_calls, 4);
	assert_true(bar->slot_used[0]);
	assert_int_equal(last_region.memory_size, BAR_SIZE);
	vfio_bars_update_mappings(&f->d);
	assert_int_equal(memslot_calls, 4);

	/* Decoding off: the slot is deleted; a refused deletion is retried too. */
	memslot_refuse = true;
	f->d.pci.config[PCI_COMMAND] = 0;
	vfio_bars_update_mappings(&f->d);
	assert_int_equal(memslot_calls, 5);
	assert_true(bar->slot_used[0]);
	memslot_refuse = false;
	f->d.pci.config[PCI_COMMAND] = PCI_COMMAND_MEMORY;
	vfio_bars_update_mappings(&f->d);
	f->d.pci.config[PCI_COMMAND] = 0;
	vfio_bars_update_mappings(&f->d);
	assert_false(bar->slot_used[0]);
	assert_int_equal(last_region.memory_size, 0);
	assert_int_equal(logged(f, "BAR0"), 1);
}

/* Moved onto the LAPIC page, the IOAPIC or across a window's end: no memslot there. */
static void a_bar_moved_out_of_the_windows_is_not_mapped(void **state)
{
	struct fixture *f = *state;
	struct vfio_bar *bar = &f->d.bars[0];
	const u64 outside[] = { 0xfee00000, 0xfec00000, BAR_GPA + 0x10000000 - BAR_SIZE / 2,
				BAR_GPA - BAR_SIZE };

	vfio_bars_update_mappings(&f->d);
	assert_true(bar->slot_used[0]);
	for (unsigned int i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		unsigned int calls;

		move_bar(f, outside[i]);
		assert_false(bar->slot_used[0]);
		calls = memslot_calls;
		move_bar(f, outside[i]); /* and nothing is tried while it stays there */
		assert_int_equal(memslot_calls, calls);
		assert_true(last_region.memory_size == 0 ||
			    last_region.guest_phys_addr != outside[i]);
	}
	/* Back inside: mapped again. */
	move_bar(f, BAR_GPA + 0x200000);
	assert_true(bar->slot_used[0]);
	assert_int_equal(last_region.guest_phys_addr, BAR_GPA + 0x200000);
	assert_int_equal(logged(f, "BAR0"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_refused_memslot_is_said_once_and_retried, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_bar_moved_out_of_the_windows_is_not_mapped, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("vfio BARs", tests, NULL, NULL);
}
