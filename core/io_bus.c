#include "io_bus.h"

#include <errno.h>
#include <string.h>

#include "log.h"

int io_bus_register(struct io_bus *bus, u64 base, u64 len, io_handler_fn handler,
		    void *opaque, const char *name)
{
	unsigned int pos = 0;

	if (!len || base + len < base)
		return -EINVAL;
	for (unsigned int i = 0; i < bus->nranges; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (ranges_overlap(base, len, r->base, r->len)) {
			pr_err("%s: %s at 0x%llx overlaps %s", bus->name, name,
			       (unsigned long long)base, r->name);
			return -EEXIST;
		}
		if (r->base < base)
			pos = i + 1;
	}
	if (bus->nranges == IO_BUS_MAX_RANGES)
		return -E2BIG;
	memmove(&bus->ranges[pos + 1], &bus->ranges[pos],
		(bus->nranges - pos) * sizeof(bus->ranges[0]));
	bus->ranges[pos] = (struct io_range){ base, len, handler, opaque, name };
	bus->nranges++;
	return 0;
}

bool io_bus_access(const struct io_bus *bus, u64 addr, u8 *data, u32 len, bool is_write)
{
	unsigned int lo = 0, hi = bus->nranges;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		const struct io_range *r = &bus->ranges[mid];

		if (addr < r->base) {
			hi = mid;
		} else if (addr - r->base >= r->len) {
			lo = mid + 1;
		} else {
			/* An access straddling the end of a range is not claimed. */
			if (len > r->len - (addr - r->base))
				break;
			r->handler(r->opaque, addr - r->base, data, len, is_write);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, len);
	return false;
}
