/*
 * Split virtqueues against a hostile driver: rings and descriptors
 * anywhere in a guest memory of two banks with a gap between them (and
 * past them), direct and indirect chains, indices that run ahead, and
 * memory rewritten between requests. Every buffer handed out lies inside
 * one bank (each bank is its own heap block: ASan sees a step outside).
 *
 * Input: queue size (u8: log2, bit 7 makes it not a power of two),
 * desc/avail/used addresses (u16 each, from 0x1000), indirect allowed
 * (u8), then operations of one byte (0: write bytes to guest memory,
 * 1: pop, 2: push, 3: copy from the readable part, 4: copy to the
 * writable part, 5: slice, 6: reset and activate again).
 */
#include "core/log.h"
#include "devices/virtio/virtqueue.h"
#include "fuzz_input.h"

#define BANK0_GPA 0x1000ULL
#define BANK0_SIZE 0x3000ULL
#define BANK1_GPA 0x8000ULL /* the gap: 0x4000-0x7fff */
#define BANK1_SIZE 0x4000ULL

static struct guest_mem mem;

static bool inside_a_bank(const void *p, size_t len)
{
	for (unsigned int i = 0; i < mem.nbanks; i++) {
		const u8 *hva = mem.banks[i].hva;

		if ((const u8 *)p >= hva && (const u8 *)p - hva < (ptrdiff_t)mem.banks[i].size &&
		    len <= mem.banks[i].size - (size_t)((const u8 *)p - hva))
			return true;
	}
	return false;
}

static void check_chain(const struct virtqueue *vq, const struct vq_chain *c)
{
	size_t out = 0, in = 0;

	FUZZ_CHECK(c->head < vq->size);
	FUZZ_CHECK(c->nout + c->nin >= 1 && c->nout + c->nin <= VQ_MAX_CHAIN);
	for (unsigned int i = 0; i < c->nout + c->nin; i++) {
		FUZZ_CHECK(c->iov[i].iov_len > 0);
		FUZZ_CHECK(inside_a_bank(c->iov[i].iov_base, c->iov[i].iov_len));
		if (i < c->nout)
			out += c->iov[i].iov_len;
		else
			in += c->iov[i].iov_len;
	}
	FUZZ_CHECK(out == c->out_bytes && in == c->in_bytes);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct vq_chain chain;
	struct virtqueue vq = { 0 };
	u8 shape = fuzz_u8(&in);
	bool have_chain = false;
	static u8 scratch[0x10000];

	log_threshold = LOG_QUIET;
	mem.nbanks = 2;
	mem.banks[0] = (struct guest_bank){ .gpa = BANK0_GPA, .size = BANK0_SIZE,
					   .hva = calloc(1, BANK0_SIZE), .dma = true };
	mem.banks[1] = (struct guest_bank){ .gpa = BANK1_GPA, .size = BANK1_SIZE,
					   .hva = calloc(1, BANK1_SIZE), .dma = true };
	vq.size = (u16)(1u << (shape % 9)) + ((shape & 0x80) ? 1 : 0);
	vq.desc_gpa = BANK0_GPA + fuzz_u16(&in);
	vq.avail_gpa = BANK0_GPA + fuzz_u16(&in);
	vq.used_gpa = BANK0_GPA + fuzz_u16(&in);
	vq.indirect_ok = fuzz_u8(&in) & 1;
	vq_activate(&vq, &mem);
	while (fuzz_more(&in)) {
		u8 op = fuzz_u8(&in);
		u64 gpa;
		u16 a, b;
		void *p;
		int ret;

		switch (op % 7) {
		case 0:
			gpa = BANK0_GPA + fuzz_u16(&in);
			a = fuzz_u8(&in);
			p = guest_mem_ptr(&mem, gpa, a);
			fuzz_bytes(&in, p ? p : scratch, a);
			break;
		case 1:
			ret = vq_pop(&vq, &chain);
			FUZZ_CHECK(ret == 1 || ret == 0 || ret == -EINVAL || ret == -EFAULT);
			have_chain = ret == 1;
			if (ret == 1)
				check_chain(&vq, &chain);
			if (ret == -EINVAL)
				FUZZ_CHECK(chain.head < vq.size);
			break;
		case 2:
			if (vq.ready)
				vq_push(&vq, fuzz_u16(&in), fuzz_u32(&in));
			break;
		case 3:
			a = fuzz_u16(&in), b = fuzz_u16(&in);
			if (have_chain)
				FUZZ_CHECK(vq_copy_from_out(&chain, a, scratch, b) <= b);
			break;
		case 4:
			a = fuzz_u16(&in), b = fuzz_u16(&in);
			if (have_chain)
				FUZZ_CHECK(vq_copy_to_in(&chain, a, scratch, b) <= b);
			break;
		case 5:
			a = fuzz_u16(&in), b = fuzz_u16(&in);
			if (have_chain) {
				static struct iovec sliced[VQ_MAX_CHAIN];
				unsigned int n = vq_iov_slice(chain.iov, chain.nout + chain.nin, a, b,
							      sliced);
				size_t total = 0;

				FUZZ_CHECK(n <= chain.nout + chain.nin);
				for (unsigned int i = 0; i < n; i++) {
					FUZZ_CHECK(inside_a_bank(sliced[i].iov_base, sliced[i].iov_len));
					total += sliced[i].iov_len;
				}
				FUZZ_CHECK(total <= b);
			}
			break;
		default:
			a = vq.size;
			vq_reset(&vq);
			vq.size = a;
			vq.desc_gpa = BANK0_GPA + fuzz_u16(&in);
			vq.avail_gpa = BANK0_GPA + fuzz_u16(&in);
			vq.used_gpa = BANK0_GPA + fuzz_u16(&in);
			vq_activate(&vq, &mem);
			have_chain = false;
			break;
		}
	}
	free(mem.banks[0].hva);
	free(mem.banks[1].hva);
	return 0;
}
