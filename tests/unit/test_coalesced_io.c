/* Batched guest writes: replayed in order to the right bus, and a ring that lies stops batching. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/vm.h"

#define ENTRIES 8

static u8 seen[64];
static unsigned int nseen;
static bool seen_on_mmio;

static void record(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	bool *is_mmio = opaque;

	assert_true(is_write);
	for (u32 i = 0; i < len && nseen < sizeof(seen); i++)
		seen[nseen++] = data[i];
	(void)offset;
	seen_on_mmio = *is_mmio;
}

struct fixture {
	struct vm vm;
	struct kvm_coalesced_mmio_ring *ring;
	bool pio_flag, mmio_flag;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	vm_init(&f->vm);
	f->ring = calloc(1, sizeof(*f->ring) + ENTRIES * sizeof(struct kvm_coalesced_mmio));
	f->mmio_flag = true;
	if (!f->ring || io_bus_register(&f->vm.pio, 0x3f8, 8, record, &f->pio_flag, "uart") ||
	    io_bus_register(&f->vm.mmio, 0x9000000, 8, record, &f->mmio_flag, "uart"))
		return -1;
	/* What coalesced_io_start sets up from the vCPU mapping. */
	f->vm.coalesced.ring = f->ring;
	f->vm.coalesced.entries = ENTRIES;
	nseen = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->ring);
	free(f);
	return 0;
}

/* What KVM does for a write inside a zone. */
static void kvm_appends(struct kvm_coalesced_mmio_ring *ring, bool pio, u64 addr, u8 byte)
{
	struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[ring->last];

	memset(e, 0, sizeof(*e));
	e->phys_addr = addr;
	e->len = 1;
	e->pio = pio;
	e->data[0] = byte;
	ring->last = (ring->last + 1) % ENTRIES;
}

static void writes_are_replayed_in_order_across_the_wrap(void **state)
{
	struct fixture *f = *state;
	const char *text = "hello, world";

	f->ring->first = f->ring->last = ENTRIES - 3; /* the text wraps the ring */
	for (unsigned int i = 0; i < 5; i++)
		kvm_appends(f->ring, true, 0x3f8, (u8)text[i]);
	coalesced_io_flush(&f->vm.coalesced);
	for (unsigned int i = 5; text[i]; i++)
		kvm_appends(f->ring, true, 0x3f8, (u8)text[i]);
	coalesced_io_flush(&f->vm.coalesced);
	assert_int_equal(nseen, strlen(text));
	assert_memory_equal(seen, text, strlen(text));
	assert_int_equal(f->ring->first, f->ring->last);
	assert_false(seen_on_mmio);
}

static void mmio_entries_go_to_the_mmio_bus(void **state)
{
	struct fixture *f = *state;

	kvm_appends(f->ring, false, 0x9000000, 'x');
	coalesced_io_flush(&f->vm.coalesced);
	assert_int_equal(nseen, 1);
	assert_true(seen_on_mmio);
}

static void an_empty_ring_replays_nothing(void **state)
{
	struct fixture *f = *state;

	coalesced_io_flush(&f->vm.coalesced);
	assert_int_equal(nseen, 0);
}

static void a_ring_index_out_of_range_stops_batching(void **state)
{
	struct fixture *f = *state;
	int id = coalesced_io_add(&f->vm.coalesced, true, 0x3f8, 1);

	assert_true(id >= 0);
	f->ring->first = ENTRIES + 5;
	f->ring->last = 0;
	coalesced_io_flush(&f->vm.coalesced);
	assert_int_equal(nseen, 0);
	assert_null(f->vm.coalesced.ring);
	assert_false(f->vm.coalesced.zones[id].wanted);
	coalesced_io_flush(&f->vm.coalesced); /* and stays harmless */
}

/* A handler that ends batching while its own write is being replayed (the UART's first THRI write). */
static struct coalesced_io *stopping;
static int stop_zone = -1;

static void stop_batching_on_write(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	record(opaque, offset, data, len, is_write);
	coalesced_io_set(stopping, stop_zone, false);
}

static void *flush_thread(void *arg)
{
	coalesced_io_flush(arg);
	return arg;
}

static void a_replayed_write_may_end_batching(void **state)
{
	struct fixture *f = *state;
	struct timespec deadline;
	pthread_t t;

	stopping = &f->vm.coalesced;
	stop_zone = coalesced_io_add(&f->vm.coalesced, true, 0x2f8, 1);
	assert_true(stop_zone >= 0);
	f->vm.coalesced.zones[stop_zone].wanted = true;
	assert_int_equal(io_bus_register(&f->vm.pio, 0x2f8, 8, stop_batching_on_write, &f->pio_flag,
					 "uart2"), 0);
	kvm_appends(f->ring, true, 0x2f8, 'a');
	kvm_appends(f->ring, true, 0x2f8, 'b');
	/* On another thread: a self-deadlock fails the test instead of hanging it. */
	assert_int_equal(pthread_create(&t, NULL, flush_thread, &f->vm.coalesced), 0);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	assert_int_equal(pthread_timedjoin_np(t, NULL, &deadline), 0);
	assert_int_equal(nseen, 2);
	assert_false(f->vm.coalesced.zones[stop_zone].wanted);
	assert_int_equal(f->ring->first, f->ring->last);
}

static void zones_are_bounded(void **state)
{
	struct fixture *f = *state;

	for (unsigned int i = 0; i < COALESCED_IO_ZONES; i++)
		assert_true(coalesced_io_add(&f->vm.coalesced, false, 0x1000 * i, 1) >= 0);
	assert_true(coalesced_io_add(&f->vm.coalesced, false, 0x9000, 1) < 0);
	coalesced_io_set(&f->vm.coalesced, COALESCED_IO_ZONES + 3, true); /* an unknown id is ignored */
	coalesced_io_set(&f->vm.coalesced, -1, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(writes_are_replayed_in_order_across_the_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(mmio_entries_go_to_the_mmio_bus, setup, teardown),
		cmocka_unit_test_setup_teardown(an_empty_ring_replays_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(a_ring_index_out_of_range_stops_batching, setup, teardown),
		cmocka_unit_test_setup_teardown(a_replayed_write_may_end_batching, setup, teardown),
		cmocka_unit_test_setup_teardown(zones_are_bounded, setup, teardown),
	};

	return cmocka_run_group_tests_name("coalesced I/O", tests, NULL, NULL);
}
