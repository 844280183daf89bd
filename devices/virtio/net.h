/*
 * virtio-net (virtio 1.2, 5.1) on a tap device: one receive and one
 * transmit queue, no control queue. The tap speaks the same
 * struct virtio_net_hdr_v1 as the guest, so frames and their offload
 * metadata pass through unchanged; the device only lays received frames
 * over the guest's (mergeable) buffers.
 */
#ifndef DEVICES_VIRTIO_NET_H
#define DEVICES_VIRTIO_NET_H

#include <sys/types.h>

#include "devices/virtio/virtio_dev.h"

/* --net tap[=NAME][,mac=M] */
struct net_config {
	const char *tap;  /* interface name; NULL: the kernel picks one (tapN) */
	u8 mac[6];
	bool mac_set;     /* else a locally administered MAC is derived */
};

#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

/* Builds the device for --net number index; the caller adds it to a transport. */
int virtio_net_create(struct vm *vm, const struct net_config *net, unsigned int index,
		      struct virtio_dev **out);

/* Below: pure helpers, exposed for the unit tests. */

/* A locally administered unicast MAC, distinct per device and per VMM process. */
void virtio_net_derive_mac(unsigned int index, pid_t pid, u8 mac[6]);

/*
 * A packet of len bytes (header included) was written across chains[0..n)
 * in order, filling each chain's writable buffers before the next. Sets
 * the header's num_buffers (virtio 1.2, 5.1.6.4) and, without
 * guest_csum, clears its flags; stores each used chain's byte count in
 * written[]. Returns the number of chains used, or -EMSGSIZE when len
 * does not fit (nothing is written then).
 */
int virtio_net_rx_finish(struct vq_chain *const *chains, unsigned int n, size_t len,
			 bool guest_csum, u32 *written);

#endif
