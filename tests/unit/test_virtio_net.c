/*
 * virtio-net's receive bookkeeping: how a frame the tap wrote across the
 * guest's buffers is reported (num_buffers, used lengths, header flags),
 * and the MACs it derives. The chains point into heap buffers, so ASan
 * catches any write past what the guest posted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <linux/virtio_net.h>

#include "devices/virtio/net.h"

#define HDR_LEN sizeof(struct virtio_net_hdr_v1)

/* A receive chain of writable buffers of the given sizes (0 ends the list). */
static struct vq_chain *make_chain(u16 head, const size_t *sizes)
{
	struct vq_chain *c = calloc(1, sizeof(*c));

	c->head = head;
	for (unsigned int i = 0; sizes[i]; i++) {
		c->iov[i].iov_base = calloc(1, sizes[i]);
		c->iov[i].iov_len = sizes[i];
		c->in_bytes += sizes[i];
		c->nin++;
	}
	return c;
}

static void free_chain(struct vq_chain *c)
{
	for (unsigned int i = 0; i < c->nin; i++)
		free(c->iov[i].iov_base);
	free(c);
}

static struct virtio_net_hdr_v1 *hdr_of(struct vq_chain *c)
{
	return c->iov[0].iov_base;
}

static void small_frame_uses_one_buffer_and_says_so(void **state)
{
	static const size_t sizes[] = { 1536, 0 };
	struct vq_chain *c[2] = { make_chain(7, sizes), make_chain(8, sizes) };
	u32 written[2] = { 0 };

	(void)state;
	hdr_of(c[0])->num_buffers = htole16(0xdead); /* the tap leaves it alone */
	assert_int_equal(virtio_net_rx_finish(c, 2, HDR_LEN + 60, true, written), 1);
	assert_int_equal(written[0], HDR_LEN + 60);
	assert_int_equal(le16toh(hdr_of(c[0])->num_buffers), 1);
	free_chain(c[0]);
	free_chain(c[1]);
}

static void large_frame_spans_mergeable_buffers_in_order(void **state)
{
	static const size_t sizes[] = { 1536, 0 };
	struct vq_chain *c[4];
	u32 written[4] = { 0 };

	(void)state;
	for (int i = 0; i < 4; i++)
		c[i] = make_chain(i, sizes);
	hdr_of(c[0])->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr_of(c[0])->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	assert_int_equal(virtio_net_rx_finish(c, 4, 4000, true, written), 3);
	assert_int_equal(written[0], 1536);
	assert_int_equal(written[1], 1536);
	assert_int_equal(written[2], 4000 - 2 * 1536);
	assert_int_equal(le16toh(hdr_of(c[0])->num_buffers), 3);
	/* With GUEST_CSUM the tap's offload metadata reaches the guest as is. */
	assert_int_equal(hdr_of(c[0])->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(hdr_of(c[0])->gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	for (int i = 0; i < 4; i++)
		free_chain(c[i]);
}

static void exact_fit_uses_every_buffer(void **state)
{
	static const size_t sizes[] = { 100, 0 };
	struct vq_chain *c[3];
	u32 written[3] = { 0 };

	(void)state;
	for (int i = 0; i < 3; i++)
		c[i] = make_chain(i, sizes);
	assert_int_equal(virtio_net_rx_finish(c, 3, 300, true, written), 3);
	assert_int_equal(written[2], 100);
	for (int i = 0; i < 3; i++)
		free_chain(c[i]);
}

static void flags_are_cleared_without_guest_csum(void **state)
{
	static const size_t sizes[] = { 1536, 0 };
	struct vq_chain *c[1] = { make_chain(0, sizes) };
	u32 written[1];

	(void)state;
	hdr_of(c[0])->flags = VIRTIO_NET_HDR_F_DATA_VALID;
	hdr_of(c[0])->hdr_len = htole16(54);
	assert_int_equal(virtio_net_rx_finish(c, 1, 100, false, written), 1);
	assert_int_equal(hdr_of(c[0])->flags, 0);
	assert_int_equal(le16toh(hdr_of(c[0])->hdr_len), 54);
	free_chain(c[0]);
}

/* virtio 1.x has no layout rules: the header may straddle descriptors. */
static void num_buffers_lands_in_a_split_header(void **state)
{
	static const size_t sizes[] = { 6, 6, 1000, 0 };
	struct vq_chain *c[1] = { make_chain(0, sizes) };
	u8 *second = c[0]->iov[1].iov_base;
	u32 written[1];

	(void)state;
	assert_int_equal(virtio_net_rx_finish(c, 1, 500, true, written), 1);
	assert_int_equal(written[0], 500);
	/* num_buffers is at offset 10: bytes 4..5 of the second buffer. */
	assert_int_equal(second[4] | second[5] << 8, 1);
	free_chain(c[0]);
}

static void frame_larger_than_the_buffers_is_refused_untouched(void **state)
{
	static const size_t sizes[] = { 1536, 0 };
	struct vq_chain *c[2] = { make_chain(0, sizes), make_chain(1, sizes) };
	u32 written[2];

	(void)state;
	hdr_of(c[0])->num_buffers = htole16(0x5555);
	assert_int_equal(virtio_net_rx_finish(c, 2, 3073, true, written), -EMSGSIZE);
	assert_int_equal(le16toh(hdr_of(c[0])->num_buffers), 0x5555);
	assert_int_equal(virtio_net_rx_finish(c, 0, 100, true, written), -EMSGSIZE);
	assert_int_equal(virtio_net_rx_finish(c, 2, HDR_LEN - 1, true, written), -EMSGSIZE);
	free_chain(c[0]);
	free_chain(c[1]);
}

static void derived_macs_are_local_unicast_and_distinct(void **state)
{
	u8 a[6], b[6], c[6];

	(void)state;
	virtio_net_derive_mac(0, 4242, a);
	virtio_net_derive_mac(1, 4242, b);
	virtio_net_derive_mac(0, 4243, c);
	assert_int_equal(a[0] & 1, 0);    /* not multicast */
	assert_int_equal(a[0] & 2, 2);    /* locally administered */
	assert_memory_not_equal(a, b, 6); /* per device */
	assert_memory_not_equal(a, c, 6); /* per VMM process */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small_frame_uses_one_buffer_and_says_so),
		cmocka_unit_test(large_frame_spans_mergeable_buffers_in_order),
		cmocka_unit_test(exact_fit_uses_every_buffer),
		cmocka_unit_test(flags_are_cleared_without_guest_csum),
		cmocka_unit_test(num_buffers_lands_in_a_split_header),
		cmocka_unit_test(frame_larger_than_the_buffers_is_refused_untouched),
		cmocka_unit_test(derived_macs_are_local_unicast_and_distinct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
