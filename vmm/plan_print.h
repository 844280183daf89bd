#ifndef VMM_PLAN_PRINT_H
#define VMM_PLAN_PRINT_H

#include <stdio.h>

#include "core/planner.h"

/* The readable table `vmm plan` prints. */
void plan_print_table(const struct memory_plan *plan, unsigned int ncpus, FILE *out);

/* The same map as JSON, for scripts (`vmm plan --json`). */
void plan_print_json(const struct memory_plan *plan, unsigned int ncpus, FILE *out);

#endif
