/*
 * Split virtqueues (virtio 1.2, 2.7), as the device sees them. Every
 * address the driver hands us is checked against guest memory before use:
 * a malformed chain (a loop, a descriptor outside guest RAM, an index
 * beyond the queue, a zero-length or misordered buffer, a bad indirect
 * table) is reported as -EINVAL for that request only, and the device
 * answers it with an error; it never makes the VMM touch memory outside
 * the guest's.
 */
#ifndef DEVICES_VIRTIO_VIRTQUEUE_H
#define DEVICES_VIRTIO_VIRTQUEUE_H

#include <sys/uio.h>

#include "core/guest_mem.h"
#include "core/util.h"

#define VQ_MAX_SIZE 1024
#define VQ_MAX_CHAIN 256 /* buffers in one request, after indirect expansion */

struct virtqueue {
	/* Set by the driver through the transport. */
	u16 size;
	bool ready;
	u64 desc_gpa, avail_gpa, used_gpa;
	u16 msix_vector;
	/* Device state. */
	u16 last_avail;   /* next avail ring slot to consume */
	u16 used_idx;     /* our copy of used->idx */
	const struct guest_mem *mem;
	bool indirect_ok; /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
};

/*
 * One request: the device-readable buffers first (out), then the
 * device-writable ones (in), as host pointers into guest memory.
 */
struct vq_chain {
	u16 head;
	unsigned int nout, nin;
	struct iovec iov[VQ_MAX_CHAIN]; /* nout readable, then nin writable */
	size_t out_bytes, in_bytes;
};

/* Checks the rings lie in guest memory; called when the driver sets ready. */
int vq_activate(struct virtqueue *vq, const struct guest_mem *mem);
void vq_reset(struct virtqueue *vq);

/*
 * Takes the next available request. Returns 1 with *chain filled, 0 when
 * the ring is empty, -EINVAL when the request is malformed (chain->head
 * is still valid: push it back with length 0 after failing it), and
 * -EFAULT when the rings themselves are unusable (the queue is broken).
 */
int vq_pop(struct virtqueue *vq, struct vq_chain *chain);

/* Returns a finished request with the number of bytes written into it. */
void vq_push(struct virtqueue *vq, u16 head, u32 written);

/*
 * The len bytes of iovecs src[0..n) that follow the first skip bytes, as
 * iovecs in dst (at most n); returns how many. For data between headers.
 */
unsigned int vq_iov_slice(const struct iovec *src, unsigned int n, size_t skip, size_t len,
			  struct iovec *dst);

/* Copies between a chain's buffers and a flat buffer, for headers. */
size_t vq_copy_from_out(const struct vq_chain *chain, size_t offset, void *dst, size_t len);
size_t vq_copy_to_in(const struct vq_chain *chain, size_t offset, const void *src, size_t len);

#endif
