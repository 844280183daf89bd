/*
 * Inside virtio-blk: a device's request queues, each with its io_uring
 * and request slots. Shared by the three parts of the device:
 *   blk.c          the device: configuration, virtio_dev_ops, creation;
 *   blk_request.c  requests taken off a virtqueue, checked, turned into
 *                  ring operations, and answered;
 *   blk_ring.c     the io_uring: submitting, reaping completions, and
 *                  draining or giving up the ring on reset.
 * Nothing outside devices/virtio/blk*.c includes it.
 */
#ifndef DEVICES_VIRTIO_BLK_QUEUE_H
#define DEVICES_VIRTIO_BLK_QUEUE_H

#include <liburing.h>
#include <linux/virtio_blk.h>
#include <sys/uio.h>

#include "virtio_dev.h"
#include "virtqueue.h"

#define BLK_SECTOR_SIZE 512ULL

/* One request the device has taken from the ring and not yet returned. */
struct blk_req {
	bool busy;
	u16 head;
	u32 type;
	u8 *status;          /* last byte of the chain's writable part */
	u64 offset;          /* image offset of the next byte to transfer */
	size_t done;         /* data bytes transferred so far */
	size_t left;         /* data bytes still to transfer */
	unsigned int first, niov; /* iov[first..niov) is what is left */
	struct iovec iov[VQ_MAX_CHAIN];
};

struct virtio_blk;

/* One virtqueue and what serves it: its own io_uring, eventfd and request slots. */
struct blk_queue {
	struct virtio_blk *blk;
	unsigned int index;  /* the virtqueue's */
	int efd;             /* signalled by the ring for each CQE */
	bool ring_ok;
	bool efd_in_loop;
	bool stalled;        /* stopped popping for lack of a slot or SQE */
	bool pushed;         /* used entries not yet signalled to the driver */
	struct io_uring ring;
	unsigned int nslots, nfree;
	unsigned int *free_list;
	struct blk_req *slots;
	struct vq_chain chain; /* vq_pop scratch: too large for the stack */
};

struct virtio_blk {
	struct virtio_dev dev;
	const char *path;
	int fd;
	bool readonly;
	bool broken;         /* the rings are unusable until a reset */
	bool draining;       /* reset/destroy: complete nothing towards the guest */
	bool warned_io;
	bool abandoned;      /* a ring was given up (blk_give_up_ring): failed for good */
	u64 capacity;        /* 512-byte sectors */
	struct virtio_blk_config config; /* little-endian, as the driver reads it */
	char serial[VIRTIO_BLK_ID_BYTES];
	unsigned int nqueues;
	struct blk_queue *queues;
};

/* blk_request.c: slots, answers, the queue walk */
void blk_reset_slots(struct blk_queue *q);
unsigned int blk_inflight(const struct blk_queue *q);
unsigned int blk_inflight_all(const struct virtio_blk *blk);
/* Answers req with value (unless draining) and frees its slot. */
void blk_finish(struct blk_queue *q, struct blk_req *req, u8 value);
/* The first I/O error of the device is said; err 0: the image ended early. */
void blk_warn_io(struct virtio_blk *blk, const char *what, int err);
/* Interrupts the driver if requests were returned since the last call. */
void blk_notify(struct blk_queue *q);
void blk_process_queue(struct blk_queue *q);

/* blk_ring.c: the io_uring */
int blk_prep_rw(struct blk_queue *q, struct blk_req *req);
int blk_prep_flush(struct blk_queue *q, struct blk_req *req);
void blk_reap(struct blk_queue *q);
void blk_submit(struct blk_queue *q);
/* Reset and teardown: waits, boundedly, for what the kernel still holds. */
void blk_drain(struct virtio_blk *blk);
int blk_ring_init(struct blk_queue *q);

#endif
