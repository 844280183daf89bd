/*
 * Work per callback: a driver that keeps the ring full (re-posting from
 * another vCPU) gets a bounded share of each event loop turn, and the
 * device comes back to the rest on the next turn by itself. Driven
 * through the real transport with a fake guest (virtio_guest.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include "core/console.h"
#include "core/log.h"
#include "devices/virtio/console.h"
#include "devices/virtio/rng.h"
#include "virtio_guest.h"

static int setup(void **state)
{
	struct vguest *g = malloc(sizeof(*g));

	/* No MSI-X here: the transport would warn about each interrupt. */
	log_threshold = LOG_QUIET;
	assert_int_equal(vg_init(g), 0);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct vguest *g = *state;

	vg_destroy(g);
	free(g);
	log_threshold = LOG_WARN;
	return 0;
}

/* Fills queue qi with one-descriptor chains of len bytes each. */
static void fill_queue(struct vguest *g, unsigned int qi, u32 len, bool writable)
{
	for (unsigned int i = 0; i < g->q[qi].size; i++) {
		struct vg_seg s = { vg_alloc(g, len), len, writable };

		vg_post(g, qi, &s, 1);
	}
}

/* The first turn serves a budget, later turns the rest, with no new kick. */
static void expect_served_in_turns(struct vguest *g, unsigned int qi, u16 budget)
{
	u16 total = g->q[qi].size;

	vg_kick(g, qi);
	vg_run_loop_once(g, 100);
	assert_int_equal(vg_used_idx(g, qi), budget);
	for (int turns = 0; turns < 16 && vg_used_idx(g, qi) != total; turns++)
		vg_run_loop_once(g, 100);
	assert_int_equal(vg_used_idx(g, qi), total);
	/* Nothing left: the loop goes quiet. */
	assert_int_equal(vg_run_loop_once(g, 0) <= 1, 1);
}

static void rng_serves_a_full_ring_in_budgeted_turns(void **state)
{
	struct vguest *g = *state;
	struct virtio_dev *dev;

	assert_int_equal(virtio_rng_create(&g->vm, &dev), 0);
	assert_int_equal(vg_add(g, dev), 0);
	assert_true(vg_driver_init(g, 0) & VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(g->q[0].size, 64);
	fill_queue(g, 0, 16, true);
	expect_served_in_turns(g, 0, 32);
}

static void console_input_fills_a_full_ring_in_budgeted_turns(void **state)
{
	struct vguest *g = *state;
	struct console con;
	struct virtio_dev *dev;
	u8 typed[64];

	console_init(&con, NULL, NULL);
	assert_int_equal(virtio_console_create(&g->vm, &con, &dev), 0);
	assert_int_equal(vg_add(g, dev), 0);
	assert_true(vg_driver_init(g, 0) & VIRTIO_CONFIG_S_DRIVER_OK);
	fill_queue(g, 0, 1, true);
	/* 64 bytes typed, one byte per receive buffer: one turn takes half. */
	memset(typed, 'x', sizeof(typed));
	pthread_mutex_lock(&g->vm.loop.lock);
	virtio_console_receive(dev, typed, sizeof(typed));
	pthread_mutex_unlock(&g->vm.loop.lock);
	assert_int_equal(vg_used_idx(g, 0), 32);
	for (int turns = 0; turns < 16 && vg_used_idx(g, 0) != 64; turns++)
		vg_run_loop_once(g, 100);
	assert_int_equal(vg_used_idx(g, 0), 64);
}

static void console_output_is_served_in_budgeted_turns(void **state)
{
	struct vguest *g = *state;
	struct console con;
	struct virtio_dev *dev;
	int saved, null;
	u16 first_turn;

	console_init(&con, NULL, NULL);
	assert_int_equal(virtio_console_create(&g->vm, &con, &dev), 0);
	assert_int_equal(vg_add(g, dev), 0);
	assert_true(vg_driver_init(g, 0) & VIRTIO_CONFIG_S_DRIVER_OK);
	fill_queue(g, 1, 1, false);
	/* The guest's output goes to stdout: not into the test log. */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDOUT_FILENO);
	close(null);
	vg_kick(g, 1);
	vg_run_loop_once(g, 100);
	first_turn = vg_used_idx(g, 1);
	for (int turns = 0; turns < 16 && vg_used_idx(g, 1) != 64; turns++)
		vg_run_loop_once(g, 100);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	assert_int_equal(first_turn, 32);
	assert_int_equal(vg_used_idx(g, 1), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rng_serves_a_full_ring_in_budgeted_turns, setup,
						teardown),
		cmocka_unit_test_setup_teardown(console_input_fills_a_full_ring_in_budgeted_turns,
						setup, teardown),
		cmocka_unit_test_setup_teardown(console_output_is_served_in_budgeted_turns, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("virtio budgets", tests, NULL, NULL);
}
