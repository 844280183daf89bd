#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/size.h"

void cli_usage(FILE *out)
{
	fprintf(out,
		"usage: vmm run -k KERNEL [options]    boot a guest\n"
		"       vmm plan [options] [--json]    print the guest memory map run would build\n"
		"       vmm vfio-bind BDF              give a host PCI device to vfio-pci (as root)\n"
		"       vmm vfio-unbind BDF            give it back to its host driver\n"
		"\n"
		"options:\n"
		"  -k, --kernel PATH    bzImage to boot\n"
		"  -i, --initrd PATH    initramfs\n"
		"  -p, --params STR     kernel command line (console=ttyS0 is added)\n"
		"  -m, --mem SIZE       guest RAM, e.g. 512M, 2G (default 256M; no suffix: MiB)\n"
		"      --mem-backing anon|thp|hugetlb[=2M|1G]\n"
		"                       what backs guest RAM: 4 KiB pages, transparent huge pages\n"
		"                       (default where the host has them) or reserved hugetlb pages\n"
		"  -c, --cpus N         vCPUs (default 1)\n"
		"      --timeout SEC    stop the guest after SEC seconds (exit 124)\n"
		"      --disk PATH[,ro][,queues=N]\n"
		"                       virtio-blk disk backed by a raw image (repeatable); N request\n"
		"                       queues (default: one per vCPU, at most 64)\n"
		"      --net tap[=NAME][,mac=52:54:00:12:34:56]\n"
		"                       virtio-net on a tap device (created when no NAME)\n"
		"      --no-rng         no virtio-rng device\n"
		"      --vfio BDF       pass a PCI device through (repeatable), e.g. 0000:01:00.0\n"
		"      --vfio-backend auto|iommufd|legacy\n"
		"                       IOMMU API for --vfio: iommufd (/dev/iommu, device cdevs) or the\n"
		"                       legacy VFIO container (/dev/vfio/vfio, groups); auto (default):\n"
		"                       iommufd when /dev/iommu and every device's cdev can be\n"
		"                       opened, else legacy\n"
		"      --reserved FILE  more host reserved regions, in the format of\n"
		"                       /sys/kernel/iommu_groups/N/reserved_regions (repeatable)\n"
		"      --msi-window auto|host|ADDR[,SIZE]\n"
		"                       where the host IOMMU maps MSI doorbells for --vfio devices:\n"
		"                       auto (default): chosen by the VMM where the host lets it\n"
		"                       (arm64 iommufd with IOMMU_OPTION_SW_MSI_START), else the\n"
		"                       host's; host: the host's; ADDR: there (1 MiB aligned)\n"
		"      --console serial|virtio   guest console device (default serial)\n"
		"      --sandbox kill|log|off    seccomp filters on every VMM thread after set-up\n"
		"                       (default kill: a forbidden system call ends the VMM, exit 159;\n"
		"                       log: allowed and named on stderr; off: no filter)\n"
		"      --json           plan: print JSON\n"
		"      --arch ARCH      plan: lay out for x86_64 or arm64 (default: this host)\n"
		"      --addr-bits N, --ipa-bits N\n"
		"                       guest physical address width (32-52; default: what this\n"
		"                       host's KVM offers, e.g. an arm64 host's IPA limit)\n"
		"  -d, --debug          verbose VMM messages\n"
		"\n"
		"exit status: 0 guest powered off, 3 guest reset, 124 timeout, 2 usage error, 1 VMM failure,\n"
		"             159 a forbidden system call (sandbox)\n");
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_uint(const char *text, unsigned long max, unsigned int *out)
{
	unsigned long value;
	char *end;

	if (!text || text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno || *end || value > max)
		return -EINVAL;
	*out = (unsigned int)value;
	return 0;
}

/*
 * The option getopt_long refused, as the user typed it. getopt_long
 * leaves optind past the element it refused, except inside a cluster of
 * short options ("-zd"), where it stays on that element; optopt holds
 * the short option, or the value of a long one. args is what was parsed.
 */
static const char *refused_option(char *const *args, const char *shortopts, char *buf,
				  size_t len)
{
	const char *prev = optind > 0 ? args[optind - 1] : "";
	bool known_short = optopt > 0 && optopt < 256 && strchr(shortopts, optopt);

	/* A long option: what it was given (up to '='), which ended its element. */
	if (!strncmp(prev, "--", 2) && (optopt == 0 || optopt >= 256 || known_short)) {
		size_t n = strcspn(prev, "=");

		snprintf(buf, len, "%.*s", (int)MIN(n, 64), prev);
		return buf;
	}
	if (optopt > 0 && optopt < 256 && optopt != ':' && optopt != '?')
		snprintf(buf, len, "-%c", optopt);
	else
		snprintf(buf, len, "%.64s", prev);
	return buf;
}

enum { OPT_TIMEOUT = 256, OPT_JSON, OPT_DISK, OPT_NET, OPT_NO_RNG, OPT_CONSOLE, OPT_VFIO,
       OPT_RESERVED, OPT_ARCH, OPT_SANDBOX, OPT_ADDR_BITS, OPT_VFIO_BACKEND, OPT_MSI_WINDOW,
       OPT_MEM_BACKING };

/*
 * PATH[,ro|,rw][,queues=N]: options are taken from the end, so a path
 * may itself contain commas as long as its last part is no option.
 */
static int parse_disk(const char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	struct disk_config *d;
	char *path = (char *)arg, *comma;

	if (cfg->ndisks == MAX_DISKS)
		return fail(err, errlen, "at most %d --disk options", MAX_DISKS);
	d = &cfg->disks[cfg->ndisks];
	*d = (struct disk_config){ .path = path };
	while ((comma = strrchr(path, ','))) {
		const char *opt = comma + 1;

		if (!strcmp(opt, "ro")) {
			d->readonly = true;
		} else if (!strcmp(opt, "rw")) {
			d->readonly = false;
		} else if (!strncmp(opt, "queues=", 7)) {
			if (parse_uint(opt + 7, VIRTIO_BLK_MAX_QUEUES, &d->queues) || !d->queues)
				return fail(err, errlen, "bad --disk queues '%s'; use queues=N with 1 <= N <= %d",
					    opt + 7, VIRTIO_BLK_MAX_QUEUES);
		} else {
			break;
		}
		*comma = '\0';
	}
	if (!*d->path)
		return fail(err, errlen, "--disk needs a path: --disk PATH[,ro][,queues=N]");
	cfg->ndisks++;
	return 0;
}

/* auto | host | ADDR[,SIZE]: ADDR a number (0x for hex), SIZE as for -m but in bytes. */
static int parse_msi_window(const char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	const char *comma = strchr(arg, ',');
	char addr[32], *end;

	cfg->msi_window_addr = cfg->msi_window_size = 0;
	if (!strcmp(arg, "auto") || !strcmp(arg, "host")) {
		cfg->msi_window = arg[0] == 'a' ? VFIO_MSI_AUTO : VFIO_MSI_HOST;
		return 0;
	}
	snprintf(addr, sizeof(addr), "%.*s", comma ? (int)(comma - arg) : (int)strlen(arg), arg);
	errno = 0;
	if (!addr[0] || addr[0] == '-' || addr[0] == '+' || (comma && comma - arg >= (long)sizeof(addr)))
		goto bad;
	cfg->msi_window_addr = strtoull(addr, &end, 0);
	if (*end || errno)
		goto bad;
	if (comma && (parse_size(comma + 1, &cfg->msi_window_size) || !cfg->msi_window_size))
		goto bad;
	cfg->msi_window = VFIO_MSI_AT;
	return 0;
bad:
	return fail(err, errlen, "bad --msi-window '%s'; use auto, host or ADDR[,SIZE], e.g. 0x30000000,1M", arg);
}

static int parse_mac(const char *text, u8 mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (u8)b[i];
	/* A multicast address cannot be a NIC's. */
	return (mac[0] & 1) ? -EINVAL : 0;
}

static int parse_net(char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	struct net_config *n;
	char *save = NULL, *item;

	if (cfg->nnets == MAX_NETS)
		return fail(err, errlen, "at most %d --net options", MAX_NETS);
	n = &cfg->nets[cfg->nnets];
	memset(n, 0, sizeof(*n));
	item = strtok_r(arg, ",", &save);
	if (!item || (strcmp(item, "tap") && strncmp(item, "tap=", 4)))
		return fail(err, errlen, "bad --net '%s'; use --net tap or --net tap=NAME[,mac=XX:XX:XX:XX:XX:XX]", arg);
	if (item[3] == '=') {
		n->tap = item + 4;
		if (!*n->tap || strlen(n->tap) >= 16)
			return fail(err, errlen, "bad tap name '%s' (1 to 15 characters)", n->tap);
	}
	while ((item = strtok_r(NULL, ",", &save))) {
		if (!strncmp(item, "mac=", 4) && !parse_mac(item + 4, n->mac)) {
			n->mac_set = true;
			continue;
		}
		return fail(err, errlen, "bad --net option '%s'; expected mac=XX:XX:XX:XX:XX:XX (unicast)", item);
	}
	cfg->nnets++;
	return 0;
}

int cli_parse(int argc, char **argv, struct vm_config *cfg, char *err, size_t errlen)
{
	static const struct option options[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "params", required_argument, NULL, 'p' },
		{ "mem", required_argument, NULL, 'm' },
		{ "mem-backing", required_argument, NULL, OPT_MEM_BACKING },
		{ "cpus", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "net", required_argument, NULL, OPT_NET },
		{ "no-rng", no_argument, NULL, OPT_NO_RNG },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "vfio", required_argument, NULL, OPT_VFIO },
		{ "vfio-backend", required_argument, NULL, OPT_VFIO_BACKEND },
		{ "reserved", required_argument, NULL, OPT_RESERVED },
		{ "msi-window", required_argument, NULL, OPT_MSI_WINDOW },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "sandbox", required_argument, NULL, OPT_SANDBOX },
		{ "addr-bits", required_argument, NULL, OPT_ADDR_BITS },
		{ "ipa-bits", required_argument, NULL, OPT_ADDR_BITS },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char shortopts[] = ":k:i:p:m:c:dh";
	const char *command;
	char bad[80];
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->ram_size = DEFAULT_RAM_SIZE;
	cfg->ncpus = DEFAULT_NCPUS;
	cfg->sandbox = SANDBOX_KILL;

	if (argc < 2)
		return fail(err, errlen, "no command given; try 'vmm run -k bzImage' or 'vmm --help'");
	command = argv[1];
	if (!strcmp(command, "run")) {
		cfg->command = CMD_RUN;
	} else if (!strcmp(command, "plan")) {
		cfg->command = CMD_PLAN;
	} else if (!strcmp(command, "help") || !strcmp(command, "--help") || !strcmp(command, "-h")) {
		cfg->command = CMD_HELP;
		return 0;
	} else if (!strcmp(command, "version") || !strcmp(command, "--version")) {
		cfg->command = CMD_VERSION;
		return 0;
	} else if (!strcmp(command, "vfio-bind") || !strcmp(command, "vfio-unbind")) {
		/* One positional argument and no options: nothing else applies. */
		cfg->command = !strcmp(command, "vfio-bind") ? CMD_VFIO_BIND : CMD_VFIO_UNBIND;
		if (argc != 3 || argv[2][0] == '-' || !argv[2][0])
			return fail(err, errlen, "usage: vmm %s BDF, e.g. vmm %s 0000:01:00.0",
				    command, command);
		cfg->bdf = argv[2];
		return 0;
	} else {
		return fail(err, errlen,
			    "unknown command '%s'; commands: run, plan, vfio-bind, vfio-unbind, help",
			    command);
	}

	/*
	 * 0, not 1: glibc then forgets a cluster of short options a previous
	 * call stopped in, which would otherwise point into the old argv.
	 * getopt_long starts at argv[1]: the command name.
	 */
	optind = 0;
	opterr = 0;
	argv[1] = argv[0];
	while ((opt = getopt_long(argc - 1, argv + 1, shortopts, options, NULL)) != -1) {
		switch (opt) {
		case 'k': cfg->kernel = optarg; break;
		case 'i': cfg->initrd = optarg; break;
		case 'p': cfg->params = optarg; break;
		case 'm':
			if (parse_mem_size(optarg, &cfg->ram_size) || cfg->ram_size == 0)
				return fail(err, errlen, "bad memory size '%s'; use e.g. -m 512M or -m 2G", optarg);
			if (!IS_ALIGNED(cfg->ram_size, 4 * KiB))
				return fail(err, errlen, "memory size '%s' is not a multiple of 4 KiB", optarg);
			break;
		case 'c':
			if (parse_uint(optarg, MAX_NCPUS, &cfg->ncpus) || cfg->ncpus == 0)
				return fail(err, errlen, "bad CPU count '%s'; use -c N with 1 <= N <= %d", optarg, MAX_NCPUS);
			break;
		case OPT_TIMEOUT:
			if (parse_uint(optarg, 365u * 24 * 3600, &cfg->timeout_sec) || cfg->timeout_sec == 0)
				return fail(err, errlen, "bad timeout '%s'; use --timeout SECONDS (at least 1)", optarg);
			break;
		case OPT_JSON: cfg->json = true; break;
		case OPT_MEM_BACKING:
			if (mem_backing_parse(optarg, &cfg->mem_backing))
				return fail(err, errlen, "bad --mem-backing '%s'; use anon, thp, hugetlb, hugetlb=2M or hugetlb=1G", optarg);
			break;
		case OPT_ADDR_BITS:
			if (parse_uint(optarg, 52, &cfg->addr_bits) || cfg->addr_bits < 32)
				return fail(err, errlen, "bad address width '%s'; use 32 to 52 bits", optarg);
			break;
		case OPT_SANDBOX:
			if (sandbox_parse_mode(optarg, &cfg->sandbox))
				return fail(err, errlen, "bad --sandbox '%s'; use kill, log or off", optarg);
			cfg->sandbox_explicit = true;
			break;
		case OPT_ARCH:
			if (strcmp(optarg, "x86_64") && strcmp(optarg, "arm64") && strcmp(optarg, "aarch64"))
				return fail(err, errlen, "bad --arch '%s'; use x86_64 or arm64", optarg);
			cfg->arch = strcmp(optarg, "aarch64") ? optarg : "arm64";
			break;
		case OPT_DISK:
			if (parse_disk(optarg, cfg, err, errlen))
				return -EINVAL;
			break;
		case OPT_NET:
			if (parse_net(optarg, cfg, err, errlen))
				return -EINVAL;
			break;
		case OPT_NO_RNG: cfg->no_rng = true; break;
		case OPT_VFIO:
			if (cfg->nvfio == MAX_VFIO)
				return fail(err, errlen, "at most %d --vfio devices", MAX_VFIO);
			cfg->vfio[cfg->nvfio++] = optarg;
			break;
		case OPT_VFIO_BACKEND:
			if (!strcmp(optarg, "auto"))
				cfg->vfio_backend = VFIO_BACKEND_AUTO;
			else if (!strcmp(optarg, "iommufd"))
				cfg->vfio_backend = VFIO_BACKEND_IOMMUFD;
			else if (!strcmp(optarg, "legacy"))
				cfg->vfio_backend = VFIO_BACKEND_LEGACY;
			else
				return fail(err, errlen, "bad --vfio-backend '%s'; use auto, iommufd or legacy", optarg);
			break;
		case OPT_MSI_WINDOW:
			if (parse_msi_window(optarg, cfg, err, errlen))
				return -EINVAL;
			break;
		case OPT_RESERVED:
			if (cfg->nreserved == MAX_RESERVED_FILES)
				return fail(err, errlen, "at most %d --reserved files", MAX_RESERVED_FILES);
			cfg->reserved_files[cfg->nreserved++] = optarg;
			break;
		case OPT_CONSOLE:
			if (!strcmp(optarg, "serial"))
				cfg->console = CONSOLE_SERIAL;
			else if (!strcmp(optarg, "virtio"))
				cfg->console = CONSOLE_VIRTIO;
			else
				return fail(err, errlen, "bad --console '%s'; use serial or virtio", optarg);
			break;
		case 'd': cfg->debug = true; break;
		case 'h': cfg->command = CMD_HELP; return 0;
		case ':':
			return fail(err, errlen, "option '%s' needs a value",
				    refused_option(argv + 1, shortopts, bad, sizeof(bad)));
		default:
			return fail(err, errlen, "unknown option '%s'; see 'vmm --help'",
				    refused_option(argv + 1, shortopts, bad, sizeof(bad)));
		}
	}
	if (optind < argc - 1)
		return fail(err, errlen, "unexpected argument '%s'; see 'vmm --help'", argv[optind + 1]);
	if (cfg->command == CMD_RUN && !cfg->kernel)
		return fail(err, errlen, "no kernel given; use 'vmm run -k PATH/bzImage'");
	if (cfg->command == CMD_RUN && cfg->json)
		return fail(err, errlen, "--json is an option of 'vmm plan'");
	if (cfg->command == CMD_RUN && cfg->arch)
		return fail(err, errlen, "--arch is an option of 'vmm plan'; 'run' uses this host's");
	return 0;
}
