/*
 * A virtio-blk disk for the test_virtio_blk*.c files, driven by the fake
 * guest of virtio_guest.h: the fixture (an image of a known pattern, the
 * disk on the bus, the driver initialized), requests built as a driver
 * builds them (header | data | status, 5.2.6), and reads of the image
 * behind the device's back. Header-only, like virtio_guest.h.
 */
#ifndef TESTS_UNIT_VIRTIO_BLK_GUEST_H
#define TESTS_UNIT_VIRTIO_BLK_GUEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <unistd.h>

#include "devices/virtio/blk.h"
#include "virtio_guest.h"

/* Not a multiple of 512: the last 100 bytes are invisible to the guest. */
#define IMAGE_BYTES (1 * MiB + 100)
#define CAPACITY (1 * MiB / 512)
#define SERIAL_INDEX 3
/* The ring size the disk offers (VIRTIO_BLK_QUEUE_SIZE), spelled out so a change shows here. */
#define QSIZE 256
/* A status byte the device never writes: still there means "not answered". */
#define STATUS_UNSET 0xee

struct blk_fixture {
	struct vguest g;
	char path[32]; /* the image */
};

/* The image's byte at offset, in the pattern of seed (seed 0: as created). */
static inline u8 pattern_byte(u64 offset, unsigned int seed)
{
	return (u8)(offset * 7 + offset / 512 + seed * 13 + 1);
}

static inline void fill_pattern(u8 *buf, u64 offset, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(offset + i, seed);
}

/* Guest memory a test cannot do without: running out is a bug in the test. */
static inline u64 guest_alloc(struct vguest *g, u64 len)
{
	u64 gpa = vg_alloc(g, len);

	assert_true(gpa != 0);
	return gpa;
}

/* vg_driver_init, checked: the full ring is offered and DRIVER_OK taken. */
static inline void init_driver(struct vguest *g)
{
	assert_int_equal(vg_driver_init(g, 0),
			 VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(g->q[0].size, QSIZE);
}

/* Runs the loop until count more requests are used (VG_WAIT_SECONDS at most). */
static inline void wait_used(struct vguest *g, u16 count)
{
	assert_int_equal(vg_wait_used(g, 0, count), count);
}

static inline u64 make_hdr(struct vguest *g, u32 type, u64 sector)
{
	u64 gpa = guest_alloc(g, sizeof(struct virtio_blk_outhdr));
	struct virtio_blk_outhdr *hdr = vg_ptr(g, gpa);

	hdr->type = htole32(type);
	hdr->ioprio = 0;
	hdr->sector = htole64(sector);
	return gpa;
}

static inline u64 make_status(struct vguest *g)
{
	u64 gpa = guest_alloc(g, 1);

	*(u8 *)vg_ptr(g, gpa) = STATUS_UNSET;
	return gpa;
}

/* header | data (readable for OUT, writable otherwise) | status */
static inline u16 post_req(struct vguest *g, u32 type, u64 sector, u64 data, u32 len, u64 status,
			   bool indirect)
{
	struct vg_seg s[3] = { { make_hdr(g, type, sector), 16, false } };
	unsigned int n = 1;
	int head;

	if (len)
		s[n++] = (struct vg_seg){ data, len, type != VIRTIO_BLK_T_OUT };
	s[n++] = (struct vg_seg){ status, 1, true };
	if (!indirect)
		return vg_post(g, 0, s, n);
	head = vg_post_indirect(g, 0, s, n);
	assert_true(head >= 0);
	return (u16)head;
}

/* Posts one request, kicks, waits for it; returns the status byte. */
static inline u8 do_req(struct vguest *g, u32 type, u64 sector, u64 data, u32 len, u32 *written)
{
	u64 status = make_status(g);
	u16 head = post_req(g, type, sector, data, len, status, false);
	struct vring_used_elem e;

	vg_kick(g, 0);
	wait_used(g, 1);
	e = vg_take_used(g, 0);
	assert_int_equal(e.id, head);
	*written = e.len;
	return *(u8 *)vg_ptr(g, status);
}

/* What the image holds, read past the device. */
static inline void image_read(struct blk_fixture *f, u64 offset, void *buf, size_t len)
{
	int fd = open(f->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, offset), (ssize_t)len);
	close(fd);
}

static inline void create_image(struct blk_fixture *f)
{
	u8 *buf = malloc(IMAGE_BYTES);
	int fd;

	assert_non_null(buf);
	strcpy(f->path, "/tmp/vmm-blk-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	fill_pattern(buf, 0, IMAGE_BYTES, 0);
	assert_int_equal(pwrite(fd, buf, IMAGE_BYTES, 0), IMAGE_BYTES);
	close(fd);
	free(buf);
}

/* A disk on a fresh image, with the driver initialized. */
static inline int blk_setup(void **state, bool readonly)
{
	struct blk_fixture *f = calloc(1, sizeof(*f));
	struct disk_config disk;
	struct virtio_dev *dev;

	assert_non_null(f);
	assert_int_equal(vg_init(&f->g), 0);
	create_image(f);
	disk = (struct disk_config){ .path = f->path, .readonly = readonly };
	assert_int_equal(virtio_blk_create(&f->g.vm, &disk, SERIAL_INDEX, &dev), 0);
	assert_int_equal(vg_add(&f->g, dev), 0);
	init_driver(&f->g);
	*state = f;
	return 0;
}

static inline int setup_rw(void **state)
{
	return blk_setup(state, false);
}

static inline int setup_ro(void **state)
{
	return blk_setup(state, true);
}

static inline int teardown(void **state)
{
	struct blk_fixture *f = *state;

	/* Every register the test touched was there (cmocka reports this as an error). */
	assert_int_equal(f->g.unclaimed, 0);
	vg_destroy(&f->g);
	unlink(f->path);
	free(f);
	return 0;
}

#endif
