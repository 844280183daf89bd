/*
 * One interrupt source delivered by KVM without passing through the VMM:
 * an eventfd that is an irqfd on a GSI. Every interrupt of every device
 * goes through this one interface:
 *  - an MSI route (virtio MSI-X, VFIO MSI-X and MSI): the GSI is allocated
 *    on the first irq_route_set_msi() and points at the guest's message;
 *  - a wired line (VFIO INTx): a fixed GSI (IOAPIC pin, GIC SPI) with a
 *    resample eventfd that KVM signals when the guest ends the interrupt.
 * Detaching keeps the eventfd: a signal that arrives meanwhile waits in it
 * (irq_route_pending) and is delivered on the next attach. Releasing
 * detaches, closes the eventfds and frees the GSI.
 */
#ifndef CORE_IRQ_ROUTE_H
#define CORE_IRQ_ROUTE_H

#include "util.h"

struct vm;

struct irq_route {
	struct vm *vm;
	int fd;           /* the trigger eventfd; -1 until needed */
	int gsi;          /* -1 until allocated (MSI) or set (line) */
	int resample_fd;  /* lines only: signalled at the guest's EOI */
	bool msi;         /* the GSI is ours to free */
	bool attached;    /* irqfd assigned */
};

void irq_route_init(struct irq_route *route, struct vm *vm);

/* The trigger eventfd, created on first use; -errno on failure. */
int irq_route_fd(struct irq_route *route);

/* Points the route at an MSI message (devid: requester ID for an ITS). */
int irq_route_set_msi(struct irq_route *route, u64 address, u32 data, u32 devid);

/* Makes the route a level-triggered line on gsi, with a resample eventfd. */
int irq_route_set_line(struct irq_route *route, u32 gsi);

/* Assigns / deassigns the irqfd; both are no-ops when already so. */
int irq_route_attach(struct irq_route *route);
int irq_route_detach(struct irq_route *route);

/* A signal waits in the eventfd while detached (the MSI-X PBA bit). */
bool irq_route_pending(const struct irq_route *route);

/* Drops any signal waiting in the eventfd (a function reset). */
void irq_route_clear(struct irq_route *route);

void irq_route_release(struct irq_route *route);

#endif
