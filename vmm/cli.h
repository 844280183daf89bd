#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stdio.h>

#include "config.h"

/*
 * Parses `vmm COMMAND [options]`. Returns 0, or -EINVAL with a one-line
 * explanation in err (the caller prints it and exits with EXIT_USAGE).
 */
int cli_parse(int argc, char **argv, struct vm_config *cfg, char *err, size_t errlen);

void cli_usage(FILE *out);

#endif
