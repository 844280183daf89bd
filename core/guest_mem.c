#include "guest_mem.h"

#include <errno.h>
#include <linux/prctl.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"

/* A guard page on each side of a bank: a host page, whatever its size. */
#define GUARD host_page_size()

int guest_mem_alloc(struct guest_mem *mem, const struct memory_plan *plan)
{
	memset(mem, 0, sizeof(*mem));
	for (unsigned int i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];
		struct guest_bank *bank;
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
		/*
		 * MAP_NORESERVE: guest RAM is touched lazily, so a guest that
		 * uses little of its RAM costs little host memory. A guard page
		 * on each side makes an overrun fault instead of touching other
		 * memory, and keeps each bank its own mapping in smaps.
		 */
		hva = mmap(NULL, r->size + 2 * GUARD, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (hva == MAP_FAILED ||
		    mprotect((u8 *)hva + GUARD, r->size, PROT_READ | PROT_WRITE) < 0) {
			int err = -errno;

			pr_err("cannot allocate %llu MiB of guest memory: %s",
			       (unsigned long long)(r->size / MiB), strerror(errno));
			if (hva != MAP_FAILED)
				munmap(hva, r->size + 2 * GUARD);
			guest_mem_free(mem);
			return err;
		}
		hva = (u8 *)hva + GUARD;
		madvise(hva, r->size, MADV_HUGEPAGE);
		/* Named in /proc/PID/smaps where the kernel has CONFIG_ANON_VMA_NAME. */
		prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)hva, r->size,
		      (unsigned long)(r->kind == REGION_RAM ? "guest-ram" : "guest-firmware"));
		bank = &mem->banks[mem->nbanks++];
		bank->gpa = r->start;
		bank->size = r->size;
		bank->hva = hva;
		bank->dma = r->kind == REGION_RAM;
	}
	return 0;
}

void guest_mem_free(struct guest_mem *mem)
{
	for (unsigned int i = 0; i < mem->nbanks; i++)
		munmap(mem->banks[i].hva - GUARD, mem->banks[i].size + 2 * GUARD);
	mem->nbanks = 0;
}

void *guest_mem_ptr(const struct guest_mem *mem, u64 gpa, u64 len)
{
	for (unsigned int i = 0; i < mem->nbanks; i++) {
		const struct guest_bank *b = &mem->banks[i];

		/* Written to be overflow-proof for hostile gpa/len values. */
		if (gpa >= b->gpa && gpa - b->gpa < b->size && len <= b->size - (gpa - b->gpa))
			return b->hva + (gpa - b->gpa);
	}
	return NULL;
}

int guest_mem_write(const struct guest_mem *mem, u64 gpa, const void *src, u64 len)
{
	void *dst = guest_mem_ptr(mem, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
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
