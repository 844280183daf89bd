/*
 * Guest physical memory (see guest_mem.h): where RAM and ECAM are, /dev/mem
 * mappings, and the DMA pages with their frames from /proc/self/pagemap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_mem.h"

struct ram_bank banks[16];
unsigned int nbanks;
u64 ecam_base;

/* System RAM banks and the ECAM base, from /proc/iomem (root sees addresses). */
void read_iomem(void)
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
volatile u8 *map_phys(u64 phys, size_t len)
{
	void *p;

	if (mem_fd < 0 && (mem_fd = open("/dev/mem", O_RDWR | O_SYNC)) < 0)
		die("/dev/mem");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, (off_t)phys);
	return p == MAP_FAILED ? NULL : p;
}

/* The first address past the last RAM bank (1 GiB when /proc/iomem listed none). */
u64 ram_end(void)
{
	return nbanks ? banks[nbanks - 1].end + 1 : 1ull << 30;
}

struct dma_page dma[8];

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
unsigned int dma_moved(void)
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

void dma_init(void)
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
