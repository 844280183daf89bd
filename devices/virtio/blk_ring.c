/*
 * The io_uring of each virtio-blk queue: requests are prepared as SQEs
 * and submitted in batches; completions arrive on the ring's eventfd and
 * finish their requests (a short transfer is resubmitted). On reset and
 * teardown the ring is drained within a deadline, or given up.
 */
#include "blk_queue.h"
#include "blk.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

#include "core/log.h"

/* Errors after which submitting or waiting again can succeed. */
static bool blk_transient(int err)
{
	return err == -EAGAIN || err == -EBUSY || err == -EINTR || err == -ENOMEM || err == -ETIME;
}

int blk_prep_rw(struct blk_queue *q, struct blk_req *req)
{
	struct virtio_blk *blk = q->blk;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
	const struct iovec *iov = &req->iov[req->first];
	unsigned int n = req->niov - req->first;

	if (!sqe)
		return -EBUSY;
	if (req->type == VIRTIO_BLK_T_OUT)
		io_uring_prep_writev(sqe, blk->fd, iov, n, req->offset);
	else
		io_uring_prep_readv(sqe, blk->fd, iov, n, req->offset);
	io_uring_sqe_set_data64(sqe, req - q->slots);
	return 0;
}

/*
 * Flush (5.2.6) makes every write the driver has seen completed durable:
 * fdatasync semantics. IO_DRAIN also orders it after writes submitted
 * before it, which the driver may not have waited for.
 */
int blk_prep_flush(struct blk_queue *q, struct blk_req *req)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_fsync(sqe, q->blk->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_flags(sqe, IOSQE_IO_DRAIN);
	io_uring_sqe_set_data64(sqe, req - q->slots);
	return 0;
}

/* Drops the first bytes of what is left of req's buffers. */
static void blk_req_advance(struct blk_req *req, size_t bytes)
{
	req->done += bytes;
	req->left -= bytes;
	req->offset += bytes;
	while (bytes && req->first < req->niov) {
		struct iovec *v = &req->iov[req->first];
		size_t n = MIN(bytes, v->iov_len);

		v->iov_base = (u8 *)v->iov_base + n;
		v->iov_len -= n;
		bytes -= n;
		if (!v->iov_len)
			req->first++;
	}
}

/* A short transfer is not an error: the remainder is resubmitted. */
static void blk_rw_done(struct blk_queue *q, struct blk_req *req, int res)
{
	const char *what = req->type == VIRTIO_BLK_T_OUT ? "write" : "read";

	if (res <= 0) {
		blk_warn_io(q->blk, what, -res);
		blk_finish(q, req, VIRTIO_BLK_S_IOERR);
		return;
	}
	blk_req_advance(req, MIN((size_t)res, req->left));
	if (!req->left) {
		blk_finish(q, req, VIRTIO_BLK_S_OK);
	} else if (q->blk->draining || blk_prep_rw(q, req)) {
		blk_finish(q, req, VIRTIO_BLK_S_IOERR);
	}
}

static void blk_cqe(struct blk_queue *q, u64 index, int res)
{
	struct blk_req *req;

	if (index == LIBURING_UDATA_TIMEOUT)
		return; /* liburing's own wait timeout on kernels without EXT_ARG */
	if (index >= q->nslots || !q->slots[index].busy) {
		pr_warn("virtio-blk: %s: completion for unknown request %llu on queue %u",
			q->blk->path, (unsigned long long)index, q->index);
		return;
	}
	req = &q->slots[index];
	if (req->type != VIRTIO_BLK_T_FLUSH) {
		blk_rw_done(q, req, res);
	} else if (res < 0) {
		blk_warn_io(q->blk, "flush", -res);
		blk_finish(q, req, VIRTIO_BLK_S_IOERR);
	} else {
		blk_finish(q, req, VIRTIO_BLK_S_OK);
	}
}

void blk_reap(struct blk_queue *q)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&q->ring, head, cqe) {
		blk_cqe(q, io_uring_cqe_get_data64(cqe), cqe->res);
		n++;
	}
	io_uring_cq_advance(&q->ring, n);
}

/*
 * Submits what queue processing and completions prepared, in one
 * io_uring_enter. Transient failures are retried from the event loop by
 * signalling our own eventfd.
 */
void blk_submit(struct blk_queue *q)
{
	struct virtio_blk *blk = q->blk;
	int ret;

	if (!io_uring_sq_ready(&q->ring))
		return;
	ret = io_uring_submit(&q->ring);
	if (ret >= 0 && !io_uring_sq_ready(&q->ring))
		return;
	if (ret < 0 && !blk_transient(ret)) {
		pr_err("virtio-blk: %s: io_uring_submit: %s; the device stops until the guest resets it",
		       blk->path, strerror(-ret));
		blk->broken = true;
		virtio_set_needs_reset(&blk->dev);
		return;
	}
	eventfd_write(q->efd, 1);
}

/* --- reset and teardown: draining the ring, or giving it up ------------- */

static u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

/*
 * The ring is given up for good: waiting on it failed, or the backing
 * store did not answer in time (blk_drain). Closing it lets the kernel
 * cancel what it can and finish the rest in the background, and no late
 * completion can reach a slot we reuse. The disk gets no new ring: once
 * the VMM runs sandboxed no ring may be created (a ring's operations
 * would bypass the seccomp filter). And a read that completes later still
 * lands in guest memory the driver has taken back, so the device must not
 * serve that driver again: it reports DEVICE_NEEDS_RESET and refuses
 * DRIVER_OK from now on (blk_activate); the guest sees a dead disk, and
 * the VMM itself goes on.
 */
static void blk_give_up_ring(struct blk_queue *q)
{
	struct virtio_blk *blk = q->blk;

	io_uring_queue_exit(&q->ring);
	q->ring_ok = false;
	blk->broken = true;
	blk->abandoned = true;
	virtio_set_needs_reset(&blk->dev);
}

/*
 * Waits for every request the kernel holds: their buffers belong to the
 * rings the driver is taking away (2.4, device reset). Nothing is
 * written to guest memory meanwhile. The wait is bounded: it runs under
 * the event loop lock, often on a vCPU thread, so a backing store that
 * never answers (a dead NFS server, a hung disk) would freeze the whole
 * VMM; after BLK_DRAIN_TIMEOUT_MS the requests are abandoned.
 */
static void blk_drain_queue(struct blk_queue *q, u64 deadline)
{
	struct virtio_blk *blk = q->blk;
	struct io_uring_cqe *cqe;
	int ret;

	while (q->ring_ok && blk_inflight(q)) {
		if (now_ms() >= deadline) {
			pr_err("virtio-blk: %s: %u requests still unanswered after %d s; the disk fails from now on",
			       blk->path, blk_inflight_all(blk), BLK_DRAIN_TIMEOUT_MS / 1000);
			blk_give_up_ring(q);
			break;
		}
		/* Bounded waits: a failed submission is retried, never waited on. */
		struct __kernel_timespec ts = { .tv_nsec = 100 * 1000 * 1000 };

		ret = io_uring_sq_ready(&q->ring) ? io_uring_submit(&q->ring) : 0;
		if (ret >= 0 || blk_transient(ret))
			ret = io_uring_wait_cqe_timeout(&q->ring, &cqe, &ts);
		if (ret < 0 && !blk_transient(ret)) {
			pr_warn("virtio-blk: %s: waiting for in-flight requests: %s", blk->path,
				strerror(-ret));
			blk_give_up_ring(q);
			break;
		}
		blk_reap(q);
	}
	blk_reset_slots(q);
}

/* Every queue, within one deadline: a hung backing store costs the VMM 5 s, not 5 s per queue. */
void blk_drain(struct virtio_blk *blk)
{
	u64 deadline = now_ms() + BLK_DRAIN_TIMEOUT_MS;

	blk->draining = true;
	for (unsigned int i = 0; i < blk->nqueues; i++) {
		struct blk_queue *q = &blk->queues[i];

		/* A ring already given up fails the device: the others are given up with it. */
		if (blk->abandoned && q->ring_ok) {
			io_uring_queue_exit(&q->ring);
			q->ring_ok = false;
		}
		blk_drain_queue(q, blk->abandoned ? 0 : deadline);
	}
	blk->draining = false;
}

/* The ring and the eventfd it signals, which the main loop watches. */
int blk_ring_init(struct blk_queue *q)
{
	const char *path = q->blk->path;
	int err = io_uring_queue_init(VIRTIO_BLK_RING_ENTRIES, &q->ring, 0);

	if (err) {
		pr_err("virtio-blk: %s: io_uring_queue_init: %s (is io_uring disabled? see /proc/sys/kernel/io_uring_disabled)",
		       path, strerror(-err));
		return err;
	}
	err = io_uring_register_eventfd(&q->ring, q->efd);
	if (err) {
		pr_err("virtio-blk: %s: io_uring_register_eventfd: %s", path, strerror(-err));
		io_uring_queue_exit(&q->ring);
		return err;
	}
	q->ring_ok = true;
	return 0;
}
