#include "layout.h"

#include <stdio.h>

#include "arch/board.h"

static int arm64_plan(const struct plan_request *req, u64 addr_limit, const char *limit_label,
		      const struct plan_forbidden *forbidden, unsigned int nforbidden,
		      const struct mmio64_need *mmio64, struct memory_plan *plan)
{
	const u64 ecam_size = ARM64_PCI_ECAM_BUSES * MiB, ram_size = req->ram_size;
	const unsigned int ncpus = req->ncpus;
	/* Top-down in this order: the biggest, most aligned windows highest. */
	struct plan_window_request windows[] = {
		{ .name = PLAN_PCI_ECAM, .label = "PCI ECAM (16 buses)", .kind = REGION_DEVICE,
		  .placement = PLACE_TOP_DOWN_BELOW, .max_end = ARM64_HIGH_RAM_BASE,
		  .size = ecam_size, .align = ecam_size },
		{ .name = PLAN_PCI_MMIO32, .label = "PCI 32-bit MMIO window", .kind = REGION_DEVICE,
		  .placement = PLACE_TOP_DOWN_BELOW, .max_end = ARM64_HIGH_RAM_BASE,
		  .size = ARM64_PCI_MMIO32_SIZE, .align = ARM64_PCI_MMIO32_SIZE },
		{ .name = PLAN_ARM64_GICD, .label = "GICv3 distributor", .kind = REGION_DEVICE,
		  .placement = PLACE_TOP_DOWN_BELOW, .max_end = ARM64_HIGH_RAM_BASE,
		  .size = ARM64_GICD_SIZE, .align = 0x10000 },
		{ .name = PLAN_ARM64_GICR, .label = "GICv3 redistributors", .kind = REGION_DEVICE,
		  .placement = PLACE_TOP_DOWN_BELOW, .max_end = ARM64_HIGH_RAM_BASE,
		  .size = ARM64_GICR_SIZE_PER_CPU * ncpus, .align = 0x10000 },
		/* The ITS doorbell (GITS_TRANSLATER) lives in its first frame. */
		{ .name = PLAN_ARM64_ITS, .label = "GICv3 ITS (MSI doorbell)", .kind = REGION_DEVICE,
		  .placement = PLACE_TOP_DOWN_BELOW, .max_end = ARM64_HIGH_RAM_BASE,
		  .size = ARM64_ITS_SIZE, .align = 0x10000 },
		{ .name = PLAN_ARM64_UART, .label = "16550 UART", .kind = REGION_DEVICE,
		  .placement = PLACE_TOP_DOWN_BELOW, .max_end = ARM64_HIGH_RAM_BASE,
		  .size = ARM64_UART_SIZE, .align = 0x1000 },
		/* Sized by board_mmio64_window. */
		{ .name = PLAN_PCI_MMIO64, .label = "PCI 64-bit MMIO window", .kind = REGION_DEVICE,
		  .placement = PLACE_ABOVE_RAM },
		/*
		 * The MSI IOVA window the VMM chose: top-down below the other
		 * device windows, so RAM stays one bank from 0; or where asked.
		 * Last: left out when the host's stays.
		 */
		{ .name = PLAN_MSI_WINDOW, .label = req->msi_window_label, .kind = REGION_HOLE,
		  .placement = req->msi_window == PLAN_MSI_AUTO ? PLACE_TOP_DOWN_BELOW : PLACE_FIXED,
		  .addr = req->msi_window_addr, .max_end = ARM64_HIGH_RAM_BASE,
		  .size = req->msi_window_size, .align = PLAN_MSI_WINDOW_ALIGN,
		  .ends_low_ram = true },
	};
	board_mmio64_window(mmio64, ARM64_PCI_MMIO64_SIZE, &windows[ARRAY_SIZE(windows) - 2]);
	const struct plan_policy policy = {
		.arch = "arm64",
		.addr_limit = addr_limit,
		.addr_limit_label = limit_label,
		.ram_base = 0,
		.high_ram_base = ARM64_HIGH_RAM_BASE,
		/* At least 64 KiB (arm64_layout.ram_align), so any guest kernel can map every bank. */
		.ram_align = req->page_size,
		.bank_align = req->bank_align,
		.min_low_ram = 64 * MiB,
		.windows = windows,
		/* The MSI window is last: left out when the host's stays. */
		.nwindows = ARRAY_SIZE(windows) - (req->msi_window == PLAN_MSI_HOST),
	};

	return plan_build(&policy, ram_size, forbidden, nforbidden, plan);
}

static unsigned int default_ipa_bits(void)
{
	return ARM64_DEFAULT_IPA_BITS;
}

static int layout_plan(const struct plan_request *req, u64 addr_limit, const char *limit_label,
		       struct memory_plan *plan)
{
	return arm64_plan(req, addr_limit, limit_label, req->host ? req->host->holes : NULL,
			  req->host ? req->host->n : 0, req->mmio64, plan);
}

const struct board_layout arm64_layout = {
	.name = "arm64",
	.default_addr_bits = default_ipa_bits,
	/* 64 KiB: the largest arm64 page size, so a guest of any page size maps every bank. */
	.ram_align = 64 * KiB,
	.plan = layout_plan,
	.place_boot = arm64_place_boot,
};

unsigned long arm64_vm_type_for(const struct memory_plan *plan, unsigned int host_ipa_limit)
{
	u64 end = 0;
	unsigned int bits = 32; /* KVM's smallest IPA space */

	if (!host_ipa_limit)
		return 0; /* no choice: the 40-bit default, which the plan was made for */
	for (unsigned int i = 0; i < plan->nregions; i++)
		end = MAX(end, plan->regions[i].start + plan->regions[i].size);
	while (bits < host_ipa_limit && end > 1ULL << bits)
		bits++;
	/* KVM_VM_TYPE_ARM_IPA_SIZE(bits) from <linux/kvm.h>: the low byte. */
	return bits & 0xffUL;
}
