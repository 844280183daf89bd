/*
 * virtio-blk with several request queues (VIRTIO_BLK_F_MQ, 5.2.3): the
 * driver sees num_queues, each queue has its own kick, ring and
 * completions, and data written through one queue reads back through
 * another. Driven through the real transport (virtio_guest.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <unistd.h>

#include "core/log.h"
#include "devices/virtio/blk.h"
#include "virtio_guest.h"

#define IMAGE_BYTES (256 * 1024)
#define BLOCK 4096

struct fixture {
	struct vguest g;
	char path[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	u8 zero[BLOCK] = { 0 };
	int fd;

	log_threshold = LOG_QUIET; /* no MSI-X here: the transport would warn */
	strcpy(f->path, "/tmp/vmm-blkmq-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	for (int i = 0; i < IMAGE_BYTES / BLOCK; i++)
		assert_int_equal(write(fd, zero, BLOCK), BLOCK);
	close(fd);
	assert_int_equal(vg_init(&f->g), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vg_destroy(&f->g);
	unlink(f->path);
	free(f);
	log_threshold = LOG_WARN;
	return 0;
}

static void add_disk(struct fixture *f, unsigned int queues)
{
	struct disk_config disk = { .path = f->path, .queues = queues };
	struct virtio_dev *dev;

	assert_int_equal(virtio_blk_create(&f->g.vm, &disk, 0, &dev), 0);
	assert_int_equal(vg_add(&f->g, dev), 0);
	assert_true(vg_driver_init(&f->g, 0) & VIRTIO_CONFIG_S_DRIVER_OK);
}

/* One request of type at sector on queue qi; returns its status byte. */
static u8 request(struct vguest *g, unsigned int qi, u32 type, u64 sector, u64 data)
{
	u64 hdr = vg_alloc(g, 16), status = vg_alloc(g, 1);
	struct virtio_blk_outhdr *h = vg_ptr(g, hdr);
	struct vg_seg s[3] = {
		{ hdr, 16, false },
		{ data, BLOCK, type == VIRTIO_BLK_T_IN },
		{ status, 1, true },
	};

	h->type = htole32(type);
	h->sector = htole64(sector);
	*(u8 *)vg_ptr(g, status) = 0xee;
	vg_post(g, qi, s, 3);
	vg_kick(g, qi);
	assert_int_equal(vg_wait_used(g, qi, 1), 1);
	vg_take_used(g, qi);
	return *(u8 *)vg_ptr(g, status);
}

static void queues_are_offered_with_mq_and_num_queues(void **state)
{
	struct fixture *f = *state;
	struct vguest *g = &f->g;

	add_disk(f, 3);
	assert_int_equal(g->dev->nqueues, 3);
	assert_true(virtio_has_feature(g->dev, VIRTIO_BLK_F_MQ));
	assert_int_equal(vg_rd(g, g->device_cfg + offsetof(struct virtio_blk_config, num_queues), 2),
			 3);
	assert_int_equal(vg_rd(g, g->common + VG_COMMON(num_queues), 2), 3);
}

static void one_queue_is_offered_without_mq(void **state)
{
	struct fixture *f = *state;

	add_disk(f, 0);
	assert_int_equal(f->g.dev->nqueues, 1);
	assert_false(virtio_has_feature(f->g.dev, VIRTIO_BLK_F_MQ));
}

static void data_written_on_one_queue_reads_back_on_the_others(void **state)
{
	struct fixture *f = *state;
	struct vguest *g = &f->g;
	u64 out = vg_alloc(g, BLOCK);
	u8 *pattern = vg_ptr(g, out), disk[BLOCK];
	int fd;

	add_disk(f, 3);
	for (int i = 0; i < BLOCK; i++)
		pattern[i] = (u8)(i * 7 + 3);
	assert_int_equal(request(g, 2, VIRTIO_BLK_T_OUT, 16, out), VIRTIO_BLK_S_OK);
	for (unsigned int qi = 0; qi < 2; qi++) {
		u64 in = vg_alloc(g, BLOCK);

		assert_int_equal(request(g, qi, VIRTIO_BLK_T_IN, 16, in), VIRTIO_BLK_S_OK);
		assert_memory_equal(vg_ptr(g, in), pattern, BLOCK);
	}
	/* Each queue answered only its own request. */
	assert_int_equal(vg_used_idx(g, 0), 1);
	assert_int_equal(vg_used_idx(g, 1), 1);
	assert_int_equal(vg_used_idx(g, 2), 1);
	assert_int_equal(g->dev->queues[2].stats.kicks, 1);
	assert_int_equal(g->dev->queues[2].stats.completions, 1);
	/* And the bytes are in the image. */
	fd = open(f->path, O_RDONLY);
	assert_int_equal(pread(fd, disk, BLOCK, 16 * 512), BLOCK);
	close(fd);
	assert_memory_equal(disk, pattern, BLOCK);
}

static void requests_in_flight_on_every_queue_survive_a_reset(void **state)
{
	struct fixture *f = *state;
	struct vguest *g = &f->g;

	add_disk(f, 3);
	for (unsigned int qi = 0; qi < 3; qi++) {
		u64 hdr = vg_alloc(g, 16), data = vg_alloc(g, BLOCK), status = vg_alloc(g, 1);
		struct vg_seg s[3] = { { hdr, 16, false }, { data, BLOCK, true }, { status, 1, true } };

		((struct virtio_blk_outhdr *)vg_ptr(g, hdr))->type = htole32(VIRTIO_BLK_T_IN);
		vg_post(g, qi, s, 3);
		vg_kick(g, qi);
	}
	/* Submitted, not reaped: the reset drains all three rings. */
	vg_run_loop_once(g, 100);
	vg_wr(g, g->common + VG_COMMON(device_status), 0, 1);
	assert_int_equal(vg_status(g), 0);
	assert_true(vg_driver_init(g, 0) & VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(request(g, 1, VIRTIO_BLK_T_IN, 0, vg_alloc(g, BLOCK)), VIRTIO_BLK_S_OK);
}

static void too_many_queues_are_refused(void **state)
{
	struct fixture *f = *state;
	struct disk_config disk = { .path = f->path, .queues = VIRTIO_BLK_MAX_QUEUES + 1 };
	struct virtio_dev *dev = NULL;

	assert_int_equal(virtio_blk_create(&f->g.vm, &disk, 0, &dev), -EINVAL);
	assert_null(dev);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(queues_are_offered_with_mq_and_num_queues),
		T(one_queue_is_offered_without_mq),
		T(data_written_on_one_queue_reads_back_on_the_others),
		T(requests_in_flight_on_every_queue_survive_a_reset),
		T(too_many_queues_are_refused),
	};

	return cmocka_run_group_tests_name("virtio-blk multiqueue", tests, NULL, NULL);
}
