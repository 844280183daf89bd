/*
 * The VM's GSI routing table. KVM_SET_GSI_ROUTING replaces the whole
 * table, so every route (the platform's interrupt-controller pins and,
 * later, MSI routes for irqfds) is kept here and committed together.
 */
#ifndef VMM_IRQ_ROUTING_H
#define VMM_IRQ_ROUTING_H

#include "util.h"

struct vm;

int irq_routing_add_irqchip(struct vm *vm, u32 gsi, u32 irqchip, u32 pin);
int irq_routing_commit(struct vm *vm);
void irq_routing_free(struct vm *vm);

#endif
