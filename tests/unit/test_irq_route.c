/*
 * The one interrupt-route interface (core/irq_route.c), without KVM: GSIs
 * are handed out on first use and come back on release, the routing
 * table follows, a wired line gets its resample eventfd, and a signal
 * that arrives while detached is pending. (Every KVM ioctl fails here:
 * the VM has no fd; the table is what is checked.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/eventfd.h>

#include "core/console.h"
#include "core/irq_route.h"
#include "core/log.h"
#include "core/vm.h"

static const struct kvm_irq_routing_entry *route_of(const struct vm *vm, int gsi)
{
	const struct kvm_irq_routing *t = vm->routing.table;

	for (u32 i = 0; t && i < t->nr; i++)
		if ((int)t->entries[i].gsi == gsi && t->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &t->entries[i];
	return NULL;
}

static void msi_gsis_are_allocated_lazily_and_reused(void **state)
{
	struct vm vm;
	struct irq_route a, b;
	int first;

	(void)state;
	vm_init(&vm);
	irq_route_init(&a, &vm);
	irq_route_init(&b, &vm);
	assert_int_equal(a.gsi, -1);
	irq_route_set_msi(&a, 0xfee00000, 0x41, 0);
	assert_true(a.gsi >= IRQ_ROUTING_FIRST_MSI_GSI);
	first = a.gsi;
	assert_non_null(route_of(&vm, first));
	assert_int_equal(route_of(&vm, first)->u.msi.data, 0x41);
	/* A new message for the same route updates its entry, keeps its GSI. */
	irq_route_set_msi(&a, 0xfee01000, 0x42, 0);
	assert_int_equal(a.gsi, first);
	assert_int_equal(route_of(&vm, first)->u.msi.data, 0x42);
	irq_route_set_msi(&b, 0xfee00000, 0x43, 0);
	assert_int_not_equal(b.gsi, first);
	/* Release frees the GSI and its table entry; the next route takes it. */
	irq_route_release(&a);
	assert_null(route_of(&vm, first));
	irq_route_init(&a, &vm);
	irq_route_set_msi(&a, 0xfee00000, 0x44, 0);
	assert_int_equal(a.gsi, first);
	irq_route_release(&a);
	irq_route_release(&b);
	irq_routing_destroy(&vm.routing);
}

static void the_devid_goes_in_only_where_msis_carry_one(void **state)
{
	struct vm vm;
	struct irq_route r;

	(void)state;
	vm_init(&vm);
	irq_route_init(&r, &vm);
	irq_route_set_msi(&r, 0x8090040, 1, 0x0108);
	assert_int_equal(route_of(&vm, r.gsi)->flags, 0);
	vm.routing.msi_devid = true; /* an arm64 ITS */
	irq_route_set_msi(&r, 0x8090040, 2, 0x0108);
	assert_int_equal(route_of(&vm, r.gsi)->flags, KVM_MSI_VALID_DEVID);
	assert_int_equal(route_of(&vm, r.gsi)->u.msi.devid, 0x0108);
	irq_route_release(&r);
	irq_routing_destroy(&vm.routing);
}

static void gsis_run_out_cleanly(void **state)
{
	struct vm vm;
	struct irq_route *r = calloc(IRQ_ROUTING_MAX_GSI, sizeof(*r));
	unsigned int got = 0;

	(void)state;
	vm_init(&vm);
	for (unsigned int i = 0; i < IRQ_ROUTING_MAX_GSI; i++) {
		irq_route_init(&r[i], &vm);
		if (irq_route_set_msi(&r[i], 0xfee00000, i, 0) != -ENOSPC)
			got++;
	}
	assert_int_equal(got, IRQ_ROUTING_MAX_GSI - IRQ_ROUTING_FIRST_MSI_GSI);
	for (unsigned int i = 0; i < IRQ_ROUTING_MAX_GSI; i++)
		irq_route_release(&r[i]);
	free(r);
	irq_routing_destroy(&vm.routing);
}

static void a_line_has_a_resample_fd_and_signals_wait_while_detached(void **state)
{
	struct vm vm;
	struct irq_route line;

	(void)state;
	vm_init(&vm);
	irq_route_init(&line, &vm);
	assert_int_equal(irq_route_set_line(&line, 20), 0);
	assert_int_equal(line.gsi, 20);
	assert_true(line.fd >= 0 && line.resample_fd >= 0);
	assert_false(irq_route_pending(&line));
	assert_int_equal(eventfd_write(line.fd, 1), 0);
	assert_true(irq_route_pending(&line)); /* detached (no KVM here): it waits */
	irq_route_clear(&line);
	assert_false(irq_route_pending(&line));
	irq_route_release(&line);
	assert_int_equal(line.fd, -1);
	assert_int_equal(line.resample_fd, -1);
	irq_routing_destroy(&vm.routing);
}

static int quits;
static void on_quit(void *opaque)
{
	(void)opaque;
	quits++;
}
static void sink(void *opaque, const u8 *data, size_t len)
{
	(void)opaque, (void)data, (void)len;
}

/* The console feeds exactly one input sink, chosen by the composition. */
static void the_console_takes_one_input_sink(void **state)
{
	struct console con;

	(void)state;
	console_init(&con, on_quit, NULL);
	assert_int_equal(console_attach_input(&con, sink, NULL), 0);
	assert_int_equal(console_attach_input(&con, sink, NULL), -EBUSY);
	assert_int_equal(quits, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(msi_gsis_are_allocated_lazily_and_reused),
		cmocka_unit_test(the_devid_goes_in_only_where_msis_carry_one),
		cmocka_unit_test(gsis_run_out_cleanly),
		cmocka_unit_test(a_line_has_a_resample_fd_and_signals_wait_while_detached),
		cmocka_unit_test(the_console_takes_one_input_sink),
	};

	log_threshold = LOG_QUIET;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
