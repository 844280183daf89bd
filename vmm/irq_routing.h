/*
 * The VM's GSI routing table. KVM_SET_GSI_ROUTING replaces the whole
 * table, so every route (the platform's interrupt-controller pins and the
 * MSI routes behind irqfds) is kept here and committed together. Any
 * thread may call these (MSI-X table writes arrive on vCPU threads).
 */
#ifndef VMM_IRQ_ROUTING_H
#define VMM_IRQ_ROUTING_H

#include "util.h"

struct vm;

/* The first GSI handed out for MSI routes (above the IOAPIC pins). */
#define IRQ_ROUTING_FIRST_MSI_GSI 24

int irq_routing_add_irqchip(struct vm *vm, u32 gsi, u32 irqchip, u32 pin);
int irq_routing_commit(struct vm *vm);
void irq_routing_free(struct vm *vm);

/* A fresh GSI for an MSI route, or -ENOSPC. */
int irq_routing_alloc_gsi(struct vm *vm);

/*
 * Points gsi at an MSI message (address, data) and commits. devid, when
 * has_devid, is the requester ID an arm64 ITS needs (KVM_MSI_VALID_DEVID).
 */
int irq_routing_set_msi(struct vm *vm, u32 gsi, u64 address, u32 data, bool has_devid,
			u32 devid);

/* KVM_IRQFD: fd (an eventfd) raises gsi; assign false detaches it. */
int kvm_irqfd(struct vm *vm, int fd, u32 gsi, bool assign);

/* KVM_IOEVENTFD: a guest write of len bytes at addr signals fd without an exit. */
int kvm_ioeventfd(struct vm *vm, u64 addr, u32 len, int fd, bool pio, bool assign);

#endif
