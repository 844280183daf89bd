#include "aml.h"

#include <stdlib.h>
#include <string.h>

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_STRING 0x0d
#define AML_QWORD 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT_PREFIX 0x5b
#define AML_DEVICE 0x82
#define AML_ROOT 0x5c
#define AML_DUAL_NAME 0x2e

/* PkgLength is reserved at its longest (4 bytes) and shrunk on close. */
#define PKGLEN_MAX 4

void aml_init(struct aml *a, u8 *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

static void put(struct aml *a, const void *data, size_t len)
{
	if (a->len + len > a->cap) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, data, len);
	a->len += len;
}

static void put8(struct aml *a, u8 v) { put(a, &v, 1); }
static void put16(struct aml *a, u16 v) { put8(a, v & 0xff); put8(a, v >> 8); }
static void put32(struct aml *a, u32 v) { put16(a, v & 0xffff); put16(a, v >> 16); }
static void put64(struct aml *a, u64 v) { put32(a, (u32)v); put32(a, v >> 32); }

/* "\\_SB_", "PCI0", "_S5_" or "\\_SB_.PCI0"; short segments are padded with '_'. */
static void put_namestring(struct aml *a, const char *name)
{
	char segs[2][4];
	unsigned int nsegs = 0;

	if (*name == '\\') {
		put8(a, AML_ROOT);
		name++;
	}
	while (*name && nsegs < 2) {
		unsigned int i = 0;

		memset(segs[nsegs], '_', 4);
		while (*name && *name != '.' && i < 4)
			segs[nsegs][i++] = *name++;
		if (*name == '.')
			name++;
		nsegs++;
	}
	if (nsegs == 2)
		put8(a, AML_DUAL_NAME);
	put(a, segs[0], 4 * nsegs);
}

static void open_pkg(struct aml *a)
{
	if (a->depth == ARRAY_SIZE(a->open)) {
		a->overflow = true;
		return;
	}
	a->open[a->depth++] = a->len;
	put(a, "\0\0\0\0", PKGLEN_MAX);
}

void aml_close(struct aml *a)
{
	size_t start, body, total;
	unsigned int nbytes;

	if (!a->depth || a->overflow)
		return;
	start = a->open[--a->depth];
	body = a->len - start - PKGLEN_MAX;
	/* The encoded length counts its own bytes (ACPI 6.5, 20.2.4). */
	nbytes = body + 1 < 0x40 ? 1 : body + 2 < 0x1000 ? 2 : body + 3 < 0x100000 ? 3 : 4;
	total = body + nbytes;
	if (nbytes == 1) {
		a->buf[start] = (u8)total;
	} else {
		a->buf[start] = (u8)(((nbytes - 1) << 6) | (total & 0xf));
		for (unsigned int i = 1; i < nbytes; i++)
			a->buf[start + i] = (u8)(total >> (4 + 8 * (i - 1)));
	}
	memmove(a->buf + start + nbytes, a->buf + start + PKGLEN_MAX, body);
	a->len -= PKGLEN_MAX - nbytes;
}

void aml_name(struct aml *a, const char *name)
{
	put8(a, AML_NAME);
	put_namestring(a, name);
}

void aml_integer(struct aml *a, u64 value)
{
	if (value == 0) {
		put8(a, AML_ZERO);
	} else if (value == 1) {
		put8(a, AML_ONE);
	} else if (value <= 0xff) {
		put8(a, AML_BYTE);
		put8(a, (u8)value);
	} else if (value <= 0xffff) {
		put8(a, AML_WORD);
		put16(a, (u16)value);
	} else if (value <= 0xffffffff) {
		put8(a, AML_DWORD);
		put32(a, (u32)value);
	} else {
		put8(a, AML_QWORD);
		put64(a, value);
	}
}

void aml_string(struct aml *a, const char *s)
{
	put8(a, AML_STRING);
	put(a, s, strlen(s) + 1);
}

void aml_eisaid(struct aml *a, const char *id)
{
	/* Three letters in 5 bits each, then four hex digits; stored big-endian. */
	u32 v = (u32)((id[0] - 0x40) << 26 | (id[1] - 0x40) << 21 | (id[2] - 0x40) << 16);
	char hex[5] = { id[3], id[4], id[5], id[6], 0 };

	v |= (u32)strtoul(hex, NULL, 16);
	put8(a, AML_DWORD);
	put32(a, __builtin_bswap32(v));
}

void aml_scope(struct aml *a, const char *name)
{
	put8(a, AML_SCOPE);
	open_pkg(a);
	put_namestring(a, name);
}

void aml_device(struct aml *a, const char *name)
{
	put8(a, AML_EXT_PREFIX);
	put8(a, AML_DEVICE);
	open_pkg(a);
	put_namestring(a, name);
}

void aml_package(struct aml *a, u8 nelements)
{
	put8(a, AML_PACKAGE);
	open_pkg(a);
	put8(a, nelements);
}

/*
 * A ResourceTemplate is a Buffer whose size operand is only known at the
 * end: reserve a DWord size now, fill it in when the buffer closes.
 */
void aml_resources(struct aml *a)
{
	put8(a, AML_BUFFER);
	open_pkg(a);
	put8(a, AML_DWORD);
	put32(a, 0);
}

void aml_resources_end(struct aml *a)
{
	size_t size_at;

	if (!a->depth || a->overflow)
		return;
	put8(a, 0x79); /* end tag; checksum 0 means "not checked" */
	put8(a, 0x00);
	size_at = a->open[a->depth - 1] + PKGLEN_MAX + 1;
	if (!a->overflow) {
		u32 size = (u32)(a->len - size_at - 4);

		memcpy(a->buf + size_at, &size, 4);
	}
	aml_close(a);
}

static void res_large(struct aml *a, u8 tag, u16 len)
{
	put8(a, tag);
	put16(a, len);
}

/* Address space descriptors: a producer window, min and max fixed (6.4.3.5). */
#define RES_TYPE_MEMORY 0
#define RES_TYPE_IO 1
#define RES_TYPE_BUS 2
#define RES_FLAGS_WINDOW 0x0c
#define RES_MEM_RW_NONCACHEABLE 0x01

static void word_window(struct aml *a, u8 type, u8 type_flags, u16 first, u16 last)
{
	res_large(a, 0x88, 13);
	put8(a, type);
	put8(a, RES_FLAGS_WINDOW);
	put8(a, type_flags);
	put16(a, 0);                 /* granularity */
	put16(a, first);
	put16(a, last);
	put16(a, 0);                 /* translation */
	put16(a, (u16)(last - first + 1));
}

void aml_res_bus_numbers(struct aml *a, u16 first, u16 last)
{
	word_window(a, RES_TYPE_BUS, 0, first, last);
}

void aml_res_io_window(struct aml *a, u16 first, u16 last)
{
	word_window(a, RES_TYPE_IO, 0x03 /* ISA and non-ISA ranges */, first, last);
}

void aml_res_io_fixed(struct aml *a, u16 base, u8 len)
{
	put8(a, 0x47);               /* I/O port descriptor, 7 bytes */
	put8(a, 0x01);               /* 16-bit decode */
	put16(a, base);
	put16(a, base);
	put8(a, 1);
	put8(a, len);
}

void aml_res_mem32_window(struct aml *a, u32 first, u32 last)
{
	res_large(a, 0x87, 23);
	put8(a, RES_TYPE_MEMORY);
	put8(a, RES_FLAGS_WINDOW);
	put8(a, RES_MEM_RW_NONCACHEABLE);
	put32(a, 0);
	put32(a, first);
	put32(a, last);
	put32(a, 0);
	put32(a, last - first + 1);
}

void aml_res_mem64_window(struct aml *a, u64 first, u64 last)
{
	res_large(a, 0x8a, 43);
	put8(a, RES_TYPE_MEMORY);
	put8(a, RES_FLAGS_WINDOW);
	put8(a, RES_MEM_RW_NONCACHEABLE);
	put64(a, 0);
	put64(a, first);
	put64(a, last);
	put64(a, 0);
	put64(a, last - first + 1);
}
