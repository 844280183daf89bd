/*
 * virtio-blk against a fake guest: "RAM" is a malloc'd buffer, the split
 * virtqueue is laid out by hand in it, and the device is driven the way a
 * driver would, through the real virtio-pci transport (common config,
 * notify area, device config) on a PCI bus without KVM. Completions come
 * from the device's io_uring through the VM's event loop, which the tests
 * run by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devices/pci.h"
#include "devices/virtio/blk.h"
#include "core/vm.h"

#define RAM_GPA 0x100000ULL
#define RAM_SIZE (4 * MiB)
#define QSIZE 256
#define DESC_GPA RAM_GPA
#define AVAIL_GPA (RAM_GPA + 0x1000)
#define USED_GPA (RAM_GPA + 0x2000)
#define HEAP_GPA (RAM_GPA + 0x4000)
#define MMIO_BASE 0xc0000000ULL
#define MMIO_SIZE (16 * MiB)
/* Not a multiple of 512: the last 100 bytes are invisible to the guest. */
#define IMAGE_BYTES (1 * MiB + 100)
#define CAPACITY (1 * MiB / 512)
#define SERIAL_INDEX 3

#define COMMON(field) offsetof(struct virtio_pci_common_cfg, field)

struct t {
	struct vm vm;
	struct pci_bus bus;
	struct pci_device *pdev;
	u8 *ram;
	char path[32];
	struct virtio_dev *dev;
	u64 common, notify, device_cfg;
	u64 heap;
	u16 desc_next, avail_idx, used_seen;
};

/* The transport has no remove yet: keep its state reachable for LSan. */
static void *transport_leftovers[64];
static unsigned int nleftovers;

/* --- fake guest memory -------------------------------------------------- */

static void *gptr(struct t *t, u64 gpa)
{
	return t->ram + (gpa - RAM_GPA);
}

static u64 galloc(struct t *t, u64 len)
{
	u64 gpa = ALIGN_UP(t->heap, 16);

	t->heap = gpa + len;
	assert_true(t->heap <= RAM_GPA + RAM_SIZE);
	return gpa;
}

static u8 pattern_byte(u64 offset, unsigned int seed)
{
	return (u8)(offset * 7 + offset / 512 + seed * 13 + 1);
}

static void fill_pattern(u8 *buf, u64 offset, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(offset + i, seed);
}

/* --- the transport, as a driver sees it -------------------------------- */

static void mmio(struct t *t, u64 addr, void *data, u32 len, bool is_write)
{
	assert_true(io_bus_access(&t->vm.mmio, addr, data, len, is_write));
}

static u32 rd(struct t *t, u64 addr, u32 len)
{
	u32 v = 0;

	mmio(t, addr, &v, len, false);
	return le32toh(v);
}

static void wr(struct t *t, u64 addr, u32 v, u32 len)
{
	v = htole32(v);
	mmio(t, addr, &v, len, true);
}

/* Finds the vendor capabilities (4.1.4) and enables memory decoding. */
static void find_bar(struct t *t)
{
	u16 cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	const u8 *cfg;
	u64 bar;

	for (unsigned int s = 1; s < PCI_MAX_SLOTS && !t->pdev; s++)
		t->pdev = t->bus.slots[s];
	assert_non_null(t->pdev);
	pci_config_access(&t->bus, 0, t->pdev->slot, 0, PCI_COMMAND, (u8 *)&cmd, 2, true);
	bar = pci_bar_address(t->pdev, 0);
	cfg = t->pdev->config;
	for (u8 off = cfg[PCI_CAPABILITY_LIST]; off; off = cfg[off + 1]) {
		u32 where;

		if (cfg[off] != PCI_CAP_ID_VNDR)
			continue;
		memcpy(&where, &cfg[off + 8], 4);
		switch (cfg[off + 3]) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			t->common = bar + where;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			t->notify = bar + where; /* queue 0: notify_off 0 */
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			t->device_cfg = bar + where;
			break;
		}
	}
	assert_true(t->common && t->notify && t->device_cfg);
}

static u64 device_features(struct t *t)
{
	u64 f;

	wr(t, t->common + COMMON(device_feature_select), 0, 4);
	f = rd(t, t->common + COMMON(device_feature), 4);
	wr(t, t->common + COMMON(device_feature_select), 1, 4);
	return f | (u64)rd(t, t->common + COMMON(device_feature), 4) << 32;
}

static u8 device_status(struct t *t)
{
	return rd(t, t->common + COMMON(device_status), 1);
}

/* Driver initialization (3.1.1) with fresh, empty rings. */
static void driver_init(struct t *t)
{
	u64 f = device_features(t);
	u8 st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	wr(t, t->common + COMMON(device_status), 0, 1);
	memset(gptr(t, DESC_GPA), 0, HEAP_GPA - DESC_GPA);
	t->desc_next = t->avail_idx = t->used_seen = 0;
	wr(t, t->common + COMMON(device_status), st, 1);
	wr(t, t->common + COMMON(guest_feature_select), 0, 4);
	wr(t, t->common + COMMON(guest_feature), (u32)f, 4);
	wr(t, t->common + COMMON(guest_feature_select), 1, 4);
	wr(t, t->common + COMMON(guest_feature), (u32)(f >> 32), 4);
	st |= VIRTIO_CONFIG_S_FEATURES_OK;
	wr(t, t->common + COMMON(device_status), st, 1);
	assert_true(device_status(t) & VIRTIO_CONFIG_S_FEATURES_OK);
	wr(t, t->common + COMMON(queue_select), 0, 2);
	assert_int_equal(rd(t, t->common + COMMON(queue_size), 2), QSIZE);
	wr(t, t->common + COMMON(queue_desc_lo), (u32)DESC_GPA, 4);
	wr(t, t->common + COMMON(queue_desc_hi), 0, 4);
	wr(t, t->common + COMMON(queue_avail_lo), (u32)AVAIL_GPA, 4);
	wr(t, t->common + COMMON(queue_avail_hi), 0, 4);
	wr(t, t->common + COMMON(queue_used_lo), (u32)USED_GPA, 4);
	wr(t, t->common + COMMON(queue_used_hi), 0, 4);
	wr(t, t->common + COMMON(queue_enable), 1, 2);
	wr(t, t->common + COMMON(device_status), st | VIRTIO_CONFIG_S_DRIVER_OK, 1);
	assert_false(device_status(t) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* --- the event loop, run by hand ------------------------------------------ */

static void run_loop_once(struct t *t, int timeout_ms)
{
	struct epoll_event ev[16];
	int n = epoll_wait(t->vm.loop.epoll_fd, ev, 16, timeout_ms);

	pthread_mutex_lock(&t->vm.loop.lock);
	for (int i = 0; i < n; i++) {
		struct event_source *s = ev[i].data.ptr;

		if (s->fd >= 0)
			s->fn(s->opaque, ev[i].events);
	}
	pthread_mutex_unlock(&t->vm.loop.lock);
}

static u16 used_idx(struct t *t)
{
	struct vring_used *used = gptr(t, USED_GPA);

	return __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);
}

/* Runs the loop until count more requests are used (5 s at most). */
static void wait_used(struct t *t, unsigned int count)
{
	time_t deadline = time(NULL) + 5;

	while ((u16)(used_idx(t) - t->used_seen) < count && time(NULL) < deadline)
		run_loop_once(t, 100);
	assert_int_equal((u16)(used_idx(t) - t->used_seen), count);
}

static struct vring_used_elem take_used(struct t *t)
{
	struct vring_used *used = gptr(t, USED_GPA);

	return used->ring[t->used_seen++ % QSIZE];
}

/* --- requests ------------------------------------------------------------ */

struct seg {
	u64 gpa;
	u32 len;
	bool writable;
};

static void publish(struct t *t, u16 head)
{
	struct vring_avail *avail = gptr(t, AVAIL_GPA);

	avail->ring[t->avail_idx++ % QSIZE] = head;
	__atomic_store_n(&avail->idx, t->avail_idx, __ATOMIC_RELEASE);
}

static void fill_desc(struct vring_desc *d, const struct seg *s, bool more, u16 next)
{
	d->addr = s->gpa;
	d->len = s->len;
	d->flags = (s->writable ? VRING_DESC_F_WRITE : 0) | (more ? VRING_DESC_F_NEXT : 0);
	d->next = next;
}

/* A chain of direct descriptors. */
static u16 post(struct t *t, const struct seg *s, unsigned int n)
{
	struct vring_desc *table = gptr(t, DESC_GPA);
	u16 head = t->desc_next;

	for (unsigned int i = 0; i < n; i++) {
		u16 at = (head + i) % QSIZE;

		fill_desc(&table[at], &s[i], i + 1 < n, (at + 1) % QSIZE);
	}
	t->desc_next = (head + n) % QSIZE;
	publish(t, head);
	return head;
}

/* One descriptor pointing at an indirect table (2.7.5.3). */
static u16 post_indirect(struct t *t, const struct seg *s, unsigned int n)
{
	struct vring_desc *table = gptr(t, DESC_GPA);
	u64 ind = galloc(t, 16ULL * n);
	u16 head = t->desc_next;

	for (unsigned int i = 0; i < n; i++)
		fill_desc((struct vring_desc *)gptr(t, ind) + i, &s[i], i + 1 < n, i + 1);
	table[head] = (struct vring_desc){ ind, 16 * n, VRING_DESC_F_INDIRECT, 0 };
	t->desc_next = (head + 1) % QSIZE;
	publish(t, head);
	return head;
}

static void kick(struct t *t)
{
	wr(t, t->notify, 0, 2);
}

static u64 make_hdr(struct t *t, u32 type, u64 sector)
{
	struct virtio_blk_outhdr *hdr;
	u64 gpa = galloc(t, sizeof(*hdr));

	hdr = gptr(t, gpa);
	hdr->type = htole32(type);
	hdr->ioprio = 0;
	hdr->sector = htole64(sector);
	return gpa;
}

static u64 make_status(struct t *t)
{
	u64 gpa = galloc(t, 1);

	*(u8 *)gptr(t, gpa) = 0xee; /* never a valid status */
	return gpa;
}

/* header | data (readable for OUT, writable otherwise) | status */
static u16 post_req(struct t *t, u32 type, u64 sector, u64 data, u32 len, u64 status,
		    bool indirect)
{
	struct seg s[3] = { { make_hdr(t, type, sector), 16, false } };
	unsigned int n = 1;

	if (len)
		s[n++] = (struct seg){ data, len, type != VIRTIO_BLK_T_OUT };
	s[n++] = (struct seg){ status, 1, true };
	return indirect ? post_indirect(t, s, n) : post(t, s, n);
}

/* Posts one request, kicks, waits for it; returns the status byte. */
static u8 do_req(struct t *t, u32 type, u64 sector, u64 data, u32 len, u32 *written)
{
	u64 status = make_status(t);
	u16 head = post_req(t, type, sector, data, len, status, false);
	struct vring_used_elem e;

	kick(t);
	wait_used(t, 1);
	e = take_used(t);
	assert_int_equal(e.id, head);
	*written = e.len;
	return *(u8 *)gptr(t, status);
}

/* Posts a raw chain and expects it back with nothing written. */
static void expect_dropped(struct t *t, const struct seg *s, unsigned int n)
{
	u16 head = post(t, s, n);
	struct vring_used_elem e;

	kick(t);
	wait_used(t, 1);
	e = take_used(t);
	assert_int_equal(e.id, head);
	assert_int_equal(e.len, 0);
}

/* --- image file ------------------------------------------------------------- */

static void image_read(struct t *t, u64 offset, void *buf, size_t len)
{
	int fd = open(t->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, offset), (ssize_t)len);
	close(fd);
}

static void create_image(struct t *t)
{
	u8 *buf = malloc(IMAGE_BYTES);
	int fd;

	strcpy(t->path, "/tmp/vmm-blk-XXXXXX");
	fd = mkstemp(t->path);
	assert_true(fd >= 0);
	fill_pattern(buf, 0, IMAGE_BYTES, 0);
	assert_int_equal(pwrite(fd, buf, IMAGE_BYTES, 0), IMAGE_BYTES);
	close(fd);
	free(buf);
}

/* --- fixtures --------------------------------------------------------------- */

static int setup(void **state, bool readonly)
{
	struct t *t = calloc(1, sizeof(*t));
	struct disk_config disk;

	assert_non_null(t);
	t->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(t->ram);
	memset(t->ram, 0, RAM_SIZE);
	t->heap = HEAP_GPA;
	vm_init(&t->vm);
	t->vm.mem.banks[0] = (struct guest_bank){ RAM_GPA, RAM_SIZE, t->ram, true };
	t->vm.mem.nbanks = 1;
	assert_int_equal(event_loop_init(&t->vm.loop), 0);
	pci_bus_init(&t->bus);
	assert_int_equal(pci_bus_set_windows(&t->bus, &t->vm.mmio, MMIO_BASE, MMIO_SIZE, 0, 0), 0);
	create_image(t);
	disk = (struct disk_config){ .path = t->path, .readonly = readonly };
	assert_int_equal(virtio_blk_create(&t->vm, &disk, SERIAL_INDEX, &t->dev), 0);
	assert_int_equal(virtio_pci_add(&t->vm, &t->bus, t->dev), 0);
	find_bar(t);
	driver_init(t);
	*state = t;
	return 0;
}

static int setup_rw(void **state)
{
	return setup(state, false);
}

static int setup_ro(void **state)
{
	return setup(state, true);
}

static int teardown(void **state)
{
	struct t *t = *state;

	if (nleftovers + 2 <= ARRAY_SIZE(transport_leftovers)) {
		transport_leftovers[nleftovers++] = t->dev->transport;
		transport_leftovers[nleftovers++] = t->dev->queues;
	}
	t->dev->ops->destroy(t->dev);
	event_loop_destroy(&t->vm.loop);
	unlink(t->path);
	free(t->ram);
	free(t);
	return 0;
}

/* --- tests ------------------------------------------------------------------- */

static void config_and_features(void **state)
{
	struct t *t = *state;
	u64 f = device_features(t);
	u8 tail[4];

	assert_true(f & 1ULL << VIRTIO_F_VERSION_1);
	assert_true(f & 1ULL << VIRTIO_BLK_F_SEG_MAX);
	assert_true(f & 1ULL << VIRTIO_BLK_F_BLK_SIZE);
	assert_true(f & 1ULL << VIRTIO_BLK_F_FLUSH);
	assert_true(f & 1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	assert_false(f & 1ULL << VIRTIO_BLK_F_RO);
	/* capacity as two 32-bit halves, as Linux reads a 64-bit field */
	assert_int_equal(rd(t, t->device_cfg + 0, 4), CAPACITY);
	assert_int_equal(rd(t, t->device_cfg + 4, 4), 0);
	assert_int_equal(rd(t, t->device_cfg + 1, 1), CAPACITY >> 8);
	assert_int_equal(rd(t, t->device_cfg + offsetof(struct virtio_blk_config, seg_max), 4),
			 VQ_MAX_CHAIN - 2);
	assert_int_equal(rd(t, t->device_cfg + offsetof(struct virtio_blk_config, blk_size), 4),
			 512);
	assert_int_equal(rd(t, t->device_cfg + 0x200, 4), 0);
	/* Straddling the end of the structure: the part outside reads as zeros. */
	memset(tail, 0xff, sizeof(tail));
	t->dev->ops->config_read(t->dev, sizeof(struct virtio_blk_config) - 2, tail, 4);
	assert_int_equal(tail[2], 0);
	assert_int_equal(tail[3], 0);
}

static void write_then_read_round_trip(void **state)
{
	struct t *t = *state;
	u8 want[1024], got[1024], before[512];
	u64 data = galloc(t, 1024), in, status;
	struct seg s[4];
	struct vring_used_elem e;
	u32 written;
	u16 head;

	/* OUT at sector 5, data split at a byte offset across two buffers. */
	fill_pattern(want, 0, sizeof(want), 42);
	memcpy(gptr(t, data), want, sizeof(want));
	status = make_status(t);
	s[0] = (struct seg){ make_hdr(t, VIRTIO_BLK_T_OUT, 5), 16, false };
	s[1] = (struct seg){ data, 700, false };
	s[2] = (struct seg){ data + 700, 324, false };
	s[3] = (struct seg){ status, 1, true };
	head = post(t, s, 4);
	kick(t);
	wait_used(t, 1);
	e = take_used(t);
	assert_int_equal(e.id, head);
	assert_int_equal(e.len, 1);
	assert_int_equal(*(u8 *)gptr(t, status), VIRTIO_BLK_S_OK);
	image_read(t, 5 * 512, got, sizeof(got));
	assert_memory_equal(got, want, sizeof(want));
	image_read(t, 4 * 512, before, sizeof(before));
	for (unsigned int i = 0; i < sizeof(before); i++)
		assert_int_equal(before[i], pattern_byte(4 * 512 + i, 0));

	/* IN of the same sectors: data and status share one buffer (2.7.4). */
	in = galloc(t, 1025);
	memset(gptr(t, in), 0xee, 1025);
	s[0] = (struct seg){ make_hdr(t, VIRTIO_BLK_T_IN, 5), 16, false };
	s[1] = (struct seg){ in, 1025, true };
	head = post(t, s, 2);
	kick(t);
	wait_used(t, 1);
	e = take_used(t);
	assert_int_equal(e.id, head);
	assert_int_equal(e.len, 1025);
	assert_memory_equal(gptr(t, in), want, sizeof(want));
	assert_int_equal(*((u8 *)gptr(t, in) + 1024), VIRTIO_BLK_S_OK);

	/* And the untouched sector 0, through an indirect table. */
	status = make_status(t);
	data = galloc(t, 512);
	head = post_req(t, VIRTIO_BLK_T_IN, 0, data, 512, status, true);
	kick(t);
	wait_used(t, 1);
	e = take_used(t);
	assert_int_equal(e.id, head);
	assert_int_equal(e.len, 513);
	assert_int_equal(*(u8 *)gptr(t, status), VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(((u8 *)gptr(t, data))[i], pattern_byte(i, 0));

	/* The last sector is in range. */
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, CAPACITY - 1, data, 512, &written),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(written, 513);
}

static void flush_succeeds(void **state)
{
	struct t *t = *state;
	u32 written;

	assert_int_equal(do_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &written), VIRTIO_BLK_S_OK);
	assert_int_equal(written, 1);
}

static void get_id_returns_the_serial(void **state)
{
	struct t *t = *state;
	char want[VIRTIO_BLK_ID_BYTES] = "vmm-disk3";
	u64 id = galloc(t, VIRTIO_BLK_ID_BYTES);
	u32 written;

	memset(gptr(t, id), 0xee, VIRTIO_BLK_ID_BYTES);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES, &written),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(written, VIRTIO_BLK_ID_BYTES + 1);
	assert_memory_equal(gptr(t, id), want, VIRTIO_BLK_ID_BYTES);
}

static void read_only_disk_refuses_writes(void **state)
{
	struct t *t = *state;
	u64 data = galloc(t, 512);
	u8 got[512];
	u32 written;

	assert_true(device_features(t) & 1ULL << VIRTIO_BLK_F_RO);
	memset(gptr(t, data), 0x5a, 512);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_OUT, 1, data, 512, &written),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(written, 1);
	image_read(t, 512, got, sizeof(got));
	for (unsigned int i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], pattern_byte(512 + i, 0));
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 1, data, 512, &written), VIRTIO_BLK_S_OK);
	assert_int_equal(((u8 *)gptr(t, data))[7], pattern_byte(512 + 7, 0));
	assert_int_equal(do_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &written), VIRTIO_BLK_S_OK);
}

static void out_of_range_requests_fail(void **state)
{
	struct t *t = *state;
	u64 data = galloc(t, 1024);
	u32 written;

	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, CAPACITY - 1, data, 1024, &written),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(written, 1);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_OUT, CAPACITY, data, 512, &written),
			 VIRTIO_BLK_S_IOERR);
	/* A sector whose byte offset overflows 64 bits. */
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, UINT64_MAX / 256, data, 512, &written),
			 VIRTIO_BLK_S_IOERR);
	/* Lengths must be whole sectors. */
	assert_int_equal(do_req(t, VIRTIO_BLK_T_OUT, 0, data, 100, &written),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, data, 513, &written),
			 VIRTIO_BLK_S_IOERR);
}

static void unsupported_types(void **state)
{
	struct t *t = *state;
	u64 data = galloc(t, 512);
	u32 written;

	assert_int_equal(do_req(t, VIRTIO_BLK_T_DISCARD, 0, data, 16, &written),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(written, 1);
	assert_int_equal(do_req(t, 0x80000001, 0, data, 512, &written), VIRTIO_BLK_S_UNSUPP);
}

static void hostile_chains_are_answered_not_followed(void **state)
{
	struct t *t = *state;
	struct vring_desc *table = gptr(t, DESC_GPA);
	u64 hdr = make_hdr(t, VIRTIO_BLK_T_IN, 0), status, data = galloc(t, 512);
	struct seg s[3];
	u32 written;
	u16 head;

	/* A data buffer outside guest RAM. */
	s[0] = (struct seg){ hdr, 16, false };
	s[1] = (struct seg){ 0x1000, 512, true };
	s[2] = (struct seg){ make_status(t), 1, true };
	expect_dropped(t, s, 3);
	/* Writable before readable. */
	s[1] = (struct seg){ data, 512, true };
	s[2] = (struct seg){ hdr, 16, false };
	expect_dropped(t, s, 3);
	/* No writable byte for a status. */
	s[1] = (struct seg){ data, 512, false };
	expect_dropped(t, s, 2);
	/* A zero-length buffer. */
	s[1] = (struct seg){ data, 0, true };
	expect_dropped(t, s, 2);
	/* A loop: the second descriptor points back at the first. */
	head = t->desc_next;
	table[head] = (struct vring_desc){ hdr, 16, VRING_DESC_F_NEXT, head + 1 };
	table[head + 1] = (struct vring_desc){ data, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
					       head };
	t->desc_next += 2;
	publish(t, head);
	kick(t);
	wait_used(t, 1);
	assert_int_equal(take_used(t).len, 0);
	/* A header cut short: answered with an error in its status byte. */
	status = make_status(t);
	s[0] = (struct seg){ hdr, 8, false };
	s[1] = (struct seg){ status, 1, true };
	post(t, s, 2);
	kick(t);
	wait_used(t, 1);
	assert_int_equal(take_used(t).len, 1);
	assert_int_equal(*(u8 *)gptr(t, status), VIRTIO_BLK_S_IOERR);
	/* The queue still works. */
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, data, 512, &written), VIRTIO_BLK_S_OK);
	assert_false(device_status(t) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void broken_ring_needs_reset(void **state)
{
	struct t *t = *state;
	struct vring_avail *avail = gptr(t, AVAIL_GPA);
	u64 data = galloc(t, 512);
	u32 written;

	/* More available entries than the ring holds (2.7.6): -EFAULT. */
	avail->idx = t->avail_idx + QSIZE + 1;
	kick(t);
	run_loop_once(t, 100);
	assert_true(device_status(t) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(used_idx(t), t->used_seen);
	/* After a reset and a fresh initialization it works again. */
	driver_init(t);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, data, 512, &written), VIRTIO_BLK_S_OK);
}

/*
 * More requests than the ring has SQEs: queue processing stalls at 128
 * and resumes from the completion handler. Indirect tables keep each
 * request to one ring descriptor.
 */
#define NREQ 200

static void many_requests_in_flight(void **state)
{
	struct t *t = *state;
	u64 data = galloc(t, NREQ * 512ULL), status = galloc(t, NREQ);
	bool seen[NREQ] = { false };
	u8 got[512];

	for (unsigned int i = 0; i < NREQ; i++) {
		fill_pattern(gptr(t, data + i * 512), 0, 512, i + 100);
		*(u8 *)gptr(t, status + i) = 0xee;
		post_req(t, VIRTIO_BLK_T_OUT, 2 * i, data + i * 512, 512, status + i, true);
	}
	kick(t);
	wait_used(t, NREQ);
	for (unsigned int i = 0; i < NREQ; i++) {
		struct vring_used_elem e = take_used(t);

		assert_true(e.id < NREQ && !seen[e.id]);
		seen[e.id] = true;
		assert_int_equal(e.len, 1);
		assert_int_equal(*(u8 *)gptr(t, status + i), VIRTIO_BLK_S_OK);
	}
	for (unsigned int i = 0; i < NREQ; i += 37) {
		image_read(t, 2 * i * 512ULL, got, 512);
		assert_memory_equal(got, gptr(t, data + i * 512), 512);
	}

	/* Read them all back into cleared buffers. */
	memset(gptr(t, data), 0, NREQ * 512);
	for (unsigned int i = 0; i < NREQ; i++)
		post_req(t, VIRTIO_BLK_T_IN, 2 * i, data + i * 512, 512, status + i, true);
	kick(t);
	wait_used(t, NREQ);
	for (unsigned int i = 0; i < NREQ; i++) {
		assert_int_equal(take_used(t).len, 513);
		fill_pattern(got, 0, 512, i + 100);
		assert_memory_equal(gptr(t, data + i * 512), got, 512);
	}
}

/* The image shrank behind our back: a short read, then end of file. */
static void short_read_then_eof_fails(void **state)
{
	struct t *t = *state;
	u64 data = galloc(t, 1024);
	u32 written;

	assert_int_equal(truncate(t->path, 512), 0);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, data, 1024, &written),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(written, 513);
	assert_int_equal(((u8 *)gptr(t, data))[511], pattern_byte(511, 0));
}

/*
 * A reset with requests in the kernel waits for them and returns none
 * of them: the used ring stays as it was. (Writes the page cache takes
 * at once complete inside the submission and are returned by the kick
 * itself, before the reset.)
 */
static void reset_with_requests_in_flight(void **state)
{
	struct t *t = *state;
	u64 data = galloc(t, 8 * 512ULL), status = galloc(t, 8);
	unsigned int returned, answered = 0;
	u8 got[512];

	for (unsigned int i = 0; i < 8; i++) {
		fill_pattern(gptr(t, data + i * 512), 0, 512, i + 7);
		*(u8 *)gptr(t, status + i) = 0xee;
		post_req(t, VIRTIO_BLK_T_OUT, 100 + i, data + i * 512, 512, status + i, true);
	}
	/* What on_kick does, without letting the loop reap the completions. */
	t->dev->ops->queue_notify(t->dev, 0);
	returned = used_idx(t);
	wr(t, t->common + COMMON(device_status), 0, 1);
	run_loop_once(t, 100);
	assert_int_equal(used_idx(t), returned);
	for (unsigned int i = 0; i < 8; i++)
		answered += *(u8 *)gptr(t, status + i) != 0xee;
	assert_int_equal(answered, returned);
	/* The writes themselves did finish before the reset returned. */
	image_read(t, 107 * 512, got, 512);
	assert_memory_equal(got, gptr(t, data + 7 * 512), 512);
}

/*
 * Requests answered at once (no I/O, so no SQE limit) from a full ring:
 * one event loop turn serves a budget of them, the next turns the rest,
 * without another kick.
 */
static void a_full_ring_is_served_in_budgeted_turns(void **state)
{
	struct t *t = *state;

	for (unsigned int i = 0; i < QSIZE; i++)
		post_req(t, 0x80000001, 0, 0, 0, make_status(t), true);
	kick(t);
	run_loop_once(t, 100);
	assert_int_equal(used_idx(t), VIRTIO_BLK_RING_ENTRIES);
	wait_used(t, QSIZE);
}

/* The driver asks for more entries than there are request slots. */
static void a_device_that_cannot_start_refuses_driver_ok(void **state)
{
	struct t *t = *state;
	u8 st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
	u64 data = galloc(t, 512), status = make_status(t);

	wr(t, t->common + COMMON(device_status), 0, 1);
	wr(t, t->common + COMMON(device_status), st & ~VIRTIO_CONFIG_S_FEATURES_OK, 1);
	wr(t, t->common + COMMON(guest_feature_select), 1, 4);
	wr(t, t->common + COMMON(guest_feature), 1, 4); /* VIRTIO_F_VERSION_1 */
	wr(t, t->common + COMMON(device_status), st, 1);
	wr(t, t->common + COMMON(queue_select), 0, 2);
	wr(t, t->common + COMMON(queue_size), 2 * QSIZE, 2);
	wr(t, t->common + COMMON(queue_desc_lo), (u32)DESC_GPA, 4);
	wr(t, t->common + COMMON(queue_avail_lo), (u32)AVAIL_GPA, 4);
	wr(t, t->common + COMMON(queue_used_lo), (u32)USED_GPA, 4);
	wr(t, t->common + COMMON(queue_enable), 1, 2);
	wr(t, t->common + COMMON(device_status), st | VIRTIO_CONFIG_S_DRIVER_OK, 1);
	assert_true(device_status(t) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_false(device_status(t) & VIRTIO_CONFIG_S_DRIVER_OK);
	/* No kick reaches a device that did not start. */
	post_req(t, VIRTIO_BLK_T_IN, 0, data, 512, status, true);
	kick(t);
	run_loop_once(t, 100);
	assert_int_equal(used_idx(t), 0);
	assert_int_equal(*(u8 *)gptr(t, status), 0xee);
	/* A reset and a proper initialization bring it back. */
	driver_init(t);
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
	struct t *t = *state;
	u64 data = galloc(t, 512), status = make_status(t);
	int image_fd = fd_of(t->path), pipe_fds[2];
	struct timespec start, end;
	double waited;

	assert_true(image_fd >= 0);
	assert_int_equal(pipe(pipe_fds), 0);
	assert_int_equal(dup2(pipe_fds[0], image_fd), image_fd);
	close(pipe_fds[0]);
	hung_writer = pipe_fds[1];
	signal(SIGALRM, unhang);
	alarm(4 * BLK_DRAIN_TIMEOUT_MS / 1000);

	post_req(t, VIRTIO_BLK_T_IN, 0, data, 512, status, true);
	/* What on_kick does, without letting the loop see the completion. */
	t->dev->ops->queue_notify(t->dev, 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	wr(t, t->common + COMMON(device_status), 0, 1);
	clock_gettime(CLOCK_MONOTONIC, &end);
	alarm(0);
	unhang(0);
	waited = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
	assert_true(waited < 2 * BLK_DRAIN_TIMEOUT_MS / 1000.0);
	assert_int_equal(device_status(t), 0);
	assert_int_equal(used_idx(t), 0);
	assert_int_equal(*(u8 *)gptr(t, status), 0xee);

	/* The abandoned disk does not start again. */
	wr(t, t->common + COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	wr(t, t->common + COMMON(device_status),
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK, 1);
	assert_true(device_status(t) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_false(device_status(t) & VIRTIO_CONFIG_S_DRIVER_OK);
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
		cmocka_unit_test_setup_teardown(config_and_features, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(write_then_read_round_trip, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(flush_succeeds, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(get_id_returns_the_serial, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(read_only_disk_refuses_writes, setup_ro, teardown),
		cmocka_unit_test_setup_teardown(out_of_range_requests_fail, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(unsupported_types, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(hostile_chains_are_answered_not_followed, setup_rw,
						teardown),
		cmocka_unit_test_setup_teardown(broken_ring_needs_reset, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(many_requests_in_flight, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(short_read_then_eof_fails, setup_rw, teardown),
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
