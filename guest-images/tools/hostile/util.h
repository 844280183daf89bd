/*
 * What every part of the hostile guest shares: fixed-width types, the
 * count of operations each attack reports (HOSTILE tried NAME ops=N), the
 * exit for a setup step that failed, and the randomness HOSTILE_SEED
 * seeds so that a failed run can be replayed.
 */
#ifndef HOSTILE_UTIL_H
#define HOSTILE_UTIL_H

#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define PAGE 4096u

/* Register, port and config space accesses so far (the storm threads add theirs). */
extern unsigned long ops;

void die(const char *what);

/* xorshift64*: main() seeds it, each storm thread derives its own from it. */
extern u64 rng_state;

u64 rnd(void);
u64 rnd_below(u64 n);

#endif
