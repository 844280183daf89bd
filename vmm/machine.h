/*
 * The composition: the one place that knows every layer. A machine is a
 * configuration turned into a running guest: the host holes, the plan,
 * the KVM VM, the board, the device set and the passed-through devices.
 */
#ifndef VMM_MACHINE_H
#define VMM_MACHINE_H

#include "arch/board.h"
#include "config.h"
#include "core/console.h"
#include "core/host_holes.h"
#include "core/vm.h"
#include "sandbox/sandbox.h"

struct device_set;
struct vfio_state;
struct vfio_msi_chooser;

/* What the MSI window chooser plans with. */
struct machine_msi {
	const struct vm_config *cfg;
	const char *arch;
};

struct machine {
	const struct vm_config *cfg;
	struct host_holes host;       /* what the host IOMMU forbids, found first */
	struct boot_images images;    /* kernel and initrd, read before the plan */
	struct memory_plan plan;
	struct vm vm;
	struct board board;
	struct console console;
	struct device_set *devices;   /* emulated virtio devices */
	struct vfio_state *vfio;      /* passed-through devices, if any */
	int signal_fd;                /* SIGTERM, SIGINT, SIGHUP */
	int timer_fd;                 /* --timeout */
	enum sandbox_mode sandbox;    /* what sandbox_prepare() settled for */
	struct machine_msi msi;
};

/*
 * The guest map for cfg on the board called arch (NULL: this binary's),
 * with the boot data placed, and the images of img when it has them.
 */
int machine_plan(const struct vm_config *cfg, const char *arch, const struct host_holes *host,
		 const struct boot_images *img, struct memory_plan *plan);

/*
 * The MSI window chooser of --msi-window for cfg on the board called arch
 * (NULL: this binary's): the planner places the window (ctx is its state).
 */
void machine_msi_chooser(const struct vm_config *cfg, const char *arch, struct machine_msi *ctx,
			 struct vfio_msi_chooser *out);

/* Builds, runs and tears down the VM; returns the process exit status. */
int machine_run(const struct vm_config *cfg);

#endif
