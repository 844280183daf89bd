#include "layout.h"

#include "arch/board.h"

#include <stdio.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

unsigned int x86_host_phys_bits(void)
{
#if defined(__x86_64__)
	unsigned int eax, ebx, ecx, edx;

	/* CPUID 0x80000008 EAX[7:0]: physical address bits (Intel SDM vol. 2). */
	if (__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) && eax >= 0x80000008 &&
	    __get_cpuid(0x80000008, &eax, &ebx, &ecx, &edx) && (eax & 0xff) >= 32)
		return eax & 0xff;
	return 36;
#else
	return 40; /* planning for a PC from another host: a common server width */
#endif
}

unsigned int x86_pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	return pci_intx_swizzle(X86_PCI_INTX_GSI_BASE, X86_PCI_INTX_GSI_COUNT, slot, pin);
}

/* The PC map policy; addr_limit is the lower of the CPU's and the IOMMU's. */
static int x86_plan(u64 ram_size, u64 ram_align, u64 bank_align, u64 addr_limit,
		    const char *limit_label,
		    const struct plan_forbidden *forbidden, unsigned int nforbidden,
		    const struct mmio64_need *mmio64, struct memory_plan *plan)
{
	const u64 ecam_size = X86_PCI_ECAM_BUSES * MiB;
	struct plan_window_request windows[] = {
		{ .name = "legacy", .label = "legacy BIOS area, ACPI tables",
		  .kind = REGION_FIRMWARE, .placement = PLACE_FIXED,
		  .addr = X86_LEGACY_HOLE_START,
		  .size = X86_LEGACY_HOLE_END - X86_LEGACY_HOLE_START,
		  .firmware_reserved = true },
		{ .name = "ioapic", .label = "IOAPIC", .kind = REGION_ARCH,
		  .placement = PLACE_FIXED, .addr = X86_IOAPIC_BASE, .size = 0x1000,
		  .firmware_reserved = true },
		{ .name = "lapic", .label = "LAPIC + MSI doorbell window",
		  .kind = REGION_ARCH, .placement = PLACE_FIXED, .addr = X86_LAPIC_BASE,
		  .size = X86_MSI_WINDOW_SIZE, .firmware_reserved = true },
		/* KVM's real-mode TSS and identity-map pages (KVM_SET_TSS_ADDR). */
		{ .name = "kvm-tss", .label = "KVM TSS and identity map",
		  .kind = REGION_ARCH, .placement = PLACE_FIXED, .addr = X86_KVM_PRIVATE_BASE,
		  .size = X86_KVM_PRIVATE_SIZE, .firmware_reserved = true },
		/* The 32-bit PCI hole, placed top-down under the IOAPIC. */
		{ .name = PLAN_PCI_ECAM, .label = "PCI ECAM (MMCONFIG, 16 buses)",
		  .kind = REGION_DEVICE, .placement = PLACE_TOP_DOWN_BELOW,
		  .max_end = X86_IOAPIC_BASE, .size = ecam_size, .align = ecam_size,
		  .firmware_reserved = true },
		{ .name = PLAN_PCI_MMIO32, .label = "PCI 32-bit MMIO window",
		  .kind = REGION_DEVICE, .placement = PLACE_TOP_DOWN_BELOW,
		  .max_end = X86_IOAPIC_BASE, .size = X86_PCI_MMIO32_SIZE,
		  .align = 256 * MiB },
		/* Sized by board_mmio64_window. */
		{ .name = PLAN_PCI_MMIO64, .label = "PCI 64-bit MMIO window",
		  .kind = REGION_DEVICE, .placement = PLACE_ABOVE_RAM },
	};
	board_mmio64_window(mmio64, X86_PCI_MMIO64_SIZE, &windows[ARRAY_SIZE(windows) - 1]);
	const struct plan_policy policy = {
		.arch = "x86_64",
		.addr_limit = addr_limit,
		.addr_limit_label = limit_label,
		.ram_base = 0,
		.high_ram_base = X86_HIGH_RAM_BASE,
		.ram_align = ram_align,
		.bank_align = bank_align,
		/* Real mode's first MiB keeps 4 KiB banks: the trampoline fits between holes. */
		.small_ram_end = X86_LEGACY_HOLE_END,
		/* Boot structures, the SMP trampoline and a kernel need low RAM. */
		.min_low_ram = 32 * MiB,
		.windows = windows,
		.nwindows = ARRAY_SIZE(windows),
	};

	return plan_build(&policy, ram_size, forbidden, nforbidden, plan);
}

int x86_plan_memory(u64 ram_size, unsigned int phys_bits,
		    const struct plan_forbidden *forbidden, unsigned int nforbidden,
		    struct memory_plan *plan)
{
	char label[PLAN_LABEL_LEN];

	snprintf(label, sizeof(label), "guest physical address limit (%u bits)", phys_bits);
	return x86_plan(ram_size, 4 * KiB, 4 * KiB, 1ULL << phys_bits, label, forbidden, nforbidden,
			NULL, plan);
}

static int layout_plan(const struct plan_request *req, u64 addr_limit, const char *limit_label,
		       struct memory_plan *plan)
{
	return x86_plan(req->ram_size, req->page_size, req->bank_align, addr_limit, limit_label,
			req->host ? req->host->holes : NULL,
			req->host ? req->host->n : 0, req->mmio64, plan);
}

const struct board_layout x86_layout = {
	.name = "x86_64",
	.default_addr_bits = x86_host_phys_bits,
	.ram_align = 4 * KiB,
	.msi_window_fixed = "0xfee00000-0xfeefffff, the LAPIC's MSI range that VT-d and AMD-Vi interrupt remapping decode",
	.plan = layout_plan,
	.place_boot = x86_place_boot,
};
