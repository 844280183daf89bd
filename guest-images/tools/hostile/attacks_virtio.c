/*
 * Attacks on the virtqueues and the device status, through queue 0 on our
 * DMA pages: descriptor loops, buffers and rings where no device may go,
 * avail indices that jump, random requests, resets in the middle of I/O.
 * The checks are mostly the caller's (tests/nested/hostile.sh: the device
 * works again, the VMM survives) and main()'s late-write check.
 */
#define _GNU_SOURCE
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attacks.h"
#include "nasty.h"
#include "vdev.h"

/* A descriptor that points at itself, and a ring of all descriptors. */
void attack_vq_loops(void)
{
	vq_start(1u << VIRTIO_RING_F_INDIRECT_DESC);
	desc_set(DESC, 0, dma[4].phys, 16, VRING_DESC_F_NEXT, 0);
	offer(0, 1);
	vq_start(1u << VIRTIO_RING_F_INDIRECT_DESC);
	for (unsigned int i = 0; i < QSIZE; i++)
		desc_set(DESC, i, dma[4].phys, 16, VRING_DESC_F_NEXT, (u16)((i + 1) % QSIZE));
	offer(3, 1);
	/* next out of the table, and an indirect table that loops in itself. */
	vq_start(1u << VIRTIO_RING_F_INDIRECT_DESC);
	desc_set(DESC, 0, dma[4].phys, 16, VRING_DESC_F_NEXT, 0xffff);
	offer(0, 1);
	vq_start(1u << VIRTIO_RING_F_INDIRECT_DESC);
	for (unsigned int i = 0; i < 256; i++)
		desc_set(INDIRECT, i, dma[4].phys, 16, VRING_DESC_F_NEXT, (u16)((i + 1) % 256));
	desc_set(DESC, 0, dma[3].phys, PAGE, VRING_DESC_F_INDIRECT, 0);
	offer(0, 1);
	/* Indirect in indirect, and an indirect table of odd length. */
	vq_start(1u << VIRTIO_RING_F_INDIRECT_DESC);
	desc_set(INDIRECT, 0, dma[3].phys, 32, VRING_DESC_F_INDIRECT, 0);
	desc_set(DESC, 0, dma[3].phys, 17, VRING_DESC_F_INDIRECT, 0);
	desc_set(DESC, 1, dma[3].phys, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0, 1);
	offer(1, 1);
	/* Indirect without the feature. */
	vq_start(0);
	desc_set(DESC, 0, dma[3].phys, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0, 1);
}

/* Buffers outside RAM, in holes and MMIO, across banks, with wrapping lengths. */
void attack_vq_addresses(void)
{
	u64 cross = nbanks > 1 ? banks[0].end + 1 - 2048 : ram_end() - 2048;
	/* read_only: only the device reads it (a disk write); it may cover guest memory. */
	const struct { u64 addr; u32 len; bool read_only; } bufs[] = {
		{ ram_end(), PAGE, false },                /* just past RAM */
		{ ram_end() - 100, 200, false },           /* across the end of RAM */
		{ cross, 0x200000, true },                 /* across a bank's end, the hole, the next bank */
		{ 0xa0000, PAGE, true },                   /* the legacy area */
		{ 0xc0000000, PAGE, false },               /* nothing there */
		{ 0xd0000000, PAGE, false },               /* the PCI window (MMIO, not RAM) */
		{ vd.bar_phys, 0x100, false },             /* this device's own registers */
		{ 0xfee00000, 64, false },                 /* the MSI doorbell */
		{ 0xfffffffffffff000ull, 0x2000, false },  /* wraps around zero */
		{ dma[4].phys, 0xffffffff, false },        /* huge */
		{ dma[4].phys, 0, false },                 /* empty */
	};
	for (unsigned int b = 0; b < sizeof(bufs) / sizeof(bufs[0]); b++) {
		for (int writable = 0; writable < 2 - bufs[b].read_only; writable++) {
			vq_start(0);
			/* A plausible request: header, buffer, status. */
			desc_set(DESC, 0, dma[5].phys, 16, VRING_DESC_F_NEXT, 1);
			desc_set(DESC, 1, bufs[b].addr, bufs[b].len,
				 VRING_DESC_F_NEXT | (writable ? VRING_DESC_F_WRITE : 0), 2);
			desc_set(DESC, 2, dma[6].phys, 1, VRING_DESC_F_WRITE, 0);
			/* A single descriptor with the same buffer (rng: one writable buffer). */
			desc_set(DESC, 3, bufs[b].addr, bufs[b].len, VRING_DESC_F_WRITE, 0);
			memset(dma[5].virt, 0, 16);
			dma[5].virt[0] = writable ? 0 : 1; /* virtio-blk: IN (read), OUT (write) */
			offer(0, 1);
			if (!bufs[b].read_only)
				offer(3, 1);
		}
	}
}

/* Avail indices that jump ahead, go back, and heads out of range. */
void attack_vq_indices(void)
{
	vq_start(0);
	for (unsigned int i = 0; i < QSIZE; i++)
		desc_set(DESC, i, dma[4].phys + 256 * (i % 16), 256, VRING_DESC_F_WRITE, 0);
	offer(0, 1000);       /* far more than the ring holds */
	offer(0, (u16)-500);  /* back again */
	offer(0xffff, 1);     /* head out of the table */
	AVAIL->idx = 0x7fff;
	kick(0);
	AVAIL->flags = 0xffff;
	offer(QSIZE, 1);
	/* The used ring rewritten under the device. */
	for (unsigned int i = 0; i < 64; i++) {
		USED->idx = (u16)rnd();
		AVAIL->ring[i % QSIZE] = (u16)rnd();
		offer((u16)rnd_below(QSIZE), (u16)rnd_below(3));
	}
}

/* Rings placed outside RAM, unaligned, over each other; odd sizes; changes while live. */
void attack_vq_rings(void)
{
	static const u16 sizes[] = { 0, 1, 3, 16, 255, 256, 1024, 32768, 65535 };

	for (unsigned int i = 0; i < 40; i++) {
		u16 size = sizes[rnd_below(9)];
		/* Rings larger than a page go nowhere near RAM: the used ring is written. */
		bool ours = size <= 256 && rnd_below(2);

		for (unsigned int p = 0; p < 4; p++)
			memset(dma[p].virt, 0, PAGE);
		vdev_negotiate(0);
		vq_place((u16)rnd_below(4), size,
			 ours ? dma[0].phys + rnd_below(8) : nasty_addr(),
			 ours ? dma[1].phys : nasty_addr(),
			 ours ? dma[2].phys + 4 * rnd_below(2) : nasty_addr(), (u16)rnd());
		w8(COMMON(device_status), 0xf);
		kick(0);
		kick((u16)rnd_below(8));
		/* Fields of an enabled queue, and the status, written again. */
		w32(COMMON(queue_desc_lo), (u32)rnd());
		w16(COMMON(queue_size), (u16)rnd());
		w16(COMMON(queue_enable), (u16)rnd());
		w8(COMMON(device_status), (u8)rnd());
		kick(0);
		usleep(1000);
	}
	/*
	 * The used ring over the descriptor table, as a live queue. The
	 * request is descriptor 12, past the used ring's 134 bytes: the
	 * device writes the ring's flags before it reads the chain, and over
	 * descriptor 0 they would have sent its buffer (and a disk's status
	 * byte) to an address of someone else's in the guest (a shell and
	 * init died of it).
	 */
	vdev_negotiate(0);
	vq_place(0, QSIZE, dma[0].phys, dma[1].phys, dma[0].phys, 0);
	w8(COMMON(device_status), 0xf);
	for (unsigned int i = 0; i < QSIZE; i++)
		desc_set(DESC, i, dma[0].phys, PAGE, VRING_DESC_F_WRITE, 0);
	dma_moved();
	offer(12, 1);
	/* A device that took the request answered it in page 0, nowhere else. */
	if (vd.device_id == 0x1040 + VIRTIO_ID_RNG && ((volatile struct vring_used *)dma[0].virt)->idx != 1)
		printf("HOSTILE rng answer not in page 0 (used idx %u)\n",
		       ((volatile struct vring_used *)dma[0].virt)->idx);
	fflush(stdout);
}

/* Requests the device models parse, with random fields (blk: header, status). */
void attack_vq_random(void)
{
	for (unsigned int round = 0; round < 60; round++) {
		unsigned int n = 1 + (unsigned int)rnd_below(QSIZE);

		vq_start(rnd_below(2) ? 1u << VIRTIO_RING_F_INDIRECT_DESC : 0);
		for (unsigned int i = 0; i < QSIZE + 256; i++) {
			u64 addr;
			u32 len;

			if (rnd_below(3)) {
				own_buffer(&addr, &len);
			} else {
				addr = nasty_addr();
				len = nasty_len();
			}
			if (i < QSIZE)
				desc_set(DESC, i, addr, len, (u16)rnd_below(8),
					 (u16)(rnd_below(4) ? rnd_below(QSIZE) : rnd()));
			else
				desc_set(INDIRECT, i - QSIZE, addr, len, (u16)rnd_below(8),
					 (u16)rnd_below(300));
		}
		/* An indirect descriptor that points at our table, with a random length. */
		desc_set(DESC, (unsigned int)rnd_below(QSIZE), dma[3].phys, (u32)rnd_below(PAGE + 1),
			 VRING_DESC_F_INDIRECT, 0);
		/* A request header worth parsing: type, reserved, sector. */
		for (unsigned int i = 4; i < 8; i++)
			for (unsigned int j = 0; j < 64; j++)
				dma[i].virt[j] = (u8)rnd();
		*(u32 *)dma[4].virt = (u32)rnd_below(12);
		for (unsigned int i = 0; i < n; i++)
			offer((u16)rnd_below(QSIZE + 2), (u16)(1 + rnd_below(2)));
	}
}

/* Resets while requests are in flight, and status bits in every order. */
void attack_reset_mid_io(void)
{
	for (unsigned int round = 0; round < 80; round++) {
		vq_start(0);
		for (unsigned int i = 0; i < QSIZE; i++) {
			/* blk: a read of sector i into a page; rng: fill the page. */
			desc_set(DESC, i, dma[4 + i % 4].phys, PAGE, VRING_DESC_F_WRITE, 0);
			AVAIL->ring[i] = (u16)i;
		}
		AVAIL->idx = QSIZE;
		kick(0);
		if (round % 2)
			usleep((useconds_t)rnd_below(500));
		w8(COMMON(device_status), round % 3 ? 0 : (u8)rnd());
	}
	vdev_reset();
}
