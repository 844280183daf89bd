#ifndef VMM_PLAN_PRINT_H
#define VMM_PLAN_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "core/host_holes.h"
#include "core/mem_backing.h"
#include "core/planner.h"

/* What `plan --vfio` learnt of the IOMMU backend `run` would use. */
struct plan_iommu {
	const char *backend;      /* "iommufd", "legacy" */
	bool iova_checked;        /* its IOVA ranges are in the plan's holes */
	const char *iova_source;  /* where they came from: "iommufd IOAS" */
	/* The devices' BARs: host addresses from sysfs, guest ones from plan_device_bars. */
	const struct host_bar *bars;
	const u64 *guest;
	unsigned int nbars;
};

/*
 * Where `run` will put the BARs of the devices passed through (the same
 * pci_place_bars over the plan's windows): guest[i] for host->bars[i].
 * Returns 0, or -ENOSPC after an error line naming the device, BAR, size
 * and window.
 */
int plan_device_bars(const struct memory_plan *plan, const struct host_holes *host, u64 *guest);

/* The readable table `vmm plan` prints; iommu NULL without --vfio. */
void plan_print_table(const struct memory_plan *plan, unsigned int ncpus,
		      const struct mem_backing *backing,
		      const struct plan_iommu *iommu, FILE *out);

/* The same map as JSON, for scripts (`vmm plan --json`). */
void plan_print_json(const struct memory_plan *plan, unsigned int ncpus,
		     const struct mem_backing *backing,
		     const struct plan_iommu *iommu, FILE *out);

#endif
