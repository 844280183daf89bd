#include "irq_route.h"

#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "irq_routing.h"
#include "log.h"
#include "vm.h"

void irq_route_init(struct irq_route *route, struct vm *vm)
{
	memset(route, 0, sizeof(*route));
	route->vm = vm;
	route->fd = route->gsi = route->resample_fd = -1;
}

int irq_route_fd(struct irq_route *route)
{
	if (route->fd < 0 && (route->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return -errno;
	return route->fd;
}

int irq_route_set_msi(struct irq_route *route, u64 address, u32 data, u32 devid)
{
	if (route->gsi < 0) {
		int gsi = irq_routing_alloc_gsi(&route->vm->routing);

		if (gsi < 0)
			return gsi;
		route->gsi = gsi;
		route->msi = true;
	}
	return irq_routing_set_msi(&route->vm->routing, (u32)route->gsi, address, data, devid);
}

int irq_route_set_line(struct irq_route *route, u32 gsi)
{
	if (route->resample_fd < 0 &&
	    (route->resample_fd = eventfd(0, EFD_CLOEXEC)) < 0)
		return -errno;
	route->gsi = (int)gsi;
	route->msi = false;
	return irq_route_fd(route) < 0 ? -errno : 0;
}

static int assign(struct irq_route *route, bool on)
{
	struct kvm_irqfd irqfd = {
		.fd = (u32)route->fd,
		.gsi = (u32)route->gsi,
		.flags = on ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (on && route->resample_fd >= 0) {
		irqfd.flags |= KVM_IRQFD_FLAG_RESAMPLE;
		irqfd.resamplefd = (u32)route->resample_fd;
	}
	if (ioctl(route->vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		pr_warn("KVM_IRQFD %s gsi %d: %s", on ? "assign" : "deassign", route->gsi,
			strerror(errno));
		return -errno;
	}
	route->attached = on;
	return 0;
}

int irq_route_attach(struct irq_route *route)
{
	if (route->attached)
		return 0;
	if (route->gsi < 0)
		return -EINVAL;
	if (irq_route_fd(route) < 0)
		return -errno;
	return assign(route, true);
}

int irq_route_detach(struct irq_route *route)
{
	return route->attached ? assign(route, false) : 0;
}

bool irq_route_pending(const struct irq_route *route)
{
	struct pollfd p = { .fd = route->fd, .events = POLLIN };

	return route->fd >= 0 && !route->attached && poll(&p, 1, 0) == 1;
}

void irq_route_clear(struct irq_route *route)
{
	eventfd_t drop;

	if (route->fd >= 0)
		(void)eventfd_read(route->fd, &drop);
}

void irq_route_release(struct irq_route *route)
{
	irq_route_detach(route);
	if (route->msi && route->gsi >= 0)
		irq_routing_free_gsi(&route->vm->routing, (u32)route->gsi);
	if (route->fd >= 0)
		close(route->fd);
	if (route->resample_fd >= 0)
		close(route->resample_fd);
	route->fd = route->resample_fd = route->gsi = -1;
	route->msi = false;
}
