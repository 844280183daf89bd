/* Command line and size parsing: what users type, and typos. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "vmm/cli.h"
#include "core/size.h"

static int parse(struct vm_config *cfg, char *err, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	va_start(ap, err);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return cli_parse(argc, argv, cfg, err, 256);
}

static void run_takes_lkvm_style_options(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "-i", "rd", "-p", "quiet",
			       "-m", "512M", "-c", "4", "--timeout", "30", NULL), 0);
	assert_int_equal(cfg.command, CMD_RUN);
	assert_string_equal(cfg.kernel, "bz");
	assert_string_equal(cfg.initrd, "rd");
	assert_string_equal(cfg.params, "quiet");
	assert_int_equal(cfg.ram_size, 512 * MiB);
	assert_int_equal(cfg.ncpus, 4);
	assert_int_equal(cfg.timeout_sec, 30);
}

static void defaults_are_256m_and_one_cpu(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "vmm", "run", "--kernel=bz", NULL), 0);
	assert_int_equal(cfg.ram_size, 256 * MiB);
	assert_int_equal(cfg.ncpus, 1);
	assert_int_equal(cfg.timeout_sec, 0);
}

static void bad_values_are_usage_errors_with_a_hint(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "-c", "0", NULL), -EINVAL);
	assert_non_null(strstr(err, "-c N"));
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "-c", "256", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "-c", "2x", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "-m", "lots", NULL), -EINVAL);
	assert_non_null(strstr(err, "512M"));
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "-m", "0", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "--timeout", "-1", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "--bogus", NULL), -EINVAL);
	assert_non_null(strstr(err, "--bogus"));
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", NULL), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(parse(&cfg, err, "vmm", "run", NULL), -EINVAL);
	assert_non_null(strstr(err, "no kernel"));
	assert_int_equal(parse(&cfg, err, "vmm", "frobnicate", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, "vmm", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "stray", NULL), -EINVAL);
}

static void disk_options_come_after_the_path(void **state)
{
	struct vm_config cfg;
	char err[256];
	char a[] = "root.img,ro,queues=4", b[] = "a,b.img", c[] = "data.img,queues=1,rw";

	(void)state;
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "--disk", a, "--disk", b,
			       "--disk", c, NULL), 0);
	assert_int_equal(cfg.ndisks, 3);
	assert_string_equal(cfg.disks[0].path, "root.img");
	assert_true(cfg.disks[0].readonly);
	assert_int_equal(cfg.disks[0].queues, 4);
	/* A comma that starts no option belongs to the path; no queues: one per vCPU. */
	assert_string_equal(cfg.disks[1].path, "a,b.img");
	assert_false(cfg.disks[1].readonly);
	assert_int_equal(cfg.disks[1].queues, 0);
	assert_string_equal(cfg.disks[2].path, "data.img");
	assert_int_equal(cfg.disks[2].queues, 1);
}

static void mem_backing_is_default_unless_named(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "vmm", "plan", NULL), 0);
	assert_int_equal(cfg.mem_backing.kind, MEM_BACKING_DEFAULT);
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "--mem-backing", "hugetlb=1G", NULL), 0);
	assert_int_equal(cfg.mem_backing.kind, MEM_BACKING_HUGETLB);
	assert_int_equal(cfg.mem_backing.page_size, 1 * GiB);
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "--mem-backing=anon", NULL), 0);
	assert_int_equal(cfg.mem_backing.kind, MEM_BACKING_ANON);
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "--mem-backing", "hugetlb=3M", NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "hugetlb=2M or hugetlb=1G"));
}

static void bad_disk_queue_counts_are_refused(void **state)
{
	struct vm_config cfg;
	char err[256];
	char zero[] = "d.img,queues=0", many[] = "d.img,queues=65", word[] = "d.img,queues=all",
	     none[] = ",queues=2";

	(void)state;
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "--disk", zero, NULL), -EINVAL);
	assert_non_null(strstr(err, "queues=N with 1 <= N <= 64"));
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "--disk", many, NULL), -EINVAL);
	assert_non_null(strstr(err, "'65'"));
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "--disk", word, NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "--disk", none, NULL), -EINVAL);
	assert_non_null(strstr(err, "needs a path"));
}

/* "vmm plan -zd" said "unknown option 'build/vmm'": the wrong element of argv. */
static void refused_options_are_named_as_typed(void **state)
{
	static const struct {
		const char *args[4];
		const char *named;
	} cases[] = {
		{ { "-zd" }, "unknown option '-z'" },
		{ { "-dz" }, "unknown option '-z'" },
		{ { "--json", "-zd" }, "unknown option '-z'" },
		{ { "-m", "1G", "-dqd" }, "unknown option '-q'" },
		{ { "--bogus" }, "unknown option '--bogus'" },
		{ { "--bogus=1" }, "unknown option '--bogus'" },
		{ { "--json=1" }, "unknown option '--json'" },
		{ { "--debug=yes" }, "unknown option '--debug'" },
		{ { "-d", "-m" }, "option '-m' needs a value" },
		{ { "-dm" }, "option '-m' needs a value" },
		{ { "--mem" }, "option '--mem' needs a value" },
		{ { "--reserved" }, "option '--reserved' needs a value" },
	};
	struct vm_config cfg;
	char err[256];

	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		char *argv[8] = { "vmm", "plan" };
		int argc = 2;

		for (unsigned int a = 0; a < 4 && cases[i].args[a]; a++)
			argv[argc++] = (char *)cases[i].args[a];
		assert_int_equal(cli_parse(argc, argv, &cfg, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].named))
			fail_msg("case %u: '%s' does not say \"%s\"", i, err, cases[i].named);
	}
	/* A parse after one that stopped inside "-zd" starts afresh. */
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "-zd", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "-m", "2G", NULL), 0);
	assert_false(cfg.debug);
	assert_int_equal(cfg.ram_size, 2 * GiB);
}

static void plan_needs_no_kernel(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "-m", "2G", "--json", NULL), 0);
	assert_int_equal(cfg.command, CMD_PLAN);
	assert_true(cfg.json);
	assert_int_equal(cfg.ram_size, 2 * GiB);
}

static void vfio_bind_takes_exactly_one_address(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "vmm", "vfio-bind", "0000:01:00.0", NULL), 0);
	assert_int_equal(cfg.command, CMD_VFIO_BIND);
	assert_string_equal(cfg.bdf, "0000:01:00.0");
	assert_int_equal(parse(&cfg, err, "vmm", "vfio-unbind", "01:00.0", NULL), 0);
	assert_int_equal(cfg.command, CMD_VFIO_UNBIND);
	assert_string_equal(cfg.bdf, "01:00.0");

	assert_int_equal(parse(&cfg, err, "vmm", "vfio-bind", NULL), -EINVAL);
	assert_non_null(strstr(err, "usage: vmm vfio-bind BDF"));
	assert_int_equal(parse(&cfg, err, "vmm", "vfio-bind", "01:00.0", "02:00.0", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, "vmm", "vfio-unbind", "-m", NULL), -EINVAL);
	assert_non_null(strstr(err, "usage: vmm vfio-unbind BDF"));
}

static void vfio_backend_is_auto_unless_named(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "--vfio", "01:00.0", NULL), 0);
	assert_int_equal(cfg.vfio_backend, VFIO_BACKEND_AUTO);
	assert_int_equal(parse(&cfg, err, "vmm", "run", "-k", "bz", "--vfio-backend", "iommufd", NULL), 0);
	assert_int_equal(cfg.vfio_backend, VFIO_BACKEND_IOMMUFD);
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "--vfio-backend=legacy", NULL), 0);
	assert_int_equal(cfg.vfio_backend, VFIO_BACKEND_LEGACY);
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "--vfio-backend", "auto", NULL), 0);
	assert_int_equal(cfg.vfio_backend, VFIO_BACKEND_AUTO);
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "--vfio-backend", "type1", NULL), -EINVAL);
	assert_non_null(strstr(err, "use auto, iommufd or legacy"));
}

static void msi_window_is_auto_host_or_an_address(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "vmm", "plan", NULL), 0);
	assert_int_equal(cfg.msi_window, VFIO_MSI_AUTO);
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "--msi-window", "host", NULL), 0);
	assert_int_equal(cfg.msi_window, VFIO_MSI_HOST);
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "--msi-window=auto", NULL), 0);
	assert_int_equal(cfg.msi_window, VFIO_MSI_AUTO);
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "--msi-window", "0x30000000", NULL), 0);
	assert_int_equal(cfg.msi_window, VFIO_MSI_AT);
	assert_int_equal(cfg.msi_window_addr, 0x30000000);
	assert_int_equal(cfg.msi_window_size, 0);
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "--msi-window", "0x30000000,2M", NULL), 0);
	assert_int_equal(cfg.msi_window_size, 2 * MiB);
	/* Alignment is the planner's to check: it names what is in the way too. */
	assert_int_equal(parse(&cfg, err, "vmm", "plan", "--msi-window", "0x30080000", NULL), 0);
	const char *bad[] = { "", "anywhere", "0x3z", "-1", "0x30000000,", "0x30000000,0",
			      "0x30000000,2Q", "0x1ffffffffffffffffff", ",1M" };
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(parse(&cfg, err, "vmm", "plan", "--msi-window", bad[i], NULL),
				 -EINVAL);
		assert_non_null(strstr(err, "bad --msi-window"));
	}
}

static void sizes_take_binary_suffixes(void **state)
{
	u64 v;

	(void)state;
	assert_int_equal(parse_mem_size("512", &v), 0);
	assert_int_equal(v, 512 * MiB);
	assert_int_equal(parse_mem_size("2G", &v), 0);
	assert_int_equal(v, 2 * GiB);
	assert_int_equal(parse_mem_size("2GiB", &v), 0);
	assert_int_equal(v, 2 * GiB);
	assert_int_equal(parse_mem_size("1024k", &v), 0);
	assert_int_equal(v, 1 * MiB);
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("1T", &v), 0);
	assert_int_equal(v, TiB);
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("-1", &v), -EINVAL);
	assert_int_equal(parse_size("12Q", &v), -EINVAL);
	assert_int_equal(parse_size("1G2", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(parse_size("20000000000T", &v), -ERANGE);
}

static void sizes_print_readably(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(format_size(512 * MiB, buf, sizeof(buf)), "512 MiB");
	assert_string_equal(format_size(1536 * MiB, buf, sizeof(buf)), "1.5 GiB");
	assert_string_equal(format_size(100, buf, sizeof(buf)), "100 B");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(run_takes_lkvm_style_options),
		cmocka_unit_test(defaults_are_256m_and_one_cpu),
		cmocka_unit_test(bad_values_are_usage_errors_with_a_hint),
		cmocka_unit_test(refused_options_are_named_as_typed),
		cmocka_unit_test(disk_options_come_after_the_path),
		cmocka_unit_test(bad_disk_queue_counts_are_refused),
		cmocka_unit_test(mem_backing_is_default_unless_named),
		cmocka_unit_test(plan_needs_no_kernel),
		cmocka_unit_test(vfio_bind_takes_exactly_one_address),
		cmocka_unit_test(vfio_backend_is_auto_unless_named),
		cmocka_unit_test(msi_window_is_auto_host_or_an_address),
		cmocka_unit_test(sizes_take_binary_suffixes),
		cmocka_unit_test(sizes_print_readably),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
