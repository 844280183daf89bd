/*
 * Attacks on the PCI side of the device: config space writes of every size
 * at every offset (port 0xcf8 and ECAM, absent functions, the host
 * bridge), BAR moves onto RAM, another device and the MSI window, MSI-X
 * entries with odd sizes and bogus messages, and MMIO/PIO storms from
 * every vCPU at once.
 */
#define _GNU_SOURCE
#include <linux/pci_regs.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attacks.h"
#include "nasty.h"
#include "vdev.h"

/* Every offset of the config space with every size, random values. */
void attack_config_sweep(void)
{
	struct bdf d = vd.bdf;

	for (unsigned int off = 0; off < 256; off++)
		for (unsigned int size = 1; size <= 4; size *= 2)
			if (!(off & (size - 1)))
				cfg_write(d, off, size, (u32)rnd());
	for (unsigned int off = 0; off < 256; off++)
		(void)cfg_read(d, off, 1);
	/* CONFIG_ADDRESS with odd sizes, and the data port past the dword. */
	outb(0xff, CAM_ADDR);
	outw(0xffff, CAM_ADDR + 2);
	outl(cam_address(d, 0), CAM_ADDR + 1);
	(void)inl(CAM_ADDR + 2);
	outl(0x80000000u | (0xfu << 24) | cam_address(d, 0xfc), CAM_ADDR); /* reserved bits set */
	outl((u32)rnd(), CAM_DATA);
	ops += 6;
	/* The extended space through ECAM, with 8-byte and unaligned accesses. */
	if (ecam_base) {
		u64 fn_off = (u64)d.bus << 20 | d.dev << 15 | d.fn << 12;
		volatile u8 *e = map_phys(ecam_base + fn_off, 2 * PAGE);

		if (e) {
			for (unsigned int off = 0; off < PAGE; off++) {
				switch (rnd_below(4)) {
				case 0: e[off] = (u8)rnd(); break;
				case 1: *(volatile u16 *)(e + off) = (u16)rnd(); break;
				case 2: *(volatile u32 *)(e + off) = (u32)rnd(); break;
				default: *(volatile u64 *)(e + off) = rnd(); break;
				}
				(void)*(volatile u32 *)(e + (off & ~3u));
				ops += 2;
			}
			munmap((void *)e, 2 * PAGE);
		}
	}
}

/* Functions, slots and buses that do not exist; the host bridge's registers. */
void attack_config_absent(void)
{
	struct bdf host_bridge = { 0, 0, 0 };
	u32 bridge_cfg[64];

	for (unsigned int bus = 0; bus < 256; bus += 17)
		for (unsigned int dev = 0; dev < 32; dev++)
			for (unsigned int fn = 0; fn < 8; fn++) {
				struct bdf d = { bus, dev, fn };

				if (cfg_read(d, 0, 4) == 0xffffffff)
					cfg_write(d, (unsigned int)rnd_below(256), 4, (u32)rnd());
			}
	/* Its own copy: saved_cfg holds the victim's, restored at the end. */
	for (unsigned int i = 0; i < 64; i++)
		bridge_cfg[i] = cfg_read(host_bridge, i * 4, 4);
	for (unsigned int off = 4; off < 256; off++)
		cfg_write(host_bridge, off, 1, (u32)rnd());
	for (unsigned int i = 1; i < 64; i++)
		cfg_write(host_bridge, i * 4, 4, bridge_cfg[i]);
}

/* Every offset and size of a device in use, written with what it reads. */
void attack_config_same(struct bdf d)
{
	for (unsigned int size = 1; size <= 4; size *= 2)
		for (unsigned int off = 0; off < 256; off += size) {
			/* BAR sizing would move a live BAR for a moment: skip it here. */
			if (off >= PCI_BASE_ADDRESS_0 && off < PCI_ROM_ADDRESS + 4)
				continue;
			cfg_write(d, off, size, cfg_read(d, off, size));
		}
}

/* BAR 0 over RAM, over another device's BAR (its notify area), the MSI window, ... */
void attack_bar_moves(const char *other)
{
	u64 other_bar = other ? bar_addr(parse_bdf(other), 0) : 0;
	u64 len = vd.bar_len;
	const u64 targets[] = {
		0x100000, dma[0].phys & ~(len - 1), other_bar, other_bar + len, other_bar - len,
		0xfee00000, 0xfec00000, ecam_base, 0xffffffff & ~(len - 1), 0,
	};
	for (unsigned int t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		/* Decoding on all the time: the move is seen at once. */
		cfg_write(vd.bdf, PCI_BASE_ADDRESS_0, 4, (u32)targets[t]);
		cfg_write(vd.bdf, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		/* Notify writes at the new place: maybe into the other device's queue. */
		if (vd.virtio && targets[t] && targets[t] != 0xfee00000 && targets[t] != 0xfec00000) {
			volatile u8 *p = map_phys(targets[t], len);

			if (p) {
				for (unsigned int q = 0; q < 4; q++)
					*(volatile u16 *)(p + vd.notify + q * vd.notify_mult) = (u16)q;
				(void)*(volatile u32 *)(p + vd.common);
				ops += 5;
				munmap((void *)p, len);
			}
		}
		/* Decoding toggled while there, and BAR sizing in place. */
		cfg_write(vd.bdf, PCI_COMMAND, 2, 0);
		cfg_write(vd.bdf, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
		cfg_write(vd.bdf, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
		usleep(1000);
	}
	cfg_restore(vd.bdf);
	enable_device(vd.bdf);
	vdev_map();
	/* The device must still answer at its own place. */
	if (vd.virtio) {
		vq_start(0);
		vdev_reset();
	}
}

/* MSI-X entries with odd sizes, past the table, in the PBA; bogus addresses used. */
void attack_msix(void)
{
	unsigned int cap = cfg_find_cap(vd.bdf, PCI_CAP_ID_MSIX, 0);
	unsigned int end = vd.msix_table + vd.nvec * PCI_MSIX_ENTRY_SIZE;

	if (!cap)
		return;
	/* Masked as a function while the table holds garbage: nothing may fire from it. */
	cfg_write(vd.bdf, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	for (unsigned int off = vd.msix_table; off < end + 64 && off + 8 <= vd.bar_len; off++) {
		switch (rnd_below(4)) {
		case 0: w8(off, (u8)rnd()); break;
		case 1: w16(off, (u16)rnd()); break;
		case 2: w32(off, (u32)rnd()); break;
		default: *(volatile u64 *)(vd.bar + off) = rnd(); ops++; break;
		}
		(void)r8(off);
	}
	/* The PBA is read-only, and reads past it come from nowhere. */
	for (unsigned int off = vd.msix_pba; off < vd.msix_pba + 64 && off + 8 <= vd.bar_len; off++)
		w32(off & ~3u, (u32)rnd());
	/* Interrupts through those entries: a queue with a request on every vector. */
	for (unsigned int v = 0; v <= vd.nvec + 1; v++) {
		for (unsigned int e = 0; e < vd.nvec; e++) {
			unsigned int at = vd.msix_table + e * PCI_MSIX_ENTRY_SIZE;

			w32(at + PCI_MSIX_ENTRY_LOWER_ADDR, (u32)nasty_addr());
			w32(at + PCI_MSIX_ENTRY_UPPER_ADDR, (u32)rnd_below(2));
			/*
			 * Fixed or lowest-priority delivery of a device vector
			 * (0x40-0x7f): an INIT, SIPI or SMI message would reset our own
			 * vCPUs, as on hardware without interrupt remapping, and Linux
			 * panics on an external interrupt at the int 0x80 vector. Nor
			 * the legacy 8259 vectors 0x30-0x3f: Linux acknowledges those
			 * at the 8259, not at the local APIC, so the vector would stay
			 * in service and block every vector of its priority and below
			 * on that CPU (seen: 0x32, IRQ 2, left the disks' 0x21 waiting
			 * for good). The guest would break itself, as on hardware.
			 */
			w32(at + PCI_MSIX_ENTRY_DATA, (u32)(0x40 + rnd_below(0x40)) |
							(u32)rnd_below(2) << 8 | (u32)(rnd() & ~0xffffu));
			w32(at + PCI_MSIX_ENTRY_VECTOR_CTRL, (u32)rnd_below(2));
		}
		vq_start(0);
		w16(COMMON(queue_select), 0);
		w16(COMMON(msix_config), (u16)v);
		desc_set(DESC, 0, dma[4].phys, 64, VRING_DESC_F_WRITE, 0);
		offer(0, 1);
		cfg_write(vd.bdf, cap + PCI_MSIX_FLAGS, 2,
			  PCI_MSIX_FLAGS_ENABLE | (v % 2 ? PCI_MSIX_FLAGS_MASKALL : 0));
	}
	vdev_reset();
	cfg_write(vd.bdf, cap + PCI_MSIX_FLAGS, 2, 0);
}

/* MMIO and port I/O from every vCPU at once. */
static volatile bool storm_stop;

static void *storm_thread(void *arg)
{
	unsigned int cpu = (unsigned int)(uintptr_t)arg;
	cpu_set_t set;
	u64 state = rng_state ^ (cpu + 1) * 0x9e3779b97f4a7c15ull;
	unsigned long n = 0;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (!storm_stop) {
		state ^= state << 13, state ^= state >> 7, state ^= state << 17;
		switch (state % 8) {
		case 0: (void)r16(COMMON(num_queues)); break;
		case 1: w16(COMMON(queue_select), (u16)(state >> 8)); break;
		case 2: kick((u16)(state >> 16) % 4); break;
		case 3: (void)r8(vd.isr); break;
		case 4: (void)cfg_read(vd.bdf, (unsigned int)(state >> 20) & 0xff, 4); break;
		case 5: (void)inb(0x3fd); break;                   /* 8250 line status */
		case 6: (void)inb((u16)(state >> 32)); break;      /* any port, read */
		default: (void)*(volatile u32 *)(vd.bar + ((state >> 24) % vd.bar_len & ~3u)); break;
		}
		n++;
	}
	__atomic_add_fetch(&ops, n, __ATOMIC_RELAXED);
	return NULL;
}

void attack_storm(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t t[64];
	unsigned int seconds = getenv("HOSTILE_STORM_SECONDS") ? atoi(getenv("HOSTILE_STORM_SECONDS")) : 3;

	if (ncpu < 1 || ncpu > 64)
		ncpu = 1;
	vq_start(0);
	for (long i = 0; i < ncpu; i++)
		pthread_create(&t[i], NULL, storm_thread, (void *)(uintptr_t)i);
	sleep(seconds);
	storm_stop = true;
	for (long i = 0; i < ncpu; i++)
		pthread_join(t[i], NULL);
	vdev_reset();
}
