/*
 * Guest writes KVM batches instead of exiting for each: KVM appends them
 * to a ring in the vCPU mapping and userspace replays them, in order,
 * before it handles any exit, so a read or an unbatched write never
 * overtakes them. Worth it where a guest writes a register in a tight
 * loop between reads that exit anyway (the UART's transmit register: a
 * kernel printing its boot log takes one exit per character, not two).
 */
#ifndef CORE_COALESCED_IO_H
#define CORE_COALESCED_IO_H

#include <pthread.h>

#include "util.h"

struct io_bus;
struct kvm_coalesced_mmio_ring;

#define COALESCED_IO_ZONES 4

struct coalesced_io {
	pthread_mutex_t lock;                 /* one replayer at a time */
	const struct io_bus *pio, *mmio;      /* where replayed writes go */
	int vm_fd;                            /* -1 until coalesced_io_start */
	struct kvm_coalesced_mmio_ring *ring; /* NULL until the vCPUs exist, or without KVM support */
	u32 entries;                          /* ring slots */
	unsigned int nzones;
	struct {
		u64 addr;
		u32 size;
		bool pio;
		bool wanted;     /* the device asks for batching now */
		bool registered; /* KVM batches it now */
	} zones[COALESCED_IO_ZONES];
};

void coalesced_io_init(struct coalesced_io *c, const struct io_bus *pio,
		       const struct io_bus *mmio);

/* Declares a zone of writes that may be batched (off until coalesced_io_set). Returns its id or -errno. */
int coalesced_io_add(struct coalesced_io *c, bool pio, u64 addr, u32 size);

/*
 * Turns batching of zone id on or off. Off takes effect for the next guest
 * write: what is already batched is replayed first. Without a ring (KVM
 * lacks the capability) nothing is batched and every write exits as before.
 */
void coalesced_io_set(struct coalesced_io *c, int id, bool on);

/* Finds the ring in a vCPU's mapping (mapping_size bytes) and registers the wanted zones. */
void coalesced_io_start(struct coalesced_io *c, int vm_fd, void *vcpu_run_mapping,
			long mapping_size);

/* Replays every batched write to its bus. Any thread; cheap when the ring is empty. */
void coalesced_io_flush(struct coalesced_io *c);

#endif
