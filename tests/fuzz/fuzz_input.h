/*
 * Reading a fuzzer's input as a stream of little-endian values. Past the
 * end every read gives zeros, so any input is a complete program; the
 * seed generator (make-seeds.py) writes the same encoding.
 */
#ifndef TESTS_FUZZ_FUZZ_INPUT_H
#define TESTS_FUZZ_FUZZ_INPUT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct fuzz_input {
	const u8 *data;
	size_t size, pos;
};

static inline struct fuzz_input fuzz_input(const u8 *data, size_t size)
{
	return (struct fuzz_input){ data, size, 0 };
}

static inline bool fuzz_more(const struct fuzz_input *in)
{
	return in->pos < in->size;
}

static inline u64 fuzz_take(struct fuzz_input *in, unsigned int bytes)
{
	u64 v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		if (in->pos < in->size)
			v |= (u64)in->data[in->pos++] << (8 * i);
	return v;
}

static inline u8 fuzz_u8(struct fuzz_input *in) { return (u8)fuzz_take(in, 1); }
static inline u16 fuzz_u16(struct fuzz_input *in) { return (u16)fuzz_take(in, 2); }
static inline u32 fuzz_u32(struct fuzz_input *in) { return (u32)fuzz_take(in, 4); }
static inline u64 fuzz_u64(struct fuzz_input *in) { return fuzz_take(in, 8); }

/* Up to len bytes into dst (zeros past the end); returns how many were real. */
static inline size_t fuzz_bytes(struct fuzz_input *in, void *dst, size_t len)
{
	size_t n = MIN(len, in->size - in->pos);

	memcpy(dst, in->data + in->pos, n);
	memset((u8 *)dst + n, 0, len - n);
	in->pos += n;
	return n;
}

/* An access size the buses use: 1, 2, 4 or 8. */
static inline u32 fuzz_access_len(struct fuzz_input *in)
{
	return 1u << (fuzz_u8(in) & 3);
}

/* An invariant of the code under test does not hold: a crash libFuzzer reports. */
#define FUZZ_CHECK(cond)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, \
				#cond);                                                   \
			abort();                                                          \
		}                                                                         \
	} while (0)

#endif
