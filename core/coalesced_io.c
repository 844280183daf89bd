/* KVM's coalesced MMIO/PIO ring: zones registered on demand, writes replayed in order. */
#include "coalesced_io.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "vm.h"

void coalesced_io_init(struct coalesced_io *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

static int zone_ioctl(struct vm *vm, unsigned int id, bool on)
{
	struct coalesced_io *c = &vm->coalesced;
	struct kvm_coalesced_mmio_zone zone = {
		.addr = c->zones[id].addr,
		.size = c->zones[id].size,
		.pio = c->zones[id].pio,
	};

	return ioctl(vm->vm_fd, on ? KVM_REGISTER_COALESCED_MMIO : KVM_UNREGISTER_COALESCED_MMIO,
		     &zone) < 0 ? -errno : 0;
}

/* Makes KVM's view of zone id what the device wants; lock held. */
static void apply(struct vm *vm, unsigned int id)
{
	struct coalesced_io *c = &vm->coalesced;
	bool on = c->zones[id].wanted && c->ring;
	int err;

	if (on == c->zones[id].registered)
		return;
	err = zone_ioctl(vm, id, on);
	if (err) {
		/* Unbatched writes still work; only a failed "off" would lose order, and KVM never refuses one it accepted. */
		pr_debug("coalesced %s zone 0x%llx: %s", c->zones[id].pio ? "PIO" : "MMIO",
			 (unsigned long long)c->zones[id].addr, strerror(-err));
		return;
	}
	c->zones[id].registered = on;
}

int coalesced_io_add(struct vm *vm, bool pio, u64 addr, u32 size)
{
	struct coalesced_io *c = &vm->coalesced;
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

static void replay(struct vm *vm)
{
	struct coalesced_io *c = &vm->coalesced;
	struct kvm_coalesced_mmio_ring *ring = c->ring;

	/* KVM fills [first, last); first is ours to advance. */
	while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		struct kvm_coalesced_mmio *e;

		if (ring->first >= c->entries) {
			/* Only we write first; a value out of range means the ring is not what we think. */
			pr_warn("coalesced I/O ring index %u out of range: batching stops", ring->first);
			for (unsigned int i = 0; i < c->nzones; i++) {
				c->zones[i].wanted = false;
				apply(vm, i);
			}
			c->ring = NULL;
			return;
		}
		e = &ring->coalesced_mmio[ring->first];
		io_bus_access(e->pio ? &vm->pio : &vm->mmio, e->phys_addr, e->data,
			      e->len < sizeof(e->data) ? e->len : (u32)sizeof(e->data), true);
		__atomic_store_n(&ring->first, (ring->first + 1) % c->entries, __ATOMIC_RELEASE);
	}
}

void coalesced_io_flush(struct vm *vm)
{
	struct coalesced_io *c = &vm->coalesced;
	struct kvm_coalesced_mmio_ring *ring = __atomic_load_n(&c->ring, __ATOMIC_ACQUIRE);

	if (!ring || ring->first == __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&c->lock);
	if (c->ring)
		replay(vm);
	pthread_mutex_unlock(&c->lock);
}

void coalesced_io_set(struct vm *vm, int id, bool on)
{
	struct coalesced_io *c = &vm->coalesced;

	if (id < 0 || (unsigned int)id >= c->nzones)
		return;
	pthread_mutex_lock(&c->lock);
	c->zones[id].wanted = on;
	apply(vm, (unsigned int)id);
	pthread_mutex_unlock(&c->lock);
}

void coalesced_io_start(struct vm *vm, void *vcpu_run_mapping)
{
	struct coalesced_io *c = &vm->coalesced;
	int page_offset = kvm_check_extension(vm, KVM_CAP_COALESCED_MMIO);
	long page = sysconf(_SC_PAGESIZE);

	if (page_offset <= 0 || page <= 0 ||
	    (long)(page_offset + 1) * page > vm->vcpu_mmap_size)
		return; /* no ring: every write exits */
	for (unsigned int i = 0; i < c->nzones; i++) {
		if (c->zones[i].pio && kvm_check_extension(vm, KVM_CAP_COALESCED_PIO) <= 0)
			return;
	}
	pthread_mutex_lock(&c->lock);
	c->entries = (u32)((page - sizeof(struct kvm_coalesced_mmio_ring)) /
			   sizeof(struct kvm_coalesced_mmio));
	__atomic_store_n(&c->ring,
			 (struct kvm_coalesced_mmio_ring *)((u8 *)vcpu_run_mapping + page_offset * page),
			 __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < c->nzones; i++)
		apply(vm, i);
	pthread_mutex_unlock(&c->lock);
}
