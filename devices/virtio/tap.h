/*
 * A tap device (/dev/net/tun, IFF_TAP) as a virtio-net back-end: every
 * read and write carries a struct virtio_net_hdr_v1 in front of the
 * Ethernet frame, so guest offloads (checksum, TSO) pass through the host
 * stack untouched.
 */
#ifndef DEVICES_VIRTIO_TAP_H
#define DEVICES_VIRTIO_TAP_H

#include <net/if.h>

struct tap {
	int fd;                   /* non-blocking */
	char name[IFNAMSIZ];      /* as the kernel named it */
	unsigned int offloads_ok; /* TUN_F_* accepted by TUNSETOFFLOAD */
};

/*
 * Attaches to tap name, creating it if needed (name NULL or "": the
 * kernel picks tapN), with a 12-byte vnet header, and brings the link up.
 */
int tap_open(struct tap *tap, const char *name);

/* What the reader (the guest) accepts from the tap: TUN_F_* flags. */
int tap_set_offload(struct tap *tap, unsigned int offloads);

void tap_close(struct tap *tap);

#endif
