#include "devices/virtio/net.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/virtio/tap.h"
#include "core/log.h"
#include "core/vm.h"

#define NET_QUEUE_SIZE 256
#define NET_HDR_LEN sizeof(struct virtio_net_hdr_v1)
/* The largest frame a tap hands over: a 64 KiB GSO packet, Ethernet and VLAN headers. */
#define NET_MAX_FRAME 65550
#define NET_MAX_PACKET (NET_HDR_LEN + NET_MAX_FRAME)
/* NET_MAX_PACKET over Linux's smallest mergeable buffers (~1.5 KiB) is 44 chains. */
#define NET_RX_MAX_CHAINS 64
/*
 * Work per event, so that one busy queue cannot starve the event loop:
 * frames received per tap event (the level-triggered tap brings us back),
 * requests sent and malformed receive chains answered per callback (see
 * struct virtio_budget).
 */
#define NET_RX_BUDGET 64
#define NET_RX_MALFORMED_BUDGET 64
#define NET_TX_BUDGET 256

struct virtio_net {
	struct virtio_dev dev;
	struct virtio_net_config config;
	struct tap tap;
	char label[24];        /* "virtio-net0", for messages */
	bool active;           /* DRIVER_OK seen, no reset since */
	bool broken;           /* a ring or the tap failed: wait for a reset */
	bool tap_gone;         /* the tap's interface was deleted: link down for good */
	u32 tap_events;        /* epoll interest registered for tap.fd */

	/*
	 * Receive. Guest buffers are taken from the ring before a frame is
	 * read, so that it can go straight into them; those a frame did not
	 * need are kept for the next one (the used ring need not follow the
	 * avail order, virtio 1.2, 2.7.8).
	 */
	struct vq_chain *rx_chains[NET_RX_MAX_CHAINS]; /* the first rx_nheld are held */
	unsigned int rx_nheld;
	unsigned int rx_niov;  /* writable buffers of the held chains */
	size_t rx_capacity;    /* and their bytes */
	bool rx_stalled;       /* ring ran dry: tap not read until the driver kicks */
	bool rx_notify;        /* buffers used since the last interrupt */
	struct virtio_budget rx_malformed; /* malformed chains left for this callback */
	struct iovec rx_iov[UIO_MAXIOV];
	u8 *rx_bounce;         /* a frame waiting for more guest buffers */
	size_t rx_bounce_len;  /* 0: none */

	/* Transmit */
	struct vq_chain tx_chain;
	bool tx_pending;       /* tx_chain is popped but the tap was full */

	unsigned long rx_dropped, tx_dropped;
};

static struct virtio_net *to_net(struct virtio_dev *dev)
{
	return dev->priv;
}

static bool net_mergeable(const struct virtio_net *net)
{
	return virtio_has_feature(&net->dev, VIRTIO_NET_F_MRG_RXBUF);
}

/* A ring is unusable: the driver must reset the device (virtio 1.2, 2.1.2). */
static void net_fail(struct virtio_net *net, const char *why)
{
	pr_err("%s: %s; the device needs a reset", net->label, why);
	net->broken = true;
	virtio_set_needs_reset(&net->dev);
}

static void net_tap_event(void *opaque, uint32_t events);

/*
 * The event loop is level-triggered and has no "modify": re-register the
 * tap with exactly the interest we can act on, so that an empty receive
 * ring or a tap with room never makes the loop spin.
 */
static void net_update_tap_events(struct virtio_net *net)
{
	u32 want = 0;
	int err;

	if (net->active && !net->broken && !net->tap_gone) {
		want |= net->rx_stalled ? 0 : EPOLLIN;
		want |= net->tx_pending ? EPOLLOUT : 0;
	}
	if (want == net->tap_events)
		return;
	if (net->tap_events)
		event_loop_remove(&net->dev.vm->loop, net->tap.fd);
	net->tap_events = 0;
	if (!want)
		return;
	err = event_loop_add(&net->dev.vm->loop, net->tap.fd, want, net_tap_event, net);
	if (err) {
		pr_err("%s: cannot watch tap %s: %s", net->label, net->tap.name, strerror(-err));
		net_fail(net, "no event loop slot");
		return;
	}
	net->tap_events = want;
}

static void net_count_drop(struct virtio_net *net, bool rx, const char *why, size_t len)
{
	unsigned long *count = rx ? &net->rx_dropped : &net->tx_dropped;

	/* The first drop is worth a warning; a flood of them is not. */
	if (!(*count)++)
		pr_warn("%s: dropped a %s frame of %zu bytes (%s); further drops are silent",
			net->label, rx ? "received" : "transmitted", len, why);
}

/* ---- receive ------------------------------------------------------------ */

int virtio_net_rx_finish(struct vq_chain *const *chains, unsigned int n, size_t len,
			 bool guest_csum, u32 *written)
{
	__le16 num_buffers;
	unsigned int used = 0;
	size_t left = len;

	if (len < NET_HDR_LEN || !n)
		return -EMSGSIZE;
	for (; left && used < n; used++) {
		written[used] = MIN(left, chains[used]->in_bytes);
		left -= written[used];
	}
	if (left)
		return -EMSGSIZE;
	/* Always present in virtio 1.x; 1 unless MRG_RXBUF (virtio 1.2, 5.1.6.4). */
	num_buffers = htole16(used);
	vq_copy_to_in(chains[0], offsetof(struct virtio_net_hdr_v1, num_buffers),
		      &num_buffers, sizeof(num_buffers));
	if (!guest_csum) {
		/*
		 * Without GUEST_CSUM the device must set flags to 0 (5.1.6.4);
		 * tun still reports DATA_VALID for checksum-verified skbs.
		 */
		u8 flags = 0;

		vq_copy_to_in(chains[0], offsetof(struct virtio_net_hdr_v1, flags), &flags, 1);
	}
	return used;
}

/* Receive buffers are device-writable only and hold at least a header (5.1.6.3.1). */
static bool net_rx_chain_ok(const struct vq_chain *chain)
{
	return !chain->nout && chain->nin && chain->in_bytes >= NET_HDR_LEN;
}

/*
 * Takes one more guest buffer chain: 1 taken, 0 ring empty (or too many
 * malformed chains for one callback: the queue resumes later), -EFAULT
 * ring broken.
 */
static int net_rx_take(struct virtio_net *net)
{
	struct virtqueue *vq = &net->dev.queues[VIRTIO_NET_RXQ];
	struct vq_chain *chain = net->rx_chains[net->rx_nheld];
	int ret;

	for (;;) {
		ret = vq_pop(vq, chain);
		if (ret == 0 || ret == -EFAULT)
			return ret;
		if (ret == 1 && net_rx_chain_ok(chain))
			break;
		/* A malformed request is answered empty; the driver drops it. */
		vq_push(vq, chain->head, 0);
		net->rx_notify = true;
		if (!virtio_budget_take(&net->rx_malformed))
			return 0;
	}
	net->rx_nheld++;
	net->rx_niov += chain->nin;
	net->rx_capacity += chain->in_bytes;
	return 1;
}

/*
 * Holds enough buffers for the largest frame when the ring has them.
 * Without MRG_RXBUF a frame must fit one chain (5.1.6.3.2). Returns 1
 * when the ring ran dry before that, 0 otherwise, -EFAULT when broken.
 */
static int net_rx_fill(struct virtio_net *net)
{
	unsigned int max = net_mergeable(net) ? NET_RX_MAX_CHAINS : 1;
	int ret;

	while (net->rx_capacity < NET_MAX_PACKET && net->rx_nheld < max &&
	       net->rx_niov + VQ_MAX_CHAIN <= UIO_MAXIOV) {
		ret = net_rx_take(net);
		if (ret <= 0)
			return ret == 0 ? 1 : ret;
	}
	return 0;
}

/* The first n held chains were used: rotate them to the back of the pool. */
static void net_rx_release(struct virtio_net *net, unsigned int n)
{
	struct vq_chain *done[NET_RX_MAX_CHAINS];

	for (unsigned int i = 0; i < n; i++) {
		done[i] = net->rx_chains[i];
		net->rx_niov -= done[i]->nin;
		net->rx_capacity -= done[i]->in_bytes;
	}
	memmove(net->rx_chains, net->rx_chains + n,
		(NET_RX_MAX_CHAINS - n) * sizeof(net->rx_chains[0]));
	memcpy(net->rx_chains + NET_RX_MAX_CHAINS - n, done, n * sizeof(done[0]));
	net->rx_nheld -= n;
}

static void net_rx_deliver(struct virtio_net *net, size_t len)
{
	struct virtqueue *vq = &net->dev.queues[VIRTIO_NET_RXQ];
	bool guest_csum = virtio_has_feature(&net->dev, VIRTIO_NET_F_GUEST_CSUM);
	u32 written[NET_RX_MAX_CHAINS];
	int used;

	used = virtio_net_rx_finish(net->rx_chains, net->rx_nheld, len, guest_csum, written);
	if (used < 0) {
		/* The chains keep their (now stale) contents and serve the next frame. */
		net_count_drop(net, true, "larger than the guest's buffers", len);
		return;
	}
	for (int i = 0; i < used; i++)
		vq_push(vq, net->rx_chains[i]->head, written[i]);
	net_rx_release(net, used);
	net->rx_notify = true;
}

/*
 * The tap's interface was deleted under us (`ip link del`): tun then fails
 * every read and write with EBADFD and polls as EPOLLERR for ever. The
 * link goes down (VIRTIO_NET_F_STATUS, 5.1.4) and the tap is no longer
 * watched; the rest of the guest carries on.
 */
static void net_tap_lost(struct virtio_net *net)
{
	if (net->tap_gone)
		return;
	net->tap_gone = true;
	pr_warn("%s: tap %s is gone: the link is down", net->label, net->tap.name);
	net->config.status &= ~htole16(VIRTIO_NET_S_LINK_UP);
	virtio_notify_config(&net->dev);
}

/* 1 a frame was read, 0 the tap is empty (or gone), <0 the tap failed. */
static int net_tap_read_result(struct virtio_net *net, ssize_t ret)
{
	if (ret >= 0)
		return 1;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	if (errno == EBADFD) {
		net_tap_lost(net);
		return 0;
	}
	pr_err("%s: reading tap %s: %s", net->label, net->tap.name, strerror(errno));
	return -errno;
}

/* Reads a frame straight into the held guest buffers. */
static int net_rx_direct(struct virtio_net *net)
{
	unsigned int n = 0;
	ssize_t len;
	int ret;

	for (unsigned int i = 0; i < net->rx_nheld; i++) {
		const struct vq_chain *chain = net->rx_chains[i];

		memcpy(net->rx_iov + n, chain->iov + chain->nout, chain->nin * sizeof(struct iovec));
		n += chain->nin;
	}
	len = readv(net->tap.fd, net->rx_iov, n);
	ret = net_tap_read_result(net, len);
	/* tun returns a truncated frame's full length: deliver refuses it. */
	if (ret == 1)
		net_rx_deliver(net, len);
	return ret;
}

static void net_rx_copy_bounce(struct virtio_net *net)
{
	const u8 *src = net->rx_bounce;
	size_t left = net->rx_bounce_len;

	for (unsigned int i = 0; left; i++) {
		size_t part = MIN(left, net->rx_chains[i]->in_bytes);

		vq_copy_to_in(net->rx_chains[i], 0, src, part);
		src += part;
		left -= part;
	}
}

/*
 * The frame in the bounce buffer goes to the guest once its buffers hold
 * it; while the ring is merely empty (can_grow), it waits for a kick.
 */
static int net_rx_flush_bounce(struct virtio_net *net, bool can_grow)
{
	size_t len = net->rx_bounce_len;

	if (len > net->rx_capacity && can_grow) {
		net->rx_stalled = true;
		return 0;
	}
	if (len <= net->rx_capacity) {
		net_rx_copy_bounce(net);
		net_rx_deliver(net, len);
	} else {
		net_count_drop(net, true, "larger than the guest's buffers", len);
	}
	net->rx_bounce_len = 0;
	return 1;
}

/* One frame: 1 handled (delivered or dropped), 0 nothing to do now, <0 failure. */
static int net_rx_one(struct virtio_net *net)
{
	int dry = net_rx_fill(net);
	ssize_t len;
	int ret;

	if (dry < 0)
		return dry;
	if (net->rx_bounce_len)
		return net_rx_flush_bounce(net, dry);
	if (!net->rx_nheld) {
		net->rx_stalled = true;
		return 0;
	}
	if (!dry)
		return net_rx_direct(net);
	/*
	 * The driver posted less than a largest frame: read the frame aside
	 * so it is not cut to the buffers we happen to hold (a mergeable
	 * driver may post small buffers, 5.1.6.3.1).
	 */
	len = read(net->tap.fd, net->rx_bounce, NET_MAX_PACKET);
	ret = net_tap_read_result(net, len);
	if (ret != 1)
		return ret;
	if ((size_t)len > NET_MAX_PACKET || (size_t)len < NET_HDR_LEN) {
		net_count_drop(net, true, "bad length from the tap", len);
		return 1;
	}
	net->rx_bounce_len = len;
	return net_rx_flush_bounce(net, true);
}

static void net_rx_process(struct virtio_net *net)
{
	struct virtqueue *vq = &net->dev.queues[VIRTIO_NET_RXQ];
	int ret = 0;

	if (!net->active || net->broken || net->tap_gone)
		return;
	/* No ring to fill yet: leave the tap unread rather than spin on it. */
	net->rx_stalled = !vq->ready;
	if (net->rx_stalled) {
		net_update_tap_events(net);
		return;
	}
	net->rx_malformed = virtio_budget(&net->dev, VIRTIO_NET_RXQ, NET_RX_MALFORMED_BUDGET);
	for (unsigned int i = 0; i < NET_RX_BUDGET && ret >= 0; i++) {
		ret = net_rx_one(net);
		if (ret == 0)
			break;
	}
	if (ret == -EFAULT)
		net_fail(net, "receive ring unusable");
	else if (ret < 0)
		net_fail(net, "tap unusable");
	net_update_tap_events(net);
	if (net->rx_notify) {
		net->rx_notify = false;
		virtio_notify_queue(&net->dev, VIRTIO_NET_RXQ);
	}
}

/* ---- transmit ----------------------------------------------------------- */

/* 0 when the chain is done with (sent or dropped), -EAGAIN when the tap is full. */
static int net_tx_send(struct virtio_net *net, const struct vq_chain *chain)
{
	ssize_t ret;

	/* A packet is a header and a frame, all device-readable (5.1.6.2). */
	if (chain->nin || chain->out_bytes < NET_HDR_LEN) {
		net_count_drop(net, false, "malformed request", chain->out_bytes);
		return 0;
	}
	ret = writev(net->tap.fd, chain->iov, chain->nout);
	if (ret >= 0)
		return 0;
	if (errno == EAGAIN)
		return -EAGAIN;
	if (errno == EBADFD) {
		net_tap_lost(net); /* the frame goes nowhere, as on a cable pulled out */
		return 0;
	}
	/* tun refuses a bad header or an oversized frame (EINVAL): that frame only. */
	net_count_drop(net, false, strerror(errno), chain->out_bytes);
	return 0;
}

/* Takes the next request into tx_chain: 1 one to send, 0 none, -EFAULT broken. */
static int net_tx_take(struct virtio_net *net, bool *notify)
{
	struct virtqueue *vq = &net->dev.queues[VIRTIO_NET_TXQ];
	int ret;

	if (net->tx_pending)
		return 1;
	ret = vq_pop(vq, &net->tx_chain);
	if (ret == -EINVAL) {
		net_count_drop(net, false, "malformed request", 0);
		vq_push(vq, net->tx_chain.head, 0);
		*notify = true;
	}
	return ret;
}

static void net_tx_process(struct virtio_net *net)
{
	struct virtio_budget budget = virtio_budget(&net->dev, VIRTIO_NET_TXQ, NET_TX_BUDGET);
	struct virtqueue *vq = &net->dev.queues[VIRTIO_NET_TXQ];
	bool notify = false;
	int ret = 0;

	if (!net->active || net->broken || !vq->ready)
		return;
	while (virtio_budget_take(&budget)) {
		ret = net_tx_take(net, &notify);
		if (ret == -EINVAL)
			continue;
		if (ret <= 0)
			break;
		net->tx_pending = net_tx_send(net, &net->tx_chain) == -EAGAIN;
		if (net->tx_pending)
			break;
		/* The device writes nothing into a transmit buffer. */
		vq_push(vq, net->tx_chain.head, 0);
		notify = true;
	}
	if (ret == -EFAULT)
		net_fail(net, "transmit ring unusable");
	net_update_tap_events(net);
	if (notify)
		virtio_notify_queue(&net->dev, VIRTIO_NET_TXQ);
}

static void net_tap_event(void *opaque, uint32_t events)
{
	struct virtio_net *net = opaque;

	if (events & EPOLLOUT)
		net_tx_process(net);
	/* EPOLLERR/EPOLLHUP: the read reports why and we stop watching. */
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		net_rx_process(net);
}

/* ---- virtio_dev_ops ----------------------------------------------------- */

static void net_config_read(struct virtio_dev *dev, u32 offset, void *data, u32 len)
{
	const struct virtio_net *net = to_net(dev);
	const u8 *config = (const u8 *)&net->config;

	/* Fields beyond what we fill (mtu, speed, rss...) read as zero. */
	memset(data, 0, len);
	if (offset < sizeof(net->config))
		memcpy(data, config + offset, MIN(len, sizeof(net->config) - offset));
}

/* The tap may hand the guest what the guest accepts: TUN_F_* from GUEST_*. */
static unsigned int net_guest_offloads(const struct virtio_dev *dev)
{
	unsigned int offloads = 0;

	if (!virtio_has_feature(dev, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	offloads |= TUN_F_CSUM;
	if (virtio_has_feature(dev, VIRTIO_NET_F_GUEST_TSO4))
		offloads |= TUN_F_TSO4;
	if (virtio_has_feature(dev, VIRTIO_NET_F_GUEST_TSO6))
		offloads |= TUN_F_TSO6;
	return offloads;
}

static int net_activate(struct virtio_dev *dev)
{
	struct virtio_net *net = to_net(dev);
	int err;

	/* A tap that is gone takes no settings; the device starts with its link down. */
	err = net->tap_gone ? 0 : tap_set_offload(&net->tap, net_guest_offloads(dev));
	if (err)
		return err;
	net->active = true;
	net->broken = false;
	net->rx_stalled = false;
	net_update_tap_events(net);
	return 0;
}

static void net_queue_notify(struct virtio_dev *dev, unsigned int queue)
{
	struct virtio_net *net = to_net(dev);

	if (queue == VIRTIO_NET_TXQ)
		net_tx_process(net);
	else if (queue == VIRTIO_NET_RXQ && net->rx_stalled)
		net_rx_process(net); /* new buffers: resume reading the tap */
}

static void net_reset(struct virtio_dev *dev)
{
	struct virtio_net *net = to_net(dev);

	/* Popped chains belong to the old rings: forget them, never push. */
	net->active = false;
	net->broken = false;
	net->rx_nheld = 0;
	net->rx_niov = 0;
	net->rx_capacity = 0;
	net->rx_bounce_len = 0;
	net->rx_stalled = false;
	net->rx_notify = false;
	net->tx_pending = false;
	net_update_tap_events(net);
}

static void net_free(struct virtio_net *net)
{
	for (unsigned int i = 0; i < NET_RX_MAX_CHAINS; i++)
		free(net->rx_chains[i]);
	free(net->rx_bounce);
	tap_close(&net->tap);
	free(net);
}

static void net_destroy(struct virtio_dev *dev)
{
	struct virtio_net *net = to_net(dev);

	if (net->tap_events)
		event_loop_remove(&dev->vm->loop, net->tap.fd);
	net_free(net);
}

static const struct virtio_dev_ops net_ops = {
	.config_read = net_config_read,
	/* No config_write: mac is read-only for a 1.x driver (5.1.4.2). */
	.activate = net_activate,
	.queue_notify = net_queue_notify,
	.reset = net_reset,
	.destroy = net_destroy,
};

/* ---- creation ----------------------------------------------------------- */

void virtio_net_derive_mac(unsigned int index, pid_t pid, u8 mac[6])
{
	u32 p = (u32)pid;

	/* 52:54:00 has the locally administered bit set and the group bit clear. */
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (p >> 8) ^ (p >> 24);
	mac[4] = p ^ (p >> 16);
	mac[5] = index;
}

static u64 net_host_features(const struct tap *tap)
{
	u64 f = 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS |
		1ULL << VIRTIO_NET_F_MRG_RXBUF | 1ULL << VIRTIO_RING_F_INDIRECT_DESC;

	/*
	 * tun takes partial checksums and GSO on write whatever the
	 * offloads; offer both directions only where the tap accepts the
	 * receive side too, which keeps the feature set symmetric.
	 */
	if (tap->offloads_ok & TUN_F_CSUM)
		f |= 1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM;
	if (tap->offloads_ok & TUN_F_TSO4)
		f |= 1ULL << VIRTIO_NET_F_HOST_TSO4 | 1ULL << VIRTIO_NET_F_GUEST_TSO4;
	if (tap->offloads_ok & TUN_F_TSO6)
		f |= 1ULL << VIRTIO_NET_F_HOST_TSO6 | 1ULL << VIRTIO_NET_F_GUEST_TSO6;
	return f;
}

static int net_alloc_buffers(struct virtio_net *net)
{
	for (unsigned int i = 0; i < NET_RX_MAX_CHAINS; i++) {
		net->rx_chains[i] = malloc(sizeof(struct vq_chain));
		if (!net->rx_chains[i])
			return -ENOMEM;
	}
	net->rx_bounce = malloc(NET_MAX_PACKET);
	return net->rx_bounce ? 0 : -ENOMEM;
}

static void net_init_dev(struct virtio_net *net, struct vm *vm)
{
	struct virtio_dev *dev = &net->dev;

	dev->name = "virtio-net";
	dev->device_id = VIRTIO_ID_NET;
	dev->host_features = net_host_features(&net->tap);
	dev->nqueues = 2; /* receiveq1, transmitq1: no VIRTIO_NET_F_CTRL_VQ or MQ */
	dev->queue_max_size = NET_QUEUE_SIZE;
	dev->vm = vm;
	dev->ops = &net_ops;
	dev->priv = net;
	net->config.status = htole16(VIRTIO_NET_S_LINK_UP);
}

int virtio_net_create(struct vm *vm, const struct net_config *cfg, unsigned int index,
		      struct virtio_dev **out)
{
	struct virtio_net *net = calloc(1, sizeof(*net));
	const u8 *m;
	int err;

	if (!net)
		return -ENOMEM;
	net->tap.fd = -1;
	snprintf(net->label, sizeof(net->label), "virtio-net%u", index);
	err = net_alloc_buffers(net);
	if (!err)
		err = tap_open(&net->tap, cfg->tap);
	if (err) {
		net_free(net);
		return err;
	}
	if (cfg->mac_set)
		memcpy(net->config.mac, cfg->mac, sizeof(net->config.mac));
	else
		virtio_net_derive_mac(index, getpid(), net->config.mac);
	net_init_dev(net, vm);
	m = net->config.mac;
	pr_info("%s: tap %s, mac %02x:%02x:%02x:%02x:%02x:%02x, offloads 0x%x", net->label,
		net->tap.name, m[0], m[1], m[2], m[3], m[4], m[5], net->tap.offloads_ok);
	*out = &net->dev;
	return 0;
}
