#include "irq_routing.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "vm.h"

#define MAX_ROUTES 1024

static struct kvm_irq_routing *table_of(struct vm *vm)
{
	if (!vm->irq_routes) {
		vm->irq_routes = calloc(1, sizeof(struct kvm_irq_routing) +
					MAX_ROUTES * sizeof(struct kvm_irq_routing_entry));
	}
	return vm->irq_routes;
}

int irq_routing_add_irqchip(struct vm *vm, u32 gsi, u32 irqchip, u32 pin)
{
	struct kvm_irq_routing *table = table_of(vm);
	struct kvm_irq_routing_entry *e;

	if (!table)
		return -ENOMEM;
	if (table->nr == MAX_ROUTES)
		return -E2BIG;
	e = &table->entries[table->nr++];
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = irqchip;
	e->u.irqchip.pin = pin;
	return 0;
}

int irq_routing_commit(struct vm *vm)
{
	struct kvm_irq_routing *table = table_of(vm);

	if (!table)
		return -ENOMEM;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, table) < 0) {
		pr_err("KVM_SET_GSI_ROUTING (%u routes): %s", table->nr, strerror(errno));
		return -errno;
	}
	return 0;
}

void irq_routing_free(struct vm *vm)
{
	free(vm->irq_routes);
	vm->irq_routes = NULL;
}
