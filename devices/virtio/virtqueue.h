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

/* What a queue cost the guest, printed at -d; survives resets. */
struct vq_stats {
	u64 kicks;       /* guest notifications that reached the device */
	u64 completions; /* requests returned (vq_push) */
	u64 interrupts;  /* interrupts sent */
	u64 suppressed;  /* interrupts the driver asked us not to send */
};

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
	bool event_idx;   /* VIRTIO_RING_F_EVENT_IDX negotiated */
	/* Notification suppression (2.7.7, 2.7.10). */
	u16 signalled_used;   /* used_idx at the last interrupt decision */
	bool signalled_valid; /* false until the first one: always interrupt then */
	u16 avail_at_kicks_off; /* avail->idx when kicks were turned off */
	struct vq_stats stats;
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
 * The event index test (2.7.10.2, the kernel's vring_need_event): moving
 * an index from old to new_idx passed event, i.e. event lies in
 * [old, new_idx) modulo 2^16. The indices wrap at 65536, so the test is
 * done in u16 arithmetic: new_idx - event - 1 counts how far new_idx went
 * beyond event (huge if event is at or after new_idx), new_idx - old how
 * far it moved.
 */
static inline bool vq_need_event(u16 event, u16 new_idx, u16 old)
{
	return (u16)(new_idx - event - 1) < (u16)(new_idx - old);
}

/*
 * Whether the driver wants an interrupt for what vq_push returned since
 * the last call: with EVENT_IDX when used->idx passed the driver's
 * used_event, otherwise unless it set VRING_AVAIL_F_NO_INTERRUPT. The
 * first call after activation always says yes.
 */
bool vq_interrupt_needed(struct virtqueue *vq);

/*
 * Guest notifications while the device works through the ring: a kick
 * for a buffer the device would pop anyway is a wasted VM exit. Off:
 * VRING_USED_F_NO_NOTIFY, or with EVENT_IDX an avail_event left behind.
 * On: the flag cleared, or avail_event at the driver's current index.
 * vq_kicks_on returns true when the driver posted buffers after
 * vq_kicks_off: it may not have kicked for them, so the device must look
 * at the ring again.
 */
void vq_kicks_off(struct virtqueue *vq);
bool vq_kicks_on(struct virtqueue *vq);

/* At -d: the ring's indices as the driver and the device see them now (a stuck queue). */
void vq_describe(const struct virtqueue *vq, char *buf, size_t len);

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
