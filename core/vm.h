/*
 * The KVM-level virtual machine that devices and boards receive: the KVM
 * file descriptors, guest memory, the port-I/O and MMIO buses, the GSI
 * routing table, memslots, the event loop, the vCPUs, and how a run is
 * asked to end. It knows nothing of the configuration, the board or the
 * device set: those belong to the composition above (vmm/machine.h).
 */
#ifndef CORE_VM_H
#define CORE_VM_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "coalesced_io.h"
#include "event_loop.h"
#include "guest_mem.h"
#include "io_bus.h"
#include "irq_routing.h"

struct kvm_run;
struct vm;

/* Interrupts KVM_RUN so a vCPU thread sees `stopping` (the handler does nothing). */
#define VCPU_KICK_SIGNAL SIGUSR1

struct vcpu {
	struct vm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

/* What the board does for each vCPU; opaque is the board's state. */
struct vcpu_ops {
	int (*init)(void *opaque, struct vcpu *vcpu);      /* registers, CPUID, ... */
	void (*dump)(void *opaque, struct vcpu *vcpu);     /* state after a fatal exit */
	/* Optional, at -d when the vCPU stops: its interrupt state (a guest stuck waiting). */
	void (*report)(void *opaque, struct vcpu *vcpu);
	void *opaque;
	/* Optional: runs first on each vCPU thread (the sandbox enters here). */
	void (*thread_start)(void *thread_opaque, struct vcpu *vcpu);
	void *thread_opaque;
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct guest_mem mem;
	struct io_bus pio;
	struct io_bus mmio;
	struct irq_routing routing;
	struct coalesced_io coalesced; /* batched guest writes, replayed before each exit */
	int next_memslot;
	struct event_loop loop;
	struct vcpu *vcpus;
	unsigned int nvcpus;         /* created so far */
	const struct vcpu_ops *vcpu_ops;
	int stop_fd;                 /* eventfd: any thread asks the main loop to stop */
	atomic_int exit_status;      /* first stop request wins; -1: none yet */
	atomic_bool stopping;
};

/* A VM with no KVM behind it yet: every fd -1, buses named, loop not open. */
void vm_init(struct vm *vm);

/* Opens /dev/kvm and creates the VM (type: KVM_CREATE_VM's machine type). */
int vm_create(struct vm *vm, unsigned long type, unsigned int ncpus);

/* Closes what vm_create opened; the vCPUs must be gone. vm->mem is the caller's. */
void vm_destroy(struct vm *vm);

/* Ends the run with status (EXIT_POWEROFF, EXIT_RESET, ...); any thread. */
void vm_request_stop(struct vm *vm, int status);

/* Maps every bank of vm->mem as a memslot. */
int kvm_map_memory(struct vm *vm);
int kvm_check_extension(struct vm *vm, int cap);
/* Memslots for device memory (VFIO BARs): size 0 deletes the slot; -errno, not logged. */
int kvm_memslot_alloc(struct vm *vm);
int kvm_set_memslot(struct vm *vm, int slot, u64 gpa, u64 size, void *hva);
/* Raises or lowers a legacy interrupt line (IOAPIC/PIC input, GIC SPI). */
int kvm_irq_line(struct vm *vm, unsigned int gsi, int level);
/* KVM_IOEVENTFD: a guest write of len bytes at addr signals fd without an exit. */
int kvm_ioeventfd(struct vm *vm, u64 addr, u32 len, int fd, bool pio, bool assign);

/* vCPU threads (vcpu.c) */
int vcpus_create(struct vm *vm, unsigned int ncpus, const struct vcpu_ops *ops);
int vcpus_start(struct vm *vm);
void vcpus_kick_and_join(struct vm *vm);
void vcpus_destroy(struct vm *vm);

#endif
