/* Small helpers shared by every layer. */
#ifndef CORE_UTIL_H
#define CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define TiB (1024ULL * GiB)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((u64)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((u64)(a) - 1))
#define DIV_ROUND_UP(x, d) (((x) + (d) - 1) / (d))
#define IS_ALIGNED(x, a) (((x) & ((u64)(a) - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* True when [a, a+alen) and [b, b+blen) share at least one byte. */
static inline bool ranges_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* The host's page size: what mmap, memslots and DMA maps align to. */
u64 host_page_size(void);

/* Exit statuses promised to users (see README). */
enum vmm_exit_status {
	EXIT_POWEROFF = 0,
	EXIT_FAILURE_VMM = 1,
	EXIT_USAGE = 2,
	EXIT_RESET = 3,
	EXIT_TIMEOUT = 124,
};

#endif
