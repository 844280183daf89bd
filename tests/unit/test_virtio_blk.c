/*
 * virtio-blk doing its job for a well-behaved driver: what it offers
 * (features, configuration space), data to and from the image in every
 * buffer layout (split, shared with the status, indirect), flush, get-id,
 * a read-only disk, requests out of range or of unknown types, more
 * requests in flight than io_uring has entries, and a short read. Driven
 * through the real transport by a fake guest (virtio_blk_guest.h on
 * virtio_guest.h); completions come from the device's io_uring through
 * the VM's event loop, run by hand. Faults are in test_virtio_blk_faults.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <unistd.h>

#include "devices/virtio/blk.h"
#include "virtio_blk_guest.h"

static void config_and_features(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	u64 feat = vg_device_features(g);
	u8 tail[4];

	assert_true(feat & 1ULL << VIRTIO_F_VERSION_1);
	assert_true(feat & 1ULL << VIRTIO_BLK_F_SEG_MAX);
	assert_true(feat & 1ULL << VIRTIO_BLK_F_BLK_SIZE);
	assert_true(feat & 1ULL << VIRTIO_BLK_F_FLUSH);
	assert_true(feat & 1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	assert_false(feat & 1ULL << VIRTIO_BLK_F_RO);
	/* capacity as two 32-bit halves, as Linux reads a 64-bit field */
	assert_int_equal(vg_rd(g, g->device_cfg + 0, 4), CAPACITY);
	assert_int_equal(vg_rd(g, g->device_cfg + 4, 4), 0);
	assert_int_equal(vg_rd(g, g->device_cfg + 1, 1), CAPACITY >> 8);
	assert_int_equal(vg_rd(g, g->device_cfg + offsetof(struct virtio_blk_config, seg_max), 4),
			 VQ_MAX_CHAIN - 2);
	assert_int_equal(vg_rd(g, g->device_cfg + offsetof(struct virtio_blk_config, blk_size), 4),
			 512);
	assert_int_equal(vg_rd(g, g->device_cfg + 0x200, 4), 0);
	/* Straddling the end of the structure: the part outside reads as zeros. */
	memset(tail, 0xff, sizeof(tail));
	g->dev->ops->config_read(g->dev, sizeof(struct virtio_blk_config) - 2, tail, 4);
	assert_int_equal(tail[2], 0);
	assert_int_equal(tail[3], 0);
}

static void write_then_read_round_trip(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	u8 want[1024], got[1024], before[512];
	u64 data = guest_alloc(g, 1024), in, status;
	struct vg_seg s[4];
	struct vring_used_elem e;
	u32 written;
	u16 head;

	/* OUT at sector 5, data split at a byte offset across two buffers. */
	fill_pattern(want, 0, sizeof(want), 42);
	memcpy(vg_ptr(g, data), want, sizeof(want));
	status = make_status(g);
	s[0] = (struct vg_seg){ make_hdr(g, VIRTIO_BLK_T_OUT, 5), 16, false };
	s[1] = (struct vg_seg){ data, 700, false };
	s[2] = (struct vg_seg){ data + 700, 324, false };
	s[3] = (struct vg_seg){ status, 1, true };
	head = vg_post(g, 0, s, 4);
	vg_kick(g, 0);
	wait_used(g, 1);
	e = vg_take_used(g, 0);
	assert_int_equal(e.id, head);
	assert_int_equal(e.len, 1);
	assert_int_equal(*(u8 *)vg_ptr(g, status), VIRTIO_BLK_S_OK);
	image_read(f, 5 * 512, got, sizeof(got));
	assert_memory_equal(got, want, sizeof(want));
	image_read(f, 4 * 512, before, sizeof(before));
	for (unsigned int i = 0; i < sizeof(before); i++)
		assert_int_equal(before[i], pattern_byte(4 * 512 + i, 0));

	/* IN of the same sectors: data and status share one buffer (2.7.4). */
	in = guest_alloc(g, 1025);
	memset(vg_ptr(g, in), 0xee, 1025);
	s[0] = (struct vg_seg){ make_hdr(g, VIRTIO_BLK_T_IN, 5), 16, false };
	s[1] = (struct vg_seg){ in, 1025, true };
	head = vg_post(g, 0, s, 2);
	vg_kick(g, 0);
	wait_used(g, 1);
	e = vg_take_used(g, 0);
	assert_int_equal(e.id, head);
	assert_int_equal(e.len, 1025);
	assert_memory_equal(vg_ptr(g, in), want, sizeof(want));
	assert_int_equal(*((u8 *)vg_ptr(g, in) + 1024), VIRTIO_BLK_S_OK);

	/* And the untouched sector 0, through an indirect table. */
	status = make_status(g);
	data = guest_alloc(g, 512);
	head = post_req(g, VIRTIO_BLK_T_IN, 0, data, 512, status, true);
	vg_kick(g, 0);
	wait_used(g, 1);
	e = vg_take_used(g, 0);
	assert_int_equal(e.id, head);
	assert_int_equal(e.len, 513);
	assert_int_equal(*(u8 *)vg_ptr(g, status), VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(((u8 *)vg_ptr(g, data))[i], pattern_byte(i, 0));

	/* The last sector is in range. */
	assert_int_equal(do_req(g, VIRTIO_BLK_T_IN, CAPACITY - 1, data, 512, &written),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(written, 513);
}

static void flush_succeeds(void **state)
{
	struct blk_fixture *f = *state;
	u32 written;

	assert_int_equal(do_req(&f->g, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &written), VIRTIO_BLK_S_OK);
	assert_int_equal(written, 1);
}

static void get_id_returns_the_serial(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	char want[VIRTIO_BLK_ID_BYTES] = "vmm-disk3";
	u64 id = guest_alloc(g, VIRTIO_BLK_ID_BYTES);
	u32 written;

	memset(vg_ptr(g, id), 0xee, VIRTIO_BLK_ID_BYTES);
	assert_int_equal(do_req(g, VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES, &written),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(written, VIRTIO_BLK_ID_BYTES + 1);
	assert_memory_equal(vg_ptr(g, id), want, VIRTIO_BLK_ID_BYTES);
}

static void read_only_disk_refuses_writes(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	u64 data = guest_alloc(g, 512);
	u8 got[512];
	u32 written;

	assert_true(vg_device_features(g) & 1ULL << VIRTIO_BLK_F_RO);
	memset(vg_ptr(g, data), 0x5a, 512);
	assert_int_equal(do_req(g, VIRTIO_BLK_T_OUT, 1, data, 512, &written),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(written, 1);
	image_read(f, 512, got, sizeof(got));
	for (unsigned int i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], pattern_byte(512 + i, 0));
	assert_int_equal(do_req(g, VIRTIO_BLK_T_IN, 1, data, 512, &written), VIRTIO_BLK_S_OK);
	assert_int_equal(((u8 *)vg_ptr(g, data))[7], pattern_byte(512 + 7, 0));
	assert_int_equal(do_req(g, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &written), VIRTIO_BLK_S_OK);
}

static void out_of_range_requests_fail(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	u64 data = guest_alloc(g, 1024);
	u32 written;

	assert_int_equal(do_req(g, VIRTIO_BLK_T_IN, CAPACITY - 1, data, 1024, &written),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(written, 1);
	assert_int_equal(do_req(g, VIRTIO_BLK_T_OUT, CAPACITY, data, 512, &written),
			 VIRTIO_BLK_S_IOERR);
	/* A sector whose byte offset overflows 64 bits. */
	assert_int_equal(do_req(g, VIRTIO_BLK_T_IN, UINT64_MAX / 256, data, 512, &written),
			 VIRTIO_BLK_S_IOERR);
	/* Lengths must be whole sectors. */
	assert_int_equal(do_req(g, VIRTIO_BLK_T_OUT, 0, data, 100, &written),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(g, VIRTIO_BLK_T_IN, 0, data, 513, &written),
			 VIRTIO_BLK_S_IOERR);
}

static void unsupported_types(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	u64 data = guest_alloc(g, 512);
	u32 written;

	assert_int_equal(do_req(g, VIRTIO_BLK_T_DISCARD, 0, data, 16, &written),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(written, 1);
	assert_int_equal(do_req(g, 0x80000001, 0, data, 512, &written), VIRTIO_BLK_S_UNSUPP);
}

/*
 * More requests than the ring has SQEs: queue processing stalls at 128
 * and resumes from the completion handler. Indirect tables keep each
 * request to one ring descriptor.
 */
#define NREQ 200

static void many_requests_in_flight(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	u64 data = guest_alloc(g, NREQ * 512ULL), status = guest_alloc(g, NREQ);
	bool seen[NREQ] = { false };
	u8 got[512];

	for (unsigned int i = 0; i < NREQ; i++) {
		fill_pattern(vg_ptr(g, data + i * 512), 0, 512, i + 100);
		*(u8 *)vg_ptr(g, status + i) = STATUS_UNSET;
		post_req(g, VIRTIO_BLK_T_OUT, 2 * i, data + i * 512, 512, status + i, true);
	}
	vg_kick(g, 0);
	wait_used(g, NREQ);
	for (unsigned int i = 0; i < NREQ; i++) {
		struct vring_used_elem e = vg_take_used(g, 0);

		assert_true(e.id < NREQ && !seen[e.id]);
		seen[e.id] = true;
		assert_int_equal(e.len, 1);
		assert_int_equal(*(u8 *)vg_ptr(g, status + i), VIRTIO_BLK_S_OK);
	}
	for (unsigned int i = 0; i < NREQ; i += 37) {
		image_read(f, 2 * i * 512ULL, got, 512);
		assert_memory_equal(got, vg_ptr(g, data + i * 512), 512);
	}

	/* Read them all back into cleared buffers. */
	memset(vg_ptr(g, data), 0, NREQ * 512);
	for (unsigned int i = 0; i < NREQ; i++)
		post_req(g, VIRTIO_BLK_T_IN, 2 * i, data + i * 512, 512, status + i, true);
	vg_kick(g, 0);
	wait_used(g, NREQ);
	for (unsigned int i = 0; i < NREQ; i++) {
		assert_int_equal(vg_take_used(g, 0).len, 513);
		fill_pattern(got, 0, 512, i + 100);
		assert_memory_equal(vg_ptr(g, data + i * 512), got, 512);
	}
}

/* The image shrank behind our back: a short read, then end of file. */
static void short_read_then_eof_fails(void **state)
{
	struct blk_fixture *f = *state;
	struct vguest *g = &f->g;
	u64 data = guest_alloc(g, 1024);
	u32 written;

	assert_int_equal(truncate(f->path, 512), 0);
	assert_int_equal(do_req(g, VIRTIO_BLK_T_IN, 0, data, 1024, &written),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(written, 513);
	assert_int_equal(((u8 *)vg_ptr(g, data))[511], pattern_byte(511, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(config_and_features, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(write_then_read_round_trip, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(flush_succeeds, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(get_id_returns_the_serial, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(read_only_disk_refuses_writes, setup_ro, teardown),
		cmocka_unit_test_setup_teardown(out_of_range_requests_fail, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(unsupported_types, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(many_requests_in_flight, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(short_read_then_eof_fails, setup_rw, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
