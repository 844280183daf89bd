#include "host_regions.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Adds [start, end] (inclusive). A hole reaching the top of the 64-bit
 * space has no size that fits a u64 when it starts at 0; no address limit
 * is above 2^64 - 1 (the limit is exclusive and a u64), so a hole ending
 * there may stop one byte short without freeing anything the planner
 * could use: it is stored as [start, 2^64 - 1).
 */
static int add_hole(struct host_holes *out, u64 start, u64 end, bool reserved,
		    const char *fmt_type, const char *source)
{
	struct plan_forbidden *h;

	if (out->n == PLAN_MAX_FORBIDDEN)
		return -E2BIG;
	h = &out->holes[out->n++];
	h->start = start;
	h->size = end - start + 1 ? end - start + 1 : UINT64_MAX;
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

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * One hexadecimal field, "0x" optional, at *p: the value must fit 64 bits
 * (sscanf's %llx saturates, and takes a sign), and the field must end at
 * a blank or the end of the line. Advances *p past the field.
 */
static bool take_hex(const char **p, const char *end, u64 *out)
{
	const char *s = *p;
	u64 value = 0;
	bool digits = false;

	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; s < end && !is_blank(*s); s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		if (value >> 60)
			return false; /* another digit would not fit */
		value = value << 4 | (u64)d;
		digits = true;
	}
	*p = s;
	*out = value;
	return digits;
}

/* The next blank-separated word of [*p, end), or false at the end of the line. */
static bool take_word(const char **p, const char *end, const char **word, size_t *len)
{
	const char *s = *p;

	while (s < end && is_blank(*s))
		s++;
	*word = s;
	while (s < end && !is_blank(*s))
		s++;
	*len = (size_t)(s - *word);
	*p = s;
	return *len != 0;
}

/* "START END TYPE": false when the line is anything else. */
static bool parse_line(const char *line, const char *end, u64 *start, u64 *last,
		       char *type, size_t type_size)
{
	const char *p = line, *word;
	size_t len;

	if (!take_word(&p, end, &word, &len) || !take_hex(&word, word + len, start))
		return false;
	if (!take_word(&p, end, &word, &len) || !take_hex(&word, word + len, last))
		return false;
	if (!take_word(&p, end, &word, &len) || len >= type_size)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((word[i] >= 'a' && word[i] <= 'z') || (word[i] >= '0' && word[i] <= '9') ||
		      word[i] == '-' || word[i] == '_'))
			return false;
	memcpy(type, word, len);
	type[len] = '\0';
	return !take_word(&p, end, &word, &len) && *start <= *last;
}

/* The line as printable text, for a warning. */
static void quote_line(const char *line, size_t len, char *buf, size_t size)
{
	size_t n = MIN(len, size - 1);

	for (size_t i = 0; i < n; i++)
		buf[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
	buf[n] = '\0';
}

int host_parse_reserved_regions(const char *text, size_t size, const char *source,
				struct host_holes *out, host_warn_fn warn)
{
	const char *end = text + size;
	unsigned int lineno = 0;
	int added = 0;

	while (text < end) {
		const char *eol = memchr(text, '\n', (size_t)(end - text));
		const char *line_end = eol ? eol : end;
		size_t len = (size_t)(line_end - text);
		char type[32], shown[96];
		u64 start, last;
		bool blank = true;

		lineno++;
		for (size_t i = 0; i < len && blank; i++)
			blank = is_blank(text[i]);
		if (blank)
			goto next;
		if (!parse_line(text, line_end, &start, &last, type, sizeof(type))) {
			quote_line(text, len, shown, sizeof(shown));
			warnf(warn, "%s: line %u is malformed ('%s'%s); ignored", source, lineno,
			      shown, len >= sizeof(shown) ? "..." : "");
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
		if (strcmp(type, "direct") && strcmp(type, "reserved") && strcmp(type, "msi"))
			warnf(warn, "%s: line %u has unknown type '%s'; kept as a hole", source,
			      lineno, type);
		if (add_hole(out, start, last, true, type, source))
			return -E2BIG;
		added++;
next:
		text = line_end + (eol ? 1 : 0);
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

		/*
		 * Each header must lie inside the reply, and the chain must end.
		 * The kernel places capabilities 8-byte aligned (vfio_info_cap_add),
		 * which their u64 fields need.
		 */
		if (offset < sizeof(*hdr) || offset > len - sizeof(*cap) || offset % 8 || ++hops > 64)
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

void host_mark_msi_windows(struct host_holes *out, unsigned int from, const char *source)
{
	char parsed[PLAN_LABEL_LEN];

	snprintf(parsed, sizeof(parsed), "host msi (%s)", source);
	for (unsigned int i = from; i < out->n; i++) {
		struct plan_forbidden *h = &out->holes[i];

		if (strcmp(h->label, parsed))
			continue;
		h->msi_window = true;
		snprintf(h->label, sizeof(h->label), "MSI IOVA window (host default, %s)", source);
		out->msi_window_size = MAX(out->msi_window_size, h->size);
	}
}

/* Keeps the holes for which drop() is false, in order. */
static void filter_holes(struct host_holes *h, bool (*drop)(const struct plan_forbidden *, u64, u64),
			 u64 start, u64 size)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < h->n; i++)
		if (!drop(&h->holes[i], start, size))
			h->holes[kept++] = h->holes[i];
	h->n = kept;
}

static bool is_msi_window(const struct plan_forbidden *f, u64 start, u64 size)
{
	(void)start;
	(void)size;
	return f->msi_window;
}

static bool is_inside(const struct plan_forbidden *f, u64 start, u64 size)
{
	return f->start >= start && f->size <= size && f->start - start <= size - f->size;
}

void host_holes_free_msi_windows(struct host_holes *h)
{
	filter_holes(h, is_msi_window, 0, 0);
	h->msi_window_size = 0;
}

void host_holes_drop_inside(struct host_holes *h, u64 start, u64 size)
{
	filter_holes(h, is_inside, start, size);
}
