/*
 * Split virtqueue walking (virtio 1.2, 2.7). The rings live in guest
 * memory the driver may change at any time, so every index and address
 * read from them is checked before use, and each value is read once.
 */
#include "virtqueue.h"

#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <string.h>

static inline u16 load16_acquire(const volatile void *p)
{
	return __atomic_load_n((const volatile u16 *)p, __ATOMIC_ACQUIRE);
}

static void *ring_ptr(const struct virtqueue *vq, u64 gpa, u64 len)
{
	return guest_mem_ptr(vq->mem, gpa, len);
}

int vq_activate(struct virtqueue *vq, const struct guest_mem *mem)
{
	u64 n = vq->size;

	/* Queue size must be a power of 2 up to 32768 for split rings (2.7). */
	if (!n || n > VQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	vq->mem = mem;
	if (!ring_ptr(vq, vq->desc_gpa, 16 * n) || !ring_ptr(vq, vq->avail_gpa, 6 + 2 * n) ||
	    !ring_ptr(vq, vq->used_gpa, 6 + 8 * n))
		return -EFAULT;
	/* Alignment (2.7.1): desc 16, avail 2, used 4. */
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return -EINVAL;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
	vq->ready = true;
	return 0;
}

void vq_reset(struct virtqueue *vq)
{
	vq->ready = false;
	vq->size = 0;
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->last_avail = vq->used_idx = 0;
	vq->msix_vector = 0xffff;
	vq->event_idx = false;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
}

/* Appends one descriptor's buffer to the chain; enforces out-before-in. */
static int add_buffer(struct virtqueue *vq, struct vq_chain *chain, u64 addr, u32 len,
		      bool writable)
{
	void *host;
	unsigned int n = chain->nout + chain->nin;

	if (len == 0 || n == VQ_MAX_CHAIN)
		return -EINVAL;
	/* Device-readable buffers come first (2.7.4.2). */
	if (!writable && chain->nin)
		return -EINVAL;
	host = guest_mem_ptr(vq->mem, addr, len);
	if (!host)
		return -EINVAL;
	chain->iov[n].iov_base = host;
	chain->iov[n].iov_len = len;
	if (writable) {
		chain->nin++;
		chain->in_bytes += len;
	} else {
		chain->nout++;
		chain->out_bytes += len;
	}
	return 0;
}

/* Walks an indirect table (2.7.5.3): no nesting, entries chained by next. */
static int walk_indirect(struct virtqueue *vq, struct vq_chain *chain, u64 addr, u32 len)
{
	struct vring_desc desc;
	const struct vring_desc *table;
	unsigned int n = len / sizeof(desc), i = 0, steps = 0;

	if (!vq->indirect_ok || len == 0 || len % sizeof(desc))
		return -EINVAL;
	table = guest_mem_ptr(vq->mem, addr, len);
	if (!table)
		return -EINVAL;
	for (;;) {
		memcpy(&desc, &table[i], sizeof(desc)); /* one read of guest-owned memory */
		if (desc.flags & VRING_DESC_F_INDIRECT)
			return -EINVAL;
		if (add_buffer(vq, chain, desc.addr, desc.len, desc.flags & VRING_DESC_F_WRITE))
			return -EINVAL;
		if (!(desc.flags & VRING_DESC_F_NEXT))
			return 0;
		/* A chain longer than the table loops. */
		if (desc.next >= n || ++steps >= n)
			return -EINVAL;
		i = desc.next;
	}
}

int vq_pop(struct virtqueue *vq, struct vq_chain *chain)
{
	const struct vring_desc *table;
	struct vring_avail *avail;
	struct vring_desc desc;
	unsigned int steps = 0;
	u16 avail_idx, head, i;

	if (!vq->ready)
		return 0;
	avail = ring_ptr(vq, vq->avail_gpa, 6 + 2ULL * vq->size);
	table = ring_ptr(vq, vq->desc_gpa, 16ULL * vq->size);
	if (!avail || !table)
		return -EFAULT;
	avail_idx = load16_acquire(&avail->idx);
	if (avail_idx == vq->last_avail)
		return 0;
	/* More entries than the ring holds: the driver is broken. */
	if ((u16)(avail_idx - vq->last_avail) > vq->size)
		return -EFAULT;
	head = avail->ring[vq->last_avail % vq->size];
	vq->last_avail++;

	chain->head = head;
	chain->nout = chain->nin = 0;
	chain->out_bytes = chain->in_bytes = 0;
	if (head >= vq->size)
		return -EFAULT; /* nothing valid to push back */
	i = head;
	for (;;) {
		memcpy(&desc, &table[i], sizeof(desc));
		if (desc.flags & VRING_DESC_F_INDIRECT) {
			/* An indirect descriptor stands alone in its chain. */
			if ((desc.flags & VRING_DESC_F_NEXT) || chain->nout + chain->nin)
				return -EINVAL;
			return walk_indirect(vq, chain, desc.addr, desc.len) ? -EINVAL : 1;
		}
		if (add_buffer(vq, chain, desc.addr, desc.len, desc.flags & VRING_DESC_F_WRITE))
			return -EINVAL;
		if (!(desc.flags & VRING_DESC_F_NEXT))
			return 1;
		if (desc.next >= vq->size || ++steps >= vq->size)
			return -EINVAL;
		i = desc.next;
	}
}

void vq_push(struct virtqueue *vq, u16 head, u32 written)
{
	struct vring_used *used = ring_ptr(vq, vq->used_gpa, 6 + 8ULL * vq->size);

	if (!used)
		return;
	used->ring[vq->used_idx % vq->size].id = head;
	used->ring[vq->used_idx % vq->size].len = written;
	vq->used_idx++;
	vq->stats.completions++;
	/* The element must be visible before the index that publishes it (2.7.8). */
	__atomic_store_n(&used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

/*
 * The trailing fields of the rings (2.7.6, 2.7.8): used_event after the
 * avail ring, avail_event after the used ring. vq_activate checked that
 * both lie in guest memory.
 */
static u16 *used_event_ptr(const struct virtqueue *vq)
{
	struct vring_avail *avail = ring_ptr(vq, vq->avail_gpa, 6 + 2ULL * vq->size);

	return avail ? &avail->ring[vq->size] : NULL;
}

static u16 *avail_event_ptr(const struct virtqueue *vq)
{
	struct vring_used *used = ring_ptr(vq, vq->used_gpa, 6 + 8ULL * vq->size);

	return used ? (u16 *)&used->ring[vq->size] : NULL;
}

bool vq_interrupt_needed(struct virtqueue *vq)
{
	struct vring_avail *avail = ring_ptr(vq, vq->avail_gpa, 6 + 2ULL * vq->size);
	u16 old = vq->signalled_used, new_idx = vq->used_idx;
	bool valid = vq->signalled_valid;

	if (!vq->ready || !avail)
		return true;
	/*
	 * used->idx was published before the driver's wish is read: otherwise
	 * a driver that re-enables interrupts and then checks used->idx, and
	 * us reading its old flags, could both decide the other will act.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(load16_acquire(&avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	vq->signalled_used = new_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	return vq_need_event(load16_acquire(used_event_ptr(vq)), new_idx, old);
}

void vq_kicks_off(struct virtqueue *vq)
{
	struct vring_avail *avail = ring_ptr(vq, vq->avail_gpa, 6 + 2ULL * vq->size);
	struct vring_used *used = ring_ptr(vq, vq->used_gpa, 6 + 8ULL * vq->size);

	if (!vq->ready || !avail || !used)
		return;
	vq->avail_at_kicks_off = load16_acquire(&avail->idx);
	/* With EVENT_IDX the driver ignores the flag (2.7.10): avail_event stays where it was. */
	if (!vq->event_idx)
		__atomic_store_n(&used->flags, VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

bool vq_kicks_on(struct virtqueue *vq)
{
	struct vring_avail *avail = ring_ptr(vq, vq->avail_gpa, 6 + 2ULL * vq->size);
	struct vring_used *used = ring_ptr(vq, vq->used_gpa, 6 + 8ULL * vq->size);
	u16 *avail_event = avail_event_ptr(vq);

	if (!vq->ready || !avail || !used || !avail_event)
		return false;
	if (vq->event_idx)
		__atomic_store_n(avail_event, load16_acquire(&avail->idx), __ATOMIC_RELAXED);
	else
		__atomic_store_n(&used->flags, 0, __ATOMIC_RELAXED);
	/* The driver reads our wish after publishing its index; we read its index after ours. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16_acquire(&avail->idx) != vq->avail_at_kicks_off;
}

size_t vq_copy_from_out(const struct vq_chain *chain, size_t offset, void *dst, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < chain->nout && done < len; i++) {
		size_t n = chain->iov[i].iov_len;

		if (offset >= n) {
			offset -= n;
			continue;
		}
		n = MIN(n - offset, len - done);
		memcpy((u8 *)dst + done, (u8 *)chain->iov[i].iov_base + offset, n);
		done += n;
		offset = 0;
	}
	return done;
}

size_t vq_copy_to_in(const struct vq_chain *chain, size_t offset, const void *src, size_t len)
{
	size_t done = 0;

	for (unsigned int i = chain->nout; i < chain->nout + chain->nin && done < len; i++) {
		size_t n = chain->iov[i].iov_len;

		if (offset >= n) {
			offset -= n;
			continue;
		}
		n = MIN(n - offset, len - done);
		memcpy((u8 *)chain->iov[i].iov_base + offset, (const u8 *)src + done, n);
		done += n;
		offset = 0;
	}
	return done;
}

unsigned int vq_iov_slice(const struct iovec *src, unsigned int n, size_t skip, size_t len,
			  struct iovec *dst)
{
	unsigned int cnt = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		size_t l = src[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l = MIN(l - skip, len);
		dst[cnt].iov_base = (u8 *)src[i].iov_base + skip;
		dst[cnt++].iov_len = l;
		len -= l;
		skip = 0;
	}
	return cnt;
}

void vq_describe(const struct virtqueue *vq, char *buf, size_t len)
{
	const struct vring_avail *avail = vq->mem ? ring_ptr(vq, vq->avail_gpa, 6 + 2ULL * vq->size) : NULL;
	const struct vring_used *used = vq->mem ? ring_ptr(vq, vq->used_gpa, 6 + 8ULL * vq->size) : NULL;

	if (!vq->ready || !avail || !used) {
		snprintf(buf, len, "not ready");
		return;
	}
	snprintf(buf, len,
		 "avail idx %u (taken %u), used idx %u (ours %u, last interrupt decision at %u%s), "
		 "used_event %u, avail_event %u, used flags %#x, avail flags %#x, event_idx %s",
		 load16_acquire(&avail->idx), vq->last_avail, load16_acquire(&used->idx), vq->used_idx,
		 vq->signalled_used, vq->signalled_valid ? "" : ", none yet",
		 load16_acquire(used_event_ptr(vq)), load16_acquire(avail_event_ptr(vq)),
		 load16_acquire(&used->flags), load16_acquire(&avail->flags),
		 vq->event_idx ? "on" : "off");
}
