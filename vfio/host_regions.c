#include "host_regions.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_hole(struct host_holes *out, u64 start, u64 end, bool reserved,
		    const char *fmt_type, const char *source)
{
	struct plan_forbidden *h;

	if (out->n == PLAN_MAX_FORBIDDEN)
		return -E2BIG;
	h = &out->holes[out->n++];
	h->start = start;
	h->size = end - start + 1;
	h->firmware_reserved = reserved;
	snprintf(h->label, sizeof(h->label), "host %s (%s)", fmt_type, source);
	return 0;
}

static void warnf(host_warn_fn warn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warnf(host_warn_fn warn, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn(msg);
}

int host_parse_reserved_regions(const char *text, const char *source, struct host_holes *out,
				host_warn_fn warn)
{
	unsigned int lineno = 0;
	int added = 0;

	while (text && *text) {
		const char *eol = strchr(text, '\n');
		size_t len = eol ? (size_t)(eol - text) : strlen(text);
		char line[256], type[64], extra[8];
		unsigned long long start, end;
		bool reserved;
		int fields;

		lineno++;
		if (len >= sizeof(line)) {
			warnf(warn, "%s: line %u is too long; ignored", source, lineno);
			goto next;
		}
		memcpy(line, text, len);
		line[len] = '\0';
		if (strspn(line, " \t\r") == len)
			goto next;
		fields = sscanf(line, "%llx %llx %63s %7s", &start, &end, type, extra);
		if (fields != 3 || end < start) {
			warnf(warn, "%s: line %u is malformed ('%s'); ignored", source, lineno, line);
			goto next;
		}
		/*
		 * direct-relaxable: an identity map the kernel gives up when the
		 * device is assigned (legacy USB, graphics, the ISA floppy
		 * range), so guest RAM may cover it; VFIO's IOVA ranges agree.
		 */
		if (!strcmp(type, "direct-relaxable")) {
			out->relaxed++;
			goto next;
		}
		reserved = true;
		if (strcmp(type, "direct") && strcmp(type, "direct-relaxable") &&
		    strcmp(type, "reserved") && strcmp(type, "msi"))
			warnf(warn, "%s: line %u has unknown type '%s'; kept as a hole", source,
			      lineno, type);
		if (add_hole(out, start, end, reserved, type, source))
			return -E2BIG;
		added++;
next:
		text = eol ? eol + 1 : text + len;
	}
	return added;
}

int host_parse_iova_cap(const void *info, size_t len, struct iova_range *ranges,
			unsigned int max)
{
	const struct vfio_iommu_type1_info *hdr = info;
	const u8 *base = info;
	u32 offset;
	unsigned int hops = 0;

	if (len < sizeof(*hdr) || !(hdr->flags & VFIO_IOMMU_INFO_CAPS))
		return 0;
	offset = hdr->cap_offset;
	while (offset) {
		const struct vfio_info_cap_header *cap;

		/* Each header must lie inside the reply, and the chain must end. */
		if (offset < sizeof(*hdr) || offset > len - sizeof(*cap) || ++hops > 64)
			return -EINVAL;
		cap = (const void *)(base + offset);
		if (cap->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			const struct vfio_iommu_type1_info_cap_iova_range *r = (const void *)cap;
			size_t need;

			if (offset > len - sizeof(*r))
				return -EINVAL;
			need = sizeof(*r) + (size_t)r->nr_iovas * sizeof(r->iova_ranges[0]);
			if (need > len - offset || r->nr_iovas == 0)
				return -EINVAL;
			for (u32 i = 0; i < r->nr_iovas && i < max; i++) {
				ranges[i].start = r->iova_ranges[i].start;
				ranges[i].end = r->iova_ranges[i].end;
				if (ranges[i].end < ranges[i].start ||
				    (i && ranges[i].start <= ranges[i - 1].end))
					return -EINVAL;
			}
			return (int)MIN(r->nr_iovas, max);
		}
		offset = cap->next;
	}
	return 0;
}

int host_add_iova_ranges(const struct iova_range *ranges, unsigned int n, const char *source,
			 struct host_holes *out)
{
	u64 cursor = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (ranges[i].start > cursor &&
		    add_hole(out, cursor, ranges[i].start - 1, true, "IOVA gap", source))
			return -E2BIG;
		cursor = ranges[i].end + 1;
	}
	if (n && ranges[n - 1].end != UINT64_MAX) {
		/* The limit is stored apart from holes: the planner caps RAM there. */
		if (!out->iova_limit || cursor < out->iova_limit) {
			out->iova_limit = cursor;
			snprintf(out->iova_limit_source, sizeof(out->iova_limit_source),
				 "host IOVA limit (%s)", source);
		}
	}
	return 0;
}
