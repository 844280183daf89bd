/*
 * nvme-msix: a guest program that drives the MSI-X table of an NVMe
 * controller beyond the vectors its driver uses (as root in the L2 test
 * guest, the nvme driver still bound), so that a test can prove vectors
 * past index 64 are armed on the host and carry interrupts:
 *
 *   nvme-msix arm BDF FIRST[-LAST] SRC   entries FIRST..LAST (default: the
 *                                        last entry) get entry SRC's
 *                                        message and are unmasked
 *   nvme-msix mask BDF FIRST[-LAST]      the entries are masked again
 *   nvme-msix fire BDF VECTOR            the controller completes one
 *                                        command on a queue pair whose
 *                                        completion queue signals VECTOR
 *   nvme-msix pending BDF VECTOR         VECTOR's bit in the PBA
 *
 * arm and mask print "NVME-MSIX unmasked=U of=N": the entries of the
 * whole table that are unmasked afterwards. fire prints
 * "NVME-MSIX fired vector=V status=S pending=P": S the completion's
 * status (0: success), P the vector's PBA bit once the completion is in
 * memory (waited for when the vector is masked, where the interrupt
 * must stay pending).
 *
 * Pointing extra entries at the message of a vector the driver owns
 * (SRC) makes an interrupt on them land in that vector's handler, so the
 * guest's /proc/interrupts counts it there. fire creates I/O queue pair
 * FIRE_QID with admin commands passed through /dev/nvmeN (the driver
 * keeps the admin queue); the queues live in two locked pages of this
 * process, whose addresses the kernel hands to the controller as the
 * commands' data pointers. The controller must not use shadow doorbells
 * (QEMU's nvme: dbcs=off): our queue's tail is only in its MMIO doorbell.
 * Table, PBA and doorbells are reached through the sysfs resource files
 * (the guest boots with iomem=relaxed: the driver holds the BAR).
 *
 * Build: gcc -static -O2 -Wall -Wextra -o nvme-msix nvme-msix.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nvme_ioctl.h>
#include <linux/pci_regs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define PAGE 4096u
#define ENTRY 16u       /* bytes per MSI-X table entry (PCI 6.8.2) */
#define VCTRL_MASKED 1u /* Vector Control bit 0 */
#define FIRE_QID 99     /* above the driver's queues, within QEMU's max_ioqpairs=100 */
#define FIRE_QSIZE 16u
#define WAIT_MS 5000

/* Ordering between our writes to the queue pages and the doorbell. */
#if defined(__aarch64__)
#define dma_wmb() __asm__ volatile("dsb st" ::: "memory")
#define dma_rmb() __asm__ volatile("dsb ld" ::: "memory")
#else
#define dma_wmb() __asm__ volatile("" ::: "memory")
#define dma_rmb() __asm__ volatile("" ::: "memory")
#endif

/*
 * Register accesses a hypervisor can decode: on arm64 a trapped access
 * must be a plain load or store without writeback (ESR_ELx.ISV), which a
 * compiler's post-indexed loop would not be.
 */
static u32 rd32(const volatile u32 *p)
{
#if defined(__aarch64__)
	u32 v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(p) : "memory");
	return v;
#else
	return *p;
#endif
}

static void wr32(volatile u32 *p, u32 v)
{
#if defined(__aarch64__)
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(p) : "memory");
#else
	*p = v;
#endif
}

static const char *bdf;

static void die(const char *what)
{
	fprintf(stderr, "nvme-msix: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(2);
}

struct msix {
	unsigned int nvectors;
	volatile u32 *table, *pba; /* mapped from the BARs the capability names */
};

static void *map_bar(unsigned int bar, u64 offset, size_t len)
{
	char path[128];
	u8 *base;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%u", bdf, bar);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		die(path);
	base = mmap(NULL, (offset % PAGE) + len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    (off_t)(offset - offset % PAGE));
	if (base == MAP_FAILED)
		die("mmap of a BAR (is iomem=relaxed on the command line?)");
	close(fd);
	return base + offset % PAGE;
}

static void msix_open(struct msix *m)
{
	char path[128];
	u8 cfg[256];
	u32 table, pba;
	u16 control;
	int fd, pos, guard = 48;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, cfg, sizeof(cfg), 0) != (ssize_t)sizeof(cfg))
		die(path);
	close(fd);
	for (pos = cfg[PCI_CAPABILITY_LIST] & ~3; pos && guard--; pos = cfg[pos + 1] & ~3)
		if (cfg[pos] == PCI_CAP_ID_MSIX)
			break;
	if (!pos || guard < 0) {
		errno = 0;
		die("no MSI-X capability");
	}
	memcpy(&control, &cfg[pos + PCI_MSIX_FLAGS], 2);
	memcpy(&table, &cfg[pos + PCI_MSIX_TABLE], 4);
	memcpy(&pba, &cfg[pos + PCI_MSIX_PBA], 4);
	m->nvectors = (control & PCI_MSIX_FLAGS_QSIZE) + 1u;
	m->table = map_bar(table & PCI_MSIX_TABLE_BIR, table & PCI_MSIX_TABLE_OFFSET,
			   m->nvectors * ENTRY);
	m->pba = map_bar(pba & PCI_MSIX_PBA_BIR, pba & PCI_MSIX_PBA_OFFSET,
			 (m->nvectors + 63) / 64 * 8);
}

static volatile u32 *entry(const struct msix *m, unsigned int v)
{
	return m->table + v * (ENTRY / 4);
}

static unsigned int count_unmasked(const struct msix *m)
{
	unsigned int n = 0;

	for (unsigned int v = 0; v < m->nvectors; v++)
		n += !(rd32(&entry(m, v)[3]) & VCTRL_MASKED);
	return n;
}

static int pending(const struct msix *m, unsigned int v)
{
	return (rd32(&m->pba[v / 32]) >> (v % 32)) & 1;
}

static unsigned int vector_arg(const struct msix *m, const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (end == s || *end || v >= m->nvectors) {
		fprintf(stderr, "nvme-msix: vector '%s' is not in the table (0-%u)\n", s,
			m->nvectors - 1);
		exit(2);
	}
	return (unsigned int)v;
}

/* FIRST[-LAST]: LAST defaults to the last entry of the table. */
static void range_arg(const struct msix *m, const char *s, unsigned int *first, unsigned int *last)
{
	char buf[32], *dash;

	snprintf(buf, sizeof(buf), "%s", s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = 0;
	*first = vector_arg(m, buf);
	*last = dash ? vector_arg(m, dash + 1) : m->nvectors - 1;
}

static u64 now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (u64)t.tv_sec * 1000 + (u64)t.tv_nsec / 1000000;
}

/* --- one command on our own queue pair ------------------------------------ */

struct nvme_sqe {
	u8 opcode, flags;
	u16 cid;
	u32 nsid;
	u32 rsvd[4];
	u64 prp1, prp2;
	u32 cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nvme_cqe {
	u32 result, rsvd, sq_head_id, cid_status;
};

/* The controller's character device: /sys/bus/pci/devices/BDF/nvme/nvmeN. */
static int open_controller(void)
{
	char path[300];
	struct dirent *e;
	DIR *d;
	int fd = -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nvme", bdf);
	d = opendir(path);
	if (!d)
		die(path);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "nvme", 4)) {
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			fd = open(path, O_RDWR);
			break;
		}
	closedir(d);
	if (fd < 0)
		die("no /dev/nvmeN for the controller (is the nvme driver bound?)");
	return fd;
}

static int admin(int fd, u8 opcode, u32 cdw10, u32 cdw11, void *page)
{
	struct nvme_admin_cmd c = {
		.opcode = opcode,
		.addr = (u64)(uintptr_t)page,
		.data_len = page ? PAGE : 0,
		.cdw10 = cdw10,
		.cdw11 = cdw11,
		.timeout_ms = WAIT_MS,
	};

	return ioctl(fd, NVME_IOCTL_ADMIN_CMD, &c);
}

static void fire(const struct msix *m, unsigned int vector)
{
	enum { DELETE_SQ = 0x00, CREATE_SQ = 0x01, DELETE_CQ = 0x04, CREATE_CQ = 0x05, FLUSH = 0x00 };
	volatile struct nvme_cqe *cq;
	volatile u32 *regs;
	struct nvme_sqe *sq;
	unsigned int stride, status = 0xffff;
	int ctrl = open_controller(), ret, bit = 0;
	u64 deadline;

	/* Locked, so the pages stay where the controller was told they are. */
	sq = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
	if (sq == MAP_FAILED)
		die("queue pages");
	cq = (volatile struct nvme_cqe *)((u8 *)sq + PAGE);
	regs = map_bar(0, 0, 2 * PAGE);
	stride = 4u << (rd32(&regs[1]) & 0xf); /* CAP.DSTRD, bits 35:32 */

	/* A leftover pair of an interrupted run would make creation fail. */
	admin(ctrl, DELETE_SQ, FIRE_QID, 0, NULL);
	admin(ctrl, DELETE_CQ, FIRE_QID, 0, NULL);
	/* CQ: QID, 0-based size; physically contiguous, interrupts on, IV. */
	ret = admin(ctrl, CREATE_CQ, FIRE_QID | (FIRE_QSIZE - 1) << 16, 1u | 2u | vector << 16,
		    (void *)cq);
	if (ret) {
		fprintf(stderr, "nvme-msix: create CQ with vector %u: %s\n", vector,
			ret < 0 ? strerror(errno) : "refused by the controller");
		exit(1);
	}
	ret = admin(ctrl, CREATE_SQ, FIRE_QID | (FIRE_QSIZE - 1) << 16, 1u | FIRE_QID << 16, sq);
	if (ret) {
		fprintf(stderr, "nvme-msix: create SQ: %s\n",
			ret < 0 ? strerror(errno) : "refused by the controller");
		admin(ctrl, DELETE_CQ, FIRE_QID, 0, NULL);
		exit(1);
	}

	memset(sq, 0, sizeof(*sq));
	sq[0].opcode = FLUSH;
	sq[0].cid = 0x6464;
	sq[0].nsid = 1;
	dma_wmb();
	wr32(&regs[PAGE / 4 + 2 * FIRE_QID * stride / 4], 1); /* SQ tail doorbell */
	for (deadline = now_ms() + WAIT_MS; now_ms() < deadline;) {
		if (cq[0].cid_status & 0x10000u) { /* phase tag 1: the first pass */
			dma_rmb();
			status = cq[0].cid_status >> 17;
			break;
		}
		usleep(1000);
	}
	wr32(&regs[PAGE / 4 + (2 * FIRE_QID + 1) * stride / 4], 1); /* CQ head doorbell */
	/* A masked vector's interrupt stays pending; it reaches the PBA after the host's handler ran. */
	if (rd32(&entry(m, vector)[3]) & VCTRL_MASKED)
		for (deadline = now_ms() + WAIT_MS; !(bit = pending(m, vector)) && now_ms() < deadline;)
			usleep(1000);
	else
		bit = pending(m, vector);
	admin(ctrl, DELETE_SQ, FIRE_QID, 0, NULL);
	admin(ctrl, DELETE_CQ, FIRE_QID, 0, NULL);
	printf("NVME-MSIX fired vector=%u status=%s pending=%d\n", vector,
	       status == 0xffff ? "none" : status ? "error" : "0", bit);
	if (status)
		exit(1);
}

int main(int argc, char **argv)
{
	unsigned int first, last;
	struct msix m;

	if (argc < 4) {
		fprintf(stderr, "usage: nvme-msix arm BDF FIRST[-LAST] SRC | mask BDF FIRST[-LAST] |"
				" fire BDF VECTOR | pending BDF VECTOR\n");
		return 2;
	}
	bdf = argv[2];
	msix_open(&m);
	if (!strcmp(argv[1], "arm") && argc == 5) {
		volatile u32 *src = entry(&m, vector_arg(&m, argv[4]));
		u32 lo = rd32(&src[0]), hi = rd32(&src[1]), data = rd32(&src[2]);

		range_arg(&m, argv[3], &first, &last);
		for (unsigned int v = first; v <= last; v++) {
			volatile u32 *e = entry(&m, v);

			wr32(&e[0], lo), wr32(&e[1], hi), wr32(&e[2], data);
			wr32(&e[3], rd32(&e[3]) & ~VCTRL_MASKED);
		}
	} else if (!strcmp(argv[1], "mask") && argc == 4) {
		range_arg(&m, argv[3], &first, &last);
		for (unsigned int v = first; v <= last; v++)
			wr32(&entry(&m, v)[3], rd32(&entry(&m, v)[3]) | VCTRL_MASKED);
	} else if (!strcmp(argv[1], "fire") && argc == 4) {
		fire(&m, vector_arg(&m, argv[3]));
		return 0;
	} else if (!strcmp(argv[1], "pending") && argc == 4) {
		printf("NVME-MSIX pending=%d\n", pending(&m, vector_arg(&m, argv[3])));
		return 0;
	} else {
		fprintf(stderr, "nvme-msix: unknown command or wrong arguments: %s\n", argv[1]);
		return 2;
	}
	printf("NVME-MSIX unmasked=%u of=%u\n", count_unmasked(&m), m.nvectors);
	return 0;
}
