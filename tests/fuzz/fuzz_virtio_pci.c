/*
 * The virtio-pci transport as a guest drives it, with virtio-rng behind
 * it: common, ISR, notify and device configuration registers and the
 * MSI-X table through BAR 0 (wherever the guest moved it), the PCI
 * configuration space, guest memory rewritten at any time, descriptor
 * chains, and turns of the event loop. Built like the unit tests'
 * fake guest (tests/unit/virtio_guest.h), without KVM.
 *
 * Input: operations of one byte (bits 0-2: BAR write, BAR read, config
 * write, config read, loop turn, memory write, driver init, post a
 * chain; bits 3-4: log2 of the width) and their arguments.
 */
#include "core/irq_routing.h"
#include "core/log.h"
#include "devices/virtio/rng.h"
#include "fuzz_input.h"
#include "tests/unit/virtio_guest.h"

#define BAR_SIZE 0x8000

/* A driver's chain: up to four buffers anywhere near guest RAM. */
static void post_chain(struct vguest *g, struct fuzz_input *in)
{
	struct vg_seg segs[4];
	unsigned int n = fuzz_u8(in) % 4 + 1;

	for (unsigned int i = 0; i < n; i++) {
		u32 where = fuzz_u32(in);

		segs[i].gpa = VG_RAM_GPA - 0x1000 + where % (VG_RAM_SIZE + 0x2000);
		segs[i].len = fuzz_u16(in);
		segs[i].writable = where >> 31;
	}
	if (g->q[0].size)
		vg_post(g, 0, segs, n);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct vguest g;
	static u8 *ram;
	struct virtio_dev *dev;

	log_threshold = LOG_QUIET;
	if (!ram)
		ram = aligned_alloc(4096, VG_RAM_SIZE);
	if (vg_init_ram(&g, ram) || virtio_rng_create(&g.vm, &dev) || vg_add(&g, dev))
		abort();
	while (fuzz_more(&in)) {
		u8 op = fuzz_u8(&in), buf[8];
		u32 len = 1u << ((op >> 3) & 3);
		u64 bar = pci_bar_address(g.pdev, 0);
		u32 at;

		switch (op & 7) {
		case 0:
			at = fuzz_u16(&in) % BAR_SIZE;
			fuzz_bytes(&in, buf, len);
			vg_mmio(&g, bar + at, buf, len, true);
			break;
		case 1:
			vg_mmio(&g, bar + fuzz_u16(&in) % BAR_SIZE, buf, len, false);
			break;
		case 2:
			at = fuzz_u16(&in) % PCI_CONFIG_SIZE;
			fuzz_bytes(&in, buf, len);
			pci_config_access(&g.bus, 0, g.pdev->slot, 0, at, buf, len, true);
			break;
		case 3:
			pci_config_access(&g.bus, 0, g.pdev->slot, 0, fuzz_u16(&in) % PCI_CONFIG_SIZE,
					  buf, len, false);
			break;
		case 4:
			vg_run_loop_once(&g, 0);
			break;
		case 5: {
			u32 where = fuzz_u32(&in) % VG_RAM_SIZE;
			u8 n = fuzz_u8(&in);

			fuzz_bytes(&in, g.ram + where, MIN(n, VG_RAM_SIZE - where));
			break;
		}
		case 6:
			/* Rings at their usual place: decoding must be on for the registers. */
			if (pci_memory_enabled(g.pdev) && bar == VG_MMIO_BASE)
				vg_driver_init(&g, fuzz_u16(&in));
			break;
		default:
			post_chain(&g, &in);
			break;
		}
	}
	vg_destroy(&g);
	irq_routing_destroy(&g.vm.routing);
	return 0;
}
