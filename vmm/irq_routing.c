#include "irq_routing.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "vm.h"

#define MAX_ROUTES 2048

static pthread_mutex_t routing_lock = PTHREAD_MUTEX_INITIALIZER;

static struct kvm_irq_routing *table_of(struct vm *vm)
{
	if (!vm->irq_routes) {
		vm->irq_routes = calloc(1, sizeof(struct kvm_irq_routing) +
					MAX_ROUTES * sizeof(struct kvm_irq_routing_entry));
		vm->next_msi_gsi = IRQ_ROUTING_FIRST_MSI_GSI;
	}
	return vm->irq_routes;
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

int irq_routing_add_irqchip(struct vm *vm, u32 gsi, u32 irqchip, u32 pin)
{
	struct kvm_irq_routing_entry *e;
	int err = 0;

	pthread_mutex_lock(&routing_lock);
	if (!table_of(vm) || !(e = new_entry(vm->irq_routes))) {
		err = -ENOSPC;
	} else {
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = irqchip;
		e->u.irqchip.pin = pin;
	}
	pthread_mutex_unlock(&routing_lock);
	return err;
}

static int commit_locked(struct vm *vm)
{
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, vm->irq_routes) < 0) {
		pr_err("KVM_SET_GSI_ROUTING (%u routes): %s", vm->irq_routes->nr, strerror(errno));
		return -errno;
	}
	return 0;
}

int irq_routing_commit(struct vm *vm)
{
	int err;

	pthread_mutex_lock(&routing_lock);
	err = table_of(vm) ? commit_locked(vm) : -ENOMEM;
	pthread_mutex_unlock(&routing_lock);
	return err;
}

int irq_routing_alloc_gsi(struct vm *vm)
{
	int gsi = -ENOSPC;

	pthread_mutex_lock(&routing_lock);
	if (table_of(vm) && vm->next_msi_gsi < MAX_ROUTES)
		gsi = (int)vm->next_msi_gsi++;
	pthread_mutex_unlock(&routing_lock);
	return gsi;
}

int irq_routing_set_msi(struct vm *vm, u32 gsi, u64 address, u32 data, bool has_devid,
			u32 devid)
{
	struct kvm_irq_routing_entry *e = NULL;
	struct kvm_irq_routing *table;
	int err;

	pthread_mutex_lock(&routing_lock);
	table = table_of(vm);
	for (u32 i = 0; table && i < table->nr; i++)
		if (table->entries[i].gsi == gsi && table->entries[i].type == KVM_IRQ_ROUTING_MSI)
			e = &table->entries[i];
	if (table && !e && (e = new_entry(table)))
		e->gsi = gsi;
	if (!e) {
		pthread_mutex_unlock(&routing_lock);
		return -ENOSPC;
	}
	e->type = KVM_IRQ_ROUTING_MSI;
	e->flags = has_devid ? KVM_MSI_VALID_DEVID : 0;
	e->u.msi.address_lo = (u32)address;
	e->u.msi.address_hi = (u32)(address >> 32);
	e->u.msi.data = data;
	e->u.msi.devid = has_devid ? devid : 0;
	err = commit_locked(vm);
	pthread_mutex_unlock(&routing_lock);
	return err;
}

void irq_routing_free(struct vm *vm)
{
	free(vm->irq_routes);
	vm->irq_routes = NULL;
}

int kvm_irqfd(struct vm *vm, int fd, u32 gsi, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = (u32)fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		pr_warn("KVM_IRQFD %s gsi %u: %s", assign ? "assign" : "deassign", gsi,
			strerror(errno));
		return -errno;
	}
	return 0;
}

int kvm_ioeventfd(struct vm *vm, u64 addr, u32 len, int fd, bool pio, bool assign)
{
	struct kvm_ioeventfd ioev = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &ioev) < 0) {
		pr_warn("KVM_IOEVENTFD %s 0x%llx: %s", assign ? "assign" : "deassign",
			(unsigned long long)addr, strerror(errno));
		return -errno;
	}
	return 0;
}
