/*
 * What backs guest RAM (--mem-backing): ordinary 4 KiB anonymous pages,
 * transparent huge pages, or hugetlb pages of 2 MiB or 1 GiB. Huge pages
 * matter twice: the guest's TLB misses cost one nested walk fewer, and
 * VFIO pins and maps RAM for DMA a huge page at a time instead of a 4 KiB
 * page at a time (VFIO_IOMMU_MAP_DMA / IOMMU_IOAS_MAP of all guest RAM is
 * several times faster).
 *
 * thp and hugetlb are memfd-based (shmem or hugetlbfs), so the same
 * memory can be shared with another process later; thp falls back to an
 * anonymous mapping with MADV_HUGEPAGE when the host keeps shmem out of
 * THP (/sys/kernel/mm/transparent_hugepage/shmem_enabled).
 *
 * The planner starts every RAM bank on a backing page (mem_backing_page)
 * so that each bank is whole huge pages; only a bank at the very start
 * of RAM may be smaller (x86's 640 KiB below the BIOS area), and is
 * backed by ordinary pages.
 */
#ifndef CORE_MEM_BACKING_H
#define CORE_MEM_BACKING_H

#include <stddef.h>

#include "util.h"

enum mem_backing_kind {
	MEM_BACKING_DEFAULT, /* not given: thp where the host has it, else anon */
	MEM_BACKING_ANON,
	MEM_BACKING_THP,
	MEM_BACKING_HUGETLB,
};

struct mem_backing {
	enum mem_backing_kind kind;
	u64 page_size; /* hugetlb: 2 MiB or 1 GiB; otherwise filled by mem_backing_resolve */
	bool thp_memfd; /* thp: shmem THP is allowed, RAM is a memfd */
};

/* "anon", "thp", "hugetlb", "hugetlb=2M", "hugetlb=1G"; 0 or -EINVAL. */
int mem_backing_parse(const char *text, struct mem_backing *out);

/*
 * Turns the default into what this host has, and fills the page size
 * RAM banks start on (thp: the PMD size; anon: the host page).
 */
void mem_backing_resolve(struct mem_backing *b);

/* "hugetlb (2 MiB pages)", "thp (memfd)", "anon (4 KiB pages)". */
const char *mem_backing_describe(const struct mem_backing *b, char *buf, size_t len);

/* The name alone, for JSON: "anon", "thp", "hugetlb". */
const char *mem_backing_name(const struct mem_backing *b);

/*
 * Checks that hugetlb pages for the sizes of the banks (rounded up to
 * whole pages) are free on this host. 0, or -ENOMEM after one line saying
 * how many pages are needed and how to reserve them.
 */
int mem_backing_check(const struct mem_backing *b, u64 huge_bytes);

/*
 * /proc/buddyinfo's text: the bytes free in blocks of at least block
 * bytes, over every zone but DMA (which huge pages do not come from),
 * with pages of page_size bytes; UINT64_MAX when that does not fit.
 * Lines it cannot read count nothing.
 */
u64 buddyinfo_free_bytes(const char *text, u64 page_size, u64 block);

/*
 * True when this host's free lists hold blocks of block bytes for
 * several times bytes now: a transparent huge page is then taken from
 * them at once, with no compaction (which may stall for tens of ms).
 */
bool host_has_free_huge_blocks(u64 block, u64 bytes);

/*
 * Maps size bytes for one bank at an address aligned to the backing's
 * page, with a PROT_NONE guard of guard bytes on each side. A bank whose
 * guest address is not on a backing page gets ordinary pages (small).
 * Returns the usable address, or NULL after printing why; *map_base and
 * *map_len are what mem_backing_unmap needs.
 */
void *mem_backing_map(const struct mem_backing *b, u64 size, bool small, u64 guard,
		      const char *name, void **map_base, u64 *map_len);
void mem_backing_unmap(void *map_base, u64 map_len);

#endif
