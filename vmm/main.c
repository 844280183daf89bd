/* vmm: a small KVM virtual machine monitor built for device passthrough. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "arch/arch.h"
#include "arch/arm64/layout.h"
#include "cli.h"
#include "log.h"
#include "vfio/bind.h"
#include "vfio/host_collect.h"
#include "vfio/vfio.h"
#include "plan_print.h"
#include "vm.h"

#ifndef VMM_VERSION
#define VMM_VERSION "dev"
#endif

/* The native planner, or another architecture's for `plan --arch`. */
static int plan_for_arch(const struct vm_config *cfg, const struct host_holes *host,
			 struct memory_plan *plan)
{
	if (cfg->arch && !strcmp(cfg->arch, "arm64") && strcmp(VMM_NATIVE_ARCH, "arm64")) {
		struct arm64_plan_limits limits = { .ipa_bits = ARM64_DEFAULT_IPA_BITS };

		if (host->iova_limit) {
			limits.iova_limit = host->iova_limit;
			limits.iova_limit_label = host->iova_limit_source;
		}
		return arm64_plan_memory(cfg->ram_size, cfg->ncpus, &limits, host->holes, host->n,
					 plan);
	}
	if (cfg->arch && strcmp(cfg->arch, VMM_NATIVE_ARCH)) {
		snprintf(plan->error, sizeof(plan->error),
			 "this build plans for %s and arm64 only", VMM_NATIVE_ARCH);
		return -EINVAL;
	}
	return arch_plan_memory(cfg, host, plan);
}

static int cmd_plan(const struct vm_config *cfg)
{
	struct memory_plan plan;
	struct host_holes host;

	if (vfio_collect_host_holes(cfg, "/sys", &host))
		return EXIT_FAILURE_VMM;
	/* The container's IOVA ranges too, when the devices are free to open. */
	if (cfg->nvfio && !vfio_probe_iova_ranges(cfg, &host))
		fprintf(stderr, "vmm: note: IOVA ranges not checked (devices not bound to vfio-pci, in use, or not root); 'run' checks them\n");
	if (plan_for_arch(cfg, &host, &plan)) {
		pr_err("%s", plan.error);
		return EXIT_FAILURE_VMM;
	}
	if (cfg->json)
		plan_print_json(&plan, cfg->ncpus, stdout);
	else
		plan_print_table(&plan, cfg->ncpus, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	char err[256];

	if (cli_parse(argc, argv, &cfg, err, sizeof(err))) {
		pr_err("%s", err);
		return EXIT_USAGE;
	}
	if (cfg.debug)
		log_threshold = LOG_DEBUG;
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
		return vm_run(&cfg);
	case CMD_VFIO_BIND:
		return vfio_bind("/sys", cfg.bdf) ? EXIT_FAILURE_VMM : 0;
	case CMD_VFIO_UNBIND:
		return vfio_unbind("/sys", cfg.bdf) ? EXIT_FAILURE_VMM : 0;
	}
	return EXIT_USAGE;
}
