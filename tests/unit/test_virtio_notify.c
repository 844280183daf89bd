/*
 * Notification suppression (virtio 1.2, 2.7.7 and 2.7.10): the event
 * index test across the 16-bit wrap, the interrupt decision with and
 * without VIRTIO_RING_F_EVENT_IDX, kicks turned off while the device
 * works, and the transport counting what it sent and held back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <linux/virtio_ring.h>

#include "core/log.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/virtqueue.h"
#include "virtio_guest.h"

#define GPA_BASE 0x100000ULL
#define MEM_SIZE 0x10000ULL
#define QSIZE 8
#define AVAIL_GPA (GPA_BASE + 0x1000)
#define USED_GPA (GPA_BASE + 0x2000)

struct ring {
	struct guest_mem mem;
	struct virtqueue vq;
	struct vring_avail *avail;
	struct vring_used *used;
	u8 *hva;
};

static void ring_init(struct ring *r, bool event_idx)
{
	memset(r, 0, sizeof(*r));
	r->hva = calloc(1, MEM_SIZE);
	r->mem.nbanks = 1;
	r->mem.banks[0] = (struct guest_bank){ .gpa = GPA_BASE, .size = MEM_SIZE,
						   .hva = r->hva, .dma = true };
	r->avail = (void *)(r->hva + (AVAIL_GPA - GPA_BASE));
	r->used = (void *)(r->hva + (USED_GPA - GPA_BASE));
	r->vq.size = QSIZE;
	r->vq.desc_gpa = GPA_BASE;
	r->vq.avail_gpa = AVAIL_GPA;
	r->vq.used_gpa = USED_GPA;
	assert_int_equal(vq_activate(&r->vq, &r->mem), 0);
	r->vq.event_idx = event_idx;
}

static u16 *used_event(struct ring *r)
{
	return &r->avail->ring[QSIZE];
}

static u16 *avail_event(struct ring *r)
{
	return (u16 *)&r->used->ring[QSIZE];
}

/* Returns n requests (descriptor 0, nothing written). */
static void push(struct ring *r, unsigned int n)
{
	while (n--)
		vq_push(&r->vq, 0, 0);
}

static void event_index_test_is_a_half_open_interval(void **state)
{
	(void)state;
	/* event in [old, new): passed. */
	assert_true(vq_need_event(5, 6, 5));
	assert_true(vq_need_event(5, 10, 3));
	assert_true(vq_need_event(9, 10, 3));
	/* event == new: not yet; event before old: passed earlier. */
	assert_false(vq_need_event(10, 10, 3));
	assert_false(vq_need_event(2, 10, 3));
	assert_false(vq_need_event(11, 10, 3));
	/* No movement, no event. */
	assert_false(vq_need_event(7, 7, 7));
}

static void event_index_test_survives_the_16_bit_wrap(void **state)
{
	(void)state;
	/* The index went 0xfffe -> 0x0002, crossing 65535 -> 0. */
	assert_true(vq_need_event(0xfffe, 0x0002, 0xfffe));
	assert_true(vq_need_event(0xffff, 0x0002, 0xfffe));
	assert_true(vq_need_event(0x0000, 0x0002, 0xfffe));
	assert_true(vq_need_event(0x0001, 0x0002, 0xfffe));
	assert_false(vq_need_event(0x0002, 0x0002, 0xfffe));
	assert_false(vq_need_event(0xfffd, 0x0002, 0xfffe));
	assert_false(vq_need_event(0x8000, 0x0002, 0xfffe));
	/* A full 65535-step move passes everything but new itself. */
	assert_true(vq_need_event(0x1234, 0x0000, 0x0001));
	assert_false(vq_need_event(0x0000, 0x0000, 0x0001));
}

static void event_idx_interrupts_only_when_used_passes_used_event(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, true);
	/* The first completion always interrupts: nothing was signalled yet. */
	*used_event(&r) = 100;
	push(&r, 1);
	assert_true(vq_interrupt_needed(&r.vq));
	/* The driver wants to hear at used index 4 (i.e. after the 5th). */
	*used_event(&r) = 4;
	push(&r, 2); /* used 3 */
	assert_false(vq_interrupt_needed(&r.vq));
	push(&r, 1); /* used 4: event 4 not passed yet */
	assert_false(vq_interrupt_needed(&r.vq));
	push(&r, 3); /* used 7: passed 4 */
	assert_true(vq_interrupt_needed(&r.vq));
	/* Nothing new since: no second interrupt for the same completions. */
	assert_false(vq_interrupt_needed(&r.vq));
	free(r.hva);
}

static void event_idx_interrupts_across_the_wrap(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, true);
	r.vq.used_idx = 0xfffc;
	push(&r, 1); /* used 0xfffd, first: interrupts */
	assert_true(vq_interrupt_needed(&r.vq));
	*used_event(&r) = 0x0001;
	push(&r, 3); /* used 0x0000 */
	assert_false(vq_interrupt_needed(&r.vq));
	push(&r, 2); /* used 0x0002: passed 0x0001 */
	assert_true(vq_interrupt_needed(&r.vq));
	assert_int_equal(r.used->idx, 0x0002);
	free(r.hva);
}

static void without_event_idx_the_no_interrupt_flag_decides(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, false);
	*used_event(&r) = 1000; /* ignored without the feature */
	push(&r, 1);
	assert_true(vq_interrupt_needed(&r.vq));
	r.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	push(&r, 1);
	assert_false(vq_interrupt_needed(&r.vq));
	r.avail->flags = 0;
	push(&r, 1);
	assert_true(vq_interrupt_needed(&r.vq));
	free(r.hva);
}

static void a_reset_forgets_what_was_signalled(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, true);
	push(&r, 1);
	assert_true(vq_interrupt_needed(&r.vq));
	*used_event(&r) = 50;
	assert_int_equal(vq_activate(&r.vq, &r.mem), 0); /* the driver set the queue up again */
	r.vq.event_idx = true;
	push(&r, 1);
	assert_true(vq_interrupt_needed(&r.vq));
	free(r.hva);
}

static void kicks_off_sets_no_notify_and_on_clears_it(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, false);
	vq_kicks_off(&r.vq);
	assert_int_equal(r.used->flags, VRING_USED_F_NO_NOTIFY);
	assert_false(vq_kicks_on(&r.vq));
	assert_int_equal(r.used->flags, 0);
	free(r.hva);
}

static void kicks_on_with_event_idx_asks_for_the_next_buffer(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, true);
	r.avail->idx = 0xffff;
	vq_kicks_off(&r.vq);
	assert_int_equal(r.used->flags, 0); /* the flag means nothing with EVENT_IDX */
	assert_false(vq_kicks_on(&r.vq));
	/* The driver's next index, 0xffff -> 0, passes avail_event: it kicks. */
	assert_int_equal(*avail_event(&r), 0xffff);
	assert_true(vq_need_event(*avail_event(&r), 0x0000, 0xffff));
	free(r.hva);
}

static void a_buffer_posted_while_kicks_were_off_is_not_lost(void **state)
{
	struct ring r;

	for (int event_idx = 0; event_idx < 2; event_idx++) {
		(void)state;
		ring_init(&r, event_idx);
		vq_kicks_off(&r.vq);
		r.avail->idx++; /* posted without a kick */
		assert_true(vq_kicks_on(&r.vq));
		free(r.hva);
	}
}

/* --- through the transport ----------------------------------------------- */

static int vg_setup(void **state)
{
	struct vguest *g = malloc(sizeof(*g));

	log_threshold = LOG_QUIET; /* no MSI-X here: the transport would warn */
	assert_int_equal(vg_init(g), 0);
	*state = g;
	return 0;
}

static int vg_teardown(void **state)
{
	struct vguest *g = *state;

	vg_destroy(g);
	free(g);
	log_threshold = LOG_WARN;
	return 0;
}

static void rng_offers_event_idx_and_counts_held_back_interrupts(void **state)
{
	struct vguest *g = *state;
	struct virtio_dev *dev;
	struct vring_avail *avail;
	const struct vq_stats *st;

	assert_int_equal(virtio_rng_create(&g->vm, &dev), 0);
	assert_int_equal(vg_add(g, dev), 0);
	assert_true(vg_driver_init(g, 0) & VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(virtio_has_feature(dev, VIRTIO_RING_F_EVENT_IDX));
	avail = vg_ptr(g, g->q[0].avail);
	st = &dev->queues[0].stats;

	/* Three requests in one kick: one interrupt (the first always goes). */
	for (int i = 0; i < 3; i++) {
		struct vg_seg s = { vg_alloc(g, 8), 8, true };

		vg_post(g, 0, &s, 1);
	}
	avail->ring[g->q[0].size] = 0xffff; /* used_event: "not before index 0xffff" */
	vg_kick(g, 0);
	vg_run_loop_once(g, 100);
	assert_int_equal(vg_used_idx(g, 0), 3);
	assert_int_equal(st->kicks, 1);
	assert_int_equal(st->completions, 3);
	assert_int_equal(st->interrupts, 1);

	/* The driver does not want to hear yet: held back and counted. */
	struct vg_seg s = { vg_alloc(g, 8), 8, true };

	vg_post(g, 0, &s, 1);
	vg_kick(g, 0);
	vg_run_loop_once(g, 100);
	assert_int_equal(vg_used_idx(g, 0), 4);
	assert_int_equal(st->interrupts, 1);
	assert_int_equal(st->suppressed, 1);

	/* Now it asks for the interrupt at used index 4: the next completion sends it. */
	avail->ring[g->q[0].size] = 4;
	s.gpa = vg_alloc(g, 8);
	vg_post(g, 0, &s, 1);
	vg_kick(g, 0);
	vg_run_loop_once(g, 100);
	assert_int_equal(st->interrupts, 2);
	/* While it worked the device asked for a kick at the driver's next index. */
	assert_int_equal(*(u16 *)&((struct vring_used *)vg_ptr(g, g->q[0].used))->ring[g->q[0].size],
			 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(event_index_test_is_a_half_open_interval),
		cmocka_unit_test(event_index_test_survives_the_16_bit_wrap),
		cmocka_unit_test(event_idx_interrupts_only_when_used_passes_used_event),
		cmocka_unit_test(event_idx_interrupts_across_the_wrap),
		cmocka_unit_test(without_event_idx_the_no_interrupt_flag_decides),
		cmocka_unit_test(a_reset_forgets_what_was_signalled),
		cmocka_unit_test(kicks_off_sets_no_notify_and_on_clears_it),
		cmocka_unit_test(kicks_on_with_event_idx_asks_for_the_next_buffer),
		cmocka_unit_test(a_buffer_posted_while_kicks_were_off_is_not_lost),
		cmocka_unit_test_setup_teardown(rng_offers_event_idx_and_counts_held_back_interrupts,
						vg_setup, vg_teardown),
	};

	return cmocka_run_group_tests_name("virtio notifications", tests, NULL, NULL);
}
