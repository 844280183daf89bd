/*
 * vfio-bind/vfio-unbind against a fake sysfs tree in a temporary
 * directory. Attributes are regular files, so each holds what was last
 * written to it; the hooks of struct vfio_bind_host play the kernel's part
 * (unbind removes the driver link, drivers_probe makes one) and log every
 * write so the order can be checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "vfio/bind.h"
#include "vfio/sysfs.h"

#define BDF "0000:01:00.0"
#define GROUP "7"

struct fake {
	char root[64];
	const char *host_driver;  /* what drivers_probe binds without an override */
	bool group_on_bind;       /* arm64: the IOMMU group appears with a driver */
	bool vfio_pci_refuses;    /* vfio-pci's probe fails */
	bool modprobe_works;
	unsigned int modprobes;
	char log[1024];           /* "ATTR=TEXT;" per write, ATTR relative to the root */
	char out[1024];           /* what the command printed */
	struct vfio_bind_host host;
};

static void path_of(struct fake *f, const char *rel, char *out, size_t len)
{
	assert_true((size_t)snprintf(out, len, "%s/%s", f->root, rel) < len);
}

static void mkfile(struct fake *f, const char *rel, const char *text)
{
	char path[256];
	FILE *file;

	path_of(f, rel, path, sizeof(path));
	file = fopen(path, "w");
	assert_non_null(file);
	fputs(text, file);
	fclose(file);
}

static void mkdirs(struct fake *f, const char *rel)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "mkdir -p %s/%s", f->root, rel);
	assert_int_equal(system(cmd), 0);
}

static void link_to(struct fake *f, const char *target, const char *rel)
{
	char path[256];

	path_of(f, rel, path, sizeof(path));
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

static const char *slurp(struct fake *f, const char *rel)
{
	static char text[256];
	char path[256];
	u8 *data;
	size_t len;

	path_of(f, rel, path, sizeof(path));
	assert_int_equal(file_read_all(path, NULL, sizeof(text) - 1, &data, &len), 0);
	memcpy(text, data, len + 1);
	free(data);
	return text;
}

/* The driver link's last component, or "" if there is none. */
static const char *driver_of(struct fake *f)
{
	static char target[256];
	char path[256];
	ssize_t n;

	path_of(f, "bus/pci/devices/" BDF "/driver", path, sizeof(path));
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return "";
	target[n] = '\0';
	return strrchr(target, '/') + 1;
}

static bool exists(struct fake *f, const char *rel)
{
	char path[256];

	path_of(f, rel, path, sizeof(path));
	return access(path, F_OK) == 0;
}

static void bind_driver(struct fake *f, const char *name)
{
	char target[64];

	snprintf(target, sizeof(target), "../../drivers/%s", name);
	link_to(f, target, "bus/pci/devices/" BDF "/driver");
	if (f->group_on_bind)
		link_to(f, "../../../../kernel/iommu_groups/" GROUP,
			"bus/pci/devices/" BDF "/iommu_group");
}

/* The kernel's side of each write. */
static void fake_kernel(void *opaque, const char *path, const char *text)
{
	struct fake *f = opaque;
	const char *rel = path + strlen(f->root) + 1;
	char override[64], dir[128];

	assert_true(strlen(f->log) + strlen(rel) + strlen(text) + 3 < sizeof(f->log));
	strcat(f->log, rel);
	strcat(f->log, "=");
	strcat(f->log, text);
	strcat(f->log, ";");

	if (!strcmp(rel, "bus/pci/devices/" BDF "/driver/unbind")) {
		assert_string_equal(text, BDF);
		path_of(f, "bus/pci/devices/" BDF "/driver", dir, sizeof(dir));
		assert_int_equal(unlink(dir), 0);
	} else if (!strcmp(rel, "bus/pci/drivers_probe")) {
		const char *name;

		assert_string_equal(text, BDF);
		if (*driver_of(f))
			return;
		snprintf(override, sizeof(override), "%s", slurp(f, "bus/pci/devices/" BDF "/driver_override"));
		override[strcspn(override, "\n")] = '\0';
		name = *override ? override : f->host_driver;
		snprintf(dir, sizeof(dir), "bus/pci/drivers/%s", name);
		if (exists(f, dir) && !(f->vfio_pci_refuses && !strcmp(name, "vfio-pci")))
			bind_driver(f, name);
	}
}

static int fake_modprobe(void *opaque, const char *module)
{
	struct fake *f = opaque;

	assert_string_equal(module, "vfio-pci");
	f->modprobes++;
	if (!f->modprobe_works)
		return -ENOENT;
	mkdirs(f, "bus/pci/drivers/vfio-pci");
	mkfile(f, "bus/pci/drivers/vfio-pci/unbind", "");
	return 0;
}

/* An e1000e NIC at BDF in IOMMU group 7, with vfio-pci loaded. */
static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->root, "/tmp/vmm-sysfs-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	f->host_driver = "e1000e";
	f->modprobe_works = true;
	f->host = (struct vfio_bind_host){
		.sysfs_root = f->root,
		.wrote = fake_kernel,
		.load_module = fake_modprobe,
		.opaque = f,
	};
	mkdirs(f, "bus/pci/devices/" BDF);
	mkdirs(f, "bus/pci/drivers/e1000e");
	mkdirs(f, "bus/pci/drivers/vfio-pci");
	mkdirs(f, "kernel/iommu_groups/" GROUP);
	mkfile(f, "bus/pci/devices/" BDF "/driver_override", "(null)\n");
	mkfile(f, "bus/pci/drivers/e1000e/unbind", "");
	mkfile(f, "bus/pci/drivers/vfio-pci/unbind", "");
	mkfile(f, "bus/pci/drivers_probe", "");
	link_to(f, "../../../../kernel/iommu_groups/" GROUP, "bus/pci/devices/" BDF "/iommu_group");
	bind_driver(f, "e1000e");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Runs fn with stdout captured into f->out. */
static int run(struct fake *f, int (*fn)(const struct vfio_bind_host *, const char *),
	       const char *bdf)
{
	char path[256];
	int saved, fd, ret;

	path_of(f, "stdout", path, sizeof(path));
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 1);
	close(fd);
	ret = fn(&f->host, bdf);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	snprintf(f->out, sizeof(f->out), "%s", slurp(f, "stdout"));
	return ret;
}

static void bind_overrides_unbinds_then_probes(void **state)
{
	struct fake *f = *state;

	assert_int_equal(run(f, vfio_bind_on, BDF), 0);
	assert_string_equal(driver_of(f), "vfio-pci");
	assert_string_equal(f->log,
			    "bus/pci/devices/" BDF "/driver_override=vfio-pci;"
			    "bus/pci/devices/" BDF "/driver/unbind=" BDF ";"
			    "bus/pci/drivers_probe=" BDF ";");
	assert_string_equal(slurp(f, "bus/pci/devices/" BDF "/driver_override"), "vfio-pci");
	assert_string_equal(slurp(f, "bus/pci/drivers/e1000e/unbind"), BDF);
	assert_string_equal(f->out, BDF ": bound to vfio-pci (was e1000e), IOMMU group 7: /dev/vfio/7\n");
	assert_int_equal(f->modprobes, 0);
}

static void bind_takes_the_short_address_form(void **state)
{
	struct fake *f = *state;

	assert_int_equal(run(f, vfio_bind_on, "01:00.0"), 0);
	assert_string_equal(driver_of(f), "vfio-pci");
}

static void bind_of_a_driverless_device_skips_unbind(void **state)
{
	struct fake *f = *state;
	char path[256];

	path_of(f, "bus/pci/devices/" BDF "/driver", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(run(f, vfio_bind_on, BDF), 0);
	assert_string_equal(f->log,
			    "bus/pci/devices/" BDF "/driver_override=vfio-pci;"
			    "bus/pci/drivers_probe=" BDF ";");
	assert_string_equal(f->out, BDF ": bound to vfio-pci, IOMMU group 7: /dev/vfio/7\n");
}

/* The public entry points, for run(): they use no hooks. */
static int public_bind(const struct vfio_bind_host *h, const char *bdf)
{
	return vfio_bind(h->sysfs_root, bdf);
}

static int public_unbind(const struct vfio_bind_host *h, const char *bdf)
{
	return vfio_unbind(h->sysfs_root, bdf);
}

static void bind_of_a_vfio_pci_device_succeeds_without_writes(void **state)
{
	struct fake *f = *state;

	bind_driver(f, "vfio-pci");
	assert_int_equal(run(f, public_bind, BDF), 0);
	assert_string_equal(f->out, BDF ": already bound to vfio-pci, IOMMU group 7: /dev/vfio/7\n");
	assert_string_equal(slurp(f, "bus/pci/devices/" BDF "/driver_override"), "(null)\n");
	assert_string_equal(slurp(f, "bus/pci/drivers_probe"), "");
}

/* A kernel with the VFIO cdev (iommufd): its node is named too. */
static void bind_names_the_cdev_when_there_is_one(void **state)
{
	struct fake *f = *state;

	bind_driver(f, "vfio-pci");
	mkdirs(f, "bus/pci/devices/" BDF "/vfio-dev/vfio2");
	assert_int_equal(run(f, public_bind, BDF), 0);
	assert_string_equal(f->out, BDF ": already bound to vfio-pci, IOMMU group 7: /dev/vfio/7, cdev /dev/vfio/devices/vfio2\n");
}

/* arm64: no group until a driver is bound, so it is read afterwards. */
static void bind_reads_the_group_after_binding(void **state)
{
	struct fake *f = *state;
	char path[256];

	path_of(f, "bus/pci/devices/" BDF "/iommu_group", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	f->group_on_bind = true;
	assert_int_equal(run(f, vfio_bind_on, BDF), 0);
	assert_string_equal(f->out, BDF ": bound to vfio-pci (was e1000e), IOMMU group 7: /dev/vfio/7\n");
}

static void remove_vfio_pci_driver(struct fake *f)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -r %s/bus/pci/drivers/vfio-pci", f->root);
	assert_int_equal(system(cmd), 0);
}

static void bind_loads_vfio_pci_first(void **state)
{
	struct fake *f = *state;

	remove_vfio_pci_driver(f);
	assert_int_equal(run(f, vfio_bind_on, BDF), 0);
	assert_int_equal(f->modprobes, 1);
	assert_string_equal(driver_of(f), "vfio-pci");
}

static void bind_without_vfio_pci_leaves_the_device_alone(void **state)
{
	struct fake *f = *state;

	remove_vfio_pci_driver(f);
	f->modprobe_works = false;
	assert_int_equal(run(f, vfio_bind_on, BDF), -ENODEV);
	assert_int_equal(f->modprobes, 1);
	assert_string_equal(f->log, "");
	assert_string_equal(driver_of(f), "e1000e");
}

static void bind_returns_the_device_when_vfio_pci_refuses_it(void **state)
{
	struct fake *f = *state;

	f->vfio_pci_refuses = true;
	assert_int_equal(run(f, vfio_bind_on, BDF), -ENODEV);
	assert_string_equal(f->log,
			    "bus/pci/devices/" BDF "/driver_override=vfio-pci;"
			    "bus/pci/devices/" BDF "/driver/unbind=" BDF ";"
			    "bus/pci/drivers_probe=" BDF ";"
			    "bus/pci/devices/" BDF "/driver_override=\n;"
			    "bus/pci/drivers_probe=" BDF ";");
	assert_string_equal(driver_of(f), "e1000e");
	assert_string_equal(f->out, "");
}

/* A kernel without driver_override: fail before unbinding anything. */
static void bind_stops_at_the_first_failed_write(void **state)
{
	struct fake *f = *state;
	char path[256];

	path_of(f, "bus/pci/devices/" BDF "/driver_override", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(run(f, vfio_bind_on, BDF), -ENOENT);
	assert_string_equal(f->log, "");
	assert_string_equal(driver_of(f), "e1000e");
}

static void unknown_or_malformed_addresses_are_errors(void **state)
{
	struct fake *f = *state;

	assert_int_equal(run(f, vfio_bind_on, "0000:02:00.0"), -ENODEV);
	assert_int_equal(run(f, vfio_unbind_on, "0000:02:00.0"), -ENODEV);
	assert_int_equal(run(f, vfio_bind_on, "01:00"), -EINVAL);
	assert_int_equal(run(f, vfio_bind_on, "0000:01:20.0"), -EINVAL);
	assert_int_equal(run(f, public_unbind, "nonsense"), -EINVAL);
	assert_string_equal(f->log, "");
	assert_string_equal(f->out, "");
}

static void unbind_clears_the_override_and_reprobes(void **state)
{
	struct fake *f = *state;

	assert_int_equal(run(f, vfio_bind_on, BDF), 0);
	f->log[0] = '\0';
	assert_int_equal(run(f, vfio_unbind_on, BDF), 0);
	assert_string_equal(f->log,
			    "bus/pci/devices/" BDF "/driver_override=\n;"
			    "bus/pci/devices/" BDF "/driver/unbind=" BDF ";"
			    "bus/pci/drivers_probe=" BDF ";");
	assert_string_equal(slurp(f, "bus/pci/drivers/vfio-pci/unbind"), BDF);
	assert_string_equal(driver_of(f), "e1000e");
	assert_string_equal(f->out, BDF ": released from vfio-pci, now bound to e1000e\n");
}

static void unbind_leaves_other_drivers_alone(void **state)
{
	struct fake *f = *state;

	assert_int_equal(run(f, public_unbind, BDF), 0);
	assert_string_equal(f->out, BDF ": not bound to vfio-pci (driver e1000e), nothing to do\n");
	assert_string_equal(slurp(f, "bus/pci/devices/" BDF "/driver_override"), "(null)\n");
	assert_string_equal(driver_of(f), "e1000e");
}

static void unbind_reports_a_device_no_host_driver_takes(void **state)
{
	struct fake *f = *state;

	bind_driver(f, "vfio-pci");
	f->host_driver = "none";
	assert_int_equal(run(f, vfio_unbind_on, BDF), 0);
	assert_string_equal(driver_of(f), "");
	assert_string_equal(f->out, BDF ": released from vfio-pci, no host driver took it\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bind_overrides_unbinds_then_probes, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_takes_the_short_address_form, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_of_a_driverless_device_skips_unbind, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_of_a_vfio_pci_device_succeeds_without_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_names_the_cdev_when_there_is_one, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_reads_the_group_after_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_loads_vfio_pci_first, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_without_vfio_pci_leaves_the_device_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_returns_the_device_when_vfio_pci_refuses_it, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_stops_at_the_first_failed_write, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_or_malformed_addresses_are_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(unbind_clears_the_override_and_reprobes, setup, teardown),
		cmocka_unit_test_setup_teardown(unbind_leaves_other_drivers_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(unbind_reports_a_device_no_host_driver_takes, setup, teardown),
	};

	return cmocka_run_group_tests_name("vfio bind", tests, NULL, NULL);
}
