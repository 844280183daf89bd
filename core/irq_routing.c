#include "irq_routing.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"

#define MAX_ROUTES IRQ_ROUTING_MAX_GSI

void irq_routing_init(struct irq_routing *routing)
{
	memset(routing, 0, sizeof(*routing));
	routing->vm_fd = -1;
	pthread_mutex_init(&routing->lock, NULL);
}

void irq_routing_destroy(struct irq_routing *routing)
{
	free(routing->table);
	routing->table = NULL;
}

static struct kvm_irq_routing *table_of(struct irq_routing *routing)
{
	if (!routing->table)
		routing->table = calloc(1, sizeof(struct kvm_irq_routing) +
					   MAX_ROUTES * sizeof(struct kvm_irq_routing_entry));
	return routing->table;
}

static struct kvm_irq_routing_entry *new_entry(struct kvm_irq_routing *table)
{
	struct kvm_irq_routing_entry *e;

	if (table->nr == MAX_ROUTES)
		return NULL;
	e = &table->entries[table->nr++];
	memset(e, 0, sizeof(*e));
	return e;
}

int irq_routing_add_irqchip(struct irq_routing *routing, u32 gsi, u32 irqchip, u32 pin)
{
	struct kvm_irq_routing_entry *e;
	struct kvm_irq_routing *table;
	int err = 0;

	pthread_mutex_lock(&routing->lock);
	table = table_of(routing);
	if (!table || !(e = new_entry(table))) {
		err = -ENOSPC;
	} else {
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = irqchip;
		e->u.irqchip.pin = pin;
	}
	pthread_mutex_unlock(&routing->lock);
	return err;
}

static int commit_locked(struct irq_routing *routing)
{
	struct kvm_irq_routing *table = routing->table;

	if (ioctl(routing->vm_fd, KVM_SET_GSI_ROUTING, table) < 0) {
		pr_err("KVM_SET_GSI_ROUTING (%u routes): %s", table->nr, strerror(errno));
		return -errno;
	}
	return 0;
}

int irq_routing_commit(struct irq_routing *routing)
{
	int err;

	pthread_mutex_lock(&routing->lock);
	err = table_of(routing) ? commit_locked(routing) : -ENOMEM;
	pthread_mutex_unlock(&routing->lock);
	return err;
}

int irq_routing_alloc_gsi(struct irq_routing *routing)
{
	int gsi = -ENOSPC;

	pthread_mutex_lock(&routing->lock);
	for (u32 g = IRQ_ROUTING_FIRST_MSI_GSI; g < MAX_ROUTES; g++) {
		if (!(routing->gsi_used[g / 64] & (1ULL << (g % 64)))) {
			routing->gsi_used[g / 64] |= 1ULL << (g % 64);
			gsi = (int)g;
			break;
		}
	}
	pthread_mutex_unlock(&routing->lock);
	return gsi;
}

/*
 * Drops the GSI's MSI route (if any) and makes the number free again. KVM
 * keeps the stale route until the next commit, which is harmless: no irqfd
 * points at it any more. Not committing keeps teardown free of routing
 * ioctls (the main thread's sandbox does not allow them).
 */
void irq_routing_free_gsi(struct irq_routing *routing, u32 gsi)
{
	struct kvm_irq_routing *table;

	if (gsi >= MAX_ROUTES)
		return;
	pthread_mutex_lock(&routing->lock);
	table = routing->table;
	for (u32 i = 0; table && i < table->nr; i++) {
		if (table->entries[i].gsi == gsi && table->entries[i].type == KVM_IRQ_ROUTING_MSI) {
			table->entries[i] = table->entries[--table->nr];
			break;
		}
	}
	routing->gsi_used[gsi / 64] &= ~(1ULL << (gsi % 64));
	pthread_mutex_unlock(&routing->lock);
}

int irq_routing_set_msi(struct irq_routing *routing, u32 gsi, u64 address, u32 data, u32 devid)
{
	struct kvm_irq_routing_entry *e = NULL;
	struct kvm_irq_routing *table;
	int err;

	pthread_mutex_lock(&routing->lock);
	table = table_of(routing);
	for (u32 i = 0; table && i < table->nr; i++)
		if (table->entries[i].gsi == gsi && table->entries[i].type == KVM_IRQ_ROUTING_MSI)
			e = &table->entries[i];
	if (e && e->u.msi.address_lo == (u32)address &&
	    e->u.msi.address_hi == (u32)(address >> 32) && e->u.msi.data == data &&
	    e->u.msi.devid == (routing->msi_devid ? devid : 0)) {
		/* Unchanged: no need to hand KVM the whole table again. */
		pthread_mutex_unlock(&routing->lock);
		return 0;
	}
	if (table && !e && (e = new_entry(table)))
		e->gsi = gsi;
	if (!e) {
		pthread_mutex_unlock(&routing->lock);
		return -ENOSPC;
	}
	e->type = KVM_IRQ_ROUTING_MSI;
	e->flags = routing->msi_devid ? KVM_MSI_VALID_DEVID : 0;
	e->u.msi.address_lo = (u32)address;
	e->u.msi.address_hi = (u32)(address >> 32);
	e->u.msi.data = data;
	e->u.msi.devid = routing->msi_devid ? devid : 0;
	err = commit_locked(routing);
	pthread_mutex_unlock(&routing->lock);
	return err;
}
