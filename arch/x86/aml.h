/*
 * A tiny encoder for the ACPI Machine Language we need in the DSDT: names,
 * integers, packages, buffers, resource templates, scopes and devices
 * (ACPI 6.5 chapter 20 for the encoding, 6.4 for resource descriptors).
 * Nested objects are written in place; aml_close() back-patches the
 * package length once the content is known.
 */
#ifndef ARCH_X86_AML_H
#define ARCH_X86_AML_H

#include <stddef.h>

#include "core/util.h"

struct aml {
	u8 *buf;
	size_t len, cap;
	bool overflow;
	size_t open[16]; /* start offsets of unclosed PkgLength objects */
	unsigned int depth;
};

void aml_init(struct aml *a, u8 *buf, size_t cap);

void aml_name(struct aml *a, const char *name); /* Name(NAME, <next object>) */
void aml_integer(struct aml *a, u64 value);
void aml_string(struct aml *a, const char *s);
void aml_eisaid(struct aml *a, const char *id); /* "PNP0A03" */

void aml_scope(struct aml *a, const char *name);   /* opens */
void aml_device(struct aml *a, const char *name);  /* opens */
void aml_package(struct aml *a, u8 nelements);     /* opens */
void aml_resources(struct aml *a);                 /* opens a ResourceTemplate buffer */
void aml_close(struct aml *a);
void aml_resources_end(struct aml *a);             /* end tag, size, close */

/* Resource descriptors, inside aml_resources(). */
void aml_res_bus_numbers(struct aml *a, u16 first, u16 last);
void aml_res_io_fixed(struct aml *a, u16 base, u8 len);
void aml_res_io_window(struct aml *a, u16 first, u16 last);
void aml_res_mem32_window(struct aml *a, u32 first, u32 last);
void aml_res_mem64_window(struct aml *a, u64 first, u64 last);

#endif
