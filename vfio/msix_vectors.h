/*
 * Which MSI-X vectors of a passed-through function VFIO has armed, and
 * how VFIO_DEVICE_SET_IRQS is called to arm one more without disturbing
 * the others (Documentation/driver-api/vfio.rst; drivers/vfio/pci/
 * vfio_pci_intrs.c):
 *  - the guest setting MSI-X Enable enables it on the device at once,
 *    with vector 0 and no eventfd: a device may look at its own Enable
 *    bit long before the guest unmasks a vector (QEMU's nvme decides then
 *    whether its admin queue signals MSI-X at all; QEMU's vfio-pci does
 *    the same for that reason);
 *  - the first vector beyond those enables MSI-X in VFIO with start 0 and
 *    count vector + 1, passing -1 for the vectors not armed: the host
 *    allocates that many but requests an interrupt only for armed ones;
 *  - a later vector is armed alone (start = vector, count 1): every other
 *    vector keeps its eventfd and its host interrupt. Beyond the count
 *    first enabled this needs a kernel that can add MSI-X vectors while
 *    enabled (VFIO_IRQ_INFO_NORESIZE clear);
 *  - a NORESIZE device is disabled and re-enabled with the larger count,
 *    with the eventfd of every armed vector;
 *  - while the guest also has MSI on and that holds the device in VFIO
 *    (one kind at a time), MSI-X is paused: vectors the guest makes
 *    deliverable meanwhile are only marked, and the next enable arms every
 *    marked vector at once.
 * Up to 2048 vectors, as many as a table holds. Pure logic over a
 * set_irqs callback, so that unit tests play VFIO.
 */
#ifndef VFIO_MSIX_VECTORS_H
#define VFIO_MSIX_VECTORS_H

#include "core/util.h"

/* VFIO_DEVICE_SET_IRQS on the MSI-X index: count 0 disables it. */
typedef int (*msix_set_irqs_fn)(void *opaque, unsigned int start, unsigned int count,
				const int *fds);
/* The eventfd of vector (created on demand), or <0. */
typedef int (*msix_vector_fd_fn)(void *opaque, unsigned int vector);

struct msix_vectors {
	unsigned int nvectors;
	u64 *armed;               /* one bit per table entry */
	unsigned int allocated;   /* vectors VFIO has enabled from 0; 0: MSI-X off in VFIO */
	bool noresize;
	msix_set_irqs_fn set_irqs;
	msix_vector_fd_fn vector_fd;
	void *opaque;
};

int msix_vectors_init(struct msix_vectors *v, unsigned int nvectors, bool noresize,
		      msix_set_irqs_fn set_irqs, msix_vector_fd_fn vector_fd, void *opaque);
void msix_vectors_destroy(struct msix_vectors *v);

/*
 * MSI-X on in VFIO with every armed (or marked) vector's eventfd; with
 * none, vector 0 without one, so the device sees its Enable bit. 0 or -errno.
 */
int msix_vectors_enable(struct msix_vectors *v);

/* Gives vector's eventfd to VFIO, leaving every armed vector armed; 0 or -errno. */
int msix_vectors_arm(struct msix_vectors *v, unsigned int vector);

/* MSI-X is paused in VFIO: vector is armed by the next msix_vectors_enable. */
void msix_vectors_mark(struct msix_vectors *v, unsigned int vector);

/* MSI-X off in VFIO, the armed vectors kept for the next enable. */
void msix_vectors_pause(struct msix_vectors *v);

/* MSI-X off in VFIO: nothing armed. */
void msix_vectors_disarm_all(struct msix_vectors *v);

bool msix_vectors_is_armed(const struct msix_vectors *v, unsigned int vector);
unsigned int msix_vectors_count_armed(const struct msix_vectors *v);

#endif
