/*
 * Emulated PCI configuration space through both doors, the x86 port pair
 * (CAM, 0xcf8/0xcfc) and ECAM, and the BAR windows behind them: the
 * host bridge and two devices with 32- and 64-bit BARs. Whatever the
 * guest writes, the read-only IDs stay, a BAR stays aligned to its size,
 * and a window access reaches a BAR handler only inside that BAR.
 *
 * Input: operations of one byte (bits 0-2: CAM address, CAM data, ECAM,
 * window, direct config access; bits 3-4: log2 of the width; bit 5:
 * write) followed by an address or offset (u32) and a value (u64).
 */
#include <linux/pci_regs.h>

#include "core/io_bus.h"
#include "core/log.h"
#include "devices/pci.h"
#include "fuzz_input.h"

#define CAM_PORT 0xcf8
#define ECAM_BASE 0xe0000000ULL
#define ECAM_SIZE (16 * MiB)
#define MMIO32_BASE 0xc0000000ULL
#define MMIO32_SIZE (256 * MiB)
#define MMIO64_BASE 0x10000000000ULL
#define MMIO64_SIZE (4 * GiB)

struct fuzz_bar {
	u64 size;
	unsigned int writes;
};

static void bar_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct fuzz_bar *bar = opaque;

	FUZZ_CHECK(offset < bar->size && len <= bar->size - offset);
	if (is_write)
		bar->writes++;
	else
		memset(data, 0xab, len);
}

static unsigned int written_hooks;

static void config_written(struct pci_device *dev, u32 offset, u32 len)
{
	FUZZ_CHECK(offset < PCI_CONFIG_SIZE && len <= PCI_CONFIG_SIZE - offset);
	written_hooks++;
}

static void check_bars(const struct pci_device *dev)
{
	for (unsigned int b = 0; b < PCI_NUM_BARS; b++)
		if (dev->bars[b].size)
			FUZZ_CHECK(pci_bar_address(dev, b) % dev->bars[b].size == 0);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct io_bus pio, mmio;
	static struct pci_bus bus;
	static struct pci_device devs[2];
	static struct fuzz_bar bars[2][3];
	u16 vendor;

	log_threshold = LOG_QUIET;
	memset(&pio, 0, sizeof(pio));
	memset(&mmio, 0, sizeof(mmio));
	memset(devs, 0, sizeof(devs));
	memset(bars, 0, sizeof(bars));
	pci_bus_init(&bus);
	if (pci_bus_set_windows(&bus, &mmio, MMIO32_BASE, MMIO32_SIZE, MMIO64_BASE, MMIO64_SIZE) ||
	    io_bus_register(&pio, CAM_PORT, 8, pci_cam_io, &bus, "CAM") ||
	    io_bus_register(&mmio, ECAM_BASE, ECAM_SIZE, pci_ecam_io, &bus, "ECAM"))
		abort();
	for (unsigned int d = 0; d < 2; d++) {
		devs[d].name = "fuzz device";
		devs[d].config_written = config_written;
		pci_set_u16(&devs[d], PCI_VENDOR_ID, 0x1234);
		pci_set_u16(&devs[d], PCI_DEVICE_ID, 0x5678 + d);
		bars[d][0].size = 0x1000;
		bars[d][1].size = 0x100000;
		bars[d][2].size = 16;
		if (pci_bar_assign(&bus, &devs[d], 0, bars[d][0].size, false, bar_io, &bars[d][0]) ||
		    pci_bar_assign(&bus, &devs[d], 1, bars[d][1].size, true, bar_io, &bars[d][1]) ||
		    pci_bar_assign(&bus, &devs[d], 4, bars[d][2].size, false, bar_io, &bars[d][2]) ||
		    pci_bus_add(&bus, &devs[d]))
			abort();
	}
	while (fuzz_more(&in)) {
		u8 op = fuzz_u8(&in);
		u32 len = 1u << ((op >> 3) & 3), where = fuzz_u32(&in);
		bool is_write = op & 0x20;
		u8 buf[8];

		fuzz_bytes(&in, buf, 8);
		switch (op & 7) {
		case 0:
			io_bus_access(&pio, CAM_PORT, buf, 4, is_write);
			break;
		case 1:
			io_bus_access(&pio, CAM_PORT + 4 + (where & 3), buf, MIN(len, 4), is_write);
			break;
		case 2:
			io_bus_access(&mmio, ECAM_BASE + where % ECAM_SIZE, buf, len, is_write);
			break;
		case 3:
			io_bus_access(&mmio, MMIO32_BASE + where % MMIO32_SIZE, buf, len, is_write);
			break;
		case 4:
			io_bus_access(&mmio, MMIO64_BASE + ((u64)where << 4) % MMIO64_SIZE, buf, len,
				      is_write);
			break;
		default:
			pci_config_access(&bus, (u8)(where >> 24), (where >> 16) & 0x3f,
					  (where >> 12) & 0xf, where & 0x1fff, buf, len, is_write);
			break;
		}
		for (unsigned int d = 0; d < 2; d++)
			check_bars(&devs[d]);
	}
	/* The IDs are read-only whatever was written. */
	pci_config_access(&bus, 0, devs[1].slot, 0, PCI_VENDOR_ID, (u8 *)&vendor, 2, false);
	FUZZ_CHECK(vendor == 0x1234);
	pci_config_access(&bus, 0, 0, 0, PCI_VENDOR_ID, (u8 *)&vendor, 2, false);
	FUZZ_CHECK(vendor == 0x1b36);
	pthread_mutex_destroy(&bus.lock);
	return 0;
}
