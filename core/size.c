#include "size.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int parse_with_default_unit(const char *text, u64 default_unit, u64 *out)
{
	unsigned long long value;
	u64 unit = default_unit;
	char *end;

	if (!text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno)
		return -ERANGE;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'B': unit = 1; end++; break;
	case 'K': unit = KiB; end++; break;
	case 'M': unit = MiB; end++; break;
	case 'G': unit = GiB; end++; break;
	case 'T': unit = TiB; end++; break;
	default: return -EINVAL;
	}
	/* Accept "512M", "512MB", "512MiB". */
	if (unit != 1 && (*end == 'i' || *end == 'I'))
		end++;
	if (unit != 1 && (*end == 'b' || *end == 'B'))
		end++;
	if (*end)
		return -EINVAL;
	if (value > UINT64_MAX / unit)
		return -ERANGE;
	*out = value * unit;
	return 0;
}

int parse_size(const char *text, u64 *out)
{
	return parse_with_default_unit(text, 1, out);
}

int parse_mem_size(const char *text, u64 *out)
{
	return parse_with_default_unit(text, MiB, out);
}

const char *format_size(u64 bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int i = 0;
	u64 scale = 1;

	while (i + 1 < ARRAY_SIZE(units) && bytes >= scale * 1024)
		scale *= 1024, i++;
	if (bytes % scale == 0)
		snprintf(buf, len, "%llu %s", (unsigned long long)(bytes / scale), units[i]);
	else
		snprintf(buf, len, "%.1f %s", (double)bytes / (double)scale, units[i]);
	return buf;
}
