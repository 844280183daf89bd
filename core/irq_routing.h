/*
 * The VM's GSI routing table. KVM_SET_GSI_ROUTING replaces the whole
 * table, so every route (the board's interrupt-controller pins and the MSI
 * routes behind irqfds) is kept here and committed together. The table
 * has its own lock: MSI-X table writes arrive on any vCPU thread.
 * Devices do not use this directly: they own irq_routes (irq_route.h).
 */
#ifndef CORE_IRQ_ROUTING_H
#define CORE_IRQ_ROUTING_H

#include <pthread.h>

#include "util.h"

struct kvm_irq_routing;

/* The first GSI handed out for MSI routes (above the IOAPIC pins). */
#define IRQ_ROUTING_FIRST_MSI_GSI 24
#define IRQ_ROUTING_MAX_GSI 2048

struct irq_routing {
	pthread_mutex_t lock;
	struct kvm_irq_routing *table;
	u64 gsi_used[IRQ_ROUTING_MAX_GSI / 64]; /* MSI GSIs handed out */
	int vm_fd;                              /* where the table is committed */
	bool msi_devid;                         /* MSI routes carry a DeviceID (arm64 ITS) */
};

void irq_routing_init(struct irq_routing *routing);
void irq_routing_destroy(struct irq_routing *routing);

/* Board set-up: gsi drives an interrupt-controller pin; commit when done. */
int irq_routing_add_irqchip(struct irq_routing *routing, u32 gsi, u32 irqchip, u32 pin);
int irq_routing_commit(struct irq_routing *routing);

/* For irq_route.c: a free MSI GSI, or -ENOSPC; and its release. */
int irq_routing_alloc_gsi(struct irq_routing *routing);
void irq_routing_free_gsi(struct irq_routing *routing, u32 gsi);

/*
 * Points gsi at an MSI message and commits. devid, when the VM's MSIs
 * carry one (arm64 ITS), is the requester ID (KVM_MSI_VALID_DEVID).
 */
int irq_routing_set_msi(struct irq_routing *routing, u32 gsi, u64 address, u32 data, u32 devid);

#endif
