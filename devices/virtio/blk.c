/*
 * virtio-blk (virtio 1.2, 5.2): one or more request queues
 * (VIRTIO_BLK_F_MQ, one per vCPU by default, so that each vCPU's block
 * layer queue has its own ring, kick and interrupt), each served by its
 * own io_uring. queue_notify turns every available request into an SQE
 * that reads or writes straight between the image and guest memory (the
 * chain's host pointers), and submits them in one batch; the ring's
 * eventfd, on the main event loop, reaps the completions, writes each
 * status byte and returns the requests to the driver.
 *
 * The status byte is written only after the request's CQE: a VMM killed
 * at any point never tells the guest that data reached the image when it
 * did not.
 */
#include "blk.h"
#include "disk_image.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/vm.h"

#define SECTOR_SIZE 512ULL
/*
 * Requests per callback (see struct virtio_budget): as many as the ring
 * has SQEs, so that real I/O stalls on the ring before the budget, and
 * only requests answered at once (errors, GET_ID) meet it.
 */
#define BLK_BUDGET VIRTIO_BLK_RING_ENTRIES
#define BLK_HDR_SIZE sizeof(struct virtio_blk_outhdr) /* type, ioprio, sector: 16 bytes */

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

static struct virtqueue *blk_vq(struct blk_queue *q)
{
	return &q->blk->dev.queues[q->index];
}

/* --- slots ------------------------------------------------------------- */

static struct blk_req *blk_get_slot(struct blk_queue *q)
{
	struct blk_req *req;

	if (!q->nfree)
		return NULL;
	req = &q->slots[q->free_list[--q->nfree]];
	req->busy = true;
	return req;
}

static void blk_put_slot(struct blk_queue *q, struct blk_req *req)
{
	req->busy = false;
	q->free_list[q->nfree++] = req - q->slots;
}

static void blk_reset_slots(struct blk_queue *q)
{
	q->nfree = 0;
	for (unsigned int i = q->nslots; i-- > 0;) {
		q->slots[i].busy = false;
		q->free_list[q->nfree++] = i;
	}
}

static unsigned int blk_inflight(const struct blk_queue *q)
{
	return q->nslots - q->nfree;
}

static unsigned int blk_inflight_all(const struct virtio_blk *blk)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < blk->nqueues; i++)
		n += blk_inflight(&blk->queues[i]);
	return n;
}

/* --- completing requests ----------------------------------------------- */

/* Writes the status byte and hands the request back to the driver. */
static void blk_answer(struct blk_queue *q, u16 head, u8 *status, u8 value, u32 written)
{
	*status = value;
	vq_push(blk_vq(q), head, written);
	q->pushed = true;
}

/*
 * The used length counts the bytes the device wrote into the chain
 * (2.7.8): the data read plus the status byte for IN, the status alone
 * otherwise.
 */
static void blk_finish(struct blk_queue *q, struct blk_req *req, u8 value)
{
	u32 written = req->type == VIRTIO_BLK_T_IN ? MIN(req->done + 1, (size_t)UINT32_MAX) : 1;

	if (!q->blk->draining)
		blk_answer(q, req->head, req->status, value, written);
	blk_put_slot(q, req);
}

/* err 0: the image ended early, i.e. it shrank under us. */
static void blk_warn_io(struct virtio_blk *blk, const char *what, int err)
{
	if (blk->warned_io)
		return;
	blk->warned_io = true;
	pr_warn("virtio-blk: %s on %s failed: %s (the guest sees an I/O error; further errors not shown)",
		what, blk->path, err ? strerror(err) : "unexpected end of file, did the image shrink?");
}

static void blk_notify(struct blk_queue *q)
{
	if (!q->pushed)
		return;
	q->pushed = false;
	virtio_notify_queue(&q->blk->dev, q->index);
}

/* --- io_uring ------------------------------------------------------------ */

/* Errors after which submitting or waiting again can succeed. */
static bool blk_transient(int err)
{
	return err == -EAGAIN || err == -EBUSY || err == -EINTR || err == -ENOMEM || err == -ETIME;
}

static int blk_prep_rw(struct blk_queue *q, struct blk_req *req)
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
static int blk_prep_flush(struct blk_queue *q, struct blk_req *req)
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

static void blk_reap(struct blk_queue *q)
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
static void blk_submit(struct blk_queue *q)
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

/*
 * Submits, then takes what the submission already completed: a read the
 * page cache serves is done inside io_uring_enter, and its completion is
 * returned to the driver in the same pass (one interrupt for the batch)
 * instead of a trip through the event loop and the ring's eventfd. What
 * those completions queue (the rest of a short transfer) goes out too.
 */
static void blk_submit_and_reap(struct blk_queue *q)
{
	blk_submit(q);
	if (!q->ring_ok || !io_uring_cq_ready(&q->ring))
		return;
	blk_reap(q);
	blk_submit(q);
}

/* --- requests ------------------------------------------------------------ */

static bool blk_in_range(const struct virtio_blk *blk, u64 sector, u64 nsectors)
{
	return sector <= blk->capacity && nsectors <= blk->capacity - sector;
}

/*
 * IN and OUT (5.2.6): the data follows the 16-byte header in the readable
 * part (OUT) or precedes the status byte in the writable part (IN); the
 * framing is free (2.7.4), so buffers are split at byte offsets.
 */
static void blk_rw(struct blk_queue *q, const struct vq_chain *c, u32 type, u64 sector,
		   u8 *status)
{
	struct virtio_blk *blk = q->blk;
	bool write = type == VIRTIO_BLK_T_OUT;
	size_t len = write ? c->out_bytes - BLK_HDR_SIZE : c->in_bytes - 1;
	struct blk_req *req;

	/* 5.2.6.2: a device offering VIRTIO_BLK_F_RO fails writes. */
	if ((write && blk->readonly) || len % SECTOR_SIZE ||
	    !blk_in_range(blk, sector, len / SECTOR_SIZE)) {
		blk_answer(q, c->head, status, VIRTIO_BLK_S_IOERR, 1);
		return;
	}
	if (!len) {
		blk_answer(q, c->head, status, VIRTIO_BLK_S_OK, 1);
		return;
	}
	req = blk_get_slot(q); /* the caller checked one is free */
	req->head = c->head;
	req->type = type;
	req->status = status;
	req->offset = sector * SECTOR_SIZE;
	req->done = 0;
	req->left = len;
	req->first = 0;
	if (write)
		req->niov = vq_iov_slice(c->iov, c->nout, BLK_HDR_SIZE, len, req->iov);
	else
		req->niov = vq_iov_slice(c->iov + c->nout, c->nin, 0, len, req->iov);
	if (blk_prep_rw(q, req))
		blk_finish(q, req, VIRTIO_BLK_S_IOERR);
}

static void blk_flush(struct blk_queue *q, const struct vq_chain *c, u8 *status)
{
	struct blk_req *req = blk_get_slot(q);

	req->head = c->head;
	req->type = VIRTIO_BLK_T_FLUSH;
	req->status = status;
	req->done = req->left = 0;
	if (blk_prep_flush(q, req))
		blk_finish(q, req, VIRTIO_BLK_S_IOERR);
}

/* GET_ID (5.2.6): up to 20 bytes, zero-padded, not NUL-terminated. */
static void blk_get_id(struct blk_queue *q, const struct vq_chain *c, u8 *status)
{
	size_t n = MIN(c->in_bytes - 1, sizeof(q->blk->serial));

	n = vq_copy_to_in(c, 0, q->blk->serial, n);
	blk_answer(q, c->head, status, VIRTIO_BLK_S_OK, n + 1);
}

static void blk_handle(struct blk_queue *q, const struct vq_chain *c)
{
	const struct iovec *last;
	struct virtio_blk_outhdr hdr;
	u8 *status;

	/* No writable byte: nowhere to put a status, just hand it back. */
	if (!c->nin) {
		vq_push(blk_vq(q), c->head, 0);
		q->pushed = true;
		return;
	}
	last = &c->iov[c->nout + c->nin - 1];
	status = (u8 *)last->iov_base + last->iov_len - 1;
	if (vq_copy_from_out(c, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		blk_answer(q, c->head, status, VIRTIO_BLK_S_IOERR, 1);
		return;
	}
	switch (le32toh(hdr.type)) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		blk_rw(q, c, le32toh(hdr.type), le64toh(hdr.sector), status);
		break;
	case VIRTIO_BLK_T_FLUSH:
		blk_flush(q, c, status);
		break;
	case VIRTIO_BLK_T_GET_ID:
		blk_get_id(q, c, status);
		break;
	default:
		blk_answer(q, c->head, status, VIRTIO_BLK_S_UNSUPP, 1);
		break;
	}
}

/*
 * Pops requests while a slot and an SQE are free for one more; otherwise
 * marks the queue stalled, and the completion handler resumes it.
 */
static void blk_process_queue(struct blk_queue *q)
{
	struct virtio_blk *blk = q->blk;
	struct virtio_budget budget = virtio_budget(&blk->dev, q->index, BLK_BUDGET);
	struct virtqueue *vq;
	int ret;

	q->stalled = false;
	if (blk->broken || !q->ring_ok || !blk->dev.queues || !blk->dev.queues[q->index].ready)
		return;
	vq = blk_vq(q);
	for (;;) {
		if (!q->nfree || !io_uring_sq_space_left(&q->ring)) {
			q->stalled = true;
			return;
		}
		if (!virtio_budget_take(&budget))
			return;
		ret = vq_pop(vq, &q->chain);
		if (ret == 0)
			return;
		if (ret == -EFAULT) {
			pr_warn("virtio-blk: %s: the driver's rings are unusable; device needs a reset",
				blk->path);
			blk->broken = true;
			virtio_set_needs_reset(&blk->dev);
			return;
		}
		if (ret == -EINVAL) {
			/* Malformed chain: its buffers cannot be trusted to hold a status. */
			vq_push(vq, q->chain.head, 0);
			q->pushed = true;
			continue;
		}
		blk_handle(q, &q->chain);
	}
}

/* --- virtio_dev_ops -------------------------------------------------------- */

static void blk_queue_notify(struct virtio_dev *dev, unsigned int queue)
{
	struct virtio_blk *blk = dev->priv;
	struct blk_queue *q;

	if (queue >= blk->nqueues)
		return;
	q = &blk->queues[queue];
	blk_process_queue(q);
	blk_submit_and_reap(q);
	blk_notify(q);
}

/* Main loop: a queue's ring posted completions (or a submission is retried). */
static void blk_event(void *opaque, u32 events)
{
	struct blk_queue *q = opaque;
	eventfd_t count;

	(void)events;
	(void)eventfd_read(q->efd, &count);
	if (!q->ring_ok)
		return;
	blk_reap(q);
	if (q->stalled)
		blk_process_queue(q);
	blk_submit_and_reap(q);
	blk_notify(q);
}

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
static void blk_drain(struct virtio_blk *blk)
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

static void blk_reset(struct virtio_dev *dev)
{
	struct virtio_blk *blk = dev->priv;

	blk_drain(blk);
	blk->broken = false;
	for (unsigned int i = 0; i < blk->nqueues; i++) {
		blk->queues[i].stalled = false;
		blk->queues[i].pushed = false;
	}
}

static int blk_activate(struct virtio_dev *dev)
{
	struct virtio_blk *blk = dev->priv;

	if (blk->abandoned) {
		pr_err("virtio-blk: %s: the disk lost its I/O ring (its backing store hung or failed); restart the VMM to use it again",
		       blk->path);
		return -EIO;
	}

	/* A slot per descriptor head: the ring can never hold more requests. */
	for (unsigned int i = 0; i < blk->nqueues; i++) {
		if (dev->queues[i].size > blk->queues[i].nslots) {
			pr_err("virtio-blk: %s: queue %u size %u above the %u offered", blk->path, i,
			       dev->queues[i].size, blk->queues[i].nslots);
			return -EINVAL;
		}
	}
	return 0;
}

static void blk_config_read(struct virtio_dev *dev, u32 offset, void *data, u32 len)
{
	const struct virtio_blk *blk = dev->priv;

	memset(data, 0, len);
	if (offset < sizeof(blk->config))
		memcpy(data, (const u8 *)&blk->config + offset,
		       MIN(len, sizeof(blk->config) - offset));
}

static void blk_free_queue(struct blk_queue *q)
{
	if (q->efd_in_loop)
		event_loop_remove(&q->blk->dev.vm->loop, q->efd);
	if (q->ring_ok)
		io_uring_queue_exit(&q->ring);
	if (q->efd >= 0)
		close(q->efd);
	free(q->slots);
	free(q->free_list);
}

static void blk_free(struct virtio_blk *blk)
{
	for (unsigned int i = 0; blk->queues && i < blk->nqueues; i++)
		blk_free_queue(&blk->queues[i]);
	free(blk->queues);
	if (blk->fd >= 0)
		close(blk->fd);
	free(blk);
}

static void blk_destroy(struct virtio_dev *dev)
{
	struct virtio_blk *blk = dev->priv;

	blk_drain(blk);
	blk_free(blk);
}

static const struct virtio_dev_ops blk_ops = {
	.config_read = blk_config_read,
	/* No config_write: every field we offer is read-only (no VIRTIO_BLK_F_CONFIG_WCE). */
	.activate = blk_activate,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
	.destroy = blk_destroy,
};

/* --- creation ------------------------------------------------------------ */

static int blk_open_image(struct virtio_blk *blk, const struct disk_config *disk)
{
	u64 size = 0;
	int err = disk_image_open(disk->path, disk->readonly, &blk->fd, &size);

	if (err)
		return err;
	/* The capacity is counted in 512-byte sectors whatever blk_size says (5.2.4). */
	if (size % SECTOR_SIZE)
		pr_warn("virtio-blk: %s is %llu bytes, not a multiple of 512: the guest sees %llu bytes",
			disk->path, (unsigned long long)size,
			(unsigned long long)ALIGN_DOWN(size, SECTOR_SIZE));
	blk->capacity = size / SECTOR_SIZE;
	return 0;
}

/* The ring and the eventfd it signals, which the main loop watches. */
static int blk_ring_init(struct blk_queue *q)
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

static int blk_setup_queue(struct blk_queue *q, struct vm *vm)
{
	const char *path = q->blk->path;
	int err;

	q->nslots = VIRTIO_BLK_QUEUE_SIZE;
	q->slots = calloc(q->nslots, sizeof(*q->slots));
	q->free_list = calloc(q->nslots, sizeof(*q->free_list));
	if (!q->slots || !q->free_list)
		return -ENOMEM;
	blk_reset_slots(q);
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		err = -errno;
		pr_err("virtio-blk: %s: eventfd: %s", path, strerror(-err));
		return err;
	}
	err = blk_ring_init(q);
	if (err)
		return err;
	err = event_loop_add(&vm->loop, q->efd, EPOLLIN, blk_event, q);
	if (err) {
		pr_err("virtio-blk: %s: cannot watch its completions: %s", path, strerror(-err));
		return err;
	}
	q->efd_in_loop = true;
	return 0;
}

static int blk_setup_io(struct virtio_blk *blk, struct vm *vm)
{
	int err = 0;

	blk->queues = calloc(blk->nqueues, sizeof(*blk->queues));
	if (!blk->queues)
		return -ENOMEM;
	for (unsigned int i = 0; i < blk->nqueues; i++)
		blk->queues[i] = (struct blk_queue){ .blk = blk, .index = i, .efd = -1 };
	for (unsigned int i = 0; !err && i < blk->nqueues; i++)
		err = blk_setup_queue(&blk->queues[i], vm);
	return err;
}

/* Device configuration layout (5.2.4), little-endian (VIRTIO_F_VERSION_1). */
static void blk_init_config(struct virtio_blk *blk, unsigned int index)
{
	blk->config.capacity = htole64(blk->capacity);
	/* Header and status take two of the chain's buffers. */
	blk->config.seg_max = htole32(VQ_MAX_CHAIN - 2);
	blk->config.blk_size = htole32(SECTOR_SIZE);
	blk->config.num_queues = htole16((u16)blk->nqueues);
	snprintf(blk->serial, sizeof(blk->serial), "vmm-disk%u", index);
}

static void blk_init_dev(struct virtio_blk *blk, struct vm *vm)
{
	struct virtio_dev *dev = &blk->dev;

	dev->name = "virtio-blk";
	dev->device_id = VIRTIO_ID_BLOCK;
	dev->host_features = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
			     1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (blk->readonly)
		dev->host_features |= 1ULL << VIRTIO_BLK_F_RO;
	/* Without MQ the driver uses queue 0 only and num_queues is not there (5.2.3). */
	if (blk->nqueues > 1)
		dev->host_features |= 1ULL << VIRTIO_BLK_F_MQ;
	dev->nqueues = blk->nqueues;
	dev->queue_max_size = VIRTIO_BLK_QUEUE_SIZE;
	dev->vm = vm;
	dev->ops = &blk_ops;
	dev->priv = blk;
}

int virtio_blk_create(struct vm *vm, const struct disk_config *disk, unsigned int index,
		      struct virtio_dev **out)
{
	struct virtio_blk *blk = calloc(1, sizeof(*blk));
	int err;

	if (!blk)
		return -ENOMEM;
	if (disk->queues > VIRTIO_BLK_MAX_QUEUES) {
		pr_err("virtio-blk: %s: %u queues asked for, at most %d", disk->path, disk->queues,
		       VIRTIO_BLK_MAX_QUEUES);
		free(blk);
		return -EINVAL;
	}
	blk->fd = -1;
	blk->path = disk->path;
	blk->readonly = disk->readonly;
	blk->nqueues = disk->queues ? disk->queues : 1;
	blk_init_dev(blk, vm);
	err = blk_open_image(blk, disk);
	if (!err)
		err = blk_setup_io(blk, vm);
	if (err) {
		if (err == -ENOMEM)
			pr_err("virtio-blk: %s: out of memory", disk->path);
		blk_free(blk);
		return err;
	}
	blk_init_config(blk, index);
	*out = &blk->dev;
	return 0;
}
