/*
 * The PCI neighbourhood of devices passed through, read from fake sysfs
 * trees in a temporary folder: the devices' own BARs (which size the
 * 64-bit window), the peers of a group without ACS and the bridge window
 * between them as labelled host holes, nothing for a device alone in its
 * group (the kernel found ACS), the resource parser's refusals, where
 * plan and run put the BARs, and the error naming device, BAR, size and
 * limit when the window cannot be placed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/board.h"
#include "core/log.h"
#include "devices/pci.h"
#include "vfio/host_bars.h"
#include "vfio/host_collect.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[512], dir[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(dir), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void add_device(const char *bdf, int group, const char *class, const char *resource)
{
	char rel[256], link[512], target[128];

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/class", bdf);
	put(rel, class);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/resource", bdf);
	put(rel, resource);
	snprintf(link, sizeof(link), "%s/bus/pci/devices/%s/iommu_group", root, bdf);
	snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%d", group);
	assert_int_equal(symlink(target, link), 0);
	snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/devices/%s", group, bdf);
	put(rel, "");
	snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/reserved_regions", group);
	put(rel, "0x00000000fee00000 0x00000000feefffff msi\n");
}

#define UNUSED "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
/* An e1000: BAR0 128 KiB memory, BAR1 I/O ports. */
#define E1000(bar0) bar0 " 0x0000000000040200\n0x000000000000c000 0x000000000000c03f 0x0000000000040101\n" \
	UNUSED UNUSED UNUSED UNUSED UNUSED

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/vmm-peers-XXXXXX");
	assert_non_null(mkdtemp(root));
	/* Group 5, no ACS: a PCIe-to-PCI bridge and two e1000s behind it. */
	add_device("0000:01:00.0", 5, "0x060400\n",
		   UNUSED UNUSED UNUSED UNUSED UNUSED UNUSED UNUSED UNUSED UNUSED UNUSED UNUSED UNUSED UNUSED
		   "0x0000000000002000 0x0000000000002fff 0x0000000000000101\n"
		   "0x00000000fe800000 0x00000000fe9fffff 0x0000000000000200\n"
		   UNUSED UNUSED);
	add_device("0000:02:01.0", 5, "0x020000\n", E1000("0x00000000fe800000 0x00000000fe81ffff"));
	add_device("0000:02:02.0", 5, "0x020000\n", E1000("0x00000000fe820000 0x00000000fe83ffff"));
	/* Group 7, alone (ACS above it): an NVMe with a 16 KiB 64-bit BAR0. */
	add_device("0000:03:00.0", 7, "0x010802\n",
		   "0x00000000fea00000 0x00000000fea03fff 0x0000000000140204\n" UNUSED UNUSED UNUSED
		   UNUSED UNUSED UNUSED);
	/* Group 9: ivshmem with a 64 GiB prefetchable 64-bit BAR2. */
	add_device("0000:04:00.0", 9, "0x050000\n",
		   "0x00000000feb00000 0x00000000feb000ff 0x0000000000040200\n" UNUSED
		   "0x000000c000000000 0x000000cfffffffff 0x000000000014220c\n" UNUSED UNUSED UNUSED);
	log_threshold = LOG_QUIET;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static const struct plan_forbidden *hole(const struct host_holes *h, const char *label)
{
	for (unsigned int i = 0; i < h->n; i++)
		if (!strcmp(h->holes[i].label, label))
			return &h->holes[i];
	return NULL;
}

static void a_peer_without_acs_and_the_bridge_window_are_holes(void **state)
{
	const char *dev[] = { "0000:02:01.0" };
	struct host_holes h;
	const struct plan_forbidden *peer, *window;

	assert_int_equal(vfio_collect_host_holes(NULL, 0, dev, 1, root, &h), 0);
	peer = hole(&h, "peer BAR 0000:02:02.0 BAR0");
	window = hole(&h, "bridge window 0000:01:00.0");
	assert_non_null(peer);
	assert_int_equal(peer->start, 0xfe820000);
	assert_int_equal(peer->size, 128 * KiB);
	assert_non_null(window);
	assert_int_equal(window->start, 0xfe800000);
	assert_int_equal(window->size, 2 * MiB);
	/* Its own BAR is not in its own way; its I/O ports are no MMIO. */
	assert_null(hole(&h, "peer BAR 0000:02:01.0 BAR0"));
	assert_null(hole(&h, "peer BAR 0000:02:02.0 BAR1"));
	assert_int_equal(h.nbars, 1);
	assert_int_equal(h.bars[0].size, 128 * KiB);
	assert_false(h.bars[0].is64);
}

static void both_members_passed_through_are_each_others_peers(void **state)
{
	const char *dev[] = { "0000:02:01.0", "02:02.0" };
	struct host_holes h;

	assert_int_equal(vfio_collect_host_holes(NULL, 0, dev, 2, root, &h), 0);
	assert_non_null(hole(&h, "peer BAR 0000:02:01.0 BAR0"));
	assert_non_null(hole(&h, "peer BAR 0000:02:02.0 BAR0"));
	assert_non_null(hole(&h, "bridge window 0000:01:00.0"));
	assert_int_equal(h.nbars, 2);
}

static void a_device_alone_in_its_group_adds_no_peer_holes(void **state)
{
	const char *dev[] = { "0000:03:00.0" };
	struct host_holes h;

	assert_int_equal(vfio_collect_host_holes(NULL, 0, dev, 1, root, &h), 0);
	assert_int_equal(h.n, 1); /* the MSI window only */
	assert_int_equal(h.nbars, 1);
	assert_int_equal(h.bars[0].size, 16 * KiB);
	assert_true(h.bars[0].is64);
}

static void resource_files_that_lie_are_refused_naming_the_line(void **state)
{
	struct pci_resource r[PCI_RES_MAX];
	char why[96];
	const char *bad[] = {
		"0x1000 0x0fff 0x200\n",           /* end below start */
		"0x1000 0x1fff\n",                 /* two numbers */
		"0x10000000000000000 0x1 0x200\n", /* 17 digits */
		"0x1000 0x1fff 0x200 junk\n",
		"-0x1 0x1fff 0x200\n",
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(host_parse_pci_resources(bad[i], strlen(bad[i]), r, PCI_RES_MAX, why,
							  sizeof(why)), -EINVAL);
	assert_string_equal(why, "line 1 is not three 64-bit hex numbers");
	assert_int_equal(host_parse_pci_resources("0x0 0x0 0x0\n0x1000 0x1fff 0x200", 31, r,
						  PCI_RES_MAX, why, sizeof(why)), 2);
	assert_int_equal(r[0].size, 0);
	assert_int_equal(r[1].size, 4096);
}

static void a_64_gib_bar_grows_the_64_bit_window_and_is_placed_in_it(void **state)
{
	const char *dev[] = { "0000:04:00.0", "0000:03:00.0" };
	struct plan_request req = { .ram_size = 512 * MiB, .ncpus = 1, .addr_bits = 40,
				    .page_size = 4096 };
	struct memory_plan plan;
	const struct plan_region *m64;
	struct pci_window w32, w64;
	struct pci_bar_slot slots[HOST_MAX_BARS];
	unsigned int failed;
	struct host_holes h;

	assert_int_equal(vfio_collect_host_holes(NULL, 0, dev, 2, root, &h), 0);
	req.host = &h;
	assert_int_equal(board_plan(board_layout_find("x86_64"), &req, &plan), 0);
	m64 = plan_find(&plan, PLAN_PCI_MMIO64);
	assert_non_null(m64);
	assert_true(m64->size >= 65 * GiB);
	assert_int_equal(m64->start % (64 * GiB), 0);
	/* The 64 GiB BAR first, at the window's base; the small ones after it. */
	w32 = (struct pci_window){ NULL, 0xc0000000, 512 * MiB, 0xc0000000, 0xe0000000 };
	w64 = (struct pci_window){ NULL, m64->start, m64->size, m64->start, m64->start + m64->size };
	assert_int_equal(h.nbars, 3);
	for (unsigned int i = 0; i < h.nbars; i++)
		slots[i] = (struct pci_bar_slot){ h.bars[i].size, h.bars[i].is64, 0 };
	assert_int_equal(pci_place_bars(&w32, &w64, slots, h.nbars, &failed), 0);
	assert_int_equal(slots[1].addr, m64->start);                 /* ivshmem BAR2 */
	assert_int_equal(slots[2].addr, m64->start + 64 * GiB);      /* nvme BAR0 */
	assert_int_equal(slots[0].addr, 0xe0000000 - 256);           /* ivshmem BAR0, 32-bit, top-down */
	/* Emulated devices' bottom-up BARs stop where passthrough ones begin. */
	assert_int_equal(w32.top, 0xe0000000 - 256);
}

static void a_bar_beyond_the_limit_names_device_bar_size_and_limit(void **state)
{
	const char *dev[] = { "0000:04:00.0" };
	struct plan_request req = { .ram_size = 512 * MiB, .ncpus = 1, .addr_bits = 36,
				    .page_size = 4096 };
	struct memory_plan plan;
	struct host_holes h;

	assert_int_equal(vfio_collect_host_holes(NULL, 0, dev, 1, root, &h), 0);
	req.host = &h;
	/* 64 GiB of address space cannot hold a 64 GiB BAR above RAM. */
	assert_int_equal(board_plan(board_layout_find("x86_64"), &req, &plan), -ENOSPC);
	assert_non_null(strstr(plan.error, "0000:04:00.0 BAR2 (64 GiB)"));
	assert_non_null(strstr(plan.error, "below 0x1000000000 (guest physical address limit (36 bits))"));
	assert_null(strstr(plan.error, "(null)"));
}

static void a_32_bit_window_too_small_fails_placing_the_first_bar_that_does_not_fit(void **state)
{
	struct pci_window w32 = { NULL, 0xc0000000, 256 * MiB, 0xc0000000, 0xd0000000 };
	struct pci_window w64 = { 0 };
	struct pci_bar_slot slots[] = { { 128 * MiB, false, 0 }, { 256 * MiB, false, 0 },
					{ 4096, true, 0 } };
	unsigned int failed = 99;

	assert_int_equal(pci_place_bars(&w32, &w64, slots, 3, &failed), -ENOSPC);
	assert_int_equal(failed, 0);
	assert_int_equal(slots[1].addr, 0xc0000000);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_peer_without_acs_and_the_bridge_window_are_holes),
		T(both_members_passed_through_are_each_others_peers),
		T(a_device_alone_in_its_group_adds_no_peer_holes),
		T(resource_files_that_lie_are_refused_naming_the_line),
		T(a_64_gib_bar_grows_the_64_bit_window_and_is_placed_in_it),
		T(a_bar_beyond_the_limit_names_device_bar_size_and_limit),
		T(a_32_bit_window_too_small_fails_placing_the_first_bar_that_does_not_fit),
	};

	return cmocka_run_group_tests_name("vfio-peers", tests, NULL, NULL);
}
