/* The 16550A model: what Linux's 8250 driver probes and relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "devices/serial_8250.h"

static int irq_level;
static int irq_edges;

static void record_irq(void *opaque, int level)
{
	(void)opaque;
	if (level && !irq_level)
		irq_edges++;
	irq_level = level;
}

static u8 rd(struct serial_8250 *u, unsigned int reg)
{
	u8 v;

	serial_8250_io(u, reg, &v, 1, false);
	return v;
}

static void wr(struct serial_8250 *u, unsigned int reg, u8 v)
{
	serial_8250_io(u, reg, &v, 1, true);
}

static int setup(void **state)
{
	irq_level = irq_edges = 0;
	*state = serial_8250_create(record_irq, NULL, NULL);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	serial_8250_destroy(*state);
	return 0;
}

static void scratch_and_divisor_latch_hold_values(void **state)
{
	struct serial_8250 *u = *state;

	wr(u, 7, 0xa5);
	assert_int_equal(rd(u, 7), 0xa5);
	wr(u, 3, 0x80);          /* DLAB */
	wr(u, 0, 0x01);
	wr(u, 1, 0x00);
	assert_int_equal(rd(u, 0), 0x01);
	wr(u, 3, 0x03);          /* 8N1 */
	assert_int_equal(rd(u, 3), 0x03);
}

static void fifo_enable_reports_a_16550a(void **state)
{
	struct serial_8250 *u = *state;

	wr(u, 2, 0x01);
	assert_int_equal(rd(u, 2) & 0xc0, 0xc0);
}

static void enabling_thri_raises_an_interrupt_acked_by_reading_iir(void **state)
{
	struct serial_8250 *u = *state;

	assert_int_equal(irq_level, 0);
	wr(u, 1, 0x02);
	assert_int_equal(irq_level, 1);
	assert_int_equal(rd(u, 2) & 0x0f, 0x02);
	assert_int_equal(irq_level, 0);
	assert_int_equal(rd(u, 2) & 0x01, 0x01); /* nothing pending now */
}

static void received_bytes_set_data_ready_and_interrupt(void **state)
{
	struct serial_8250 *u = *state;

	wr(u, 1, 0x01);
	serial_8250_receive(u, (const u8 *)"hi", 2);
	assert_int_equal(irq_level, 1);
	assert_int_equal(rd(u, 5) & 0x01, 0x01);
	assert_int_equal(rd(u, 2) & 0x0f, 0x04);
	assert_int_equal(rd(u, 0), 'h');
	assert_int_equal(rd(u, 0), 'i');
	assert_int_equal(rd(u, 5) & 0x01, 0);
	assert_int_equal(irq_level, 0);
}

static void loopback_mirrors_modem_lines_and_data(void **state)
{
	struct serial_8250 *u = *state;

	/* Linux's autoconfig writes LOOP|OUT2|RTS and expects DCD|CTS. */
	wr(u, 4, 0x10 | 0x08 | 0x02);
	assert_int_equal(rd(u, 6) & 0xf0, 0x90);
	wr(u, 0, 'x');
	assert_int_equal(rd(u, 0), 'x');
}

static void wide_and_out_of_range_accesses_are_safe(void **state)
{
	struct serial_8250 *u = *state;
	u8 buf[8] = { 0 };

	serial_8250_io(u, 6, buf, 4, false); /* reads MSR, SCR; the rest untouched */
	serial_8250_io(u, 9, buf, 1, true);
	assert_int_equal(buf[3], 0);
}

static int batching_stops;

static void count_stop(void *opaque)
{
	assert_ptr_equal(opaque, &batching_stops);
	batching_stops++;
}

/*
 * Polled output may be batched. Linux's probe sets and clears every IER
 * bit, and its console writes with IER cleared: neither ends batching. The
 * first THRE reported by IIR does, once.
 */
static void batching_ends_once_at_the_first_transmit_interrupt(void **state)
{
	struct serial_8250 *u = *state;

	batching_stops = 0;
	serial_8250_batch_until_tx_irq(u, count_stop, &batching_stops);
	wr(u, 1, 0x0f); /* the probe */
	wr(u, 1, 0x00);
	wr(u, 0, 'a');  /* a console write */
	assert_int_equal(rd(u, 5) & 0x20, 0x20);
	assert_int_equal(batching_stops, 0);
	wr(u, 1, 0x03); /* the tty starts sending */
	assert_int_equal(batching_stops, 0);
	assert_int_equal(rd(u, 2) & 0x0f, 0x02);
	assert_int_equal(batching_stops, 1);
	wr(u, 0, 'b');
	assert_int_equal(rd(u, 2) & 0x0f, 0x02);
	assert_int_equal(batching_stops, 1);
}

/* A THR write with THRI on, as after an IIR that named another source, ends it too. */
static void a_thr_write_under_thri_ends_batching(void **state)
{
	struct serial_8250 *u = *state;

	batching_stops = 0;
	serial_8250_batch_until_tx_irq(u, count_stop, &batching_stops);
	wr(u, 1, 0x03);
	wr(u, 0, 'c');
	assert_int_equal(batching_stops, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(scratch_and_divisor_latch_hold_values, setup, teardown),
		cmocka_unit_test_setup_teardown(fifo_enable_reports_a_16550a, setup, teardown),
		cmocka_unit_test_setup_teardown(enabling_thri_raises_an_interrupt_acked_by_reading_iir, setup, teardown),
		cmocka_unit_test_setup_teardown(received_bytes_set_data_ready_and_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(loopback_mirrors_modem_lines_and_data, setup, teardown),
		cmocka_unit_test_setup_teardown(wide_and_out_of_range_accesses_are_safe, setup, teardown),
		cmocka_unit_test_setup_teardown(batching_ends_once_at_the_first_transmit_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(a_thr_write_under_thri_ends_batching, setup, teardown),
	};

	return cmocka_run_group_tests_name("serial 8250", tests, NULL, NULL);
}
