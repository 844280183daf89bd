/*
 * virtio-blk requests (virtio 1.2, 5.2.6): each chain the driver makes
 * available is checked (header, range, read-only disk) and becomes a
 * ring operation in a free request slot, or is answered at once; the
 * status byte and the used entry are written here, when the ring
 * completes the request (blk_ring.c) or at once.
 */
#include "blk_queue.h"
#include "blk.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "core/log.h"

/*
 * Requests per callback (see struct virtio_budget): as many as the ring
 * has SQEs, so that real I/O stalls on the ring before the budget, and
 * only requests answered at once (errors, GET_ID) meet it.
 */
#define BLK_BUDGET VIRTIO_BLK_RING_ENTRIES
#define BLK_HDR_SIZE sizeof(struct virtio_blk_outhdr) /* type, ioprio, sector: 16 bytes */

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

void blk_reset_slots(struct blk_queue *q)
{
	q->nfree = 0;
	for (unsigned int i = q->nslots; i-- > 0;) {
		q->slots[i].busy = false;
		q->free_list[q->nfree++] = i;
	}
}

unsigned int blk_inflight(const struct blk_queue *q)
{
	return q->nslots - q->nfree;
}

unsigned int blk_inflight_all(const struct virtio_blk *blk)
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
void blk_finish(struct blk_queue *q, struct blk_req *req, u8 value)
{
	u32 written = req->type == VIRTIO_BLK_T_IN ? MIN(req->done + 1, (size_t)UINT32_MAX) : 1;

	if (!q->blk->draining)
		blk_answer(q, req->head, req->status, value, written);
	blk_put_slot(q, req);
}

/* err 0: the image ended early, i.e. it shrank under us. */
void blk_warn_io(struct virtio_blk *blk, const char *what, int err)
{
	if (blk->warned_io)
		return;
	blk->warned_io = true;
	pr_warn("virtio-blk: %s on %s failed: %s (the guest sees an I/O error; further errors not shown)",
		what, blk->path, err ? strerror(err) : "unexpected end of file, did the image shrink?");
}

void blk_notify(struct blk_queue *q)
{
	if (!q->pushed)
		return;
	q->pushed = false;
	virtio_notify_queue(&q->blk->dev, q->index);
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
	if ((write && blk->readonly) || len % BLK_SECTOR_SIZE ||
	    !blk_in_range(blk, sector, len / BLK_SECTOR_SIZE)) {
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
	req->offset = sector * BLK_SECTOR_SIZE;
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
void blk_process_queue(struct blk_queue *q)
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
