/*
 * The VMM choosing the MSI doorbell window through the sw-msi series'
 * per-device IOMMU_OPTION (START, then SIZE, after bind and before
 * attach), against the fake kernel of fake_iommufd.h: kernels without the
 * option, `--msi-window host`, an address on a host that cannot move it,
 * and the kernel's EADDRINUSE and EBUSY turned into messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_iommufd.h"

/* A chooser as the planner would be: always the same window, counted. */
static unsigned int chosen;

static int choose_fixed(void *opaque, const struct host_holes *host, u64 size, u64 *start,
			u64 *size_out)
{
	(void)opaque;
	chosen++;
	/* The host's default windows are gone before the planner sees the holes. */
	for (unsigned int i = 0; i < host->n; i++)
		assert_false(host->holes[i].msi_window);
	assert_int_equal(size, 1 * MiB);
	*start = 0x30000000;
	*size_out = 1 * MiB;
	return 0;
}

static int collect_msi(const char *const *bdfs, unsigned int n, enum vfio_msi_mode mode,
		       struct host_holes *host, struct vfio_iommu **out)
{
	const struct vfio_msi_chooser msi = { .mode = mode, .choose = choose_fixed };
	char normalized[VFIO_MAX_DEVICES][BDF_LEN];
	int err = vfio_collect_host_holes(NULL, 0, bdfs, n, F.sys, host);

	chosen = 0;
	if (err)
		return err;
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(pci_normalize_bdf(bdfs[i], normalized[i]), 0);
	*out = vfio_iommufd_open_on(&fake_sys, F.sys, F.dev);
	assert_non_null(*out);
	return vfio_iommu_attach_all(*out, F.sys, normalized, n, &msi, host);
}

/* An SMMUv3 host: the software MSI window in sysfs, the IOAS gap where it is. */
static void smmu_device(const char *bdf, int group, int cdev, u64 gap)
{
	const struct iommu_iova_range r[] = { { 0, gap - 1 }, { gap + 1 * MiB, 0xffffffffffffULL } };

	add_device(bdf, group, "vfio-pci", cdev);
	set_group_regions(group, "0x0000000008000000 0x00000000080fffff msi\n");
	set_ranges(r, 2);
}

static void a_kernel_without_the_option_keeps_the_host_window(void **state)
{
	const char *bdfs[] = { "0000:00:01.0" };
	struct host_holes h;
	struct vfio_iommu *iommu;

	(void)state;
	smmu_device("0000:00:01.0", 0, 0, 0x8000000);
	F.option_errno = EOPNOTSUPP;
	assert_int_equal(collect_msi(bdfs, 1, VFIO_MSI_AUTO, &h, &iommu), 0);
	assert_string_equal(F.options, "GET START dev10 0x0;");
	assert_int_equal(chosen, 0);
	assert_false(h.msi_window_placed);
	assert_true(F.attached[0]);
	assert_int_equal(h.holes[0].start, 0x8000000);
	assert_true(h.holes[0].msi_window);
	assert_string_equal(h.holes[0].label, "MSI IOVA window (host default, iommu group 0)");
	assert_int_equal(h.msi_window_size, 1 * MiB);
	iommu->ops->destroy(iommu);
}

static void the_window_is_set_start_then_size_on_every_device_before_attach(void **state)
{
	const char *bdfs[] = { "0000:00:01.0", "0000:00:02.0" };
	struct host_holes h;
	struct vfio_iommu *iommu;

	(void)state;
	smmu_device("0000:00:01.0", 0, 0, 0x30000000);
	smmu_device("0000:00:02.0", 1, 1, 0x30000000);
	assert_int_equal(collect_msi(bdfs, 2, VFIO_MSI_AUTO, &h, &iommu), 0);
	assert_int_equal(chosen, 1);
	/* Probed after each bind; set (START, then SIZE in MiB) before any attach (EBUSY). */
	assert_string_equal(F.options,
			    "GET START dev10 0x0;GET START dev11 0x0;"
			    "SET START dev10 0x30000000;SET SIZE dev10 0x1;"
			    "SET START dev11 0x30000000;SET SIZE dev11 0x1;");
	assert_true(F.attached[0] && F.attached[1]);
	assert_true(h.msi_window_placed);
	assert_int_equal(h.msi_window_start, 0x30000000);
	assert_int_equal(h.msi_window_placed_size, 1 * MiB);
	/* Neither the host default window nor the IOAS gap of the new one is a hole. */
	for (unsigned int i = 0; i < h.n; i++) {
		assert_false(h.holes[i].msi_window);
		assert_false(ranges_overlap(h.holes[i].start, h.holes[i].size, 0x8000000, 1 * MiB));
		assert_false(ranges_overlap(h.holes[i].start, h.holes[i].size, 0x30000000, 1 * MiB));
	}
	iommu->ops->destroy(iommu);
}

static void host_mode_never_moves_it(void **state)
{
	const char *bdfs[] = { "0000:00:01.0" };
	struct host_holes h;
	struct vfio_iommu *iommu;

	(void)state;
	smmu_device("0000:00:01.0", 0, 0, 0x8000000);
	assert_int_equal(collect_msi(bdfs, 1, VFIO_MSI_HOST, &h, &iommu), 0);
	assert_null(strstr(F.options, "SET"));
	assert_int_equal(chosen, 0);
	assert_false(h.msi_window_placed);
	iommu->ops->destroy(iommu);
}

/* The device 0000:00:01.0 is refused with one error line containing text; nothing attached. */
static void one_error_line(enum vfio_msi_mode mode, int rc, const char *text)
{
	const char *bdfs[] = { "0000:00:01.0" };
	struct host_holes h;
	struct vfio_iommu *iommu;
	const char *err;

	capture_begin();
	assert_int_equal(collect_msi(bdfs, 1, mode, &h, &iommu), rc);
	err = capture_end();
	assert_int_equal(lines(err), 1);
	assert_non_null(strstr(err, text));
	assert_false(F.attached[0]);
	iommu->ops->destroy(iommu);
}

static void an_address_on_a_host_that_cannot_move_it_is_one_error(void **state)
{
	(void)state;
	smmu_device("0000:00:01.0", 0, 0, 0x8000000);
	F.option_errno = EOPNOTSUPP;
	one_error_line(VFIO_MSI_AT, -EOPNOTSUPP, "cannot move the MSI window");
}

static void eaddrinuse_names_the_region_in_the_way(void **state)
{
	(void)state;
	smmu_device("0000:00:01.0", 0, 0, 0x8000000);
	set_group_regions(0, "0x0000000008000000 0x00000000080fffff msi\n"
			     "0x0000000030000000 0x00000000301fffff reserved\n");
	F.set_errno = EADDRINUSE;
	one_error_line(VFIO_MSI_AUTO, -EADDRINUSE,
		       "MSI IOVA window 0x30000000-0x300fffff for 0000:00:01.0 overlaps host reserved (iommu group 0) 0x30000000-0x301fffff");
}

static void ebusy_says_the_vmm_set_it_too_late(void **state)
{
	(void)state;
	smmu_device("0000:00:01.0", 0, 0, 0x8000000);
	F.set_errno = EBUSY;
	one_error_line(VFIO_MSI_AUTO, -EBUSY, "a bug in the VMM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_kernel_without_the_option_keeps_the_host_window, setup, teardown),
		cmocka_unit_test_setup_teardown(the_window_is_set_start_then_size_on_every_device_before_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(host_mode_never_moves_it, setup, teardown),
		cmocka_unit_test_setup_teardown(an_address_on_a_host_that_cannot_move_it_is_one_error, setup, teardown),
		cmocka_unit_test_setup_teardown(eaddrinuse_names_the_region_in_the_way, setup, teardown),
		cmocka_unit_test_setup_teardown(ebusy_says_the_vmm_set_it_too_late, setup, teardown),
	};

	return cmocka_run_group_tests_name("iommufd MSI window", tests, NULL, NULL);
}
