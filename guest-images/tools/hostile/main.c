/*
 * hostile: a guest program that attacks the VMM it runs under (x86-64, as
 * root in the L2 test guest). Each attack is one invocation:
 *
 *   hostile list                       the attack names, one a line
 *   hostile ATTACK BDF [OTHER_BDF]     attack the PCI function BDF
 *
 * BDF is a device the caller has taken away from its guest driver (echo
 * BDF > .../driver/unbind): we program it by hand, through port 0xcf8
 * (iopl), ECAM and its BAR mapped from /dev/mem (the guest boots with
 * iomem=relaxed). OTHER_BDF is a device still in use (the disk the caller
 * reads back afterwards): BAR moves aim at it. Virtqueue rings live in
 * pages of this process whose guest-physical addresses /proc/self/pagemap
 * gives (root only).
 *
 * HOSTILE_SEED (environment) seeds the randomized attacks; the seed is
 * printed so that a failure can be replayed. Every attack ends with
 *   HOSTILE tried NAME ops=N
 * and the config space of BDF is restored (BARs, command) so that the
 * caller can give the device back to its driver.
 *
 * Build: gcc -static -O2 -Wall -Wextra -pthread -o hostile *.c
 * (guest-images/build.sh does, for every folder in tools/).
 *
 * This file: the attack table, the arguments, and the check that a reset
 * device writes nothing more. The rest, one concern a file: util.c (ops,
 * die, randomness), guest_mem.c (RAM, /dev/mem, DMA pages), pci_cfg.c
 * (config space), vdev.c (the virtio-pci device driven by hand), nasty.c
 * (hostile addresses and lengths), attacks_virtio.c and attacks_pci.c.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <time.h>
#include <unistd.h>

#include "attacks.h"
#include "guest_mem.h"
#include "pci_cfg.h"
#include "util.h"
#include "vdev.h"

/*
 * After its reset the device writes nothing more into guest memory: our
 * pages, filled once it is reset, still hold the fill a while later. A
 * write now would land, once we exit, in whatever the kernel gives those
 * pages next (a shell once died of it). Returns the bytes found changed.
 */
static unsigned int late_writes(void)
{
	unsigned int changed = 0;

	for (unsigned int i = 0; i < 8; i++)
		memset(dma[i].virt, 0xa5, PAGE);
	usleep(300000);
	for (unsigned int i = 0; i < 8; i++)
		for (unsigned int off = 0; off < PAGE; off++)
			if (dma[i].virt[off] != 0xa5 && !changed++)
				printf("HOSTILE late write after reset: page %u (0x%llx) offset %u\n", i,
				       (unsigned long long)dma[i].phys, off);
	return changed;
}

static const char *const attacks[] = {
	"vq-loops", "vq-addresses", "vq-indices", "vq-rings", "vq-random", "reset-mid-io",
	"config-sweep", "config-absent", "config-same", "bar-moves", "msix", "storm",
};

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "";
	const char *seed = getenv("HOSTILE_SEED");
	unsigned int late = 0;

	if (!strcmp(name, "list")) {
		for (unsigned int i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++)
			puts(attacks[i]);
		return 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: hostile list | hostile ATTACK BDF [OTHER_BDF]\n");
		return 2;
	}
	rng_state = seed ? strtoull(seed, NULL, 0) : (u64)time(NULL);
	if (!rng_state)
		rng_state = 1;
	printf("HOSTILE seed=%llu attack=%s device=%s\n", (unsigned long long)rng_state, name,
	       argv[2]);
	fflush(stdout);
	if (iopl(3) < 0)
		die("iopl");
	read_iomem();
	if (!strcmp(name, "config-same")) {
		/* A device in use: nothing but rewriting what is there. */
		attack_config_same(parse_bdf(argv[2]));
		printf("HOSTILE tried %s ops=%lu\n", name, ops);
		return 0;
	}
	dma_init();
	vdev_open(argv[2]);
	cfg_save(vd.bdf);
	/* A device that is not virtio (a passed-through NIC) takes the config and BAR attacks only. */
	if (!vd.virtio && strcmp(name, "config-sweep") && strcmp(name, "config-absent") &&
	    strcmp(name, "bar-moves")) {
		fprintf(stderr, "hostile: %s needs a virtio device\n", name);
		return 2;
	}
	if (!strcmp(name, "vq-loops"))
		attack_vq_loops();
	else if (!strcmp(name, "vq-addresses"))
		attack_vq_addresses();
	else if (!strcmp(name, "vq-indices"))
		attack_vq_indices();
	else if (!strcmp(name, "vq-rings"))
		attack_vq_rings();
	else if (!strcmp(name, "vq-random"))
		attack_vq_random();
	else if (!strcmp(name, "reset-mid-io"))
		attack_reset_mid_io();
	else if (!strcmp(name, "config-sweep"))
		attack_config_sweep();
	else if (!strcmp(name, "config-absent"))
		attack_config_absent();
	else if (!strcmp(name, "bar-moves"))
		attack_bar_moves(argc > 3 ? argv[3] : NULL);
	else if (!strcmp(name, "msix"))
		attack_msix();
	else if (!strcmp(name, "storm"))
		attack_storm();
	else {
		fprintf(stderr, "hostile: unknown attack '%s' (hostile list)\n", name);
		return 2;
	}
	/* Leave the device quiet and where it was, for its driver to take back. */
	if (strcmp(name, "config-sweep") && strcmp(name, "config-absent")) {
		vdev_reset();
		late = vd.virtio ? late_writes() : 0;
		late += dma_moved();
	}
	cfg_restore(vd.bdf);
	printf("HOSTILE tried %s ops=%lu\n", name, ops);
	return late ? 3 : 0;
}
