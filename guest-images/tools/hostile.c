/*
 * hostile: a guest program that attacks the VMM it runs under (x86-64, as
 * root in the L2 test guest). Each attack is one invocation:
 *
 *   hostile list                       the attack names, one a line
 *   hostile ATTACK BDF [OTHER_BDF]     attack the PCI function BDF
 *
 * BDF is a device the caller has taken away from its guest driver (echo
 * BDF > .../driver/unbind): we program it by hand, through port 0xcf8
 * (iopl), ECAM and its BAR mapped from /dev/mem (the guest boots with
 * iomem=relaxed). OTHER_BDF is a device still in use (the disk the caller
 * reads back afterwards): BAR moves aim at it. Virtqueue rings live in
 * pages of this process whose guest-physical addresses /proc/self/pagemap
 * gives (root only).
 *
 * HOSTILE_SEED (environment) seeds the randomized attacks; the seed is
 * printed so that a failure can be replayed. Every attack ends with
 *   HOSTILE tried NAME ops=N
 * and the config space of BDF is restored (BARs, command) so that the
 * caller can give the device back to its driver.
 *
 * Build: gcc -static -O2 -Wall -Wextra -pthread -o hostile hostile.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define PAGE 4096u
#define QSIZE 16u
#define CAM_ADDR 0xcf8
#define CAM_DATA 0xcfc

static unsigned long ops;

static void die(const char *what)
{
	fprintf(stderr, "hostile: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* --- randomness (xorshift64*, reproducible from HOSTILE_SEED) ------------- */

static u64 rng_state;

static u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static u64 rnd_below(u64 n)
{
	return n ? rnd() % n : 0;
}

/* --- guest physical memory ---------------------------------------------- */

struct ram_bank {
	u64 start, end; /* inclusive, as /proc/iomem lists them */
};

static struct ram_bank banks[16];
static unsigned int nbanks;
static u64 ecam_base;

/* System RAM banks and the ECAM base, from /proc/iomem (root sees addresses). */
static void read_iomem(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[256];

	if (!f)
		die("/proc/iomem");
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;

		if (sscanf(line, " %llx-%llx", &s, &e) != 2)
			continue;
		if (line[0] != ' ' && strstr(line, ": System RAM") && nbanks < 16)
			banks[nbanks++] = (struct ram_bank){ s, e };
		if (strstr(line, "MMCONFIG") && !ecam_base)
			ecam_base = s;
	}
	fclose(f);
	/* /proc/iomem may not name it: the ACPI MCFG table does (base at byte 44). */
	if (!ecam_base) {
		int fd = open("/sys/firmware/acpi/tables/MCFG", O_RDONLY);
		u64 base;

		if (fd >= 0 && pread(fd, &base, 8, 44) == 8)
			ecam_base = base;
		if (fd >= 0)
			close(fd);
	}
}

static int mem_fd = -1;

/* Maps guest-physical [phys, phys + len) through /dev/mem; NULL if refused. */
static volatile u8 *map_phys(u64 phys, size_t len)
{
	void *p;

	if (mem_fd < 0 && (mem_fd = open("/dev/mem", O_RDWR | O_SYNC)) < 0)
		die("/dev/mem");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, (off_t)phys);
	return p == MAP_FAILED ? NULL : p;
}

/* Pages of ours the device may read and write: virtual and guest-physical. */
struct dma_page {
	u8 *virt;
	u64 phys;
};

static struct dma_page dma[8];

static u64 frame_of(int pagemap, const void *p)
{
	u64 entry;

	if (pread(pagemap, &entry, 8, (off_t)((uintptr_t)p / PAGE * 8)) != 8)
		die("pagemap");
	if (!(entry >> 63) || !(entry & ((1ull << 55) - 1))) {
		errno = EPERM;
		die("pagemap gives no frame numbers (not root?)");
	}
	return (entry & ((1ull << 55) - 1)) * PAGE;
}

/* Pages the kernel moved since dma_init (the device would write into the old ones). */
static unsigned int dma_moved(void)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	unsigned int moved = 0;

	if (fd < 0)
		die("/proc/self/pagemap");
	for (unsigned int i = 0; i < 8; i++)
		if (frame_of(fd, dma[i].virt) != dma[i].phys && !moved++)
			printf("HOSTILE page %u moved from 0x%llx to 0x%llx\n", i,
			       (unsigned long long)dma[i].phys,
			       (unsigned long long)frame_of(fd, dma[i].virt));
	close(fd);
	return moved;
}

static void dma_init(void)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		die("/proc/self/pagemap");
	for (unsigned int i = 0; i < 8; i++) {
		u8 *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);

		if (p == MAP_FAILED)
			die("mmap");
		memset(p, 0, PAGE);
		dma[i] = (struct dma_page){ p, frame_of(fd, p) };
	}
	close(fd);
}

/* --- PCI configuration space: port 0xcf8 and ECAM -------------------------- */

struct bdf {
	unsigned int bus, dev, fn;
};

static struct bdf parse_bdf(const char *s)
{
	unsigned int seg, bus, dev, fn;

	if (sscanf(s, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4) {
		errno = EINVAL;
		die(s);
	}
	return (struct bdf){ bus, dev, fn };
}

static u32 cam_address(struct bdf d, unsigned int off)
{
	return 0x80000000u | d.bus << 16 | d.dev << 11 | d.fn << 8 | (off & 0xfc);
}

static u32 cfg_read(struct bdf d, unsigned int off, unsigned int size)
{
	outl(cam_address(d, off), CAM_ADDR);
	ops++;
	switch (size) {
	case 1: return inb(CAM_DATA + (off & 3));
	case 2: return inw(CAM_DATA + (off & 3));
	default: return inl(CAM_DATA);
	}
}

static void cfg_write(struct bdf d, unsigned int off, unsigned int size, u32 v)
{
	outl(cam_address(d, off), CAM_ADDR);
	ops++;
	switch (size) {
	case 1: outb((u8)v, CAM_DATA + (off & 3)); break;
	case 2: outw((u16)v, CAM_DATA + (off & 3)); break;
	default: outl(v, CAM_DATA); break;
	}
}

/* The config space as the caller left it, to put back after an attack. */
static u32 saved_cfg[64];

static void cfg_save(struct bdf d)
{
	for (unsigned int i = 0; i < 64; i++)
		saved_cfg[i] = cfg_read(d, i * 4, 4);
}

/* BARs, interrupt line and the MSI-X control word back; command last. */
static void cfg_restore(struct bdf d)
{
	cfg_write(d, PCI_COMMAND, 2, 0);
	for (unsigned int i = PCI_BASE_ADDRESS_0 / 4; i <= PCI_ROM_ADDRESS / 4; i++)
		cfg_write(d, i * 4, 4, saved_cfg[i]);
	cfg_write(d, PCI_INTERRUPT_LINE, 1, saved_cfg[PCI_INTERRUPT_LINE / 4]);
	for (unsigned int pos = saved_cfg[PCI_CAPABILITY_LIST / 4] & 0xfc, n = 0; pos && n < 48;
	     pos = (saved_cfg[pos / 4] >> 8) & 0xfc, n++) {
		if ((saved_cfg[pos / 4] & 0xff) == PCI_CAP_ID_MSIX)
			cfg_write(d, pos + PCI_MSIX_FLAGS, 2, saved_cfg[pos / 4] >> 16);
		if ((saved_cfg[pos / 4] & 0xff) == PCI_CAP_ID_PM)
			cfg_write(d, pos + PCI_PM_CTRL, 2, 0); /* D0 */
	}
	cfg_write(d, PCI_COMMAND, 2, saved_cfg[PCI_COMMAND / 4] & 0xffff);
}

/* A capability's offset in config space, 0 if absent. */
static unsigned int cfg_find_cap(struct bdf d, u8 id, unsigned int from)
{
	unsigned int pos = from ? cfg_read(d, from + 1, 1) : cfg_read(d, PCI_CAPABILITY_LIST, 1);

	for (unsigned int n = 0; pos >= 0x40 && n < 48; n++) {
		pos &= 0xfc;
		if (cfg_read(d, pos, 1) == id)
			return pos;
		pos = cfg_read(d, pos + 1, 1);
	}
	return 0;
}

/* Memory BAR bar's address, or 0 for an I/O or unset BAR. */
static u64 bar_addr(struct bdf d, unsigned int bar)
{
	u32 lo = cfg_read(d, PCI_BASE_ADDRESS_0 + 4 * bar, 4);
	u64 hi = 0;

	if (lo & PCI_BASE_ADDRESS_SPACE_IO)
		return 0;
	if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64 && bar < 5)
		hi = cfg_read(d, PCI_BASE_ADDRESS_0 + 4 * (bar + 1), 4);
	return hi << 32 | (lo & ~0xfu);
}

static u64 bar_size(struct bdf d, unsigned int bar)
{
	unsigned int off = PCI_BASE_ADDRESS_0 + 4 * bar;
	u32 lo = cfg_read(d, off, 4), mask;

	cfg_write(d, off, 4, 0xffffffff);
	mask = cfg_read(d, off, 4);
	cfg_write(d, off, 4, lo);
	mask &= ~0xfu;
	return mask ? (u64)(~mask + 1) & 0xffffffffu : 0;
}

static void enable_device(struct bdf d)
{
	cfg_write(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

/* --- a virtio-pci device driven by hand --------------------------------- */

struct vdev {
	struct bdf bdf;
	bool virtio;        /* has the virtio capabilities (else: a passed-through NIC) */
	volatile u8 *bar;   /* BAR 0 mapped, where the structures are */
	u64 bar_phys, bar_len;
	unsigned int common, isr, device, notify, notify_mult;
	unsigned int msix_table, msix_pba, nvec;
	u16 device_id;
};

static struct vdev vd;

#define COMMON(field) (vd.common + offsetof(struct virtio_pci_common_cfg, field))

static void w8(unsigned int off, u8 v) { vd.bar[off] = v; ops++; }
static void w16(unsigned int off, u16 v) { *(volatile u16 *)(vd.bar + off) = v; ops++; }
static void w32(unsigned int off, u32 v) { *(volatile u32 *)(vd.bar + off) = v; ops++; }
static u8 r8(unsigned int off) { ops++; return vd.bar[off]; }
static u16 r16(unsigned int off) { ops++; return *(volatile u16 *)(vd.bar + off); }

static void vdev_map(void)
{
	if (vd.bar)
		munmap((void *)vd.bar, vd.bar_len);
	vd.bar_phys = bar_addr(vd.bdf, 0);
	vd.bar = map_phys(vd.bar_phys, vd.bar_len);
	if (!vd.bar)
		die("mapping BAR 0 (boot with iomem=relaxed)");
}

/* Finds the virtio structures through the vendor capabilities (4.1.4). */
static void vdev_open(const char *bdf)
{
	unsigned int pos = 0, msix;

	vd.bdf = parse_bdf(bdf);
	vd.device_id = (u16)cfg_read(vd.bdf, PCI_DEVICE_ID, 2);
	while ((pos = cfg_find_cap(vd.bdf, PCI_CAP_ID_VNDR, pos))) {
		u8 type = (u8)cfg_read(vd.bdf, pos + offsetof(struct virtio_pci_cap, cfg_type), 1);
		u32 off = cfg_read(vd.bdf, pos + offsetof(struct virtio_pci_cap, offset), 4);

		if (type == VIRTIO_PCI_CAP_COMMON_CFG) {
			vd.common = off; /* 0 is a fine offset: vd.virtio says it was found */
			vd.virtio = true;
		}
		else if (type == VIRTIO_PCI_CAP_ISR_CFG)
			vd.isr = off;
		else if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
			vd.device = off;
		else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
			vd.notify = off;
			vd.notify_mult = cfg_read(vd.bdf, pos + sizeof(struct virtio_pci_cap), 4);
		}
	}
	msix = cfg_find_cap(vd.bdf, PCI_CAP_ID_MSIX, 0);
	if (msix) {
		vd.nvec = (cfg_read(vd.bdf, msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1;
		vd.msix_table = cfg_read(vd.bdf, msix + PCI_MSIX_TABLE, 4) & ~7u;
		vd.msix_pba = cfg_read(vd.bdf, msix + PCI_MSIX_PBA, 4) & ~7u;
	}
	vd.bar_len = bar_size(vd.bdf, 0);
	if (!vd.bar_len || vd.bar_len > (1u << 24)) {
		errno = ENODEV;
		die("BAR 0 size");
	}
	enable_device(vd.bdf);
	vdev_map();
}

static void vdev_reset(void)
{
	if (!vd.virtio)
		return; /* not a virtio device (a passed-through NIC) */
	w8(COMMON(device_status), 0);
	for (int i = 0; i < 1000 && r8(COMMON(device_status)); i++)
		usleep(100);
}

/* Feature negotiation up to FEATURES_OK (3.1.1), VERSION_1 + extra bits 0-31. */
static void vdev_negotiate(u32 low_features)
{
	vdev_reset();
	w8(COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	w8(COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	w32(COMMON(guest_feature_select), 0);
	w32(COMMON(guest_feature), low_features);
	w32(COMMON(guest_feature_select), 1);
	w32(COMMON(guest_feature), 1); /* VIRTIO_F_VERSION_1 */
	w8(COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				     VIRTIO_CONFIG_S_FEATURES_OK);
}

static void vq_place(u16 q, u16 size, u64 desc, u64 avail, u64 used, u16 vector)
{
	w16(COMMON(queue_select), q);
	w16(COMMON(queue_size), size);
	w16(COMMON(queue_msix_vector), vector);
	w32(COMMON(queue_desc_lo), (u32)desc);
	w32(COMMON(queue_desc_hi), (u32)(desc >> 32));
	w32(COMMON(queue_avail_lo), (u32)avail);
	w32(COMMON(queue_avail_hi), (u32)(avail >> 32));
	w32(COMMON(queue_used_lo), (u32)used);
	w32(COMMON(queue_used_hi), (u32)(used >> 32));
	w16(COMMON(queue_enable), 1);
}

/* Pages 0-2: descriptor table, avail and used ring of queue 0; 3: indirect; 4-7: data. */
#define DESC ((struct vring_desc *)dma[0].virt)
#define AVAIL ((struct vring_avail *)dma[1].virt)
#define USED ((volatile struct vring_used *)dma[2].virt)
#define INDIRECT ((struct vring_desc *)dma[3].virt)

/* A fresh device with queue 0 on our pages, DRIVER_OK; features as given. */
static void vq_start(u32 low_features)
{
	for (unsigned int i = 0; i < 4; i++)
		memset(dma[i].virt, 0, PAGE);
	vdev_negotiate(low_features);
	vq_place(0, QSIZE, dma[0].phys, dma[1].phys, dma[2].phys, 0);
	w8(COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void kick(u16 q)
{
	w16(vd.notify + q * vd.notify_mult, q);
}

/* Offers head on queue 0 (avail index moves by step) and kicks. */
static void offer(u16 head, u16 step)
{
	u16 idx = AVAIL->idx;

	AVAIL->ring[idx % QSIZE] = head;
	__atomic_store_n(&AVAIL->idx, (u16)(idx + step), __ATOMIC_RELEASE);
	kick(0);
	usleep(1000); /* let the VMM's event loop walk it */
}

static void desc_set(struct vring_desc *t, unsigned int i, u64 addr, u32 len, u16 flags, u16 next)
{
	t[i] = (struct vring_desc){ addr, len, flags, next };
}

/* An address just past the end of guest RAM, and the start of the last bank. */
static u64 ram_end(void)
{
	return nbanks ? banks[nbanks - 1].end + 1 : 1ull << 30;
}

/*
 * Interesting buffer addresses: holes, MMIO, the address limit, wraps, and
 * a start 8 bytes before the end of RAM (a buffer, at least 32 bytes, see
 * nasty_len, crosses it; so does every ring but a 1-entry avail ring,
 * which the device only reads). Never the middle of RAM, nor the legacy
 * area below 1 MiB (the VMM may back it, contiguous with RAM): the device
 * would write into memory the guest kernel uses, and we would crash
 * ourselves. (16 bytes before the end held a whole 1-entry queue, whose
 * used ring the device then wrote over whatever the guest kept there:
 * once a page of this very program, which died of SIGSEGV.)
 */
static u64 nasty_addr(void)
{
	static const u64 fixed[] = {
		0xc0000000, 0xd0000000, 0xfec00000, 0xfee00000, 0xfd000000,
		0xfffff000, 0xffffffff, 0x7ffffffff000ull, 0x8000000000ull,
		0xfffffffffffff000ull, 0xffffffffffffffffull,
	};
	switch (rnd_below(3)) {
	case 0: return fixed[rnd_below(sizeof(fixed) / sizeof(fixed[0]))];
	case 1: return ram_end() - 8;
	default: return rnd() | 1ull << 63; /* far beyond any guest address */
	}
}

static u32 nasty_len(void)
{
	static const u32 fixed[] = { 32, 33, 512, PAGE, 0x10000, 0x7fffffff, 0xffffffff };

	return rnd_below(2) ? fixed[rnd_below(sizeof(fixed) / sizeof(fixed[0]))] :
			      (u32)rnd() | 32;
}

/* A buffer inside one of our data pages (4-7): harmless wherever the device writes. */
static void own_buffer(u64 *addr, u32 *len)
{
	u32 off = (u32)rnd_below(PAGE);

	*addr = dma[4 + rnd_below(4)].phys + off;
	*len = (u32)rnd_below(PAGE - off + 1);
}

/* --- the attacks ------------------------------------------------------------ */

/* A descriptor that points at itself, and a ring of all descriptors. */
static void attack_vq_loops(void)
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
static void attack_vq_addresses(void)
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
static void attack_vq_indices(void)
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
static void attack_vq_rings(void)
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
static void attack_vq_random(void)
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
static void attack_reset_mid_io(void)
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

/* Every offset of the config space with every size, random values. */
static void attack_config_sweep(void)
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
static void attack_config_absent(void)
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
static void attack_config_same(struct bdf d)
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
static void attack_bar_moves(const char *other)
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
static void attack_msix(void)
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

static void attack_storm(void)
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

/*
 * After its reset the device writes nothing more into guest memory: our
 * pages, filled once it is reset, still hold the fill a while later. A
 * write now would land, once we exit, in whatever the kernel gives those
 * pages next (a shell once died of it). Returns the bytes found changed.
 */
static unsigned int late_writes(void)
{
	unsigned int changed = 0;

	for (unsigned int i = 0; i < 8; i++)
		memset(dma[i].virt, 0xa5, PAGE);
	usleep(300000);
	for (unsigned int i = 0; i < 8; i++)
		for (unsigned int off = 0; off < PAGE; off++)
			if (dma[i].virt[off] != 0xa5 && !changed++)
				printf("HOSTILE late write after reset: page %u (0x%llx) offset %u\n", i,
				       (unsigned long long)dma[i].phys, off);
	return changed;
}

static const char *const attacks[] = {
	"vq-loops", "vq-addresses", "vq-indices", "vq-rings", "vq-random", "reset-mid-io",
	"config-sweep", "config-absent", "config-same", "bar-moves", "msix", "storm",
};

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "";
	const char *seed = getenv("HOSTILE_SEED");
	unsigned int late = 0;

	if (!strcmp(name, "list")) {
		for (unsigned int i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++)
			puts(attacks[i]);
		return 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: hostile list | hostile ATTACK BDF [OTHER_BDF]\n");
		return 2;
	}
	rng_state = seed ? strtoull(seed, NULL, 0) : (u64)time(NULL);
	if (!rng_state)
		rng_state = 1;
	printf("HOSTILE seed=%llu attack=%s device=%s\n", (unsigned long long)rng_state, name,
	       argv[2]);
	fflush(stdout);
	if (iopl(3) < 0)
		die("iopl");
	read_iomem();
	if (!strcmp(name, "config-same")) {
		/* A device in use: nothing but rewriting what is there. */
		attack_config_same(parse_bdf(argv[2]));
		printf("HOSTILE tried %s ops=%lu\n", name, ops);
		return 0;
	}
	dma_init();
	vdev_open(argv[2]);
	cfg_save(vd.bdf);
	/* A device that is not virtio (a passed-through NIC) takes the config and BAR attacks only. */
	if (!vd.virtio && strcmp(name, "config-sweep") && strcmp(name, "config-absent") &&
	    strcmp(name, "bar-moves")) {
		fprintf(stderr, "hostile: %s needs a virtio device\n", name);
		return 2;
	}
	if (!strcmp(name, "vq-loops"))
		attack_vq_loops();
	else if (!strcmp(name, "vq-addresses"))
		attack_vq_addresses();
	else if (!strcmp(name, "vq-indices"))
		attack_vq_indices();
	else if (!strcmp(name, "vq-rings"))
		attack_vq_rings();
	else if (!strcmp(name, "vq-random"))
		attack_vq_random();
	else if (!strcmp(name, "reset-mid-io"))
		attack_reset_mid_io();
	else if (!strcmp(name, "config-sweep"))
		attack_config_sweep();
	else if (!strcmp(name, "config-absent"))
		attack_config_absent();
	else if (!strcmp(name, "bar-moves"))
		attack_bar_moves(argc > 3 ? argv[3] : NULL);
	else if (!strcmp(name, "msix"))
		attack_msix();
	else if (!strcmp(name, "storm"))
		attack_storm();
	else {
		fprintf(stderr, "hostile: unknown attack '%s' (hostile list)\n", name);
		return 2;
	}
	/* Leave the device quiet and where it was, for its driver to take back. */
	if (strcmp(name, "config-sweep") && strcmp(name, "config-absent")) {
		vdev_reset();
		late = vd.virtio ? late_writes() : 0;
		late += dma_moved();
	}
	cfg_restore(vd.bdf);
	printf("HOSTILE tried %s ops=%lu\n", name, ops);
	return late ? 3 : 0;
}
