/*
 * virtio-blk request parsing and its io_uring back end, driven by a
 * guest through the real transport (tests/unit/virtio_guest.h) on a
 * 64 KiB image: headers cut anywhere, any type and sector, data and
 * status buffers of any size and direction, direct or indirect, kicks,
 * loop turns, resets and rewrites of guest memory in between.
 *
 * One device serves every input, reset before and after each.
 *
 * Input: operations of one byte (bits 0-2: post a request, kick, loop
 * turn, reset, driver init, memory write, post a raw segment; the high
 * bits are flags of some) and their arguments.
 */
#include <linux/virtio_blk.h>
#include <unistd.h>

#include "core/log.h"
#include "devices/virtio/blk.h"
#include "fuzz_input.h"
#include "tests/unit/virtio_guest.h"

static char image[64];

static void remove_image(void)
{
	unlink(image);
}

static int make_image(void)
{
	int fd;

	snprintf(image, sizeof(image), "%s/vmm-fuzz-blk-XXXXXX", P_tmpdir);
	fd = mkstemp(image);

	if (fd < 0 || ftruncate(fd, 64 * KiB) < 0)
		return -1;
	close(fd);
	atexit(remove_image);
	return 0;
}

static const u32 types[] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
			     VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD };

/* header | data | status, the header cut to hdr_len bytes, as one chain. */
static void post_request(struct vguest *g, struct fuzz_input *in)
{
	u8 shape = fuzz_u8(in), t = fuzz_u8(in);
	u64 sector = shape & 0x80 ? fuzz_u64(in) : fuzz_u8(in);
	u32 hdr_len = shape & 0x40 ? fuzz_u8(in) % 17 : 16, data_len = fuzz_u16(in) % 4097;
	u32 status_len = shape & 0x20 ? fuzz_u8(in) % 4 : 1;
	struct virtio_blk_outhdr hdr = {
		.type = t < ARRAY_SIZE(types) * 32 ? types[t % ARRAY_SIZE(types)] : fuzz_u32(in),
		.sector = sector,
	};
	struct vg_seg s[3];
	unsigned int n = 0;
	u64 at = vg_alloc(g, sizeof(hdr));

	if (!at)
		return;
	memcpy(vg_ptr(g, at), &hdr, sizeof(hdr));
	if (hdr_len)
		s[n++] = (struct vg_seg){ at, hdr_len, false };
	if (data_len && (at = vg_alloc(g, data_len)))
		s[n++] = (struct vg_seg){ at, data_len, hdr.type != VIRTIO_BLK_T_OUT || (shape & 1) };
	if (status_len && (at = vg_alloc(g, status_len)))
		s[n++] = (struct vg_seg){ at, status_len, !(shape & 2) };
	if (n && g->q[0].size)
		vg_post(g, 0, s, n);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct vguest g;
	static u8 *ram;
	struct disk_config disk = { .path = image };
	struct virtio_dev *dev;

	log_threshold = LOG_QUIET;
	/*
	 * One device for every input (an io_uring per input would make this
	 * ten times slower): each input starts with a reset (which drains
	 * what the previous one left in flight) and a fresh initialization.
	 */
	if (!ram) {
		if (make_image() || !(ram = aligned_alloc(4096, VG_RAM_SIZE)) ||
		    vg_init_ram(&g, ram) || virtio_blk_create(&g.vm, &disk, 0, &dev) ||
		    vg_add(&g, dev))
			abort();
	}
	vg_driver_init(&g, 0);
	g.heap = VG_HEAP_GPA;
	while (fuzz_more(&in)) {
		u8 op = fuzz_u8(&in);

		switch (op & 7) {
		case 0:
			post_request(&g, &in);
			break;
		case 1:
			vg_kick(&g, 0);
			break;
		case 2:
			vg_run_loop_once(&g, op & 0x80 ? 1 : 0);
			break;
		case 3:
			vg_wr(&g, g.common + VG_COMMON(device_status), 0, 1);
			break;
		case 4:
			vg_driver_init(&g, op & 0x40 ? fuzz_u16(&in) : 0);
			g.heap = VG_HEAP_GPA;
			break;
		case 5: {
			u32 where = fuzz_u32(&in) % VG_RAM_SIZE;
			u8 n = fuzz_u8(&in);

			fuzz_bytes(&in, g.ram + where, MIN(n, VG_RAM_SIZE - where));
			break;
		}
		default: {
			struct vg_seg s = { VG_RAM_GPA - 0x1000 + fuzz_u32(&in) % (VG_RAM_SIZE + 0x2000),
					    fuzz_u16(&in), op & 0x80 };

			if (g.q[0].size)
				vg_post(&g, 0, &s, 1);
			break;
		}
		}
	}
	vg_wr(&g, g.common + VG_COMMON(device_status), 0, 1);
	return 0;
}
