/*
 * The iommufd backend against the fake kernel of fake_iommufd.h. What the
 * planner makes of the IOVA ranges is checked through the same path `vmm
 * run` takes: host holes from sysfs and --reserved, every device
 * attached, the ranges turned into holes, the board's plan; then the
 * IOAS shared by a group, guest RAM mapped at its guest address, and the
 * errors that name a device and the fix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_iommufd.h"

/*
 * `vmm run`'s path to the planner: holes from sysfs and --reserved, then
 * the iommufd backend attaches every device and adds its IOVA ranges.
 */
static int collect(const char *const *bdfs, unsigned int n, const char *const *reserved,
		   unsigned int nreserved, struct host_holes *host, struct vfio_iommu **out)
{
	char normalized[VFIO_MAX_DEVICES][BDF_LEN];
	int err = vfio_collect_host_holes(reserved, nreserved, bdfs, n, F.sys, host);

	if (err)
		return err;
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(pci_normalize_bdf(bdfs[i], normalized[i]), 0);
	*out = vfio_iommufd_open_on(&fake_sys, F.sys, F.dev);
	assert_non_null(*out);
	return vfio_iommu_attach_all(*out, F.sys, normalized, n, NULL, host);
}

/* The hole row of the plan that starts at addr (windows may share its addresses). */
static const struct plan_region *hole_at(const struct memory_plan *plan, u64 addr)
{
	for (unsigned int i = 0; i < plan->nregions; i++)
		if (plan->regions[i].kind == REGION_HOLE && plan->regions[i].start == addr)
			return &plan->regions[i];
	return NULL;
}

static void assert_no_ram_in(const struct memory_plan *plan, u64 start, u64 size)
{
	for (unsigned int i = 0; i < plan->nregions; i++)
		if (plan->regions[i].kind == REGION_RAM)
			assert_false(ranges_overlap(plan->regions[i].start, plan->regions[i].size,
						    start, size));
}

static int plan_x86(const struct host_holes *h, u64 ram, struct memory_plan *plan)
{
	return plan_on_board("x86_64", ram, 2, 46, h->holes, h->n, h->iova_limit,
			     h->iova_limit_source, plan);
}

static void gaps_between_ranges_are_holes_named_after_the_ioas(void **state)
{
	/* What VT-d (39-bit) reports for L1's e1000e; sysfs names the same window msi. */
	const struct iommu_iova_range vtd[] = { { 0, 0xfedfffff }, { 0xfef00000, 0x7fffffffff } };
	const char *bdfs[] = { "00:01.0" };
	struct host_holes h;
	struct memory_plan plan;
	struct vfio_iommu *iommu;
	const struct plan_region *r;

	(void)state;
	add_device("0000:00:01.0", 1, "vfio-pci", 0);
	set_group_regions(1, "0x00000000fee00000 0x00000000feefffff msi\n");
	set_ranges(vtd, 2);
	assert_int_equal(collect(bdfs, 1, NULL, 0, &h, &iommu), 0);
	assert_string_equal(iommu->ops->name, "iommufd IOAS");
	assert_int_equal(iommu->ops->backend, VFIO_BACKEND_IOMMUFD);

	/* Opened: /dev/iommu and the cdev; never a group or the container. */
	assert_string_equal(F.opened, "/dev/iommu;/dev/vfio/devices/vfio0;");
	assert_true(F.attached[0]);
	assert_int_equal(F.attached_to[0], IOAS_ID);
	assert_int_equal(F.range_queries, 2); /* the count, then the ranges */

	assert_int_equal(h.n, 2);
	assert_string_equal(h.holes[0].label, "MSI IOVA window (host default, iommu group 1)");
	assert_int_equal(h.holes[1].start, 0xfee00000);
	assert_int_equal(h.holes[1].size, 0x100000);
	assert_string_equal(h.holes[1].label, "host IOVA gap (iommufd IOAS)");
	assert_int_equal(h.iova_limit, 0x8000000000ULL);
	assert_string_equal(h.iova_limit_source, "host IOVA limit (iommufd IOAS)");

	assert_int_equal(plan_x86(&h, 6 * GiB, &plan), 0);
	r = hole_at(&plan, 0xfee00000);
	assert_non_null(r);
	assert_string_equal(r->label, "MSI IOVA window (host default, iommu group 1), host IOVA gap (iommufd IOAS)");
	assert_no_ram_in(&plan, 0xfee00000, 0x100000);
	assert_int_equal(plan.addr_limit, 0x8000000000ULL);
	assert_non_null(strstr(plan.addr_limit_label, "iommufd IOAS"));
	iommu->ops->destroy(iommu);
}

static void several_gaps_split_ram_on_arm64(void **state)
{
	/* An SMMUv3 with its software MSI window and a second reserved range. */
	const struct iommu_iova_range smmu[] = {
		{ 0, 0x7ffffff }, { 0x8100000, 0x3fffffff }, { 0x40200000, 0xffffffffffff },
	};
	const char *bdfs[] = { "0000:00:02.0" };
	struct host_holes h;
	struct memory_plan plan;
	struct vfio_iommu *iommu;
	u64 ram = 0;

	(void)state;
	add_device("0000:00:02.0", 4, "vfio-pci", 2);
	set_ranges(smmu, 3);
	assert_int_equal(collect(bdfs, 1, NULL, 0, &h, &iommu), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.holes[0].start, 0x8000000);
	assert_int_equal(h.holes[1].start, 0x40000000);
	assert_int_equal(h.holes[1].size, 0x200000);
	assert_int_equal(plan_on_board("arm64", 2 * GiB, 2, 40, h.holes, h.n, h.iova_limit,
				       h.iova_limit_source, &plan), 0);
	for (unsigned int i = 0; i < h.n; i++) {
		assert_no_ram_in(&plan, h.holes[i].start, h.holes[i].size);
		assert_string_equal(hole_at(&plan, h.holes[i].start)->label,
				    "host IOVA gap (iommufd IOAS)");
	}
	for (unsigned int i = 0; i < plan.nregions; i++)
		if (plan.regions[i].kind == REGION_RAM)
			ram += plan.regions[i].size;
	assert_int_equal(ram, 2 * GiB);
	iommu->ops->destroy(iommu);
}

/*
 * The first range ends inside where x86 puts ECAM and the 32-bit MMIO
 * window (top-down below the IOAPIC): both move below the gap, low RAM
 * ends lower, and no RAM is in the gap; the fixed IOAPIC and LAPIC
 * windows may share its addresses (no DMA-able RAM there either).
 */
static void a_range_ending_inside_a_window_moves_the_window_down(void **state)
{
	const struct iommu_iova_range r[] = { { 0, 0xefffffff }, { 0x100000000ULL, 0x7fffffffff } };
	const char *bdfs[] = { "0000:00:01.0" };
	struct host_holes h;
	struct memory_plan plan;
	struct vfio_iommu *iommu;
	u64 ram = 0;

	(void)state;
	add_device("0000:00:01.0", 1, "vfio-pci", 0);
	set_ranges(r, 2);
	assert_int_equal(collect(bdfs, 1, NULL, 0, &h, &iommu), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.holes[0].start, 0xf0000000);
	assert_int_equal(h.holes[0].size, 0x10000000);
	assert_int_equal(plan_x86(&h, 4 * GiB, &plan), 0);
	assert_string_equal(hole_at(&plan, 0xf0000000)->label, "host IOVA gap (iommufd IOAS)");
	for (unsigned int i = 0; i < plan.nregions; i++) {
		const struct plan_region *w = &plan.regions[i];

		if (w->kind == REGION_RAM)
			ram += w->size;
		if (w->kind == REGION_RAM || w->kind == REGION_DEVICE)
			assert_false(ranges_overlap(w->start, w->size, 0xf0000000, 0x10000000));
	}
	assert_int_equal(ram, 4 * GiB);
	iommu->ops->destroy(iommu);
}

/*
 * The last range ends above 4 GiB, inside what would be RAM and the
 * 64-bit window: RAM stops below the IOVA limit, and a request that cannot
 * fit under it is refused by the planner, naming the limit and the -m
 * that fits.
 */
static void a_range_ending_above_4g_caps_ram(void **state)
{
	const struct iommu_iova_range low[] = { { 0, 0xfedfffff }, { 0xfef00000, 0x17fffffffULL } };
	const char *bdfs[] = { "0000:00:01.0" };
	struct host_holes h;
	struct memory_plan plan;
	struct vfio_iommu *iommu;

	(void)state;
	add_device("0000:00:01.0", 1, "vfio-pci", 0);
	set_ranges(low, 2);
	assert_int_equal(collect(bdfs, 1, NULL, 0, &h, &iommu), 0);
	assert_int_equal(h.iova_limit, 0x180000000ULL);
	assert_int_equal(plan_x86(&h, 3 * GiB, &plan), 0);
	assert_true(plan_ram_end(&plan) <= 0x180000000ULL);
	assert_int_equal(plan_x86(&h, 8 * GiB, &plan), -ENOSPC);
	assert_non_null(strstr(plan.error, "host IOVA limit (iommufd IOAS)"));
	assert_non_null(strstr(plan.error, "-m"));
	iommu->ops->destroy(iommu);
}

static void no_range_at_all_is_one_error(void **state)
{
	const char *bdfs[] = { "0000:00:01.0" };
	struct host_holes h;
	struct vfio_iommu *iommu;
	const char *err;

	(void)state;
	add_device("0000:00:01.0", 1, "vfio-pci", 0);
	set_ranges(NULL, 0);
	capture_begin();
	assert_int_equal(collect(bdfs, 1, NULL, 0, &h, &iommu), -ENOSPC);
	err = capture_end();
	assert_int_equal(lines(err), 1);
	assert_non_null(strstr(err, "0000:00:01.0"));
	assert_non_null(strstr(err, "allows no IOVA"));
	assert_int_equal(h.n, 0);
	assert_int_equal(h.iova_limit, 0);
	iommu->ops->destroy(iommu);
}

static void ranges_and_reserved_files_add_up(void **state)
{
	const struct iommu_iova_range vtd[] = { { 0, 0xfedfffff }, { 0xfef00000, 0x7fffffffff } };
	const char *bdfs[] = { "0000:00:01.0" };
	char file[160], *reserved[1] = { file };
	struct host_holes h;
	struct memory_plan plan;
	struct vfio_iommu *iommu;
	FILE *out;

	(void)state;
	add_device("0000:00:01.0", 1, "vfio-pci", 0);
	set_ranges(vtd, 2);
	snprintf(file, sizeof(file), "%s/other-host.txt", F.root);
	out = fopen(file, "w");
	assert_non_null(out);
	fputs("0x0000000010000000 0x00000000101fffff direct\n", out);
	fclose(out);
	assert_int_equal(collect(bdfs, 1, (const char *const *)reserved, 1, &h, &iommu), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(plan_x86(&h, 2 * GiB, &plan), 0);
	assert_string_equal(hole_at(&plan, 0x10000000)->label, "host direct (file other-host.txt)");
	assert_string_equal(hole_at(&plan, 0xfee00000)->label, "host IOVA gap (iommufd IOAS)");
	assert_no_ram_in(&plan, 0x10000000, 0x200000);
	assert_no_ram_in(&plan, 0xfee00000, 0x100000);
	iommu->ops->destroy(iommu);
}

static void more_ranges_than_kept_stay_below_the_limit(void **state)
{
	const char *bdfs[] = { "0000:00:01.0" };
	struct host_holes h;
	struct vfio_iommu *iommu;

	(void)state;
	add_device("0000:00:01.0", 1, "vfio-pci", 0);
	/* 40 ranges of 1 GiB with 2 MiB gaps: 32 are kept, the rest is above the limit. */
	for (unsigned int i = 0; i < 40; i++) {
		F.ranges[i].start = (u64)i * GiB;
		F.ranges[i].last = (u64)(i + 1) * GiB - 2 * MiB - 1;
	}
	F.nranges = 40;
	assert_int_equal(collect(bdfs, 1, NULL, 0, &h, &iommu), 0);
	assert_int_equal(h.n, 31);
	assert_int_equal(h.iova_limit, 32 * GiB - 2 * MiB);
	iommu->ops->destroy(iommu);
}

static void devices_of_one_group_share_the_ioas(void **state)
{
	const struct iommu_iova_range vtd[] = { { 0, 0xfedfffff }, { 0xfef00000, 0x7fffffffff } };
	const char *bdfs[] = { "0000:01:01.0", "0000:01:02.0" };
	struct host_holes h;
	struct vfio_iommu *iommu;

	(void)state;
	add_device("0000:01:01.0", 6, "vfio-pci", 3);
	add_device("0000:01:02.0", 6, "vfio-pci", 4);
	add_device("0000:00:03.0", 6, "pcieport", -1); /* the bridge: fine */
	set_ranges(vtd, 2);
	assert_int_equal(collect(bdfs, 2, NULL, 0, &h, &iommu), 0);
	assert_string_equal(F.opened, "/dev/iommu;/dev/vfio/devices/vfio3;/dev/vfio/devices/vfio4;");
	assert_true(F.attached[3] && F.attached[4]);
	assert_int_equal(F.attached_to[3], IOAS_ID);
	assert_int_equal(F.attached_to[4], IOAS_ID);
	/* The ranges are read once both narrowed them. */
	assert_int_equal(F.attaches_before_query, 2);
	iommu->ops->destroy(iommu);
}

static void guest_ram_is_mapped_at_its_guest_address(void **state)
{
	const struct iommu_iova_range all[] = { { 0, 0xffffffffffffULL } };
	const char *bdfs[] = { "0000:00:01.0" };
	static char ram[2 * 4096];
	struct host_holes h;
	struct vfio_iommu *iommu;
	int fd;

	(void)state;
	add_device("0000:00:01.0", 1, "vfio-pci", 0);
	set_ranges(all, 1);
	assert_int_equal(collect(bdfs, 1, NULL, 0, &h, &iommu), 0);
	assert_int_equal(h.n, 0);
	assert_int_equal(iommu->ops->dma_map(iommu, 0x100000, ram, sizeof(ram)), 0);
	assert_int_equal(F.maps[0].ioas_id, IOAS_ID);
	assert_int_equal(F.maps[0].iova, 0x100000);
	assert_int_equal(F.maps[0].length, sizeof(ram));
	assert_int_equal(F.maps[0].user_va, (u64)(unsigned long)ram);
	assert_int_equal(F.maps[0].flags, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
						  IOMMU_IOAS_MAP_WRITEABLE);
	assert_int_equal(iommu->ops->dma_unmap(iommu, 0x100000, sizeof(ram)), 0);
	assert_int_equal(F.unmaps[0].iova, 0x100000);
	assert_int_equal(F.unmaps[0].length, sizeof(ram));
	/* The PCI model gets a duplicate of the cdev fd, its own to close. */
	fd = iommu->ops->device_fd(iommu, "0000:00:01.0");
	assert_int_equal(fd, CDEV_FD_BASE + 1000);
	assert_int_equal(F.dups, 1);
	capture_begin();
	assert_int_equal(iommu->ops->device_fd(iommu, "0000:00:09.0"), -ENODEV);
	capture_end();
	iommu->ops->destroy(iommu);
}

/* collect() that must fail with err and one error line containing each of want. */
static void expect_error(const char *const *bdfs, unsigned int n, int err, const char *want1,
			 const char *want2)
{
	struct host_holes h;
	struct vfio_iommu *iommu = NULL;
	const char *text;

	capture_begin();
	assert_int_equal(collect(bdfs, n, NULL, 0, &h, &iommu), err);
	text = capture_end();
	assert_int_equal(lines(text), 1);
	assert_non_null(strstr(text, want1));
	assert_non_null(strstr(text, want2));
	if (iommu)
		iommu->ops->destroy(iommu);
}

static void a_device_in_use_is_named_with_the_fix(void **state)
{
	const struct iommu_iova_range all[] = { { 0, 0xffffffffffffULL } };
	const char *bdfs[] = { "0000:00:01.0" };

	(void)state;
	add_device("0000:00:01.0", 1, "vfio-pci", 0);
	set_ranges(all, 1);
	/* Its group is open through the legacy API elsewhere. */
	F.bind_errno[0] = EBUSY;
	expect_error(bdfs, 1, -EBUSY, "0000:00:01.0 is in use", "/dev/vfio/1");
	/* Its cdev is bound to another process's iommufd. */
	F.bind_errno[0] = EINVAL;
	expect_error(bdfs, 1, -EINVAL, "0000:00:01.0 is in use", "another iommufd");
	/* A device of its group still has a host driver. */
	F.bind_errno[0] = EBUSY;
	add_device("0000:00:01.1", 1, "e1000e", -1);
	expect_error(bdfs, 1, -EBUSY, "not viable", "0000:00:01.1 (e1000e)");
}

static void a_device_without_a_cdev_is_named_with_the_fix(void **state)
{
	const char *bdfs[] = { "0000:00:01.0" };

	(void)state;
	add_device("0000:00:01.0", 1, "vfio-pci", -1);
	expect_error(bdfs, 1, -ENODEV, "0000:00:01.0 has no VFIO device cdev",
		     "CONFIG_VFIO_DEVICE_CDEV");
	add_device("0000:00:02.0", 2, "e1000e", -1);
	bdfs[0] = "0000:00:02.0";
	expect_error(bdfs, 1, -ENODEV, "not bound to vfio-pci", "vmm vfio-bind 0000:00:02.0");
}

static void auto_picks_iommufd_only_when_every_device_can(void **state)
{
	const char bdfs[2][BDF_LEN] = { "0000:00:01.0", "0000:00:02.0" };
	enum vfio_backend chosen;
	const char *text;

	(void)state;
	add_device("0000:00:01.0", 1, "vfio-pci", 0);
	add_device("0000:00:02.0", 2, "vfio-pci", -1);
	assert_int_equal(vfio_iommu_choose(VFIO_BACKEND_AUTO, F.sys, F.dev, bdfs, 1, &chosen), 0);
	assert_int_equal(chosen, VFIO_BACKEND_IOMMUFD);
	/* The second device has no cdev: legacy for both. */
	assert_int_equal(vfio_iommu_choose(VFIO_BACKEND_AUTO, F.sys, F.dev, bdfs, 2, &chosen), 0);
	assert_int_equal(chosen, VFIO_BACKEND_LEGACY);
	assert_int_equal(vfio_iommu_choose(VFIO_BACKEND_LEGACY, F.sys, F.dev, bdfs, 1, &chosen), 0);
	assert_int_equal(chosen, VFIO_BACKEND_LEGACY);
	/* A cdev in sysfs whose node this process cannot open is no cdev for auto. */
	sh("rm %s/vfio/devices/vfio0", F.dev);
	assert_int_equal(vfio_iommu_choose(VFIO_BACKEND_AUTO, F.sys, F.dev, bdfs, 1, &chosen), 0);
	assert_int_equal(chosen, VFIO_BACKEND_LEGACY);

	/* A kernel without iommufd: auto falls back, iommufd asked is one error line. */
	sh("rm %s/iommu", F.dev);
	assert_int_equal(vfio_iommu_choose(VFIO_BACKEND_AUTO, F.sys, F.dev, bdfs, 1, &chosen), 0);
	assert_int_equal(chosen, VFIO_BACKEND_LEGACY);
	capture_begin();
	assert_int_equal(vfio_iommu_choose(VFIO_BACKEND_IOMMUFD, F.sys, F.dev, bdfs, 1, &chosen),
			 -ENODEV);
	text = capture_end();
	assert_int_equal(lines(text), 1);
	assert_non_null(strstr(text, "0000:00:01.0"));
	assert_non_null(strstr(text, "CONFIG_IOMMUFD"));
	assert_non_null(strstr(text, "CONFIG_VFIO_DEVICE_CDEV"));
	assert_string_equal(vfio_backend_name(VFIO_BACKEND_IOMMUFD), "iommufd");
	assert_string_equal(vfio_backend_name(VFIO_BACKEND_LEGACY), "legacy");
	assert_string_equal(vfio_backend_name(VFIO_BACKEND_AUTO), "auto");
}

static void cdevs_are_found_in_sysfs(void **state)
{
	char name[32];

	(void)state;
	add_device("0000:00:01.0", 1, "vfio-pci", 12);
	add_device("0000:00:02.0", 2, "vfio-pci", -1);
	assert_int_equal(sysfs_vfio_cdev(F.sys, "0000:00:01.0", name, sizeof(name)), 0);
	assert_string_equal(name, "vfio12");
	assert_int_equal(sysfs_vfio_cdev(F.sys, "0000:00:02.0", name, sizeof(name)), -ENOENT);
	assert_int_equal(sysfs_vfio_cdev(F.sys, "0000:00:09.0", name, sizeof(name)), -ENOENT);
	sh("mkdir -p %s/bus/pci/devices/0000:00:02.0/vfio-dev/vfiox", F.sys);
	assert_int_equal(sysfs_vfio_cdev(F.sys, "0000:00:02.0", name, sizeof(name)), -ENOENT);
	sysfs_pci_driver(F.sys, "0000:00:01.0", name, sizeof(name));
	assert_string_equal(name, "vfio-pci");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(gaps_between_ranges_are_holes_named_after_the_ioas,
						setup, teardown),
		cmocka_unit_test_setup_teardown(several_gaps_split_ram_on_arm64, setup, teardown),
		cmocka_unit_test_setup_teardown(a_range_ending_inside_a_window_moves_the_window_down,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_range_ending_above_4g_caps_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(no_range_at_all_is_one_error, setup, teardown),
		cmocka_unit_test_setup_teardown(ranges_and_reserved_files_add_up, setup, teardown),
		cmocka_unit_test_setup_teardown(more_ranges_than_kept_stay_below_the_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(devices_of_one_group_share_the_ioas, setup, teardown),
		cmocka_unit_test_setup_teardown(guest_ram_is_mapped_at_its_guest_address, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_device_in_use_is_named_with_the_fix, setup, teardown),
		cmocka_unit_test_setup_teardown(a_device_without_a_cdev_is_named_with_the_fix, setup,
						teardown),
		cmocka_unit_test_setup_teardown(auto_picks_iommufd_only_when_every_device_can, setup,
						teardown),
		cmocka_unit_test_setup_teardown(cdevs_are_found_in_sysfs, setup, teardown),
	};

	return cmocka_run_group_tests_name("iommufd backend", tests, NULL, NULL);
}
