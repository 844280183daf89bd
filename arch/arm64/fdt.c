#include "fdt.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "arch/board.h"
#include "layout.h"

/* Phandles of the nodes others point at. */
enum { PHANDLE_GIC = 1, PHANDLE_ITS, PHANDLE_CLOCK };

/* GIC interrupt specifier cells (arm,gic-v3 binding). */
#define GIC_SPI 0
#define GIC_PPI 1
#define IRQ_EDGE_RISING 1
#define IRQ_LEVEL_HIGH 4

/* Architected timer PPIs: secure, non-secure, virtual, hypervisor. */
static const u32 timer_ppis[] = { 13, 14, 11, 10 };

#define CHECK(expr) do { int _e = (expr); if (_e < 0) return _e; } while (0)

static int prop_reg(void *fdt, u64 addr, u64 size)
{
	fdt64_t cells[2] = { cpu_to_fdt64(addr), cpu_to_fdt64(size) };

	return fdt_property(fdt, "reg", cells, sizeof(cells));
}

static int begin_node_at(void *fdt, const char *name, u64 addr)
{
	char full[64];

	snprintf(full, sizeof(full), "%s@%llx", name, (unsigned long long)addr);
	return fdt_begin_node(fdt, full);
}

static int add_memory(void *fdt, const struct memory_plan *plan)
{
	const struct plan_region *bank;

	for (unsigned int i = 0; (bank = plan_ram_bank(plan, i)); i++) {
		CHECK(begin_node_at(fdt, "memory", bank->start));
		CHECK(fdt_property_string(fdt, "device_type", "memory"));
		CHECK(prop_reg(fdt, bank->start, bank->size));
		CHECK(fdt_end_node(fdt));
	}
	return 0;
}

static int add_cpus(void *fdt, unsigned int ncpus)
{
	CHECK(fdt_begin_node(fdt, "cpus"));
	CHECK(fdt_property_u32(fdt, "#address-cells", 1));
	CHECK(fdt_property_u32(fdt, "#size-cells", 0));
	for (unsigned int i = 0; i < ncpus; i++) {
		CHECK(begin_node_at(fdt, "cpu", i));
		CHECK(fdt_property_string(fdt, "device_type", "cpu"));
		CHECK(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		CHECK(fdt_property_string(fdt, "enable-method", "psci"));
		/* MPIDR affinity 0 = vCPU index, as KVM assigns it. */
		CHECK(fdt_property_u32(fdt, "reg", i));
		CHECK(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int add_gic(void *fdt, const struct memory_plan *plan)
{
	const struct plan_region *d = plan_find(plan, PLAN_ARM64_GICD);
	const struct plan_region *r = plan_find(plan, PLAN_ARM64_GICR);
	const struct plan_region *its = plan_find(plan, PLAN_ARM64_ITS);
	fdt64_t reg[4];

	if (!d || !r || !its)
		return -EINVAL;
	reg[0] = cpu_to_fdt64(d->start), reg[1] = cpu_to_fdt64(d->size);
	reg[2] = cpu_to_fdt64(r->start), reg[3] = cpu_to_fdt64(r->size);
	CHECK(begin_node_at(fdt, "interrupt-controller", d->start));
	CHECK(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	CHECK(fdt_property_u32(fdt, "#interrupt-cells", 3));
	CHECK(fdt_property(fdt, "interrupt-controller", NULL, 0));
	CHECK(fdt_property(fdt, "reg", reg, sizeof(reg)));
	CHECK(fdt_property_u32(fdt, "#address-cells", 2));
	CHECK(fdt_property_u32(fdt, "#size-cells", 2));
	CHECK(fdt_property(fdt, "ranges", NULL, 0));
	CHECK(fdt_property_u32(fdt, "phandle", PHANDLE_GIC));

	CHECK(begin_node_at(fdt, "msi-controller", its->start));
	CHECK(fdt_property_string(fdt, "compatible", "arm,gic-v3-its"));
	CHECK(fdt_property(fdt, "msi-controller", NULL, 0));
	CHECK(fdt_property_u32(fdt, "#msi-cells", 1));
	CHECK(prop_reg(fdt, its->start, its->size));
	CHECK(fdt_property_u32(fdt, "phandle", PHANDLE_ITS));
	CHECK(fdt_end_node(fdt));
	return fdt_end_node(fdt);
}

static int add_timer_and_psci(void *fdt)
{
	fdt32_t irqs[3 * ARRAY_SIZE(timer_ppis)];

	for (unsigned int i = 0; i < ARRAY_SIZE(timer_ppis); i++) {
		irqs[3 * i] = cpu_to_fdt32(GIC_PPI);
		irqs[3 * i + 1] = cpu_to_fdt32(timer_ppis[i]);
		irqs[3 * i + 2] = cpu_to_fdt32(IRQ_LEVEL_HIGH);
	}
	CHECK(fdt_begin_node(fdt, "timer"));
	CHECK(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	CHECK(fdt_property(fdt, "interrupts", irqs, sizeof(irqs)));
	CHECK(fdt_property(fdt, "always-on", NULL, 0));
	CHECK(fdt_end_node(fdt));

	CHECK(fdt_begin_node(fdt, "psci"));
	CHECK(fdt_property(fdt, "compatible", "arm,psci-1.0\0arm,psci-0.2",
			   sizeof("arm,psci-1.0\0arm,psci-0.2")));
	CHECK(fdt_property_string(fdt, "method", "hvc"));
	return fdt_end_node(fdt);
}

static int add_uart(void *fdt, const struct memory_plan *plan, char *path, size_t len)
{
	const struct plan_region *u = plan_find(plan, PLAN_ARM64_UART);
	fdt32_t irq[3] = { cpu_to_fdt32(GIC_SPI), cpu_to_fdt32(ARM64_UART_SPI),
			   cpu_to_fdt32(IRQ_LEVEL_HIGH) };

	if (!u)
		return -EINVAL;
	snprintf(path, len, "/uart@%llx", (unsigned long long)u->start);
	CHECK(begin_node_at(fdt, "uart", u->start));
	CHECK(fdt_property_string(fdt, "compatible", "ns16550a"));
	CHECK(prop_reg(fdt, u->start, u->size));
	CHECK(fdt_property(fdt, "interrupts", irq, sizeof(irq)));
	CHECK(fdt_property_u32(fdt, "clock-frequency", 1843200));
	return fdt_end_node(fdt);
}

/* One PCI ranges entry: flags, PCI address, CPU address, size (7 cells). */
static void pci_range(fdt32_t *cells, u32 space, u64 addr, u64 size)
{
	cells[0] = cpu_to_fdt32(space);
	cells[1] = cpu_to_fdt32((u32)(addr >> 32));
	cells[2] = cpu_to_fdt32((u32)addr);
	cells[3] = cpu_to_fdt32((u32)(addr >> 32));
	cells[4] = cpu_to_fdt32((u32)addr);
	cells[5] = cpu_to_fdt32((u32)(size >> 32));
	cells[6] = cpu_to_fdt32((u32)size);
}

static int add_pci(void *fdt, const struct memory_plan *plan)
{
	const struct plan_region *ecam = plan_find(plan, PLAN_PCI_ECAM);
	const struct plan_region *m32 = plan_find(plan, PLAN_PCI_MMIO32);
	const struct plan_region *m64 = plan_find(plan, PLAN_PCI_MMIO64);
	fdt32_t ranges[14], bus_range[2] = { 0, cpu_to_fdt32(ARM64_PCI_ECAM_BUSES - 1) };
	/* msi-map: every requester ID (RID base 0, length 0x10000) to the ITS, DeviceID = RID. */
	fdt32_t msi_map[4] = { 0, cpu_to_fdt32(PHANDLE_ITS), 0, cpu_to_fdt32(0x10000) };
	fdt32_t imap[32 * 4 * 10], imask[4] = { cpu_to_fdt32(0x1800), 0, 0, cpu_to_fdt32(7) };
	unsigned int n = 0, nranges = 0;

	if (!ecam || !m32)
		return -EINVAL;
	pci_range(ranges, 0x02000000, m32->start, m32->size);       /* 32-bit memory */
	nranges = 7;
	if (m64) {
		pci_range(ranges + 7, 0x43000000, m64->start, m64->size); /* 64-bit prefetchable */
		nranges = 14;
	}
	/* INTx of slot s pin p (1-4): the bus's swizzle (devices/pci.h) over four SPIs. */
	for (u32 slot = 0; slot < 32; slot++) {
		for (u32 pin = 1; pin <= 4; pin++) {
			fdt32_t *e = &imap[n];

			e[0] = cpu_to_fdt32(slot << 11), e[1] = 0, e[2] = 0, e[3] = cpu_to_fdt32(pin);
			e[4] = cpu_to_fdt32(PHANDLE_GIC);
			e[5] = 0, e[6] = 0; /* GIC parent unit address (#address-cells 2) */
			e[7] = cpu_to_fdt32(GIC_SPI);
			e[8] = cpu_to_fdt32(pci_intx_swizzle(ARM64_PCI_INTX_SPI_BASE,
							     ARM64_PCI_INTX_LINES, slot, pin - 1));
			e[9] = cpu_to_fdt32(IRQ_LEVEL_HIGH);
			n += 10;
		}
	}
	CHECK(begin_node_at(fdt, "pcie", ecam->start));
	CHECK(fdt_property_string(fdt, "compatible", "pci-host-ecam-generic"));
	CHECK(fdt_property_string(fdt, "device_type", "pci"));
	CHECK(prop_reg(fdt, ecam->start, ecam->size));
	CHECK(fdt_property(fdt, "bus-range", bus_range, sizeof(bus_range)));
	CHECK(fdt_property_u32(fdt, "#address-cells", 3));
	CHECK(fdt_property_u32(fdt, "#size-cells", 2));
	CHECK(fdt_property_u32(fdt, "#interrupt-cells", 1));
	CHECK(fdt_property(fdt, "ranges", ranges, nranges * sizeof(fdt32_t)));
	CHECK(fdt_property(fdt, "msi-map", msi_map, sizeof(msi_map)));
	CHECK(fdt_property(fdt, "interrupt-map", imap, n * sizeof(fdt32_t)));
	CHECK(fdt_property(fdt, "interrupt-map-mask", imask, sizeof(imask)));
	CHECK(fdt_property(fdt, "dma-coherent", NULL, 0));
	return fdt_end_node(fdt);
}

static int add_chosen(void *fdt, const struct arm64_fdt_params *p, const char *stdout_path)
{
	CHECK(fdt_begin_node(fdt, "chosen"));
	CHECK(fdt_property_string(fdt, "bootargs", p->cmdline ? p->cmdline : ""));
	CHECK(fdt_property_string(fdt, "stdout-path", stdout_path));
	if (p->initrd_size) {
		CHECK(fdt_property_u64(fdt, "linux,initrd-start", p->initrd_start));
		CHECK(fdt_property_u64(fdt, "linux,initrd-end", p->initrd_start + p->initrd_size));
	}
	return fdt_end_node(fdt);
}

int arm64_build_fdt(void *buf, size_t size, const struct arm64_fdt_params *p)
{
	char stdout_path[64];

	CHECK(fdt_create(buf, (int)size));
	CHECK(fdt_finish_reservemap(buf));
	CHECK(fdt_begin_node(buf, ""));
	CHECK(fdt_property_string(buf, "compatible", "linux,dummy-virt"));
	CHECK(fdt_property_u32(buf, "#address-cells", 2));
	CHECK(fdt_property_u32(buf, "#size-cells", 2));
	CHECK(fdt_property_u32(buf, "interrupt-parent", PHANDLE_GIC));
	CHECK(add_memory(buf, p->plan));
	CHECK(add_cpus(buf, p->ncpus));
	CHECK(add_gic(buf, p->plan));
	CHECK(add_timer_and_psci(buf));
	CHECK(add_uart(buf, p->plan, stdout_path, sizeof(stdout_path)));
	CHECK(add_pci(buf, p->plan));
	CHECK(add_chosen(buf, p, stdout_path));
	CHECK(fdt_end_node(buf));
	CHECK(fdt_finish(buf));
	return fdt_pack(buf);
}
