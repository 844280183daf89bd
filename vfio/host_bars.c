#include "host_bars.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A hex number "0x..." of at most 16 digits; *pos moves past it and its spaces. */
static bool parse_hex(const char *text, size_t len, size_t *pos, u64 *out)
{
	size_t i = *pos, digits = 0;
	u64 v = 0;

	while (i < len && text[i] == ' ')
		i++;
	if (i + 2 > len || text[i] != '0' || (text[i + 1] != 'x' && text[i + 1] != 'X'))
		return false;
	for (i += 2; i < len; i++, digits++) {
		char c = text[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			break;
		if (digits == 16)
			return false;
		v = v << 4 | d;
	}
	if (!digits)
		return false;
	*pos = i;
	*out = v;
	return true;
}

int host_parse_pci_resources(const char *text, size_t len, struct pci_resource *res,
			     unsigned int max, char *err, size_t errlen)
{
	unsigned int line = 0;
	size_t pos = 0;

	while (pos < len && line < max) {
		u64 start, end, flags;

		line++;
		if (!parse_hex(text, len, &pos, &start) || !parse_hex(text, len, &pos, &end) ||
		    !parse_hex(text, len, &pos, &flags) || (pos < len && text[pos] != '\n')) {
			snprintf(err, errlen, "line %u is not three 64-bit hex numbers", line);
			return -EINVAL;
		}
		if (end < start && !(start == 0 && end == 0)) {
			snprintf(err, errlen, "line %u ends (0x%llx) below its start (0x%llx)", line,
				 (unsigned long long)end, (unsigned long long)start);
			return -EINVAL;
		}
		res[line - 1].start = start;
		/* "0x0 0x0 0x0": unused. A range to 2^64-1 cannot be a BAR: treated as unused too. */
		res[line - 1].size = (end == 0 && start == 0) || end - start == ~0ULL ? 0 : end - start + 1;
		res[line - 1].flags = flags;
		pos++; /* the newline */
	}
	return (int)line;
}
