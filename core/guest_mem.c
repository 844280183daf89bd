#include "guest_mem.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "file.h"
#include "log.h"

/* A guard page on each side of a bank: a host page, whatever its size. */
#define GUARD host_page_size()

/*
 * Huge pages back a RAM bank that starts on one and is whole pages, or
 * is the last bank (where RAM runs out: its tail is rounded up to a
 * page). Others get ordinary pages: the first bank the planner may end
 * early (x86's 640 KiB), and firmware areas.
 */
static bool bank_is_small(const struct memory_plan *plan, const struct plan_region *r,
			  const struct mem_backing *b)
{
	if (r->kind != REGION_RAM || !IS_ALIGNED(r->start, b->page_size))
		return true;
	return !IS_ALIGNED(r->size, b->page_size) && r->start + r->size != plan_ram_end(plan);
}

int guest_mem_alloc(struct guest_mem *mem, const struct memory_plan *plan,
		    const struct mem_backing *backing)
{
	u64 huge_bytes = 0;
	int err;

	memset(mem, 0, sizeof(*mem));
	for (unsigned int i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];

		if (r->kind == REGION_RAM && !bank_is_small(plan, r, backing))
			huge_bytes += ALIGN_UP(r->size, backing->page_size);
	}
	err = mem_backing_check(backing, huge_bytes);
	if (err)
		return err;
	for (unsigned int i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];
		struct guest_bank *bank;
		bool small;
		void *hva;

		if (r->kind != REGION_RAM && r->kind != REGION_FIRMWARE)
			continue;
		if (!IS_ALIGNED(r->start | r->size, host_page_size())) {
			pr_err("guest memory 0x%llx-0x%llx is not aligned to this host's %llu KiB pages",
			       (unsigned long long)r->start,
			       (unsigned long long)(r->start + r->size - 1),
			       (unsigned long long)(host_page_size() / KiB));
			guest_mem_free(mem);
			return -EINVAL;
		}
		if (mem->nbanks == GUEST_MEM_MAX_BANKS) {
			pr_err("guest memory is split into more than %d banks", GUEST_MEM_MAX_BANKS);
			guest_mem_free(mem);
			return -E2BIG;
		}
		bank = &mem->banks[mem->nbanks];
		small = bank_is_small(plan, r, backing);
		/* A guard page on each side: an overrun faults instead of touching other memory. */
		hva = mem_backing_map(backing, r->size, small, GUARD,
				      r->kind == REGION_RAM ? "guest-ram" : "guest-firmware",
				      &bank->map_base, &bank->map_len);
		if (!hva) {
			guest_mem_free(mem);
			return -ENOMEM;
		}
		mem->nbanks++;
		bank->gpa = r->start;
		bank->size = r->size;
		bank->hva = hva;
		bank->dma = r->kind == REGION_RAM;
		bank->page_size = small ? host_page_size() : MAX(backing->page_size, host_page_size());
		/* The mapping's length as mem_backing_map rounded it (a huge page). */
		if (backing->kind == MEM_BACKING_THP && !backing->thp_memfd && !small)
			bank->thp_len = ALIGN_UP(r->size, bank->page_size);
	}
	return 0;
}

void guest_mem_free(struct guest_mem *mem)
{
	for (unsigned int i = 0; i < mem->nbanks; i++)
		mem_backing_unmap(mem->banks[i].map_base, mem->banks[i].map_len);
	mem->nbanks = 0;
}

/* The bank holding all of [gpa, gpa+len); overflow-proof for hostile gpa/len values. */
static const struct guest_bank *bank_of(const struct guest_mem *mem, u64 gpa, u64 len)
{
	for (unsigned int i = 0; i < mem->nbanks; i++) {
		const struct guest_bank *b = &mem->banks[i];

		if (gpa >= b->gpa && gpa - b->gpa < b->size && len <= b->size - (gpa - b->gpa))
			return b;
	}
	return NULL;
}

void *guest_mem_ptr(const struct guest_mem *mem, u64 gpa, u64 len)
{
	const struct guest_bank *b = bank_of(mem, gpa, len);

	return b ? b->hva + (gpa - b->gpa) : NULL;
}

int guest_mem_write(const struct guest_mem *mem, u64 gpa, const void *src, u64 len)
{
	void *dst = guest_mem_ptr(mem, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

/*
 * On THP memory the file goes into huge pages when the host's free lists
 * have them now (a 12 MB kernel: 3 ms against 40 where faults are dear),
 * else into small pages: a huge page's first touch may then compact host
 * memory for tens of milliseconds, and these are the VMM's start-up. The
 * whole mapping is switched, not the range, so that it stays one mapping
 * (a range would split it in three); the pages the guest touches later
 * are huge again (khugepaged may merge these).
 * The pages are faulted in before the read: one call for all of them
 * costs less than a fault per page taken inside the copy where faults
 * are dear (a 12 MB kernel in a paravirtualized guest: 24 ms against 42).
 */
int guest_mem_read_file(const struct guest_mem *mem, u64 gpa, int fd, u64 offset, u64 len)
{
	const struct guest_bank *b = bank_of(mem, gpa, len);
	u8 *dst, *first;
	bool small;
	int err;

	if (!b)
		return -EFAULT;
	dst = b->hva + (gpa - b->gpa);
	/* The range may straddle one more huge page than its length fills. */
	small = b->thp_len &&
		!host_has_free_huge_blocks(b->page_size, ALIGN_UP(len, b->page_size) + b->page_size);
	if (small)
		madvise(b->hva, b->thp_len, MADV_NOHUGEPAGE);
	/* Inside the bank, whose mapping is whole host pages; a kernel without it faults as before. */
	first = (u8 *)ALIGN_DOWN((u64)(uintptr_t)dst, host_page_size());
	madvise(first, ALIGN_UP((u64)(dst - first) + len, host_page_size()), MADV_POPULATE_WRITE);
	err = file_read_at(fd, offset, dst, (size_t)len);
	if (small)
		madvise(b->hva, b->thp_len, MADV_HUGEPAGE);
	return err;
}

/*
 * Populating works in chunks the threads take in turn, so a slow one
 * (a CPU busy elsewhere) delays the end by one chunk at most. A chunk is
 * whole pages of its bank: a hugetlb range must start on a huge page.
 */
#define POPULATE_CHUNK (64 * MiB)

struct populate_work {
	const struct guest_mem *mem;
	u64 chunk[GUEST_MEM_MAX_BANKS]; /* per bank: its chunk size */
	atomic_uint next;               /* the next chunk, counted over all DMA banks */
	atomic_int err;                 /* the first error; 0 */
};

/* Chunk number n of all DMA banks, as a range; false past the last. */
static bool populate_chunk(const struct populate_work *w, unsigned int n, u8 **start, u64 *len)
{
	for (unsigned int i = 0; i < w->mem->nbanks; i++) {
		const struct guest_bank *b = &w->mem->banks[i];
		u64 chunks;

		if (!b->dma)
			continue;
		chunks = DIV_ROUND_UP(b->size, w->chunk[i]);
		if (n < chunks) {
			*start = b->hva + (u64)n * w->chunk[i];
			*len = MIN(w->chunk[i], b->size - (u64)n * w->chunk[i]);
			return true;
		}
		n -= (unsigned int)chunks;
	}
	return false;
}

static void *populate_worker(void *arg)
{
	struct populate_work *w = arg;
	u8 *start;
	u64 len;

	while (!atomic_load(&w->err) && populate_chunk(w, atomic_fetch_add(&w->next, 1), &start, &len)) {
		if (madvise(start, len, MADV_POPULATE_WRITE) < 0) {
			int zero = 0;

			atomic_compare_exchange_strong(&w->err, &zero, -errno);
		}
	}
	return NULL;
}

static unsigned int usable_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned int)CPU_COUNT(&set);
	return 1;
}

int guest_mem_populate_dma(const struct guest_mem *mem, unsigned int max_threads)
{
	struct populate_work w = { .mem = mem };
	pthread_t threads[GUEST_MEM_POPULATE_MAX_THREADS];
	unsigned int nchunks = 0, nthreads, started = 0;
	int err;

	for (unsigned int i = 0; i < mem->nbanks; i++) {
		const struct guest_bank *b = &mem->banks[i];

		/* Banks made by hand (tests) may leave page_size 0. */
		w.chunk[i] = ALIGN_UP(POPULATE_CHUNK, MAX(b->page_size, host_page_size()));
		if (b->dma)
			nchunks += (unsigned int)DIV_ROUND_UP(b->size, w.chunk[i]);
	}
	if (!nchunks)
		return 0;
	nthreads = max_threads ? max_threads : usable_cpus();
	nthreads = MIN(MIN(nthreads, nchunks), GUEST_MEM_POPULATE_MAX_THREADS);
	/* This thread is the first worker; the others help where they could be made. */
	for (; started + 1 < nthreads; started++)
		if (pthread_create(&threads[started], NULL, populate_worker, &w))
			break;
	populate_worker(&w);
	for (unsigned int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	err = atomic_load(&w.err);
	/* Before Linux 5.14 (or a mapping it cannot populate): the pin faults the pages in. */
	if (err == -EINVAL)
		return 0;
	if (err) {
		pr_err("cannot fault in guest RAM for DMA: %s%s", strerror(-err),
		       err == -ENOMEM ? " (the host is out of memory for it)" : "");
		return err;
	}
	return (int)started + 1;
}

u64 host_page_size(void)
{
	static u64 cached;
	long size;

	if (!cached) {
		size = sysconf(_SC_PAGESIZE);
		cached = size > 0 ? (u64)size : 4096;
	}
	return cached;
}
