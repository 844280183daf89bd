/*
 * Guest memory as the VMM sees it: the planner's backed regions (RAM and
 * firmware areas), each a mapping (core/mem_backing.c) registered as a KVM memslot.
 * Every guest-driven access goes through guest_mem_ptr(), which refuses
 * ranges that are not entirely inside one bank.
 */
#ifndef CORE_GUEST_MEM_H
#define CORE_GUEST_MEM_H

#include "mem_backing.h"
#include "planner.h"
#include "util.h"

#define GUEST_MEM_MAX_BANKS 64

struct guest_bank {
	u64 gpa;
	u64 size;
	u8 *hva;
	bool dma; /* RAM the devices may DMA to (firmware areas are not) */
	u64 page_size; /* of its backing: a huge page, or a host page */
	/* Anonymous memory with transparent huge pages: the length of its mapping; 0: not THP. */
	u64 thp_len;
	void *map_base; /* the whole reservation, guards included (mem_backing_map) */
	u64 map_len;
};

struct guest_mem {
	struct guest_bank banks[GUEST_MEM_MAX_BANKS];
	unsigned int nbanks;
};

/*
 * Maps every RAM and firmware region of the plan, RAM from the backing
 * (resolved), after checking hugetlb pages are there for all of it.
 */
int guest_mem_alloc(struct guest_mem *mem, const struct memory_plan *plan,
		    const struct mem_backing *backing);
void guest_mem_free(struct guest_mem *mem);

/* Host pointer for [gpa, gpa+len), or NULL when it is not all guest memory. */
void *guest_mem_ptr(const struct guest_mem *mem, u64 gpa, u64 len)
	__attribute__((warn_unused_result));

/* Copies into guest memory; -EFAULT when the range is not guest memory. */
int guest_mem_write(const struct guest_mem *mem, u64 gpa, const void *src, u64 len)
	__attribute__((warn_unused_result));

/*
 * Reads len bytes of fd at offset straight into guest memory (a kernel,
 * an initrd: one copy, from the page cache): -EFAULT when the range is
 * not guest memory, -EIO when the file is shorter, -errno.
 */
int guest_mem_read_file(const struct guest_mem *mem, u64 gpa, int fd, u64 offset, u64 len)
	__attribute__((warn_unused_result));

/*
 * Faults in every page of the RAM devices may DMA to, from up to
 * max_threads threads (0: one per CPU this process may run on, at most
 * GUEST_MEM_POPULATE_MAX_THREADS). Pinning for DMA faults them in anyway,
 * one at a time; done first, the host zeroes them in parallel. Returns the
 * threads used (0: this kernel cannot populate, nothing done) or -errno
 * after one line saying why.
 */
#define GUEST_MEM_POPULATE_MAX_THREADS 16
int guest_mem_populate_dma(const struct guest_mem *mem, unsigned int max_threads);

#endif
