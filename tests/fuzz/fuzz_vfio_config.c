/*
 * The virtualised config space and BARs of a passed-through function, as
 * a guest reaches them through the PCI bus and the MMIO windows, over a
 * device that may lie. The vfio/ code runs unchanged: it opens, probes,
 * places and adds the function exactly as vfio_attach does. Underneath,
 * this file plays the hardware through ioctl(), as the unit tests do:
 *  - the VFIO device is a memfd holding the config region and the BAR
 *    regions at vfio-pci's offsets (region index << 40), so pread, pwrite
 *    and mmap on it are the real calls; GET_INFO, GET_REGION_INFO,
 *    GET_IRQ_INFO and SET_IRQS answer from the input, SET_IRQS validated
 *    as the kernel does;
 *  - KVM is a made-up VM descriptor whose memslots are kept here, refused
 *    when the input says or when they overlap, as KVM refuses them.
 *
 * Invariants, after every access: a BAR's guest address stays aligned to
 * its size, a BAR not offered reads 0; the expansion ROM and the
 * multi-function bit stay hidden; MSI-X Enable reads as emulated;
 * every memslot lies inside a BAR that decodes at its current address
 * inside the PCI windows, maps the matching part of that BAR's mmap and
 * leaves the MSI-X table and PBA pages to trap; a BAR that decodes there
 * and was not refused is mapped; VFIO is asked only for MSI-X vectors the
 * table has and MSI vectors the capability offers, with live eventfds;
 * nothing the guest writes into its MSI-X table reaches the device; and
 * at the end no memslot and no descriptor is left.
 *
 * Input: a device, then guest and device events.
 *   u8 flags: bit 0 VFIO can reset it; bit 1 config region 4 KiB (else
 *      256 bytes); bit 2 MSI-X NORESIZE; bit 3 an INTx line; bits 4-5 how
 *      the host refuses SET_IRQS (0 never, 1 more than one MSI vector,
 *      2 MSI-X, 3 everything); bit 6 KVM refuses new memslots; bit 7 the
 *      config region is too short to read;
 *   u8 VFIO's MSI count (mod 33); u16 its MSI-X count (mod 2049);
 *   u8 KVM_CAP_NR_MEMSLOTS (0: not said);
 *   6 x u8 regions BAR0-5: bits 0-5 log2 of the size (0: none), bit 6
 *      one more byte (not a power of two), bit 7 mmap-able;
 *   256 bytes of config space (the BARs' type bits, the capabilities);
 *   then events: u8 op (bits 0-2 kind, bits 3-4 log2 of the width, bit 5
 *   write), u32 where, u64 value. Kinds: 0-2 config access at where; 3
 *   BAR access (BAR where >> 28, offset where & 0xfffffff); 4 window
 *   access; 5 the device changes its own config space; 6 the device
 *   signals (MSI-X vector, MSI vector or INTx); 7 the host changes its
 *   mind (value bit 0: KVM refuses memslots, bits 1-2: SET_IRQS mode).
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/irq_routing.h"
#include "core/log.h"
#include "core/vm.h"
#include "devices/pci.h"
#include "vfio/iommu.h"
#include "vfio/pci_dev.h"
#include "fuzz_input.h"
#include "tests/ioctl_shim.h"

#define FAKE_VM_FD 100000 /* beyond any descriptor this process opens */
#define REGION_OFFSET(index) ((u64)(index) << 40)
#define MAX_MEMSLOTS 64
#define MMIO32_BASE 0xc0000000ULL
#define MMIO32_SIZE (512 * MiB)
#define MMIO64_BASE 0x8000000000ULL
#define MMIO64_SIZE (64 * GiB)
/* Larger regions are offered without mmap: an address-space reservation per BAR is enough. */
#define MMAP_LIMIT (1 * GiB)

enum { REFUSE_NONE, REFUSE_MULTI_MSI, REFUSE_MSIX, REFUSE_ALL };

static struct fake_device {
	int fd;
	bool can_reset, noresize, intx, short_config;
	u32 config_size;
	u64 bar_size[PCI_NUM_BARS];
	bool bar_mmap[PCI_NUM_BARS];
	u32 msi_count, msix_count;
	unsigned int refuse_irqs;
	enum vfio_irq_kind kind; /* vfio_pci_core's: one at a time */
} dev;

static struct fake_kvm {
	bool refuse;
	u32 nr_memslots;
	struct kvm_userspace_memory_region slots[MAX_MEMSLOTS];
} kvm;

static struct vfio_pci_dev d; /* the device under test, for SET_IRQS's checks */

static int fail(int err)
{
	errno = err;
	return -1;
}

static int region_info(struct vfio_region_info *info)
{
	u32 index = info->index;

	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	info->offset = REGION_OFFSET(index);
	info->size = 0;
	if (index < PCI_NUM_BARS) {
		info->size = dev.bar_size[index];
		if (dev.bar_mmap[index])
			info->flags |= VFIO_REGION_INFO_FLAG_MMAP;
	} else if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		info->size = dev.config_size;
	} else if (index >= VFIO_PCI_NUM_REGIONS) {
		return fail(EINVAL);
	}
	return 0;
}

static u32 irq_count(u32 index)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return dev.intx;
	case VFIO_PCI_MSI_IRQ_INDEX:
		return dev.msi_count;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return dev.msix_count;
	default:
		return 0;
	}
}

static int irq_info(struct vfio_irq_info *info)
{
	if (info->index >= VFIO_PCI_NUM_IRQS)
		return fail(EINVAL);
	info->count = irq_count(info->index);
	info->flags = VFIO_IRQ_INFO_EVENTFD;
	if (info->index == VFIO_PCI_INTX_IRQ_INDEX)
		info->flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else if (dev.noresize)
		info->flags |= VFIO_IRQ_INFO_NORESIZE;
	return 0;
}

/* What vfio_pci_core's SET_IRQS checks, then what this input makes the host refuse. */
static int set_irqs(const struct vfio_irq_set *set)
{
	u32 data = set->flags & VFIO_IRQ_SET_DATA_TYPE_MASK, max;

	if (set->argsz < sizeof(*set) || set->index >= VFIO_PCI_NUM_IRQS ||
	    (set->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)))
		return fail(EINVAL);
	if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
		const int *fds = (const int *)set->data;

		if (set->argsz - sizeof(*set) < set->count * sizeof(int))
			return fail(EINVAL);
		/* Every descriptor handed over is live, or -1 (MSI-X: not armed). */
		for (u32 i = 0; i < set->count; i++)
			FUZZ_CHECK(fds[i] == -1 || fcntl(fds[i], F_GETFD) >= 0);
	}
	/* The VMM asks only for what the guest can see. */
	if (set->index == VFIO_PCI_MSIX_IRQ_INDEX && set->count)
		FUZZ_CHECK(d.msix_cap && set->start + set->count <= d.msix_layout.nvectors);
	if (set->index == VFIO_PCI_MSI_IRQ_INDEX && set->count)
		FUZZ_CHECK(d.msi_cap && set->start + set->count <= d.msi_max);
	max = irq_count(set->index);
	if (set->start >= max || set->count > max - set->start)
		return fail(EINVAL);
	if (set->index <= VFIO_PCI_MSIX_IRQ_INDEX) {
		enum vfio_irq_kind k = set->index == VFIO_PCI_INTX_IRQ_INDEX ? VFIO_IRQ_INTX :
				       set->index == VFIO_PCI_MSI_IRQ_INDEX	? VFIO_IRQ_MSI :
										  VFIO_IRQ_MSIX;
		u32 action = set->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

		/*
		 * The kernel refuses a second kind while one is set, and turning
		 * off or unmasking one that is not set: the VMM never asks so.
		 */
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER && data == VFIO_IRQ_SET_DATA_NONE &&
		    !set->count) {
			FUZZ_CHECK(dev.kind == k);
			dev.kind = VFIO_IRQ_NONE;
			return 0;
		}
		if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			FUZZ_CHECK(k == VFIO_IRQ_INTX && dev.kind == k);
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			FUZZ_CHECK(dev.kind == k || dev.kind == VFIO_IRQ_NONE);
	}
	switch (dev.refuse_irqs) {
	case REFUSE_MULTI_MSI:
		if (set->index == VFIO_PCI_MSI_IRQ_INDEX && set->count > 1)
			return fail(EINVAL);
		break;
	case REFUSE_MSIX:
		if (set->index == VFIO_PCI_MSIX_IRQ_INDEX && set->count)
			return fail(ENOSPC);
		break;
	case REFUSE_ALL:
		return fail(EINVAL);
	}
	if ((set->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) == VFIO_IRQ_SET_ACTION_TRIGGER &&
	    data == VFIO_IRQ_SET_DATA_EVENTFD)
		dev.kind = set->index == VFIO_PCI_INTX_IRQ_INDEX ? VFIO_IRQ_INTX :
			   set->index == VFIO_PCI_MSI_IRQ_INDEX	 ? VFIO_IRQ_MSI :
			   set->index == VFIO_PCI_MSIX_IRQ_INDEX ? VFIO_IRQ_MSIX :
								   dev.kind;
	return 0;
}

static bool overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

static int set_memslot(const struct kvm_userspace_memory_region *r)
{
	u64 page = host_page_size();

	if (r->slot >= MAX_MEMSLOTS || (kvm.nr_memslots && r->slot >= kvm.nr_memslots))
		return fail(EINVAL);
	if (!r->memory_size) {
		kvm.slots[r->slot].memory_size = 0;
		return 0;
	}
	FUZZ_CHECK(r->guest_phys_addr % page == 0 && r->memory_size % page == 0 &&
		   r->userspace_addr % page == 0);
	if (kvm.refuse)
		return fail(ENOMEM);
	/* KVM: a slot is created or deleted, never moved while in use; no overlaps. */
	if (kvm.slots[r->slot].memory_size)
		return fail(EINVAL);
	for (unsigned int s = 0; s < MAX_MEMSLOTS; s++)
		if (kvm.slots[s].memory_size &&
		    overlaps(kvm.slots[s].guest_phys_addr, kvm.slots[s].memory_size,
			     r->guest_phys_addr, r->memory_size))
			return fail(EEXIST);
	kvm.slots[r->slot] = *r;
	return 0;
}

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
	if (fd == FAKE_VM_FD) {
		switch (request) {
		case KVM_CHECK_EXTENSION:
			return (unsigned long)arg == KVM_CAP_NR_MEMSLOTS ? (int)kvm.nr_memslots : 0;
		case KVM_SET_USER_MEMORY_REGION:
			return set_memslot(arg);
		case KVM_IRQFD:
		case KVM_SET_GSI_ROUTING:
			return 0;
		default:
			return fail(ENOTTY);
		}
	}
	if (fd == dev.fd && fd >= 0) {
		switch (request) {
		case VFIO_DEVICE_GET_INFO: {
			struct vfio_device_info *info = arg;

			info->flags = VFIO_DEVICE_FLAGS_PCI | (dev.can_reset ? VFIO_DEVICE_FLAGS_RESET : 0);
			info->num_regions = VFIO_PCI_NUM_REGIONS;
			info->num_irqs = VFIO_PCI_NUM_IRQS;
			return 0;
		}
		case VFIO_DEVICE_RESET:
			return dev.can_reset ? 0 : fail(ENOTTY);
		case VFIO_DEVICE_GET_REGION_INFO:
			return region_info(arg);
		case VFIO_DEVICE_GET_IRQ_INFO:
			return irq_info(arg);
		case VFIO_DEVICE_SET_IRQS:
			return set_irqs(arg);
		default:
			return fail(ENOTTY);
		}
	}
	return real_ioctl(fd, request, arg);
}

static int device_fd(struct vfio_iommu *iommu, const char *bdf)
{
	return dev.fd;
}

static const struct vfio_iommu_ops fake_iommu_ops = { .name = "fuzz", .device_fd = device_fd };
static struct vfio_iommu fake_iommu = { &fake_iommu_ops };

/* The device described by the input's header; its memfd holds the config region. */
static int make_device(struct fuzz_input *in)
{
	u8 flags = fuzz_u8(in), config[256];

	memset(&dev, 0, sizeof(dev));
	dev.can_reset = flags & 1;
	dev.config_size = flags & 2 ? PCI_CONFIG_SIZE : 256;
	if (flags & 0x80)
		dev.config_size = 64;
	dev.noresize = flags & 4;
	dev.intx = flags & 8;
	dev.refuse_irqs = (flags >> 4) & 3;
	memset(&kvm, 0, sizeof(kvm));
	kvm.refuse = flags & 0x40;
	dev.msi_count = fuzz_u8(in) % 33;
	dev.msix_count = fuzz_u16(in) % (MSIX_MAX_VECTORS + 1);
	kvm.nr_memslots = fuzz_u8(in) % (MAX_MEMSLOTS + 1);
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		u8 b = fuzz_u8(in);

		dev.bar_size[i] = b & 63 ? (1ULL << (b & 63)) + !!(b & 0x40) : 0;
		dev.bar_mmap[i] = (b & 0x80) && dev.bar_size[i] <= MMAP_LIMIT;
	}
	fuzz_bytes(in, config, sizeof(config));
	dev.fd = memfd_create("fuzz-vfio-device", MFD_CLOEXEC);
	if (dev.fd < 0)
		abort();
	if (pwrite(dev.fd, config, sizeof(config), (off_t)REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)) !=
	    (ssize_t)sizeof(config))
		abort();
	return 0;
}

/* Every present BAR in the windows at once, as vfio_attach's place_bars does. */
static int place_bars(struct pci_bus *bus)
{
	struct pci_bar_slot slots[PCI_NUM_BARS];
	unsigned int index[PCI_NUM_BARS], n = 0, failed;

	for (unsigned int b = 0; b < PCI_NUM_BARS; b++)
		if (d.bars[b].present) {
			slots[n] = (struct pci_bar_slot){ d.bars[b].size, d.bars[b].is64, 0 };
			index[n++] = b;
		}
	if (pci_place_bars(&bus->mmio32, &bus->mmio64, slots, n, &failed))
		return -ENOSPC;
	for (unsigned int i = 0; i < n; i++)
		d.bars[index[i]].guest_addr = slots[i].addr;
	return 0;
}

static u32 config_read(struct pci_bus *bus, u32 offset, u32 len)
{
	u32 v = 0;

	pci_config_access(bus, 0, d.pci.slot, 0, offset, (u8 *)&v, len, false);
	return v;
}

/* Whether BAR b decodes at its address, in the windows, as the guest set it. */
static bool decodes(const struct pci_bus *bus, unsigned int b, u64 *gpa)
{
	*gpa = pci_bar_address(&d.pci, b);
	return pci_memory_enabled(&d.pci) && *gpa && *gpa + d.bars[b].size > *gpa &&
	       pci_range_in_windows(bus, *gpa, d.bars[b].size);
}

static void check_memslot(const struct pci_bus *bus, unsigned int s)
{
	const struct kvm_userspace_memory_region *r = &kvm.slots[s];
	const struct msix_layout *l = &d.msix_layout;
	struct vfio_bar *bar = NULL;
	u64 gpa, off;

	for (unsigned int b = 0; b < PCI_NUM_BARS && !bar; b++)
		for (unsigned int k = 0; k < VFIO_BAR_MAX_SLOTS; k++)
			if (d.bars[b].present && d.bars[b].map && d.bars[b].slots[k] == (int)s)
				bar = &d.bars[b];
	FUZZ_CHECK(bar);
	FUZZ_CHECK(decodes(bus, bar->index, &gpa));
	FUZZ_CHECK(r->guest_phys_addr >= gpa && r->memory_size <= bar->size &&
		   r->guest_phys_addr - gpa <= bar->size - r->memory_size);
	off = r->guest_phys_addr - gpa;
	FUZZ_CHECK(r->userspace_addr == (unsigned long)(bar->map + off));
	if (d.msix_cap && l->table_bar == bar->index)
		FUZZ_CHECK(!overlaps(off, r->memory_size, l->table_offset, l->table_size));
	if (d.msix_cap && l->pba_bar == bar->index)
		FUZZ_CHECK(!overlaps(off, r->memory_size, l->pba_offset, l->pba_size));
}

static void check(struct pci_bus *bus)
{
	FUZZ_CHECK(config_read(bus, PCI_ROM_ADDRESS, 4) == 0);
	FUZZ_CHECK(!(config_read(bus, PCI_HEADER_TYPE, 1) & 0x80));
	for (unsigned int b = 0; b < PCI_NUM_BARS; b++) {
		struct vfio_bar *bar = &d.bars[b];
		u64 gpa;

		if (!bar->present)
			continue;
		FUZZ_CHECK(pci_bar_address(&d.pci, b) % bar->size == 0);
		/* Memslots follow the BAR: mapped where it decodes, unless KVM said no. */
		if (bar->map && decodes(bus, b, &gpa) && !bar->incomplete)
			FUZZ_CHECK(bar->mapped_at == gpa);
	}
	/* A BAR the guest is not given reads as nothing there. */
	for (unsigned int b = 0; b < PCI_NUM_BARS; b++) {
		if (d.bars[b].present) {
			b += d.bars[b].is64;
			continue;
		}
		FUZZ_CHECK(config_read(bus, PCI_BASE_ADDRESS_0 + 4 * b, 4) == 0);
	}
	/* The guest's MSI-X Enable is what the emulated table follows. */
	if (d.msix_cap) {
		u16 control = (u16)config_read(bus, d.msix_cap + PCI_MSIX_FLAGS, 2);

		FUZZ_CHECK(!!(control & PCI_MSIX_FLAGS_ENABLE) == d.msix.enabled);
	}
	for (unsigned int s = 0; s < MAX_MEMSLOTS; s++)
		if (kvm.slots[s].memory_size)
			check_memslot(bus, s);
	FUZZ_CHECK(d.msi_enabled <= d.msi_max && d.msi_max <= 32);
	/* The VMM's record of the interrupt kind is the kernel's. */
	FUZZ_CHECK(d.irq_kind == dev.kind);
}

/* The guest's MSI-X table is emulated: nothing it writes there reaches the device. */
static void check_table_untouched(void)
{
	static u8 table[MSIX_MAX_VECTORS * 16];
	const struct msix_layout *l = &d.msix_layout;
	ssize_t n;

	if (!d.msix_cap)
		return;
	n = pread(dev.fd, table, l->table_size,
		  (off_t)(REGION_OFFSET(l->table_bar) + l->table_offset));
	for (ssize_t i = 0; i < n; i++)
		FUZZ_CHECK(table[i] == 0);
}

static void signal_fd(int fd)
{
	if (fd >= 0)
		FUZZ_CHECK(eventfd_write(fd, 1) == 0);
}

static void event(struct fuzz_input *in, struct vm *vm, struct pci_bus *bus)
{
	u8 op = fuzz_u8(in), buf[8];
	u32 len = 1u << ((op >> 3) & 3), where = fuzz_u32(in);
	bool is_write = op & 0x20;
	u64 value = fuzz_u64(in);

	memcpy(buf, &value, 8);
	switch (op & 7) {
	case 0:
	case 1:
	case 2:
		pci_config_access(bus, 0, d.pci.slot, 0, where % PCI_CONFIG_SIZE, buf, MIN(len, 4),
				  is_write);
		break;
	case 3: {
		unsigned int b = (where >> 28) % PCI_NUM_BARS;

		io_bus_access(&vm->mmio, pci_bar_address(&d.pci, b) + (where & 0xfffffff), buf, len,
			      is_write);
		break;
	}
	case 4:
		io_bus_access(&vm->mmio,
			      where & 1 ? MMIO64_BASE + ((u64)where << 4) % MMIO64_SIZE :
					  MMIO32_BASE + where % MMIO32_SIZE,
			      buf, len, is_write);
		break;
	case 5:
		/* The hardware's own view changes: a reset, firmware, a lying device. */
		if (pwrite(dev.fd, buf, MIN(len, 4),
			   (off_t)(REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + where % 256)) < 0)
			abort();
		break;
	case 6:
		if (where % 3 == 0 && d.msix_cap && d.msix.nvectors)
			signal_fd(d.msix.vectors[value % d.msix.nvectors].route.fd);
		else if (where % 3 == 1)
			signal_fd(d.msi[value % 32].fd);
		else
			signal_fd(d.intx.fd);
		break;
	default:
		kvm.refuse = value & 1;
		dev.refuse_irqs = (value >> 1) & 3;
		break;
	}
	check(bus);
}

static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct vm vm;
	static struct pci_bus bus;
	int err;

	/* FUZZ_LOG=1: the VMM's messages, to see what a reproducer does. */
	log_threshold = getenv("FUZZ_LOG") ? LOG_DEBUG : LOG_QUIET;
	make_device(&in);
	vm_init(&vm);
	vm.vm_fd = vm.routing.vm_fd = FAKE_VM_FD;
	pci_bus_init(&bus);
	bus.intx_base = 16;
	bus.intx_count = 4;
	if (pci_bus_set_windows(&bus, &vm.mmio, MMIO32_BASE, MMIO32_SIZE, MMIO64_BASE, MMIO64_SIZE))
		abort();
	dev.short_config = dev.config_size < 256;
	err = vfio_pci_dev_open(&d, &vm, &fake_iommu, "0000:01:00.0");
	if (!err)
		err = vfio_pci_dev_probe(&d, &bus);
	/* A config region too short to hold the header is refused, nothing else. */
	FUZZ_CHECK(!dev.short_config || err);
	if (!err)
		err = place_bars(&bus);
	if (!err)
		err = vfio_pci_dev_add(&d);
	if (!err) {
		vfio_intx_start(&d);
		check(&bus);
		while (fuzz_more(&in))
			event(&in, &vm, &bus);
		check_table_untouched();
	}
	vfio_pci_dev_close(&d);
	/* Everything the device had in KVM is gone. */
	for (unsigned int s = 0; s < MAX_MEMSLOTS; s++)
		FUZZ_CHECK(!kvm.slots[s].memory_size);
	irq_routing_destroy(&vm.routing);
	pthread_mutex_destroy(&bus.lock);
	/* Nothing left open: the device's fd and every eventfd went with it. */
	FUZZ_CHECK(lowest_free_fd() == dev.fd);
	dev.fd = -1;
	return 0;
}
