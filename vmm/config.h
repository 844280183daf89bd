/* What the user asked for, after parsing and before anything is built. */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include "util.h"

enum vmm_command { CMD_RUN, CMD_PLAN, CMD_HELP, CMD_VERSION };

struct vm_config {
	enum vmm_command command;
	const char *kernel;
	const char *initrd;
	const char *params;
	u64 ram_size;
	unsigned int ncpus;
	unsigned int timeout_sec;   /* 0: none */
	bool json;                  /* plan --json */
	bool debug;
};

#define DEFAULT_RAM_SIZE (256 * MiB)
#define DEFAULT_NCPUS 1
#define MAX_NCPUS 255 /* xAPIC IDs in the MADT; x2APIC is not offered */

#endif
