/*
 * The command line: the input is the arguments after "vmm", separated
 * by NUL bytes. Parsing ends in a configuration or one usage message,
 * and what it keeps is within its limits.
 */
#include "core/log.h"
#include "fuzz_input.h"
#include "vmm/cli.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	char *argv[MAX_ARGS + 2], *text, err[256];
	struct vm_config cfg;
	int argc = 0, ret;

	/* Writable copies, as a real argv is: --disk cuts ",ro" off its argument. */
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	argv[argc++] = "vmm";
	for (char *p = text; p <= text + size && argc < MAX_ARGS + 1; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	memset(err, 'x', sizeof(err));
	ret = cli_parse(argc, argv, &cfg, err, sizeof(err));
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
	} else {
		FUZZ_CHECK(cfg.command != CMD_RUN || cfg.kernel);
		FUZZ_CHECK(cfg.ncpus >= 1 && cfg.ncpus <= MAX_NCPUS);
		FUZZ_CHECK(cfg.ram_size && IS_ALIGNED(cfg.ram_size, 4 * KiB));
		FUZZ_CHECK(cfg.ndisks <= MAX_DISKS && cfg.nnets <= MAX_NETS);
		FUZZ_CHECK(cfg.nvfio <= MAX_VFIO && cfg.nreserved <= MAX_RESERVED_FILES);
	}
	free(text);
	return 0;
}
