/*
 * MSI-X of a passed-through function without a device: where the table
 * and PBA are (one BAR or two, sharing pages with registers, 2048
 * vectors, lies in the capability), which pages trap, and how vectors are
 * armed in VFIO so that arming one never disarms another, beyond 64 and
 * up to 2048, with and without VFIO_IRQ_INFO_NORESIZE. VFIO is played by
 * a set_irqs callback that keeps each vector's eventfd as the kernel does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/pci_regs.h>

#include "vfio/msix_layout.h"
#include "vfio/msix_vectors.h"

static const u64 bars_16k_bar0[MSIX_LAYOUT_BARS] = { 16 * KiB };

/* QEMU's nvme: table at 0x2000, PBA at 0x3000 of a 16 KiB BAR0 with 65 vectors. */
static void nvme_layout_table_and_pba_share_bar0_with_registers(void **state)
{
	struct msix_layout l;
	u64 s[2], e[2];
	char why[160];

	assert_int_equal(msix_layout_parse(64, 0x2000, 0x3000, bars_16k_bar0, &l, why, sizeof(why)), 0);
	assert_int_equal(l.nvectors, 65);
	assert_int_equal(l.table_size, 65 * 16);
	assert_int_equal(l.pba_size, 16);
	/* Adjacent pages merge: registers and doorbells below 0x2000 stay mapped. */
	assert_int_equal(msix_layout_trapped(&l, 0, 16 * KiB, 4 * KiB, s, e), 1);
	assert_int_equal(s[0], 0x2000);
	assert_int_equal(e[0], 0x4000);
	/* With 64 KiB host pages the whole BAR traps (clamped to its size). */
	assert_int_equal(msix_layout_trapped(&l, 0, 16 * KiB, 64 * KiB, s, e), 1);
	assert_int_equal(s[0], 0);
	assert_int_equal(e[0], 16 * KiB);
}

static void table_and_pba_in_different_bars(void **state)
{
	const u64 bars[MSIX_LAYOUT_BARS] = { 128 * KiB, 0, 0, 0, 8 * KiB, 0 };
	struct msix_layout l;
	u64 s[2], e[2];
	char why[160];

	/* 2048 vectors: a 32 KiB table in BAR0 at 64 KiB, a 256-byte PBA in BAR4. */
	assert_int_equal(msix_layout_parse(2047, 0x10000 | 0, 0x1000 | 4, bars, &l, why,
					   sizeof(why)), 0);
	assert_int_equal(l.nvectors, 2048);
	assert_int_equal(l.table_bar, 0);
	assert_int_equal(l.pba_bar, 4);
	assert_int_equal(l.pba_size, 256);
	assert_int_equal(msix_layout_trapped(&l, 0, bars[0], 4 * KiB, s, e), 1);
	assert_int_equal(s[0], 0x10000);
	assert_int_equal(e[0], 0x18000);
	assert_int_equal(msix_layout_trapped(&l, 4, bars[4], 4 * KiB, s, e), 1);
	assert_int_equal(s[0], 0x1000);
	assert_int_equal(e[0], 0x2000);
	assert_int_equal(msix_layout_trapped(&l, 2, 0, 4 * KiB, s, e), 0);
}

static void table_and_pba_apart_in_one_bar_trap_two_ranges(void **state)
{
	const u64 bars[MSIX_LAYOUT_BARS] = { 0, 0, 1 * MiB };
	struct msix_layout l;
	u64 s[2], e[2];
	char why[160];

	/* PBA below the table, pages apart: sorted, not merged. */
	assert_int_equal(msix_layout_parse(7, 0x80000 | 2, 0x1000 | 2, bars, &l, why, sizeof(why)), 0);
	assert_int_equal(msix_layout_trapped(&l, 2, bars[2], 4 * KiB, s, e), 2);
	assert_int_equal(s[0], 0x1000);
	assert_int_equal(e[0], 0x2000);
	assert_int_equal(s[1], 0x80000);
	assert_int_equal(e[1], 0x81000);
}

static void lies_in_the_capability_are_one_line_naming_the_field(void **state)
{
	const u64 bars[MSIX_LAYOUT_BARS] = { 16 * KiB, 0, 0, 0, 0, 0 };
	struct msix_layout l;
	char why[160];

	/* 2048 vectors do not fit 16 KiB after 0x2000. */
	assert_int_equal(msix_layout_parse(2047, 0x2000, 0x3000, bars, &l, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "MSI-X table (BAR0 offset 0x2000, 2048 vectors) ends beyond BAR0 (16 KiB)");
	assert_int_equal(msix_layout_parse(0, 0x0 | 1, 0x1000, bars, &l, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "MSI-X table is in BAR1, which is not a memory BAR");
	assert_int_equal(msix_layout_parse(0, 0x0, 0x1000 | 7, bars, &l, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "MSI-X PBA names BAR indicator 7, which is reserved");
	assert_int_equal(msix_layout_parse(3, 0x1000, 0x1020, bars, &l, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "overlap"));
	assert_int_equal(msix_layout_parse(0, 0x3ff8, 0x0, bars, &l, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "MSI-X table (BAR0 offset 0x3ff8, 1 vectors)"));
	assert_int_equal(msix_layout_parse(0, 0x3ff0, 0x0, bars, &l, why, sizeof(why)), 0);
}

/* A fake VFIO MSI-X index: per-vector eventfds, as vfio_pci_intrs.c keeps them. */
struct fake_vfio {
	int fd[MSIX_MAX_VECTORS];   /* -1: not armed in the host */
	unsigned int allocated;     /* host vectors allocated; 0: MSI-X off */
	bool dynamic;               /* can allocate beyond (no NORESIZE) */
	unsigned int calls, disables, rearmed;
};

static int fake_set_irqs(void *opaque, unsigned int start, unsigned int count, const int *fds)
{
	struct fake_vfio *f = opaque;

	f->calls++;
	if (!count) {
		f->disables++;
		f->allocated = 0;
		memset(f->fd, -1, sizeof(f->fd));
		return 0;
	}
	if (start + count > MSIX_MAX_VECTORS)
		return -EINVAL;
	if (!f->allocated) {
		if (start)
			return -EINVAL;
		f->allocated = count;
	} else if (start + count > f->allocated) {
		if (!f->dynamic)
			return -EINVAL;
		f->allocated = start + count;
	}
	for (unsigned int i = 0; i < count; i++) {
		/* Setting an armed vector again frees and re-requests its host interrupt. */
		if (f->fd[start + i] >= 0)
			f->rearmed++;
		f->fd[start + i] = fds[i];
	}
	return 0;
}

static int fake_vector_fd(void *opaque, unsigned int vector)
{
	return 1000 + (int)vector;
}

static void check_armed(const struct fake_vfio *f, const struct msix_vectors *v)
{
	for (unsigned int i = 0; i < v->nvectors; i++)
		assert_int_equal(f->fd[i], msix_vectors_is_armed(v, i) ? 1000 + (int)i : -1);
}

static void arm_in_order(struct fake_vfio *f, struct msix_vectors *v, const unsigned int *order,
			 unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(msix_vectors_arm(v, order[i]), 0);
		check_armed(f, v);
	}
}

static void beyond_64_vectors_nothing_armed_is_disarmed(void **state)
{
	static const unsigned int order[] = { 0, 1, 64, 65, 2, 127, 66, 1000, 2047, 3 };
	struct fake_vfio f = { .dynamic = true };
	struct msix_vectors v;

	memset(f.fd, -1, sizeof(f.fd));
	assert_int_equal(msix_vectors_init(&v, 2048, false, fake_set_irqs, fake_vector_fd, &f), 0);
	arm_in_order(&f, &v, order, ARRAY_SIZE(order));
	assert_int_equal(msix_vectors_count_armed(&v), ARRAY_SIZE(order));
	/* One call per vector, none touching an armed vector again. */
	assert_int_equal(f.calls, ARRAY_SIZE(order));
	assert_int_equal(f.rearmed, 0);
	assert_int_equal(f.disables, 0);
	/* Arming twice is a no-op. */
	assert_int_equal(msix_vectors_arm(&v, 65), 0);
	assert_int_equal(f.calls, ARRAY_SIZE(order));
	msix_vectors_disarm_all(&v);
	assert_int_equal(f.allocated, 0);
	assert_int_equal(msix_vectors_count_armed(&v), 0);
	msix_vectors_destroy(&v);
}

static void noresize_devices_grow_by_reenabling_with_every_armed_vector(void **state)
{
	static const unsigned int order[] = { 0, 70, 5, 130, 129 };
	struct fake_vfio f = { .dynamic = false };
	struct msix_vectors v;

	memset(f.fd, -1, sizeof(f.fd));
	assert_int_equal(msix_vectors_init(&v, 200, true, fake_set_irqs, fake_vector_fd, &f), 0);
	arm_in_order(&f, &v, order, ARRAY_SIZE(order));
	/* Growing to 71 and to 131 disabled and re-enabled; 5 and 129 fitted. */
	assert_int_equal(f.disables, 2);
	assert_int_equal(f.allocated, 131);
	assert_int_equal(msix_vectors_arm(&v, 200), -EINVAL);
	msix_vectors_destroy(&v);
}

static void a_refused_vector_stays_unarmed(void **state)
{
	struct fake_vfio f = { .dynamic = false };
	struct msix_vectors v;

	memset(f.fd, -1, sizeof(f.fd));
	/* A kernel that says it can resize but cannot: the vector is not counted as armed. */
	assert_int_equal(msix_vectors_init(&v, 100, false, fake_set_irqs, fake_vector_fd, &f), 0);
	assert_int_equal(msix_vectors_arm(&v, 0), 0);
	assert_int_equal(msix_vectors_arm(&v, 90), -EINVAL);
	assert_false(msix_vectors_is_armed(&v, 90));
	assert_true(msix_vectors_is_armed(&v, 0));
	check_armed(&f, &v);
	msix_vectors_destroy(&v);
	assert_int_equal(msix_vectors_init(&v, 0, false, fake_set_irqs, fake_vector_fd, &f), -EINVAL);
	assert_int_equal(msix_vectors_init(&v, 2049, false, fake_set_irqs, fake_vector_fd, &f), -EINVAL);
}

/* QEMU's nvme checks its Enable bit when the admin queue is set up, before any unmask. */
static void enabling_msix_enables_it_on_the_device_before_any_vector(void **state)
{
	struct fake_vfio f = { .dynamic = true };
	struct msix_vectors v;

	memset(f.fd, -1, sizeof(f.fd));
	assert_int_equal(msix_vectors_init(&v, 65, false, fake_set_irqs, fake_vector_fd, &f), 0);
	assert_int_equal(msix_vectors_enable(&v), 0);
	assert_int_equal(f.allocated, 1);
	assert_int_equal(f.fd[0], -1);
	assert_int_equal(msix_vectors_count_armed(&v), 0);
	/* Enabling again changes nothing; vector 0 then 64 are armed alone. */
	assert_int_equal(msix_vectors_enable(&v), 0);
	assert_int_equal(f.calls, 1);
	assert_int_equal(msix_vectors_arm(&v, 0), 0);
	assert_int_equal(msix_vectors_arm(&v, 64), 0);
	check_armed(&f, &v);
	assert_int_equal(f.calls, 3);
	assert_int_equal(f.disables, 0);
	msix_vectors_disarm_all(&v);
	assert_int_equal(f.disables, 1);
	msix_vectors_destroy(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nvme_layout_table_and_pba_share_bar0_with_registers),
		cmocka_unit_test(table_and_pba_in_different_bars),
		cmocka_unit_test(table_and_pba_apart_in_one_bar_trap_two_ranges),
		cmocka_unit_test(lies_in_the_capability_are_one_line_naming_the_field),
		cmocka_unit_test(beyond_64_vectors_nothing_armed_is_disarmed),
		cmocka_unit_test(noresize_devices_grow_by_reenabling_with_every_armed_vector),
		cmocka_unit_test(a_refused_vector_stays_unarmed),
		cmocka_unit_test(enabling_msix_enables_it_on_the_device_before_any_vector),
	};

	return cmocka_run_group_tests_name("vfio-msix", tests, NULL, NULL);
}
