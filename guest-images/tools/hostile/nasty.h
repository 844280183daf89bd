/*
 * Values that hurt, drawn from the seeded randomness: buffer and ring
 * addresses no device may use (holes, MMIO, the address limit, across the
 * end of RAM), lengths that wrap, and, to mix with them, buffers inside our
 * own data pages that are harmless wherever the device writes.
 */
#ifndef HOSTILE_NASTY_H
#define HOSTILE_NASTY_H

#include "util.h"

u64 nasty_addr(void);
u32 nasty_len(void);
void own_buffer(u64 *addr, u32 *len);

#endif
