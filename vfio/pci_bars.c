/*
 * BARs of a passed-through function. Each memory BAR gets a window slot
 * from the planner's PCI windows; its pages are mmapped from the VFIO
 * region and handed to KVM as memslots at the BAR's guest address, so
 * the guest reaches the device without exits. The pages holding the
 * MSI-X table and PBA stay out of the memslots: those accesses trap and
 * are emulated. When the guest moves a BAR or turns decoding off, the
 * memslots follow.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pci_dev.h"
#include "core/log.h"
#include "core/vm.h"

/* Memslots and mmaps work in host pages: 4, 16 or 64 KiB. */
#define PAGE host_page_size()

/* Accesses that trap: MSI-X structures, or BAR parts without an mmap. */
static void bar_trap(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct vfio_bar *bar = opaque;
	struct vfio_pci_dev *d = bar->owner;

	if (vfio_msix_access(d, bar->index, offset, data, len, is_write))
		return;
	/* Anything else on a trapped page (registers, doorbells) goes to the device. */
	if (is_write) {
		if (pwrite(d->fd, data, len, (off_t)(bar->region_offset + offset)) != (ssize_t)len)
			pr_debug("%s: BAR%u write at 0x%llx failed", d->bdf, bar->index,
				 (unsigned long long)offset);
	} else if (pread(d->fd, data, len, (off_t)(bar->region_offset + offset)) != (ssize_t)len) {
		memset(data, 0xff, len);
	}
}

/* Page ranges of the BAR that must trap, sorted: the MSI-X table and PBA there. */
static unsigned int trapped_ranges(const struct vfio_pci_dev *d, unsigned int index,
				   u64 start[2], u64 end[2])
{
	if (!d->msix_cap)
		return 0;
	return msix_layout_trapped(&d->msix_layout, index, d->bars[index].size, PAGE, start, end);
}

/*
 * KVM may refuse a memslot (no slot left, an overlap with another one).
 * The BAR still works, slowly: its accesses then exit and bar_trap takes
 * them to the device. Said once per BAR, whatever the guest does next.
 */
static void memslot_refused(struct vfio_pci_dev *d, struct vfio_bar *bar, const char *what,
			    u64 gpa, int err)
{
	if (bar->warned) {
		pr_debug("%s: BAR%u: %s at 0x%llx refused again: %s", d->bdf, bar->index, what,
			 (unsigned long long)gpa, strerror(-err));
		return;
	}
	bar->warned = true;
	pr_warn("%s: BAR%u: KVM refused to %s at 0x%llx (%s); the guest's accesses go through the VMM, slowly, until a move or re-enable of the BAR succeeds (not repeated)",
		d->bdf, bar->index, what, (unsigned long long)gpa, strerror(-err));
}

static void unmap_bar(struct vfio_pci_dev *d, struct vfio_bar *bar)
{
	for (unsigned int s = 0; s < VFIO_BAR_MAX_SLOTS; s++) {
		int err;

		if (!bar->slot_used[s])
			continue;
		/* A slot KVM would not delete stays ours: deleting it is retried next time. */
		err = kvm_set_memslot(d->vm, bar->slots[s], 0, 0, NULL);
		if (err)
			memslot_refused(d, bar, "delete its memslot", bar->mapped_at, err);
		else
			bar->slot_used[s] = false;
	}
	bar->mapped_at = 0;
	bar->incomplete = false;
}

static void map_bar(struct vfio_pci_dev *d, unsigned int index, u64 gpa)
{
	struct vfio_bar *bar = &d->bars[index];
	u64 tstart[2], tend[2], cursor = 0;
	unsigned int ntrap = trapped_ranges(d, index, tstart, tend), slot = 0;

	bar->incomplete = false;
	for (unsigned int t = 0; t <= ntrap; t++) {
		u64 piece_end = t < ntrap ? MIN(tstart[t], bar->size) : bar->size;

		if (piece_end > cursor && slot < VFIO_BAR_MAX_SLOTS) {
			int err = kvm_set_memslot(d->vm, bar->slots[slot], gpa + cursor,
						  piece_end - cursor, bar->map + cursor);

			bar->slot_used[slot] |= !err;
			if (err) {
				memslot_refused(d, bar, "map it", gpa + cursor, err);
				bar->incomplete = true;
			}
			slot++;
		}
		if (t < ntrap)
			cursor = MIN(tend[t], bar->size);
	}
	bar->mapped_at = gpa;
}

void vfio_bars_update_mappings(struct vfio_pci_dev *d)
{
	bool decode = pci_memory_enabled(&d->pci);

	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_bar *bar = &d->bars[i];
		u64 gpa = pci_bar_address(&d->pci, i);

		if (!bar->present || !bar->map)
			continue;
		/*
		 * A BAR being sized reads back as its mask: never map that. Nor a
		 * BAR moved out of the PCI windows: a memslot there would hide
		 * the LAPIC, IOAPIC or ECAM from the guest's own CPUs.
		 */
		if (!decode || !gpa || gpa + bar->size < gpa ||
		    (d->bus && !pci_range_in_windows(d->bus, gpa, bar->size))) {
			if (bar->mapped_at)
				unmap_bar(d, bar);
			continue;
		}
		/* Mapped as asked; a mapping KVM refused is tried again now. */
		if (bar->mapped_at == gpa && !bar->incomplete)
			continue;
		if (bar->mapped_at)
			unmap_bar(d, bar);
		map_bar(d, i, gpa);
	}
}

static int probe_bar(struct vfio_pci_dev *d, unsigned int index, u32 raw)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };
	struct vfio_bar *bar = &d->bars[index];

	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &info) < 0 || !info.size)
		return 0;
	if (raw & PCI_BASE_ADDRESS_SPACE_IO) {
		pr_info("%s: I/O BAR%u is not offered to the guest", d->bdf, index);
		return 0;
	}
	bar->size = info.size < 16 ? 16 : info.size;
	if (bar->size & (bar->size - 1)) {
		pr_err("%s: BAR%u is 0x%llx bytes, not a power of two", d->bdf, index,
		       (unsigned long long)info.size);
		return -EINVAL;
	}
	bar->is64 = (raw & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
	if (bar->is64 && index + 1 >= PCI_NUM_BARS) {
		pr_err("%s: BAR%u says it is 64-bit, but no BAR follows for its upper half", d->bdf,
		       index);
		return -EINVAL;
	}
	bar->prefetch = raw & PCI_BASE_ADDRESS_MEM_PREFETCH;
	bar->region_offset = info.offset;
	bar->owner = d;
	bar->index = index;
	for (unsigned int s = 0; s < VFIO_BAR_MAX_SLOTS; s++)
		bar->slots[s] = -1;
	if (info.flags & VFIO_REGION_INFO_FLAG_MMAP && info.size >= PAGE) {
		bar->map = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
				(off_t)info.offset);
		if (bar->map == MAP_FAILED)
			bar->map = NULL;
	}
	if (bar->map) {
		for (unsigned int s = 0; s < VFIO_BAR_MAX_SLOTS; s++) {
			bar->slots[s] = kvm_memslot_alloc(d->vm);
			if (bar->slots[s] < 0)
				return -ENOSPC;
		}
	}
	bar->present = true;
	return 0;
}

int vfio_bars_probe(struct vfio_pci_dev *d)
{
	u32 raw[PCI_NUM_BARS];
	int err;

	/* The hardware's BAR registers tell each BAR's type. */
	if (pread(d->fd, raw, sizeof(raw), (off_t)(d->config_offset + PCI_BASE_ADDRESS_0)) !=
	    (ssize_t)sizeof(raw))
		return -EIO;
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		err = probe_bar(d, i, raw[i]);
		if (err) {
			if (err != -EINVAL)
				pr_err("%s: cannot set up BAR%u: %s", d->bdf, i, strerror(-err));
			return err;
		}
		if (d->bars[i].is64)
			i++; /* the upper half of a 64-bit BAR */
	}
	return 0;
}

int vfio_bars_assign(struct vfio_pci_dev *d)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_bar *bar = &d->bars[i];
		int err;

		if (!bar->present)
			continue;
		err = pci_bar_assign_at(&d->pci, i, bar->size, bar->is64, bar->guest_addr, bar_trap,
					bar);
		if (err)
			return err;
		/* Keep the prefetchable bit the hardware reports. */
		if (bar->prefetch)
			d->pci.config[PCI_BASE_ADDRESS_0 + 4 * i] |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	}
	return 0;
}

void vfio_bars_release(struct vfio_pci_dev *d)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_bar *bar = &d->bars[i];

		if (bar->mapped_at)
			unmap_bar(d, bar);
		if (bar->map)
			munmap(bar->map, bar->size);
		bar->map = NULL;
	}
}
