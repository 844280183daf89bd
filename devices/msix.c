#include "msix.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "core/log.h"

int msix_init(struct msix *m, struct vm *vm, unsigned int nvectors, const char *owner)
{
	memset(m, 0, sizeof(*m));
	if (!nvectors || nvectors > 2048)
		return -EINVAL;
	m->vectors = calloc(nvectors, sizeof(*m->vectors));
	if (!m->vectors)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	m->vm = vm;
	m->nvectors = nvectors;
	m->owner = owner;
	for (unsigned int i = 0; i < nvectors; i++) {
		irq_route_init(&m->vectors[i].route, vm);
		m->vectors[i].ctrl = MSIX_VECTOR_MASKED; /* masked at reset (6.8.2.9) */
	}
	return 0;
}

void msix_destroy(struct msix *m)
{
	if (!m->vectors)
		return;
	msix_reset(m);
	for (unsigned int i = 0; i < m->nvectors; i++)
		irq_route_release(&m->vectors[i].route);
	free(m->vectors);
	m->vectors = NULL;
	pthread_mutex_destroy(&m->lock);
}

/*
 * Brings one vector's KVM wiring in line with the guest's view: an irqfd
 * on a route to its message when it may fire, nothing otherwise.
 */
static void update_vector(struct msix *m, unsigned int index)
{
	struct msix_vector *v = &m->vectors[index];
	bool deliverable = m->enabled && !m->function_masked && !(v->ctrl & MSIX_VECTOR_MASKED);
	u64 address = (u64)v->addr_hi << 32 | v->addr_lo;

	int err;

	if (!deliverable) {
		irq_route_detach(&v->route);
		return;
	}
	if (irq_route_fd(&v->route) < 0)
		return;
	/* Routing first: the irqfd may fire at once with a pending signal. */
	err = irq_route_set_msi(&v->route, address, v->data, m->devid);
	if (err == -ENOSPC)
		pr_warn("%s: no GSI left for MSI-X vector %u", m->owner, index);
	if (err || v->route.attached)
		return;
	if (!irq_route_attach(&v->route) && m->vector_changed)
		m->vector_changed(m, (int)index, m->opaque);
}

void msix_table_access(struct msix *m, u64 offset, u8 *data, u32 len, bool is_write)
{
	unsigned int index = (unsigned int)(offset / MSIX_ENTRY_SIZE);
	unsigned int field = (unsigned int)(offset % MSIX_ENTRY_SIZE);
	struct msix_vector *v;
	u32 words[4];
	u8 *bytes = (u8 *)words;

	/* Aligned DWORD or QWORD accesses within one entry (6.8.2). */
	if (index >= m->nvectors || field + len > MSIX_ENTRY_SIZE) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	v = &m->vectors[index];
	words[0] = v->addr_lo, words[1] = v->addr_hi, words[2] = v->data, words[3] = v->ctrl;
	if (!is_write) {
		memcpy(data, bytes + field, len);
	} else {
		memcpy(bytes + field, data, len);
		v->addr_lo = words[0] & ~3u; /* DWORD aligned (6.8.2.4) */
		v->addr_hi = words[1];
		v->data = words[2];
		v->ctrl = words[3] & MSIX_VECTOR_MASKED;
		update_vector(m, index);
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_access(struct msix *m, u64 offset, u8 *data, u32 len, bool is_write)
{
	if (is_write)
		return; /* read-only (6.8.2.10) */
	memset(data, 0, len);
	pthread_mutex_lock(&m->lock);
	for (u32 byte = 0; byte < len; byte++) {
		for (unsigned int bit = 0; bit < 8; bit++) {
			u64 index = (offset + byte) * 8 + bit;

			if (index < m->nvectors && irq_route_pending(&m->vectors[index].route))
				data[byte] |= (u8)(1u << bit);
		}
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_set_control(struct msix *m, bool enable, bool function_masked)
{
	pthread_mutex_lock(&m->lock);
	if (m->enabled != enable || m->function_masked != function_masked) {
		bool disabling = m->enabled && !enable, enabling = !m->enabled && enable;

		m->enabled = enable;
		m->function_masked = function_masked;
		/* Before any vector: a device may only signal once its function is enabled. */
		if (enabling && m->vector_changed)
			m->vector_changed(m, MSIX_FUNCTION_ENABLED, m->opaque);
		for (unsigned int i = 0; i < m->nvectors; i++)
			update_vector(m, i);
		if (disabling && m->vector_changed)
			m->vector_changed(m, MSIX_FUNCTION_DISABLED, m->opaque);
	}
	pthread_mutex_unlock(&m->lock);
}

int msix_vector_fd(struct msix *m, unsigned int vector)
{
	int fd;

	if (vector >= m->nvectors)
		return -1;
	pthread_mutex_lock(&m->lock);
	fd = irq_route_fd(&m->vectors[vector].route);
	pthread_mutex_unlock(&m->lock);
	return fd;
}

void msix_signal(struct msix *m, unsigned int vector)
{
	int fd = msix_vector_fd(m, vector);

	if (fd >= 0 && eventfd_write(fd, 1) < 0)
		pr_warn("%s: cannot signal MSI-X vector %u", m->owner, vector);
}

void msix_reset(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	m->enabled = false;
	m->function_masked = false;
	for (unsigned int i = 0; i < m->nvectors; i++) {
		struct msix_vector *v = &m->vectors[i];

		update_vector(m, i);
		v->addr_lo = v->addr_hi = v->data = 0;
		v->ctrl = MSIX_VECTOR_MASKED;
		irq_route_clear(&v->route); /* nothing pending survives a reset */
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_describe(struct msix *m, unsigned int vector, char *buf, size_t len)
{
	const struct msix_vector *v;

	if (vector >= m->nvectors) {
		snprintf(buf, len, "vector %u: none (function %s)", vector,
			 m->enabled ? "enabled" : "disabled");
		return;
	}
	pthread_mutex_lock(&m->lock);
	v = &m->vectors[vector];
	snprintf(buf, len,
		 "vector %u: message 0x%08x%08x/0x%x%s, function %s%s, GSI %d %s%s", vector,
		 v->addr_hi, v->addr_lo, v->data, v->ctrl & MSIX_VECTOR_MASKED ? " masked" : "",
		 m->enabled ? "enabled" : "disabled", m->function_masked ? " masked" : "",
		 v->route.gsi, v->route.attached ? "attached" : "detached",
		 irq_route_pending(&v->route) ? ", pending" : "");
	pthread_mutex_unlock(&m->lock);
}
