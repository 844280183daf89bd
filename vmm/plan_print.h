#ifndef VMM_PLAN_PRINT_H
#define VMM_PLAN_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "core/mem_backing.h"
#include "core/planner.h"

/* What `plan --vfio` learnt of the IOMMU backend `run` would use. */
struct plan_iommu {
	const char *backend;      /* "iommufd", "legacy" */
	bool iova_checked;        /* its IOVA ranges are in the plan's holes */
	const char *iova_source;  /* where they came from: "iommufd IOAS" */
};

/* The readable table `vmm plan` prints; iommu NULL without --vfio. */
void plan_print_table(const struct memory_plan *plan, unsigned int ncpus,
		      const struct mem_backing *backing,
		      const struct plan_iommu *iommu, FILE *out);

/* The same map as JSON, for scripts (`vmm plan --json`). */
void plan_print_json(const struct memory_plan *plan, unsigned int ncpus,
		     const struct mem_backing *backing,
		     const struct plan_iommu *iommu, FILE *out);

#endif
