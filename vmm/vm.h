/*
 * The virtual machine: KVM handles, guest memory, I/O buses, vCPUs, the
 * event loop, and how the run ends.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>

#include "config.h"
#include "event_loop.h"
#include "guest_mem.h"
#include "io_bus.h"
#include "planner.h"
#include "vfio/host_regions.h"

struct kvm_run;
struct kvm_irq_routing;
struct pci_bus;
struct vfio_state;
struct virtio_devices;

struct vcpu {
	struct vm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

struct vm {
	const struct vm_config *cfg;
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct host_holes host;      /* what the host IOMMU forbids, found first */
	struct memory_plan plan;
	struct guest_mem mem;
	struct io_bus pio;
	struct io_bus mmio;
	struct vcpu *vcpus;
	unsigned int nvcpus;         /* created so far */
	unsigned int nvcpus_planned; /* -c N */
	struct event_loop loop;
	int stop_fd;               /* eventfd: a vCPU asks the main thread to stop */
	int signal_fd;             /* SIGTERM, SIGINT, SIGHUP */
	atomic_int exit_status;    /* first stop request wins */
	atomic_bool stopping;
	struct kvm_irq_routing *irq_routes; /* see irq_routing.h */
	u32 next_msi_gsi;
	int next_memslot;
	bool msi_devid;             /* MSI routes carry a DeviceID (arm64 ITS) */
	struct vfio_state *vfio;    /* passthrough devices, if any */
	struct virtio_devices *virtio; /* emulated virtio devices */
	struct pci_bus *pci;       /* the PCI bus devices attach to (arch sets it) */
	void *arch;                /* arch-private state */
};

/* Ends the run with status (EXIT_POWEROFF, EXIT_RESET, ...); any thread. */
void vm_request_stop(struct vm *vm, int status);

/* Builds, runs and tears down the VM; returns the process exit status. */
int vm_run(const struct vm_config *cfg);

/* KVM helpers */
int kvm_open(struct vm *vm);
int kvm_create_vm(struct vm *vm);
int kvm_check_extension(struct vm *vm, int cap);
int kvm_map_memory(struct vm *vm);
/* Memslots for device memory (VFIO BARs): size 0 deletes the slot. */
int kvm_memslot_alloc(struct vm *vm);
int kvm_set_memslot(struct vm *vm, int slot, u64 gpa, u64 size, void *hva);
/* Raises or lowers a legacy interrupt line (IOAPIC/PIC input). */
int kvm_irq_line(struct vm *vm, unsigned int gsi, int level);

/* vCPU threads */
int vcpus_create(struct vm *vm);
int vcpus_start(struct vm *vm);
void vcpus_kick_and_join(struct vm *vm);
void vcpus_destroy(struct vm *vm);

#endif
