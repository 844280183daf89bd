/* KVM's coalesced MMIO/PIO ring: zones registered on demand, writes replayed in order. */
#include "coalesced_io.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "io_bus.h"
#include "log.h"

void coalesced_io_init(struct coalesced_io *c, const struct io_bus *pio,
		       const struct io_bus *mmio)
{
	pthread_mutexattr_t attr;

	memset(c, 0, sizeof(*c));
	/*
	 * Recursive: a replayed write may end batching (the UART's first
	 * transmit interrupt), and turning its zone off takes this lock on the
	 * thread that holds it for the replay.
	 */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&c->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	c->pio = pio;
	c->mmio = mmio;
	c->vm_fd = -1;
}

static int zone_ioctl(struct coalesced_io *c, unsigned int id, bool on)
{
	struct kvm_coalesced_mmio_zone zone = {
		.addr = c->zones[id].addr,
		.size = c->zones[id].size,
		.pio = c->zones[id].pio,
	};

	return ioctl(c->vm_fd, on ? KVM_REGISTER_COALESCED_MMIO : KVM_UNREGISTER_COALESCED_MMIO,
		     &zone) < 0 ? -errno : 0;
}

/* Makes KVM's view of zone id what the device wants; lock held. */
static void apply(struct coalesced_io *c, unsigned int id)
{
	bool on = c->zones[id].wanted && c->ring;
	int err;

	if (on == c->zones[id].registered)
		return;
	err = zone_ioctl(c, id, on);
	if (err) {
		/* Unbatched writes still work; only a failed "off" would lose order, and KVM never refuses one it accepted. */
		pr_debug("coalesced %s zone 0x%llx: %s", c->zones[id].pio ? "PIO" : "MMIO",
			 (unsigned long long)c->zones[id].addr, strerror(-err));
		return;
	}
	c->zones[id].registered = on;
}

int coalesced_io_add(struct coalesced_io *c, bool pio, u64 addr, u32 size)
{
	int id;

	pthread_mutex_lock(&c->lock);
	if (c->nzones == COALESCED_IO_ZONES) {
		pthread_mutex_unlock(&c->lock);
		return -ENOSPC;
	}
	id = (int)c->nzones++;
	c->zones[id].addr = addr;
	c->zones[id].size = size;
	c->zones[id].pio = pio;
	pthread_mutex_unlock(&c->lock);
	return id;
}

static void replay(struct coalesced_io *c)
{
	struct kvm_coalesced_mmio_ring *ring = c->ring;

	/* KVM fills [first, last); first is ours to advance. */
	while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		struct kvm_coalesced_mmio *e;

		if (ring->first >= c->entries) {
			/* Only we write first; a value out of range means the ring is not what we think. */
			pr_warn("coalesced I/O ring index %u out of range: batching stops", ring->first);
			for (unsigned int i = 0; i < c->nzones; i++) {
				c->zones[i].wanted = false;
				apply(c, i);
			}
			c->ring = NULL;
			return;
		}
		e = &ring->coalesced_mmio[ring->first];
		io_bus_access(e->pio ? c->pio : c->mmio, e->phys_addr, e->data,
			      e->len < sizeof(e->data) ? e->len : (u32)sizeof(e->data), true);
		__atomic_store_n(&ring->first, (ring->first + 1) % c->entries, __ATOMIC_RELEASE);
	}
}

void coalesced_io_flush(struct coalesced_io *c)
{
	struct kvm_coalesced_mmio_ring *ring = __atomic_load_n(&c->ring, __ATOMIC_ACQUIRE);

	if (!ring || ring->first == __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&c->lock);
	if (c->ring)
		replay(c);
	pthread_mutex_unlock(&c->lock);
}

void coalesced_io_set(struct coalesced_io *c, int id, bool on)
{
	if (id < 0 || (unsigned int)id >= c->nzones)
		return;
	pthread_mutex_lock(&c->lock);
	c->zones[id].wanted = on;
	apply(c, (unsigned int)id);
	pthread_mutex_unlock(&c->lock);
}

void coalesced_io_start(struct coalesced_io *c, int vm_fd, void *vcpu_run_mapping,
			long mapping_size)
{
	int page_offset = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	long page = sysconf(_SC_PAGESIZE);

	if (page_offset <= 0 || page <= 0 || (long)(page_offset + 1) * page > mapping_size)
		return; /* no ring: every write exits */
	for (unsigned int i = 0; i < c->nzones; i++) {
		if (c->zones[i].pio && ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0)
			return;
	}
	pthread_mutex_lock(&c->lock);
	c->vm_fd = vm_fd;
	c->entries = (u32)((page - sizeof(struct kvm_coalesced_mmio_ring)) /
			   sizeof(struct kvm_coalesced_mmio));
	__atomic_store_n(&c->ring,
			 (struct kvm_coalesced_mmio_ring *)((u8 *)vcpu_run_mapping + page_offset * page),
			 __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < c->nzones; i++)
		apply(c, i);
	pthread_mutex_unlock(&c->lock);
}
