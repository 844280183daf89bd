/*
 * Hostile addresses and lengths for descriptors, rings and MSI-X entries
 * (see nasty.h): shared by the virtqueue and the MSI-X attacks.
 */
#include "guest_mem.h"
#include "nasty.h"

/*
 * Interesting buffer addresses: holes, MMIO, the address limit, wraps, and
 * a start 8 bytes before the end of RAM (a buffer, at least 32 bytes, see
 * nasty_len, crosses it; so does every ring but a 1-entry avail ring,
 * which the device only reads). Never the middle of RAM, nor the legacy
 * area below 1 MiB (the VMM may back it, contiguous with RAM): the device
 * would write into memory the guest kernel uses, and we would crash
 * ourselves. (16 bytes before the end held a whole 1-entry queue, whose
 * used ring the device then wrote over whatever the guest kept there:
 * once a page of this very program, which died of SIGSEGV.)
 */
u64 nasty_addr(void)
{
	static const u64 fixed[] = {
		0xc0000000, 0xd0000000, 0xfec00000, 0xfee00000, 0xfd000000,
		0xfffff000, 0xffffffff, 0x7ffffffff000ull, 0x8000000000ull,
		0xfffffffffffff000ull, 0xffffffffffffffffull,
	};
	switch (rnd_below(3)) {
	case 0: return fixed[rnd_below(sizeof(fixed) / sizeof(fixed[0]))];
	case 1: return ram_end() - 8;
	default: return rnd() | 1ull << 63; /* far beyond any guest address */
	}
}

u32 nasty_len(void)
{
	static const u32 fixed[] = { 32, 33, 512, PAGE, 0x10000, 0x7fffffff, 0xffffffff };

	return rnd_below(2) ? fixed[rnd_below(sizeof(fixed) / sizeof(fixed[0]))] :
			      (u32)rnd() | 32;
}

/* A buffer inside one of our data pages (4-7): harmless wherever the device writes. */
void own_buffer(u64 *addr, u32 *len)
{
	u32 off = (u32)rnd_below(PAGE);

	*addr = dma[4 + rnd_below(4)].phys + off;
	*len = (u32)rnd_below(PAGE - off + 1);
}
