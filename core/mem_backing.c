#include "mem_backing.h"

#include <ctype.h>
#include <errno.h>
#include <linux/memfd.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "file.h"
#include "log.h"

#define THP_SYSFS "/sys/kernel/mm/transparent_hugepage"
#define HUGETLB_SYSFS "/sys/kernel/mm/hugepages"

int mem_backing_parse(const char *text, struct mem_backing *out)
{
	*out = (struct mem_backing){ 0 };
	if (!strcmp(text, "anon")) {
		out->kind = MEM_BACKING_ANON;
	} else if (!strcmp(text, "thp")) {
		out->kind = MEM_BACKING_THP;
	} else if (!strcmp(text, "hugetlb") || !strcmp(text, "hugetlb=2M")) {
		out->kind = MEM_BACKING_HUGETLB;
		out->page_size = 2 * MiB;
	} else if (!strcmp(text, "hugetlb=1G")) {
		out->kind = MEM_BACKING_HUGETLB;
		out->page_size = 1 * GiB;
	} else {
		return -EINVAL;
	}
	return 0;
}

/* The selected word of a sysfs choice file ("always [madvise] never"); NULL if none. */
static char *sysfs_choice(const char *path, char *buf, size_t len)
{
	u8 *text;
	size_t n;
	char *open, *close;

	if (file_read_all(path, NULL, FILE_MAX_TEXT, &text, &n))
		return NULL;
	open = strchr((char *)text, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!close || (size_t)(close - open - 1) >= len) {
		free(text);
		return NULL;
	}
	snprintf(buf, len, "%.*s", (int)(close - open - 1), open + 1);
	free(text);
	return buf;
}

static u64 sysfs_u64(const char *path, u64 fallback)
{
	u8 *text;
	size_t n;
	char *end;
	unsigned long long v;

	if (file_read_all(path, NULL, FILE_MAX_TEXT, &text, &n))
		return fallback;
	errno = 0;
	v = strtoull((char *)text, &end, 10);
	if (errno || end == (char *)text)
		v = fallback;
	free(text);
	return v;
}

/*
 * One line, "Node 0, zone   Normal  n0 n1 ... n10": the count of free
 * blocks of 2^order pages, order 0 first.
 */
static u64 zone_free_bytes(const char *line, size_t len, u64 page_size, u64 block)
{
	char zone[32], copy[512], *p, *next;
	int used = 0;
	u64 total = 0;

	if (len >= sizeof(copy))
		return 0;
	memcpy(copy, line, len);
	copy[len] = '\0';
	if (sscanf(copy, "Node %*u, zone %31s %n", zone, &used) != 1 || !used || !strcmp(zone, "DMA"))
		return 0;
	p = copy + used;
	for (unsigned int order = 0; order < 64; order++) {
		unsigned long long count;
		u64 size = page_size << order;

		p += strspn(p, " \t");
		if (!isdigit((unsigned char)*p)) /* strtoull would take a sign */
			break;
		errno = 0;
		count = strtoull(p, &next, 10);
		if (errno)
			break;
		p = next;
		/* Past 2^63 bytes a block size would wrap: no host has such blocks. */
		if (size >> order != page_size)
			break;
		/* Saturating: a count no host could have says "plenty", never wraps to little. */
		if (size >= block)
			total = count > (UINT64_MAX - total) / size ? UINT64_MAX : total + count * size;
	}
	return total;
}

u64 buddyinfo_free_bytes(const char *text, u64 page_size, u64 block)
{
	u64 total = 0;

	if (!page_size || block < page_size)
		return 0;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		u64 zone = zone_free_bytes(line, len, page_size, block);

		total = zone <= UINT64_MAX - total ? total + zone : UINT64_MAX;
		if (!end)
			break;
		line = end + 1;
	}
	return total;
}

bool host_has_free_huge_blocks(u64 block, u64 bytes)
{
	u8 *text;
	size_t n;
	u64 free_bytes;

	if (file_read_all("/proc/buddyinfo", NULL, FILE_MAX_TEXT, &text, &n))
		return false;
	free_bytes = buddyinfo_free_bytes((char *)text, host_page_size(), block);
	free(text);
	/* Room to spare: other allocations take blocks too, and zones keep reserves. */
	return bytes <= UINT64_MAX / 4 && free_bytes >= 4 * bytes;
}

void mem_backing_resolve(struct mem_backing *b)
{
	char mode[32];

	if (b->kind == MEM_BACKING_DEFAULT) {
		const char *thp = sysfs_choice(THP_SYSFS "/enabled", mode, sizeof(mode));

		b->kind = thp && strcmp(thp, "never") ? MEM_BACKING_THP : MEM_BACKING_ANON;
	}
	switch (b->kind) {
	case MEM_BACKING_THP:
		/* A PMD's worth: 2 MiB with 4 KiB pages, 32 MiB with 16 KiB, 512 MiB with 64 KiB. */
		b->page_size = sysfs_u64(THP_SYSFS "/hpage_pmd_size", 2 * MiB);
		if (!b->page_size || b->page_size & (b->page_size - 1))
			b->page_size = 2 * MiB;
		/* shmem THP: "always", "within_size", "advise" (and "force") let a memfd have huge pages. */
		{
			const char *shmem = sysfs_choice(THP_SYSFS "/shmem_enabled", mode, sizeof(mode));

			b->thp_memfd = shmem && strcmp(shmem, "never") && strcmp(shmem, "deny");
		}
		break;
	case MEM_BACKING_HUGETLB:
		break;
	default:
		b->page_size = host_page_size();
		break;
	}
}

const char *mem_backing_name(const struct mem_backing *b)
{
	switch (b->kind) {
	case MEM_BACKING_ANON: return "anon";
	case MEM_BACKING_THP: return "thp";
	case MEM_BACKING_HUGETLB: return "hugetlb";
	default: return "default";
	}
}

const char *mem_backing_describe(const struct mem_backing *b, char *buf, size_t len)
{
	u64 kib = b->page_size / KiB;
	char page[32];

	if (kib >= 1024 * 1024)
		snprintf(page, sizeof(page), "%llu GiB", (unsigned long long)(kib / 1024 / 1024));
	else if (kib >= 1024)
		snprintf(page, sizeof(page), "%llu MiB", (unsigned long long)(kib / 1024));
	else
		snprintf(page, sizeof(page), "%llu KiB", (unsigned long long)kib);
	switch (b->kind) {
	case MEM_BACKING_THP:
		snprintf(buf, len, "thp (%s, %s pages)",
			 b->thp_memfd ? "memfd" : "anonymous memory: this host's shmem_enabled keeps memfds off THP",
			 page);
		break;
	case MEM_BACKING_HUGETLB:
		snprintf(buf, len, "hugetlb (memfd, %s pages)", page);
		break;
	default:
		snprintf(buf, len, "%s (%s pages)", mem_backing_name(b), page);
		break;
	}
	return buf;
}

int mem_backing_check(const struct mem_backing *b, u64 huge_bytes)
{
	char dir[96], path[160];
	u64 need, free_pages, reserved;

	if (b->kind != MEM_BACKING_HUGETLB || !huge_bytes)
		return 0;
	snprintf(dir, sizeof(dir), HUGETLB_SYSFS "/hugepages-%llukB",
		 (unsigned long long)(b->page_size / KiB));
	need = huge_bytes / b->page_size;
	snprintf(path, sizeof(path), "%s/free_hugepages", dir);
	free_pages = sysfs_u64(path, UINT64_MAX);
	if (free_pages == UINT64_MAX) {
		pr_err("--mem-backing hugetlb: this host has no %llu KiB huge pages (no %s; is CONFIG_HUGETLBFS on, and does the CPU support that size?)",
		       (unsigned long long)(b->page_size / KiB), dir);
		return -ENOMEM;
	}
	/* Free pages include those promised to mappings not yet touched. */
	snprintf(path, sizeof(path), "%s/resv_hugepages", dir);
	reserved = sysfs_u64(path, 0);
	free_pages = free_pages > reserved ? free_pages - reserved : 0;
	if (free_pages < need) {
		snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
		pr_err("--mem-backing hugetlb: guest RAM needs %llu huge pages of %llu KiB, the host has %llu free; reserve them as root, e.g. echo %llu > %s",
		       (unsigned long long)need, (unsigned long long)(b->page_size / KiB),
		       (unsigned long long)free_pages,
		       (unsigned long long)(sysfs_u64(path, 0) + need - free_pages), path);
		return -ENOMEM;
	}
	return 0;
}

/* A memfd of size bytes mapped over [hva, hva + size): shmem, or hugetlbfs with flags. */
static int map_memfd(void *hva, u64 size, const char *name, unsigned int flags)
{
	int fd = memfd_create(name, MFD_CLOEXEC | flags), err = 0;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    mmap(hva, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
		err = -errno;
	/* The mapping holds the memory; a later sharing scheme would keep fd. */
	close(fd);
	return err;
}

void *mem_backing_map(const struct mem_backing *b, u64 size, bool small, u64 guard,
		      const char *name, void **map_base, u64 *map_len)
{
	u64 page = small ? host_page_size() : MAX(b->page_size, host_page_size());
	u64 map_size = ALIGN_UP(size, page), len = map_size + 2 * guard + page;
	u8 *base, *hva;
	int err = 0;

	/*
	 * Reserve, then place the memory on a page boundary inside: huge pages
	 * need an aligned virtual address as much as an aligned guest one.
	 * MAP_NORESERVE: RAM is touched lazily, so a guest that uses little
	 * costs little. The PROT_NONE rest makes an overrun fault.
	 */
	base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		pr_err("cannot reserve %llu MiB of address space for guest memory: %s",
		       (unsigned long long)(len / MiB), strerror(errno));
		return NULL;
	}
	hva = (u8 *)ALIGN_UP((u64)(uintptr_t)base + guard, page);
	if (!small && b->kind == MEM_BACKING_HUGETLB) {
		err = map_memfd(hva, map_size, name,
				MFD_HUGETLB | (page == GiB ? MFD_HUGE_1GB : MFD_HUGE_2MB));
	} else if (!small && b->kind == MEM_BACKING_THP && b->thp_memfd) {
		err = map_memfd(hva, map_size, name, 0);
		if (!err)
			madvise(hva, map_size, MADV_HUGEPAGE);
	} else if (mprotect(hva, map_size, PROT_READ | PROT_WRITE) < 0) {
		err = -errno;
	} else {
		/* anon means 4 KiB pages even where THP is "always": it is the baseline. */
		madvise(hva, map_size, b->kind == MEM_BACKING_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		/* Named in /proc/PID/smaps where the kernel has CONFIG_ANON_VMA_NAME. */
		prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)hva, map_size,
		      (unsigned long)name);
	}
	if (err) {
		pr_err("cannot allocate %llu MiB of guest memory (%s): %s",
		       (unsigned long long)(size / MiB), mem_backing_name(b), strerror(-err));
		munmap(base, len);
		return NULL;
	}
	*map_base = base;
	*map_len = len;
	return hva;
}

void mem_backing_unmap(void *map_base, u64 map_len)
{
	if (map_base)
		munmap(map_base, map_len);
}
