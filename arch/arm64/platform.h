/* The arm64 board's own state and the functions its files share. */
#ifndef ARCH_ARM64_PLATFORM_H
#define ARCH_ARM64_PLATFORM_H

#include "arch/board.h"

/* The arm64 board the guest sees: board->priv points here. */
struct arm64_platform {
	int gic_fd, its_fd;
	u64 kernel_entry;
	u64 fdt_addr;
};

int arm64_gic_create(struct vm *vm, const struct memory_plan *plan, struct arm64_platform *pf);
int arm64_gic_init(struct arm64_platform *pf);
int arm64_load_guest(struct board *b, const struct boot_config *boot,
		     const struct boot_images *img);

/* vcpu.c */
int arm64_vcpu_init(struct board *b, struct vcpu *vcpu);
void arm64_vcpu_dump(struct board *b, struct vcpu *vcpu);

#endif
