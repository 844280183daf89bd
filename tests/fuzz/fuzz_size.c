/*
 * Sizes as users type them (-m 512M): any text. A parsed size is the
 * number times its unit, exactly; formatting any size fits its buffer.
 */
#include <ctype.h>

#include "core/size.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	char *text = malloc(size + 1), buf[32];
	u64 bytes, mib, value;

	memcpy(text, data, size);
	text[size] = '\0';
	if (!parse_size(text, &bytes)) {
		FUZZ_CHECK(isdigit((unsigned char)text[0]));
		/* Digits alone are bytes for parse_size and MiB for -m. */
		if (strspn(text, "0123456789") == strlen(text)) {
			value = strtoull(text, NULL, 10);
			FUZZ_CHECK(bytes == value);
			FUZZ_CHECK(parse_mem_size(text, &mib) || mib == value * MiB);
		}
	}
	if (size >= 8) {
		memcpy(&value, data, 8);
		format_size(value, buf, sizeof(buf));
		FUZZ_CHECK(memchr(buf, '\0', sizeof(buf)));
	}
	free(text);
	return 0;
}
