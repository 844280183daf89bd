/*
 * MSI-X table emulation and the KVM routes it builds: defaults, table
 * writes, mask/unmask, the PBA, and the DeviceID an arm64 ITS needs. KVM
 * is absent here (vm_fd is -1): the routing table is checked as built.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/kvm.h>
#include <sys/eventfd.h>

#include "devices/msix.h"
#include "devices/pci.h"
#include "core/irq_routing.h"
#include "core/log.h"
#include "core/vm.h"

struct fixture {
	struct vm vm;
	struct msix msix;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	log_threshold = LOG_QUIET; /* the absent KVM makes every ioctl fail loudly */
	vm_init(&f->vm);
	f->vm.routing.msi_devid = true;
	assert_int_equal(msix_init(&f->msix, &f->vm, 4, "test"), 0);
	f->msix.devid = pci_rid(1, 2, 3);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	msix_destroy(&f->msix);
	irq_routing_destroy(&f->vm.routing);
	free(f);
	log_threshold = LOG_WARN;
	return 0;
}

static u32 rd32(struct msix *m, u64 off)
{
	u32 v;

	msix_table_access(m, off, (u8 *)&v, 4, false);
	return v;
}

static void wr32(struct msix *m, u64 off, u32 v)
{
	msix_table_access(m, off, (u8 *)&v, 4, true);
}

static const struct kvm_irq_routing_entry *msi_route(const struct vm *vm)
{
	for (u32 i = 0; vm->routing.table && i < vm->routing.table->nr; i++)
		if (vm->routing.table->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &vm->routing.table->entries[i];
	return NULL;
}

static void requester_ids_encode_bus_device_function(void **state)
{
	(void)state;
	assert_int_equal(pci_rid(0, 0, 0), 0);
	assert_int_equal(pci_rid(0, 1, 0), 0x08);
	assert_int_equal(pci_rid(1, 2, 3), 0x113);
	assert_int_equal(pci_rid(0xff, 31, 7), 0xffff);
}

static void vectors_start_masked(void **state)
{
	struct fixture *f = *state;

	for (unsigned int v = 0; v < 4; v++)
		assert_int_equal(rd32(&f->msix, v * 16 + 12), MSIX_VECTOR_MASKED);
}

static void table_writes_are_kept_and_out_of_range_reads_all_ones(void **state)
{
	struct fixture *f = *state;
	u8 big[16];

	wr32(&f->msix, 16 + 0, 0x08090043); /* low address bits are reserved */
	wr32(&f->msix, 16 + 4, 0x1);
	wr32(&f->msix, 16 + 8, 0x2a);
	assert_int_equal(rd32(&f->msix, 16 + 0), 0x08090040);
	assert_int_equal(rd32(&f->msix, 16 + 4), 0x1);
	assert_int_equal(rd32(&f->msix, 16 + 8), 0x2a);
	msix_table_access(&f->msix, 4 * 16, big, 4, false);
	assert_int_equal(big[0], 0xff);
	msix_table_access(&f->msix, 15, big, 4, true); /* straddles an entry: ignored */
	assert_int_equal(rd32(&f->msix, 12), MSIX_VECTOR_MASKED);
}

static void unmasking_builds_an_msi_route_with_the_device_id(void **state)
{
	struct fixture *f = *state;
	const struct kvm_irq_routing_entry *e;

	/* An arm64 guest points vector 1 at its ITS doorbell with event ID 5. */
	wr32(&f->msix, 16 + 0, 0x08090040);
	wr32(&f->msix, 16 + 8, 5);
	assert_null(msi_route(&f->vm));
	msix_set_control(&f->msix, true, false);
	assert_null(msi_route(&f->vm)); /* still masked: nothing wired */
	wr32(&f->msix, 16 + 12, 0);
	e = msi_route(&f->vm);
	assert_non_null(e);
	assert_int_equal(e->u.msi.address_lo, 0x08090040);
	assert_int_equal(e->u.msi.address_hi, 0);
	assert_int_equal(e->u.msi.data, 5);
	assert_int_equal(e->flags, KVM_MSI_VALID_DEVID);
	assert_int_equal(e->u.msi.devid, 0x113);
	assert_true(e->gsi >= IRQ_ROUTING_FIRST_MSI_GSI);
	/* Rewriting the data moves the same route. */
	wr32(&f->msix, 16 + 8, 6);
	assert_int_equal(msi_route(&f->vm)->u.msi.data, 6);
	assert_int_equal(msi_route(&f->vm)->gsi, e->gsi);
}

static void x86_routes_carry_no_device_id(void **state)
{
	struct fixture *f = *state;
	struct msix m;

	(void)f;
	f->vm.routing.msi_devid = false;
	assert_int_equal(msix_init(&m, &f->vm, 1, "x86"), 0);
	msix_table_access(&m, 0, (u8 *)&(u32){ 0xfee00000 }, 4, true);
	msix_set_control(&m, true, false);
	msix_table_access(&m, 12, (u8 *)&(u32){ 0 }, 4, true);
	assert_non_null(msi_route(&f->vm));
	assert_int_equal(msi_route(&f->vm)->flags, 0);
	msix_destroy(&m);
}

static void a_masked_vector_that_fired_is_pending_in_the_pba(void **state)
{
	struct fixture *f = *state;
	u8 pba[8] = { 0 };

	msix_set_control(&f->msix, true, false);
	msix_signal(&f->msix, 2);
	msix_pba_access(&f->msix, 0, pba, 8, false);
	assert_int_equal(pba[0], 1 << 2);
	/* Writes to the PBA are ignored; a reset drops what was pending. */
	msix_pba_access(&f->msix, 0, (u8[8]){ 0 }, 8, true);
	msix_pba_access(&f->msix, 0, pba, 8, false);
	assert_int_equal(pba[0], 1 << 2);
	msix_reset(&f->msix);
	msix_pba_access(&f->msix, 0, pba, 8, false);
	assert_int_equal(pba[0], 0);
}

static void function_mask_and_disable_keep_vectors_unwired(void **state)
{
	struct fixture *f = *state;

	wr32(&f->msix, 0, 0x08090040);
	wr32(&f->msix, 12, 0);
	msix_set_control(&f->msix, true, true); /* function masked */
	assert_null(msi_route(&f->vm));
	msix_set_control(&f->msix, false, false); /* disabled */
	assert_null(msi_route(&f->vm));
	msix_set_control(&f->msix, true, false);
	assert_non_null(msi_route(&f->vm));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(requester_ids_encode_bus_device_function),
		T(vectors_start_masked),
		T(table_writes_are_kept_and_out_of_range_reads_all_ones),
		T(unmasking_builds_an_msi_route_with_the_device_id),
		T(x86_routes_carry_no_device_id),
		T(a_masked_vector_that_fired_is_pending_in_the_pba),
		T(function_mask_and_disable_keep_vectors_unwired),
	};

	return cmocka_run_group_tests_name("msix", tests, NULL, NULL);
}
