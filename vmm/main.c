/* vmm: a small KVM virtual machine monitor built for device passthrough. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "core/log.h"
#include "machine.h"
#include "plan_print.h"
#include "vfio/bind.h"
#include "vfio/host_collect.h"
#include "vfio/vfio.h"

#ifndef VMM_VERSION
#define VMM_VERSION "dev"
#endif

static int cmd_plan(const struct vm_config *cfg)
{
	struct boot_images images;
	struct memory_plan plan;
	struct host_holes host;
	struct vfio_probe probe;
	struct plan_iommu iommu;
	struct machine_msi msi_ctx;
	struct vfio_msi_chooser msi;
	u64 guest[HOST_MAX_BARS];
	int err;

	if (vfio_collect_host_holes(cfg->reserved_files, cfg->nreserved, cfg->vfio, cfg->nvfio,
				    "/sys", &host))
		return EXIT_FAILURE_VMM;
	/* The IOMMU backend's IOVA ranges too, when the devices are free to open. */
	machine_msi_chooser(cfg, cfg->arch, &msi_ctx, &msi);
	if (vfio_probe_iova_ranges(cfg->vfio, cfg->nvfio, cfg->vfio_backend, &msi, &host, &probe))
		return EXIT_FAILURE_VMM;
	if (cfg->nvfio && !probe.checked)
		fprintf(stderr, "vmm: note: IOVA ranges not checked (devices not bound to vfio-pci, in use, or not root); 'run' checks them\n");
	iommu = (struct plan_iommu){ .backend = vfio_backend_name(probe.backend),
				     .iova_checked = probe.checked, .iova_source = probe.source };
	/* With -k/-i, the kernel and initrd are placed as `run` would. */
	if (board_read_images(cfg->kernel, cfg->initrd, &images))
		return EXIT_FAILURE_VMM;
	err = machine_plan(cfg, cfg->arch, &host, &images, &plan);
	board_free_images(&images);
	if (err) {
		pr_err("%s", plan.error);
		return EXIT_FAILURE_VMM;
	}
	if (plan_device_bars(&plan, &host, guest))
		return EXIT_FAILURE_VMM;
	iommu.bars = host.bars;
	iommu.guest = guest;
	iommu.nbars = host.nbars;
	if (cfg->json)
		plan_print_json(&plan, cfg->ncpus, &cfg->mem_backing, cfg->nvfio ? &iommu : NULL, stdout);
	else
		plan_print_table(&plan, cfg->ncpus, &cfg->mem_backing, cfg->nvfio ? &iommu : NULL, stdout);
	return 0;
}

/*
 * Started with stdin, stdout or stderr closed (`vmm run ... >&-`), the
 * first file we open would take that number: the guest's console output
 * would then be written into /dev/kvm or a disk image. /dev/null holds
 * each closed one instead.
 */
static void hold_standard_fds(void)
{
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			exit(EXIT_FAILURE_VMM); /* nowhere left to even say so */
	}
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	char err[256];

	hold_standard_fds();

	/*
	 * A reader of our output that goes away (`vmm plan | head -1`, a
	 * closed console pipe) must not kill us with SIGPIPE before the
	 * terminal is restored: writes fail with EPIPE instead, and the
	 * console drops the guest's output while the guest runs on.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (cli_parse(argc, argv, &cfg, err, sizeof(err))) {
		pr_err("%s", err);
		return EXIT_USAGE;
	}
	if (cfg.debug)
		log_threshold = LOG_DEBUG;
	/* The default backing and page sizes are this host's: plan shows what run would use. */
	mem_backing_resolve(&cfg.mem_backing);
	switch (cfg.command) {
	case CMD_HELP:
		cli_usage(stdout);
		return 0;
	case CMD_VERSION:
		printf("vmm %s\n", VMM_VERSION);
		return 0;
	case CMD_PLAN:
		return cmd_plan(&cfg);
	case CMD_RUN:
		return machine_run(&cfg);
	case CMD_VFIO_BIND:
		return vfio_bind("/sys", cfg.bdf) ? EXIT_FAILURE_VMM : 0;
	case CMD_VFIO_UNBIND:
		return vfio_unbind("/sys", cfg.bdf) ? EXIT_FAILURE_VMM : 0;
	}
	return EXIT_USAGE;
}
