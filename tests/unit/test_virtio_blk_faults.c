/*
 * virtio-blk when something goes wrong: a hostile driver's chains
 * (outside RAM, out of order, looped, cut short), a ring that lies about
 * its entries, a full ring that must not take a whole loop turn, a reset
 * with requests in the kernel, a device that cannot start, a backing
 * store that never answers, and paths that are no disk. Each fault must
 * be answered or refused without harm, and the device must recover when
 * the spec says it can. Same fake guest as test_virtio_blk.c
 * (virtio_blk_guest.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtio/blk.h"
#include "virtio_blk_guest.h"

/* Posts a raw chain and expects it back with nothing written. */
static void expect_dropped(struct vguest *g, const struct vg_seg *s, unsigned int n)
{
	u16 head = vg_post(g, 0, s, n);
	struct vring_used_elem e;

	vg_kick(g, 0);
	wait_used(g, 1);
	e = vg_take_used(g, 0);
	assert_int_equal(e.id, head);
	assert_int_equal(e.len, 0);
}

static void hostile_chains_are_answered_not_followed(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	struct vring_desc *table = vg_ptr(g, g->q[0].desc);
	u64 hdr = make_hdr(g, VIRTIO_BLK_T_IN, 0), status, data = guest_alloc(g, 512);
	struct vg_seg s[3];
	u32 written;
	u16 head;

	/* A data buffer outside guest RAM. */
	s[0] = (struct vg_seg){ hdr, 16, false };
	s[1] = (struct vg_seg){ 0x1000, 512, true };
	s[2] = (struct vg_seg){ make_status(g), 1, true };
	expect_dropped(g, s, 3);
	/* Writable before readable. */
	s[1] = (struct vg_seg){ data, 512, true };
	s[2] = (struct vg_seg){ hdr, 16, false };
	expect_dropped(g, s, 3);
	/* No writable byte for a status. */
	s[1] = (struct vg_seg){ data, 512, false };
	expect_dropped(g, s, 2);
	/* A zero-length buffer. */
	s[1] = (struct vg_seg){ data, 0, true };
	expect_dropped(g, s, 2);
	/* A loop: the second descriptor points back at the first. */
	head = g->q[0].desc_next;
	table[head] = (struct vring_desc){ hdr, 16, VRING_DESC_F_NEXT, head + 1 };
	table[head + 1] = (struct vring_desc){ data, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
					       head };
	g->q[0].desc_next += 2;
	vg_publish(g, 0, head);
	vg_kick(g, 0);
	wait_used(g, 1);
	assert_int_equal(vg_take_used(g, 0).len, 0);
	/* A header cut short: answered with an error in its status byte. */
	status = make_status(g);
	s[0] = (struct vg_seg){ hdr, 8, false };
	s[1] = (struct vg_seg){ status, 1, true };
	vg_post(g, 0, s, 2);
	vg_kick(g, 0);
	wait_used(g, 1);
	assert_int_equal(vg_take_used(g, 0).len, 1);
	assert_int_equal(*(u8 *)vg_ptr(g, status), VIRTIO_BLK_S_IOERR);
	/* The queue still works. */
	assert_int_equal(do_req(g, VIRTIO_BLK_T_IN, 0, data, 512, &written), VIRTIO_BLK_S_OK);
	assert_false(vg_status(g) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void broken_ring_needs_reset(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	struct vring_avail *avail = vg_ptr(g, g->q[0].avail);
	u64 data = guest_alloc(g, 512);
	u32 written;

	/* More available entries than the ring holds (2.7.6): -EFAULT. */
	avail->idx = g->q[0].avail_idx + QSIZE + 1;
	vg_kick(g, 0);
	vg_run_loop_once(g, 100);
	assert_true(vg_status(g) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(vg_used_idx(g, 0), g->q[0].used_seen);
	/* After a reset and a fresh initialization it works again. */
	init_driver(g);
	assert_int_equal(do_req(g, VIRTIO_BLK_T_IN, 0, data, 512, &written), VIRTIO_BLK_S_OK);
}

/*
 * A reset with requests in the kernel waits for them and returns none
 * of them: the used ring stays as it was. (Writes the page cache takes
 * at once complete inside the submission and are returned by the kick
 * itself, before the reset.)
 */
static void reset_with_requests_in_flight(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	u64 data = guest_alloc(g, 8 * 512ULL), status = guest_alloc(g, 8);
	unsigned int returned, answered = 0;
	u8 got[512];

	for (unsigned int i = 0; i < 8; i++) {
		fill_pattern(vg_ptr(g, data + i * 512), 0, 512, i + 7);
		*(u8 *)vg_ptr(g, status + i) = STATUS_UNSET;
		post_req(g, VIRTIO_BLK_T_OUT, 100 + i, data + i * 512, 512, status + i, true);
	}
	/* What on_kick does, without letting the loop reap the completions. */
	g->dev->ops->queue_notify(g->dev, 0);
	returned = vg_used_idx(g, 0);
	vg_wr(g, g->common + VG_COMMON(device_status), 0, 1);
	vg_run_loop_once(g, 100);
	assert_int_equal(vg_used_idx(g, 0), returned);
	for (unsigned int i = 0; i < 8; i++)
		answered += *(u8 *)vg_ptr(g, status + i) != STATUS_UNSET;
	assert_int_equal(answered, returned);
	/* The writes themselves did finish before the reset returned. */
	image_read(f, 107 * 512, got, 512);
	assert_memory_equal(got, vg_ptr(g, data + 7 * 512), 512);
}

/*
 * Requests answered at once (no I/O, so no SQE limit) from a full ring:
 * one event loop turn serves a budget of them, the next turns the rest,
 * without another kick.
 */
static void a_full_ring_is_served_in_budgeted_turns(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;

	for (unsigned int i = 0; i < QSIZE; i++)
		post_req(g, 0x80000001, 0, 0, 0, make_status(g), true);
	vg_kick(g, 0);
	vg_run_loop_once(g, 100);
	assert_int_equal(vg_used_idx(g, 0), VIRTIO_BLK_RING_ENTRIES);
	wait_used(g, QSIZE);
}

/* The driver asks for more entries than there are request slots. */
static void a_device_that_cannot_start_refuses_driver_ok(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	u8 st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
	u64 data = guest_alloc(g, 512), status = make_status(g);

	vg_wr(g, g->common + VG_COMMON(device_status), 0, 1);
	vg_wr(g, g->common + VG_COMMON(device_status), st & ~VIRTIO_CONFIG_S_FEATURES_OK, 1);
	vg_wr(g, g->common + VG_COMMON(guest_feature_select), 1, 4);
	vg_wr(g, g->common + VG_COMMON(guest_feature), 1, 4); /* VIRTIO_F_VERSION_1 */
	vg_wr(g, g->common + VG_COMMON(device_status), st, 1);
	vg_wr(g, g->common + VG_COMMON(queue_select), 0, 2);
	vg_wr(g, g->common + VG_COMMON(queue_size), 2 * QSIZE, 2);
	vg_wr(g, g->common + VG_COMMON(queue_desc_lo), (u32)g->q[0].desc, 4);
	vg_wr(g, g->common + VG_COMMON(queue_avail_lo), (u32)g->q[0].avail, 4);
	vg_wr(g, g->common + VG_COMMON(queue_used_lo), (u32)g->q[0].used, 4);
	vg_wr(g, g->common + VG_COMMON(queue_enable), 1, 2);
	vg_wr(g, g->common + VG_COMMON(device_status), st | VIRTIO_CONFIG_S_DRIVER_OK, 1);
	assert_true(vg_status(g) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_false(vg_status(g) & VIRTIO_CONFIG_S_DRIVER_OK);
	/* No kick reaches a device that did not start. */
	post_req(g, VIRTIO_BLK_T_IN, 0, data, 512, status, true);
	vg_kick(g, 0);
	vg_run_loop_once(g, 100);
	assert_int_equal(vg_used_idx(g, 0), 0);
	assert_int_equal(*(u8 *)vg_ptr(g, status), STATUS_UNSET);
	/* A reset and a proper initialization bring it back. */
	init_driver(g);
}

/* The descriptor number of the open file at path, or -1. */
static int fd_of(const char *path)
{
	char link[64], target[256];

	for (int fd = 3; fd < 1024; fd++) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, path))
			return fd;
	}
	return -1;
}

static int hung_writer = -1;

/* Lets the hung read finish (end of file) if the reset is still waiting. */
static void unhang(int sig)
{
	(void)sig;
	if (hung_writer >= 0)
		close(hung_writer);
	hung_writer = -1;
}

/*
 * A backing store that never answers (here a pipe nobody writes to, in
 * place of the image): a reset waited for it forever, under the loop
 * lock. Now it gives up after BLK_DRAIN_TIMEOUT_MS, and the disk refuses
 * to start again rather than let a late read land in reclaimed memory.
 */
static void a_reset_does_not_wait_forever_for_a_hung_backing_store(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	u64 data = guest_alloc(g, 512), status = make_status(g);
	int image_fd = fd_of(f->path), pipe_fds[2];
	struct timespec start, end;
	double waited;

	assert_true(image_fd >= 0);
	assert_int_equal(pipe(pipe_fds), 0);
	assert_int_equal(dup2(pipe_fds[0], image_fd), image_fd);
	close(pipe_fds[0]);
	hung_writer = pipe_fds[1];
	signal(SIGALRM, unhang);
	alarm(4 * BLK_DRAIN_TIMEOUT_MS / 1000);

	post_req(g, VIRTIO_BLK_T_IN, 0, data, 512, status, true);
	/* What on_kick does, without letting the loop see the completion. */
	g->dev->ops->queue_notify(g->dev, 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	vg_wr(g, g->common + VG_COMMON(device_status), 0, 1);
	clock_gettime(CLOCK_MONOTONIC, &end);
	alarm(0);
	unhang(0);
	waited = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
	assert_true(waited < 2 * BLK_DRAIN_TIMEOUT_MS / 1000.0);
	assert_int_equal(vg_status(g), 0);
	assert_int_equal(vg_used_idx(g, 0), 0);
	assert_int_equal(*(u8 *)vg_ptr(g, status), STATUS_UNSET);

	/* The abandoned disk does not start again. */
	vg_wr(g, g->common + VG_COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	vg_wr(g, g->common + VG_COMMON(device_status),
	      VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK, 1);
	assert_true(vg_status(g) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_false(vg_status(g) & VIRTIO_CONFIG_S_DRIVER_OK);
}

static void create_refuses_bad_paths(void **state)
{
	struct vm vm;
	struct virtio_dev *dev;
	struct disk_config missing = { .path = "/nonexistent/disk.img" };
	struct disk_config dir = { .path = "/tmp", .readonly = true };
	struct disk_config chr = { .path = "/dev/null", .readonly = true };

	(void)state;
	memset(&vm, 0, sizeof(vm));
	assert_int_equal(event_loop_init(&vm.loop), 0);
	assert_int_equal(virtio_blk_create(&vm, &missing, 0, &dev), -ENOENT);
	assert_int_equal(virtio_blk_create(&vm, &dir, 0, &dev), -EINVAL);
	assert_int_equal(virtio_blk_create(&vm, &chr, 0, &dev), -EINVAL);
	event_loop_destroy(&vm.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(hostile_chains_are_answered_not_followed, setup_rw,
						teardown),
		cmocka_unit_test_setup_teardown(broken_ring_needs_reset, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(reset_with_requests_in_flight, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(a_full_ring_is_served_in_budgeted_turns, setup_rw,
						teardown),
		cmocka_unit_test_setup_teardown(a_device_that_cannot_start_refuses_driver_ok, setup_rw,
						teardown),
		cmocka_unit_test_setup_teardown(a_reset_does_not_wait_forever_for_a_hung_backing_store,
						setup_rw, teardown),
		cmocka_unit_test(create_refuses_bad_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
