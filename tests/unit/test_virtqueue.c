/*
 * Virtqueue walking against hostile drivers: every malformed chain is an
 * error for that request, and nothing is read or written outside guest
 * memory (ASan checks the second half: guest memory here is one heap
 * buffer, so any stray access lands in a redzone).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/virtio_ring.h>

#include "devices/virtio/virtqueue.h"

#define GPA_BASE 0x100000ULL
#define MEM_SIZE 0x40000ULL
#define QSIZE 8
#define DESC_GPA GPA_BASE
#define AVAIL_GPA (GPA_BASE + 0x1000)
#define USED_GPA (GPA_BASE + 0x2000)
#define DATA_GPA (GPA_BASE + 0x10000)

struct fixture {
	struct guest_mem mem;
	struct virtqueue vq;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->mem.nbanks = 1;
	f->mem.banks[0].gpa = GPA_BASE;
	f->mem.banks[0].size = MEM_SIZE;
	f->mem.banks[0].hva = calloc(1, MEM_SIZE);
	f->desc = (void *)f->mem.banks[0].hva;
	f->avail = (void *)(f->mem.banks[0].hva + (AVAIL_GPA - GPA_BASE));
	f->used = (void *)(f->mem.banks[0].hva + (USED_GPA - GPA_BASE));
	f->vq.size = QSIZE;
	f->vq.desc_gpa = DESC_GPA;
	f->vq.avail_gpa = AVAIL_GPA;
	f->vq.used_gpa = USED_GPA;
	f->vq.indirect_ok = true;
	assert_int_equal(vq_activate(&f->vq, &f->mem), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->mem.banks[0].hva);
	free(f);
	return 0;
}

static void set_desc(struct fixture *f, u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
	f->desc[i] = (struct vring_desc){ addr, len, flags, next };
}

static void offer(struct fixture *f, u16 head)
{
	f->avail->ring[f->avail->idx % QSIZE] = head;
	f->avail->idx++;
}

static void a_readable_then_writable_chain_pops_with_host_pointers(void **state)
{
	struct fixture *f = *state;
	struct vq_chain chain;
	char hdr[4] = "abc";

	memcpy(f->mem.banks[0].hva + (DATA_GPA - GPA_BASE), hdr, 4);
	set_desc(f, 0, DATA_GPA, 4, VRING_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA + 0x100, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(f, 2, DATA_GPA + 0x400, 1, VRING_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), 1);
	assert_int_equal(chain.head, 0);
	assert_int_equal(chain.nout, 1);
	assert_int_equal(chain.nin, 2);
	assert_int_equal(chain.out_bytes, 4);
	assert_int_equal(chain.in_bytes, 513);
	assert_string_equal(chain.iov[0].iov_base, "abc");
	assert_int_equal(vq_pop(&f->vq, &chain), 0);

	vq_push(&f->vq, chain.head, 513);
	assert_int_equal(f->used->idx, 1);
	assert_int_equal(f->used->ring[0].id, 0);
	assert_int_equal(f->used->ring[0].len, 513);
}

static void a_looping_chain_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct vq_chain chain;

	set_desc(f, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA, 16, VRING_DESC_F_NEXT, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
	assert_int_equal(chain.head, 0);
}

static void a_self_loop_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct vq_chain chain;

	set_desc(f, 3, DATA_GPA, 16, VRING_DESC_F_NEXT, 3);
	offer(f, 3);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
}

static void buffers_outside_guest_ram_are_errors(void **state)
{
	struct fixture *f = *state;
	struct vq_chain chain;

	set_desc(f, 0, GPA_BASE + MEM_SIZE - 8, 16, 0, 0);         /* straddles the end */
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
	set_desc(f, 1, 0x10, 16, 0, 0);                             /* below guest RAM */
	offer(f, 1);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
	set_desc(f, 2, 0xfffffffffffffff0ULL, 0x20, 0, 0);          /* wraps around */
	offer(f, 2);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
}

static void next_beyond_the_queue_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct vq_chain chain;

	set_desc(f, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, QSIZE);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
}

static void a_head_beyond_the_queue_breaks_the_ring(void **state)
{
	struct fixture *f = *state;
	struct vq_chain chain;

	offer(f, QSIZE + 3);
	assert_int_equal(vq_pop(&f->vq, &chain), -EFAULT);
}

static void an_avail_index_running_ahead_breaks_the_ring(void **state)
{
	struct fixture *f = *state;
	struct vq_chain chain;

	f->avail->idx = QSIZE + 1;
	assert_int_equal(vq_pop(&f->vq, &chain), -EFAULT);
}

static void zero_length_buffers_are_errors(void **state)
{
	struct fixture *f = *state;
	struct vq_chain chain;

	set_desc(f, 0, DATA_GPA, 0, VRING_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
}

static void readable_after_writable_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct vq_chain chain;

	set_desc(f, 0, DATA_GPA, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA, 16, 0, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
}

static void indirect_tables_are_walked_and_checked(void **state)
{
	struct fixture *f = *state;
	struct vring_desc *table = (void *)(f->mem.banks[0].hva + 0x8000);
	struct vq_chain chain;

	table[0] = (struct vring_desc){ DATA_GPA, 16, VRING_DESC_F_NEXT, 1 };
	table[1] = (struct vring_desc){ DATA_GPA + 0x100, 64, VRING_DESC_F_WRITE, 0 };
	set_desc(f, 0, GPA_BASE + 0x8000, 2 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), 1);
	assert_int_equal(chain.nout, 1);
	assert_int_equal(chain.nin, 1);

	/* A loop inside the table. */
	table[1] = (struct vring_desc){ DATA_GPA, 64, VRING_DESC_F_NEXT, 0 };
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
	/* Nested indirect. */
	table[1] = (struct vring_desc){ GPA_BASE + 0x8000, 32, VRING_DESC_F_INDIRECT, 0 };
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
	/* A table length that is not whole descriptors, or outside RAM. */
	set_desc(f, 0, GPA_BASE + 0x8000, 17, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
	set_desc(f, 0, GPA_BASE + MEM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
	/* Not negotiated. */
	f->vq.indirect_ok = false;
	set_desc(f, 0, GPA_BASE + 0x8000, 32, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
}

static void a_chain_longer_than_the_limit_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct vring_desc *table = (void *)(f->mem.banks[0].hva + 0x8000);
	const unsigned int n = VQ_MAX_CHAIN + 1;
	struct vq_chain chain;

	for (unsigned int i = 0; i < n; i++)
		table[i] = (struct vring_desc){ DATA_GPA, 8, VRING_DESC_F_NEXT, (u16)(i + 1) };
	table[n - 1].flags = 0;
	set_desc(f, 0, GPA_BASE + 0x8000, n * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), -EINVAL);
}

static void rings_outside_guest_memory_are_refused_at_activation(void **state)
{
	struct fixture *f = *state;
	struct virtqueue vq = f->vq;

	vq.used_gpa = GPA_BASE + MEM_SIZE - 4;
	assert_int_equal(vq_activate(&vq, &f->mem), -EFAULT);
	vq = f->vq;
	vq.size = 6; /* not a power of two */
	assert_int_equal(vq_activate(&vq, &f->mem), -EINVAL);
	vq = f->vq;
	vq.desc_gpa += 8; /* misaligned */
	assert_int_equal(vq_activate(&vq, &f->mem), -EINVAL);
}

static void copies_span_buffers(void **state)
{
	struct fixture *f = *state;
	struct vq_chain chain;
	char out[8];

	memcpy(f->mem.banks[0].hva + (DATA_GPA - GPA_BASE), "abcd", 4);
	memcpy(f->mem.banks[0].hva + (DATA_GPA - GPA_BASE) + 0x100, "efgh", 4);
	set_desc(f, 0, DATA_GPA, 4, VRING_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA + 0x100, 4, VRING_DESC_F_NEXT, 2);
	set_desc(f, 2, DATA_GPA + 0x200, 2, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
	set_desc(f, 3, DATA_GPA + 0x300, 2, VRING_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &chain), 1);
	assert_int_equal(vq_copy_from_out(&chain, 2, out, 8), 6);
	assert_memory_equal(out, "cdefgh", 6);
	assert_int_equal(vq_copy_to_in(&chain, 1, "xyz", 3), 3);
	assert_memory_equal(f->mem.banks[0].hva + (DATA_GPA - GPA_BASE) + 0x201, "x", 1);
	assert_memory_equal(f->mem.banks[0].hva + (DATA_GPA - GPA_BASE) + 0x300, "yz", 2);
	assert_int_equal(vq_copy_to_in(&chain, 10, "xyz", 3), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_readable_then_writable_chain_pops_with_host_pointers),
		T(a_looping_chain_is_an_error),
		T(a_self_loop_is_an_error),
		T(buffers_outside_guest_ram_are_errors),
		T(next_beyond_the_queue_is_an_error),
		T(a_head_beyond_the_queue_breaks_the_ring),
		T(an_avail_index_running_ahead_breaks_the_ring),
		T(zero_length_buffers_are_errors),
		T(readable_after_writable_is_an_error),
		T(indirect_tables_are_walked_and_checked),
		T(a_chain_longer_than_the_limit_is_an_error),
		T(rings_outside_guest_memory_are_refused_at_activation),
		T(copies_span_buffers),
	};

	return cmocka_run_group_tests_name("virtqueue", tests, NULL, NULL);
}
