/*
 * Passthrough for a VM, in the order the VM is built:
 *   vfio_open()     before the guest is planned: attach every device to
 *                   the IOMMU backend and add its IOVA limits to the host
 *                   holes the planner avoids;
 *   vfio_attach()   after guest memory and the PCI bus exist: map guest
 *                   RAM for DMA, tell KVM about the devices, and put each
 *                   device on the guest's PCI bus;
 *   vfio_start()    once the interrupt controller is initialised: INTx;
 *   vfio_detach()   undoes vfio_attach, before the VM goes away;
 *   vfio_close()    undoes vfio_open.
 */
#ifndef VFIO_VFIO_H
#define VFIO_VFIO_H

#include <stdbool.h>

#include "backend.h"
#include "host_collect.h"
#include "iommu.h"

struct vm;
struct pci_bus;
struct vfio_state;

/*
 * Attaches devices (PCI addresses as given, already checked by
 * vfio_collect_host_holes) to the IOMMU backend (--vfio-backend; auto
 * picks one) and adds its IOVA ranges to host. Between bind and attach
 * the MSI window is moved where msi chooses, if the host lets it
 * (host->msi_window_placed then says where). *out is set even on
 * failure, for vfio_close().
 */
int vfio_open(const char *const *devices, unsigned int ndevices, enum vfio_backend backend,
	      const struct vfio_msi_chooser *msi, struct host_holes *host,
	      struct vfio_state **out);

/*
 * For `vmm plan`: the backend run would use, and the IOVA ranges it would
 * report for devices added to host when they can be opened (bound to
 * vfio-pci, not in use, as root); quietly unchecked when they cannot.
 * Fails, with an error line, only when run would fail to choose a backend.
 * With iommufd the probe binds each device, which opens it: the kernel
 * resets it when the probe lets go, as after a run.
 */
struct vfio_probe {
	enum vfio_backend backend;   /* AUTO: no devices */
	bool checked;                /* the IOVA ranges were read */
	const char *source;          /* from where, when checked: "iommufd IOAS" */
};

int vfio_probe_iova_ranges(const char *const *devices, unsigned int ndevices,
			   enum vfio_backend asked, const struct vfio_msi_chooser *msi,
			   struct host_holes *host, struct vfio_probe *out);

int vfio_attach(struct vfio_state *s, struct vm *vm, struct pci_bus *bus);
/* After the vCPUs and interrupt controller exist: arms INTx. */
void vfio_start(struct vfio_state *s);
/* Undoes vfio_attach, while the VM still exists: devices closed, DMA unmapped. */
void vfio_detach(struct vfio_state *s);
/* Undoes vfio_open (and vfio_attach, if still attached); s may be NULL. */
void vfio_close(struct vfio_state *s);

#endif
