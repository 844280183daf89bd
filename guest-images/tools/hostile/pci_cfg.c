/*
 * PCI configuration space through port 0xcf8 (see pci_cfg.h). Each access
 * counts in ops. The saved copy of the victim's config space lives here
 * alone: cfg_save() fills it before the attack, cfg_restore() puts it back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <sys/io.h>

#include "pci_cfg.h"

struct bdf parse_bdf(const char *s)
{
	unsigned int seg, bus, dev, fn;

	if (sscanf(s, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4) {
		errno = EINVAL;
		die(s);
	}
	return (struct bdf){ bus, dev, fn };
}

u32 cam_address(struct bdf d, unsigned int off)
{
	return 0x80000000u | d.bus << 16 | d.dev << 11 | d.fn << 8 | (off & 0xfc);
}

u32 cfg_read(struct bdf d, unsigned int off, unsigned int size)
{
	outl(cam_address(d, off), CAM_ADDR);
	ops++;
	switch (size) {
	case 1: return inb(CAM_DATA + (off & 3));
	case 2: return inw(CAM_DATA + (off & 3));
	default: return inl(CAM_DATA);
	}
}

void cfg_write(struct bdf d, unsigned int off, unsigned int size, u32 v)
{
	outl(cam_address(d, off), CAM_ADDR);
	ops++;
	switch (size) {
	case 1: outb((u8)v, CAM_DATA + (off & 3)); break;
	case 2: outw((u16)v, CAM_DATA + (off & 3)); break;
	default: outl(v, CAM_DATA); break;
	}
}

/* The config space as the caller left it, to put back after an attack. */
static u32 saved_cfg[64];

void cfg_save(struct bdf d)
{
	for (unsigned int i = 0; i < 64; i++)
		saved_cfg[i] = cfg_read(d, i * 4, 4);
}

/* BARs, interrupt line and the MSI-X control word back; command last. */
void cfg_restore(struct bdf d)
{
	cfg_write(d, PCI_COMMAND, 2, 0);
	for (unsigned int i = PCI_BASE_ADDRESS_0 / 4; i <= PCI_ROM_ADDRESS / 4; i++)
		cfg_write(d, i * 4, 4, saved_cfg[i]);
	cfg_write(d, PCI_INTERRUPT_LINE, 1, saved_cfg[PCI_INTERRUPT_LINE / 4]);
	for (unsigned int pos = saved_cfg[PCI_CAPABILITY_LIST / 4] & 0xfc, n = 0; pos && n < 48;
	     pos = (saved_cfg[pos / 4] >> 8) & 0xfc, n++) {
		if ((saved_cfg[pos / 4] & 0xff) == PCI_CAP_ID_MSIX)
			cfg_write(d, pos + PCI_MSIX_FLAGS, 2, saved_cfg[pos / 4] >> 16);
		if ((saved_cfg[pos / 4] & 0xff) == PCI_CAP_ID_PM)
			cfg_write(d, pos + PCI_PM_CTRL, 2, 0); /* D0 */
	}
	cfg_write(d, PCI_COMMAND, 2, saved_cfg[PCI_COMMAND / 4] & 0xffff);
}

/* A capability's offset in config space, 0 if absent. */
unsigned int cfg_find_cap(struct bdf d, u8 id, unsigned int from)
{
	unsigned int pos = from ? cfg_read(d, from + 1, 1) : cfg_read(d, PCI_CAPABILITY_LIST, 1);

	for (unsigned int n = 0; pos >= 0x40 && n < 48; n++) {
		pos &= 0xfc;
		if (cfg_read(d, pos, 1) == id)
			return pos;
		pos = cfg_read(d, pos + 1, 1);
	}
	return 0;
}

/* Memory BAR bar's address, or 0 for an I/O or unset BAR. */
u64 bar_addr(struct bdf d, unsigned int bar)
{
	u32 lo = cfg_read(d, PCI_BASE_ADDRESS_0 + 4 * bar, 4);
	u64 hi = 0;

	if (lo & PCI_BASE_ADDRESS_SPACE_IO)
		return 0;
	if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64 && bar < 5)
		hi = cfg_read(d, PCI_BASE_ADDRESS_0 + 4 * (bar + 1), 4);
	return hi << 32 | (lo & ~0xfu);
}

u64 bar_size(struct bdf d, unsigned int bar)
{
	unsigned int off = PCI_BASE_ADDRESS_0 + 4 * bar;
	u32 lo = cfg_read(d, off, 4), mask;

	cfg_write(d, off, 4, 0xffffffff);
	mask = cfg_read(d, off, 4);
	cfg_write(d, off, 4, lo);
	mask &= ~0xfu;
	return mask ? (u64)(~mask + 1) & 0xffffffffu : 0;
}

void enable_device(struct bdf d)
{
	cfg_write(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}
