/*
 * An emulated MSI-X table and PBA (PCI Local Bus 3.0, 6.8.2) whose
 * vectors are delivered by KVM without passing through the VMM: each
 * vector owns an eventfd that is an irqfd on a GSI routed to the message
 * the guest wrote. Only vectors the guest enables are wired; masking a
 * vector (or the function) detaches its irqfd, and a signal that arrives
 * meanwhile stays in the eventfd, shows as pending in the PBA, and is
 * delivered when the vector is unmasked.
 *
 * Shared by emulated devices (which signal the eventfd) and VFIO (where
 * the kernel signals it when the physical vector fires).
 */
#ifndef DEVICES_MSIX_H
#define DEVICES_MSIX_H

#include <pthread.h>

#include "core/irq_route.h"
#include "core/util.h"

struct vm;

#define MSIX_ENTRY_SIZE 16
#define MSIX_VECTOR_MASKED 0x1
#define MSIX_FUNCTION_DISABLED (-1)
#define MSIX_FUNCTION_ENABLED (-2)

struct msix_vector {
	u32 addr_lo, addr_hi, data, ctrl; /* the guest's table entry */
	struct irq_route route;           /* eventfd + irqfd + MSI route */
};

struct msix {
	struct vm *vm;
	pthread_mutex_t lock;
	unsigned int nvectors;
	struct msix_vector *vectors;
	bool enabled, function_masked;
	u32 devid;                        /* requester ID (used by an arm64 ITS) */
	const char *owner;                /* for messages */
	/*
	 * Optional: called (msix lock held) when a vector becomes deliverable,
	 * or the whole function is enabled (MSIX_FUNCTION_ENABLED) or
	 * disabled (MSIX_FUNCTION_DISABLED), so VFIO can wire exactly the
	 * vectors the guest uses and follow the Enable bit on the device.
	 */
	void (*vector_changed)(struct msix *m, int vector, void *opaque);
	void *opaque;
};

int msix_init(struct msix *m, struct vm *vm, unsigned int nvectors, const char *owner);
void msix_destroy(struct msix *m);

/* Guest accesses to the table and the PBA (offsets within each). */
void msix_table_access(struct msix *m, u64 offset, u8 *data, u32 len, bool is_write);
void msix_pba_access(struct msix *m, u64 offset, u8 *data, u32 len, bool is_write);

/* The MSI-X capability's Enable and Function Mask bits changed. */
void msix_set_control(struct msix *m, bool enable, bool function_masked);

/* The eventfd that raises vector (created on demand), or -1. */
int msix_vector_fd(struct msix *m, unsigned int vector);

/* Raises vector from the VMM (emulated devices). */
void msix_signal(struct msix *m, unsigned int vector);

/* Back to the power-on state: all vectors masked and detached. */
void msix_reset(struct msix *m);

/* At -d: one vector as the guest programmed it and as KVM has it wired (a lost interrupt). */
void msix_describe(struct msix *m, unsigned int vector, char *buf, size_t len);

#endif
