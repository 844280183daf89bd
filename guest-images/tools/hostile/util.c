/*
 * The op counter, die() and the seeded randomness of util.h: one place,
 * so that every attack draws from the one sequence HOSTILE_SEED replays.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

unsigned long ops;

void die(const char *what)
{
	fprintf(stderr, "hostile: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* --- randomness (xorshift64*, reproducible from HOSTILE_SEED) ------------- */

u64 rng_state;

u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

u64 rnd_below(u64 n)
{
	return n ? rnd() % n : 0;
}
