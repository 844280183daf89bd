/*
 * vCPU state for the Linux 64-bit boot protocol: the boot CPU starts in
 * long mode at the kernel's 64-bit entry with RSI pointing at boot_params,
 * on identity-mapped page tables and the __BOOT_CS/__BOOT_DS segments
 * (0x10/0x18) the protocol requires. The other CPUs wait for INIT/SIPI in
 * the in-kernel LAPIC.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cpuid.h"
#include "layout.h"
#include "boot.h"
#include "platform.h"
#include "core/log.h"

#define CR0_PE (1u << 0)
#define CR0_ET (1u << 4)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define PAGE_PRESENT_RW 0x3ULL
#define PAGE_PS 0x80ULL

/* IA32_MTRR_DEF_TYPE (Intel SDM vol. 3, 12.11.2.1): E (enable) and the default type WB. */
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MTRR_DEF_TYPE_E (1ULL << 11)
#define MTRR_TYPE_WB 6ULL

#define GDT_CODE64 0x00af9b000000ffffULL
#define GDT_DATA 0x00cf93000000ffffULL
#define GDT_TSS 0x00008b0000000fffULL
#define SEL_CODE 0x10
#define SEL_DATA 0x18
#define SEL_TSS 0x20

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

/* Where the plan put a piece of boot data; 0 when it did not. */
static u64 placed(const struct memory_plan *plan, const char *name)
{
	const struct plan_placement *p = plan_find_placement(plan, name);

	return p ? p->start : 0;
}

/* Identity map of the first 4 GiB with 2 MiB pages, and the GDT, where the plan put them. */
int x86_write_boot_tables(struct vm *vm, const struct memory_plan *plan)
{
	u64 gdt[] = { 0, 0, GDT_CODE64, GDT_DATA, GDT_TSS };
	u64 tables = placed(plan, X86_PLACE_PAGE_TABLES), gdt_at = placed(plan, X86_PLACE_GDT);
	u64 pdpt_at = tables + 0x1000, pd_at = tables + 0x2000;
	u64 *pml4 = tables ? guest_mem_ptr(&vm->mem, tables, X86_BOOT_PAGE_TABLES_SIZE) : NULL;
	u64 *pdpt = pml4 ? pml4 + 512 : NULL, *pd = pml4 ? pml4 + 1024 : NULL;

	if (!pml4 || !gdt_at || guest_mem_write(&vm->mem, gdt_at, gdt, sizeof(gdt))) {
		pr_err("guest RAM does not hold the planned boot page tables (0x%llx) and GDT (0x%llx)",
		       (unsigned long long)tables, (unsigned long long)gdt_at);
		return -EFAULT;
	}
	memset(pml4, 0, 2 * 4096);
	pml4[0] = pdpt_at | PAGE_PRESENT_RW;
	for (u64 i = 0; i < 4; i++)
		pdpt[i] = (pd_at + i * 4096) | PAGE_PRESENT_RW;
	for (u64 i = 0; i < 4 * 512; i++)
		pd[i] = (i * 2 * MiB) | PAGE_PRESENT_RW | PAGE_PS;
	return 0;
}

static void segment(struct kvm_segment *s, u16 selector, u8 type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->selector = selector;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

static int setup_long_mode(struct vcpu *vcpu, const struct memory_plan *plan, u64 entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rflags = 0x2, .rip = entry,
				 .rsi = placed(plan, X86_PLACE_ZERO_PAGE) };
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	segment(&sregs.cs, SEL_CODE, 0xb, true);
	segment(&sregs.ds, SEL_DATA, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.selector = SEL_TSS;
	sregs.tr.limit = 0xfff;
	sregs.tr.type = 0xb;
	sregs.tr.present = 1;
	sregs.gdt.base = placed(plan, X86_PLACE_GDT);
	sregs.gdt.limit = 5 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_ET | CR0_PG;
	sregs.cr3 = placed(plan, X86_PLACE_PAGE_TABLES); /* the PML4 comes first */
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	return 0;
}

/* LINT0 receives the 8259's ExtINT, LINT1 NMIs: the PC's virtual wire mode. */
static int setup_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	u32 lvt;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	memcpy(&lvt, &lapic.regs[APIC_LVT0], 4);
	lvt = (lvt & ~0x700u) | (APIC_MODE_EXTINT << 8);
	memcpy(&lapic.regs[APIC_LVT0], &lvt, 4);
	memcpy(&lvt, &lapic.regs[APIC_LVT1], 4);
	lvt = (lvt & ~0x700u) | (APIC_MODE_NMI << 8);
	memcpy(&lapic.regs[APIC_LVT1], &lvt, 4);
	return ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0 ? -errno : 0;
}

/*
 * MTRRs on, all memory write-back by default, as firmware leaves them.
 * With 0 ("disabled by BIOS") Linux runs without MTRR bookkeeping and its
 * PAT setup takes a slower path at boot; and on Intel hosts KVM honours
 * guest MTRRs once non-coherent DMA is attached (VFIO without snoop
 * control), so disabled MTRRs would make all of RAM uncached.
 */
static int setup_mtrr(struct vcpu *vcpu)
{
	struct {
		struct kvm_msrs head;
		struct kvm_msr_entry entry;
	} msrs = { .head = { .nmsrs = 1 },
		   .entry = { .index = MSR_MTRR_DEF_TYPE,
			      .data = MTRR_DEF_TYPE_E | MTRR_TYPE_WB } };

	return ioctl(vcpu->fd, KVM_SET_MSRS, &msrs) == 1 ? 0 : -EIO;
}

int x86_vcpu_init(struct board *b, struct vcpu *vcpu)
{
	struct x86_platform *pf = b->priv;
	size_t size = sizeof(*pf->cpuid) + pf->cpuid->nent * sizeof(pf->cpuid->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(size);
	int err;

	if (!cpuid)
		return -ENOMEM;
	memcpy(cpuid, pf->cpuid, size);
	x86_cpuid_for_vcpu(cpuid, vcpu->index, b->ncpus);
	err = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
	free(cpuid);
	if (err) {
		pr_err("vCPU %u: KVM_SET_CPUID2: %s", vcpu->index, strerror(-err));
		return err;
	}
	err = setup_lapic(vcpu);
	if (!err)
		err = setup_mtrr(vcpu);
	if (!err && vcpu->index == 0)
		err = setup_long_mode(vcpu, b->plan, pf->kernel_entry);
	if (err)
		pr_err("vCPU %u: cannot set up registers: %s", vcpu->index, strerror(-err));
	return err;
}

void x86_vcpu_dump(struct board *b, struct vcpu *vcpu)
{
	(void)b;
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return;
	pr_err("vCPU %u: rip 0x%llx rsp 0x%llx rflags 0x%llx cr0 0x%llx cr3 0x%llx cr4 0x%llx efer 0x%llx",
	       vcpu->index, regs.rip, regs.rsp, regs.rflags, sregs.cr0, sregs.cr3, sregs.cr4,
	       sregs.efer);
}

/* The vectors set in one of the local APIC's 256-bit registers (ISR 0x100, IRR 0x200). */
static void apic_vectors(const struct kvm_lapic_state *lapic, unsigned int reg, char *buf,
			 size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (unsigned int v = 0; v < 256 && at + 6 < len; v++) {
		u32 word;

		memcpy(&word, &lapic->regs[reg + (v / 32) * 0x10], 4);
		if (word & 1u << (v % 32))
			at += (size_t)snprintf(buf + at, len - at, " 0x%02x", v);
	}
	if (!at)
		snprintf(buf, len, " none");
}

/*
 * A vector left in service blocks every vector of its priority class and
 * below: a guest that waits for such an interrupt halts for good. Shown
 * at -d when the vCPU stops.
 */
void x86_vcpu_report(struct board *b, struct vcpu *vcpu)
{
	(void)b;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	char isr[200], irr[200];
	u32 tpr, ppr;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &events) < 0)
		return;
	apic_vectors(&lapic, 0x100, isr, sizeof(isr));
	apic_vectors(&lapic, 0x200, irr, sizeof(irr));
	memcpy(&tpr, &lapic.regs[0x80], 4);
	memcpy(&ppr, &lapic.regs[0xa0], 4);
	pr_debug("vCPU %u at stop: local APIC TPR 0x%x PPR 0x%x, in service:%s, requested:%s; interrupt %s (0x%x), NMI %s",
		 vcpu->index, tpr, ppr, isr, irr,
		 events.interrupt.injected ? "being injected" : "none being injected",
		 events.interrupt.nr, events.nmi.pending || events.nmi.injected ? "pending" : "none");
}
