/*
 * The port-I/O/MMIO dispatch: ranges registered anywhere in the 64-bit
 * space, then accesses anywhere. Registration refuses overlaps and
 * wrapping ranges; an access reaches exactly the range that contains
 * all of it (checked against a linear scan), at the right offset.
 *
 * Input: a count of ranges (u8), each a base (u64) and a length (u64),
 * then accesses: an address (u64) and a byte (bits 0-1: log2 of the
 * width, bit 2: write).
 */
#include "core/io_bus.h"
#include "core/log.h"
#include "fuzz_input.h"

static struct io_bus bus;
static const struct io_range *hit;
static u64 hit_offset;

static void handler(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	const struct io_range *r = opaque;

	FUZZ_CHECK(offset < r->len && len <= r->len - offset);
	hit = r;
	hit_offset = offset;
	if (!is_write)
		memset(data, 0x5a, len);
}

/* The range holding all of [addr, addr + len), by a linear scan. */
static const struct io_range *claimant(u64 addr, u32 len)
{
	for (unsigned int i = 0; i < bus.nranges; i++) {
		const struct io_range *r = &bus.ranges[i];

		if (addr >= r->base && addr - r->base < r->len && len <= r->len - (addr - r->base))
			return r;
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	unsigned int n = fuzz_u8(&in) % (IO_BUS_MAX_RANGES + 4);

	log_threshold = LOG_QUIET;
	memset(&bus, 0, sizeof(bus));
	bus.name = "fuzz";
	for (unsigned int i = 0; i < n; i++) {
		u64 base = fuzz_u64(&in), len = fuzz_u64(&in);
		unsigned int before = bus.nranges;
		int ret;

		/* The handler's opaque is filled in once the range's slot is known. */
		ret = io_bus_register(&bus, base, len, handler, NULL, "range");
		if (ret) {
			FUZZ_CHECK(bus.nranges == before);
			continue;
		}
		FUZZ_CHECK(len && base + len - 1 >= base);
		FUZZ_CHECK(bus.nranges == before + 1);
	}
	for (unsigned int i = 0; i < bus.nranges; i++) {
		bus.ranges[i].opaque = &bus.ranges[i];
		if (i)
			FUZZ_CHECK(bus.ranges[i - 1].base + bus.ranges[i - 1].len <= bus.ranges[i].base);
	}
	while (fuzz_more(&in)) {
		u64 addr = fuzz_u64(&in);
		u8 how = fuzz_u8(&in);
		u32 len = 1u << (how & 3);
		u8 buf[8] = { 0 };
		const struct io_range *want = claimant(addr, len);
		bool claimed;

		hit = NULL;
		claimed = io_bus_access(&bus, addr, buf, len, how & 4);
		FUZZ_CHECK(claimed == (want != NULL));
		FUZZ_CHECK(hit == want);
		if (want)
			FUZZ_CHECK(hit_offset == addr - want->base);
		else if (!(how & 4))
			for (u32 b = 0; b < len; b++)
				FUZZ_CHECK(buf[b] == 0xff);
	}
	return 0;
}
