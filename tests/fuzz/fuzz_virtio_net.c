/*
 * virtio-net with a guest on one side and the network on the other: the
 * guest posts receive and transmit chains of any shape through the real
 * transport (tests/unit/virtio_guest.h), negotiates any subset of the
 * features (mergeable buffers or not), kicks and resets; the network
 * sends frames of any size and content.
 *
 * The tap is replaced by this file's tap_open/tap_set_offload/tap_close
 * (so devices/virtio/tap.c is not linked): a SOCK_SEQPACKET socket pair,
 * which keeps frame boundaries as a tap does. The fuzzer holds the far
 * end.
 *
 * Input: features to accept (u64), then operations of one byte (0: post
 * receive buffers, 1: post a transmit frame, 2: kick, 3: the network
 * sends a frame, 4: loop turn, 5: drain the network side, 6: reset and
 * initialize again, 7: memory write) and their arguments.
 */
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/irq_routing.h"
#include "core/log.h"
#include "devices/virtio/net.h"
#include "devices/virtio/tap.h"
#include "fuzz_input.h"
#include "tests/unit/virtio_guest.h"

static int network = -1; /* the far end of the fake tap */

int tap_open(struct tap *tap, const char *name)
{
	int sv[2];

	(void)name;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	tap->fd = sv[0];
	network = sv[1];
	snprintf(tap->name, sizeof(tap->name), "fuzz0");
	tap->offloads_ok = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	return 0;
}

int tap_set_offload(struct tap *tap, unsigned int offloads)
{
	(void)tap;
	(void)offloads;
	return 0;
}

void tap_close(struct tap *tap)
{
	if (tap->fd >= 0)
		close(tap->fd);
	if (network >= 0)
		close(network);
	tap->fd = network = -1;
}

/* Driver initialization accepting only the features in mask. */
static void init_with(struct vguest *g, u64 mask)
{
	u8 st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	u64 f;

	vg_wr(g, g->common + VG_COMMON(device_status), 0, 1);
	memset(g->ram, 0, VG_HEAP_GPA - VG_RAM_GPA);
	vg_wr(g, g->common + VG_COMMON(device_status), st, 1);
	vg_wr(g, g->common + VG_COMMON(device_feature_select), 0, 4);
	f = vg_rd(g, g->common + VG_COMMON(device_feature), 4);
	vg_wr(g, g->common + VG_COMMON(device_feature_select), 1, 4);
	f |= (u64)vg_rd(g, g->common + VG_COMMON(device_feature), 4) << 32;
	f &= mask | 1ULL << VIRTIO_F_VERSION_1;
	vg_wr(g, g->common + VG_COMMON(guest_feature_select), 0, 4);
	vg_wr(g, g->common + VG_COMMON(guest_feature), (u32)f, 4);
	vg_wr(g, g->common + VG_COMMON(guest_feature_select), 1, 4);
	vg_wr(g, g->common + VG_COMMON(guest_feature), (u32)(f >> 32), 4);
	vg_wr(g, g->common + VG_COMMON(device_status), st | VIRTIO_CONFIG_S_FEATURES_OK, 1);
	/* The rest as vg_driver_init does it, features already agreed. */
	for (unsigned int i = 0; i < 2; i++) {
		u64 base = VG_RAM_GPA + i * VG_QUEUE_AREA;

		vg_wr(g, g->common + VG_COMMON(queue_select), i, 2);
		g->q[i] = (struct vg_queue){ .desc = base, .avail = base + 0x4000,
					     .used = base + 0x8000,
					     .size = (u16)vg_rd(g, g->common + VG_COMMON(queue_size), 2) };
		vg_wr(g, g->common + VG_COMMON(queue_desc_lo), (u32)base, 4);
		vg_wr(g, g->common + VG_COMMON(queue_avail_lo), (u32)base + 0x4000, 4);
		vg_wr(g, g->common + VG_COMMON(queue_used_lo), (u32)base + 0x8000, 4);
		vg_wr(g, g->common + VG_COMMON(queue_enable), 1, 2);
	}
	vg_wr(g, g->common + VG_COMMON(device_status),
	      st | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK, 1);
	g->heap = VG_HEAP_GPA;
}

/* Up to four buffers for queue qi, of the input's sizes (readable ones first for tx). */
static void post(struct vguest *g, struct fuzz_input *in, unsigned int qi)
{
	struct vg_seg s[4];
	unsigned int n = fuzz_u8(in) % 4 + 1, got = 0;

	for (unsigned int i = 0; i < n; i++) {
		u16 len = fuzz_u16(in);
		u64 at = vg_alloc(g, len % 8192 + 1);

		if (!at) {
			g->heap = VG_HEAP_GPA; /* the driver reuses its buffers */
			at = vg_alloc(g, len % 8192 + 1);
		}
		s[got++] = (struct vg_seg){ at, len % 8192 + 1, qi == VIRTIO_NET_RXQ ? !(len & 0x8000) :
										   (len & 0x8000) != 0 };
		if (qi == VIRTIO_NET_TXQ && i == 0)
			fuzz_bytes(in, vg_ptr(g, at), MIN(s[0].len, sizeof(struct virtio_net_hdr_v1)));
	}
	vg_post(g, qi, s, got);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct vguest g;
	static u8 *ram, frame[70000];
	struct net_config cfg = { 0 };
	struct virtio_dev *dev;
	u64 features = fuzz_u64(&in);

	log_threshold = LOG_QUIET;
	if (!ram)
		ram = aligned_alloc(4096, VG_RAM_SIZE);
	if (vg_init_ram(&g, ram) || virtio_net_create(&g.vm, &cfg, 0, &dev) || vg_add(&g, dev))
		abort();
	init_with(&g, features);
	while (fuzz_more(&in)) {
		u8 op = fuzz_u8(&in);

		switch (op % 8) {
		case 0:
			post(&g, &in, VIRTIO_NET_RXQ);
			break;
		case 1:
			post(&g, &in, VIRTIO_NET_TXQ);
			break;
		case 2:
			vg_kick(&g, op & 0x80 ? VIRTIO_NET_TXQ : VIRTIO_NET_RXQ);
			break;
		case 3: {
			/* Sizes around the header and the largest frame, or anything. */
			u32 len = fuzz_u16(&in) % 1600;

			if (op & 0x80)
				len += 64000;
			fuzz_bytes(&in, frame, MIN(len, 64));
			if (send(network, frame, len, MSG_DONTWAIT) < 0 && errno != EAGAIN &&
			    errno != EMSGSIZE && errno != ENOBUFS)
				abort();
			break;
		}
		case 4:
			vg_run_loop_once(&g, 0);
			break;
		case 5:
			while (recv(network, frame, sizeof(frame), MSG_DONTWAIT) > 0)
				;
			break;
		case 6:
			init_with(&g, fuzz_u64(&in));
			break;
		default: {
			u32 where = fuzz_u32(&in) % VG_RAM_SIZE;
			u8 n = fuzz_u8(&in);

			fuzz_bytes(&in, g.ram + where, MIN(n, VG_RAM_SIZE - where));
			break;
		}
		}
	}
	vg_destroy(&g);
	irq_routing_destroy(&g.vm.routing);
	return 0;
}
