/*
 * The iommufd backend against a fake kernel: a sysfs tree and /dev in a
 * temporary directory, and the backend's system call table answered here
 * (IOMMU_IOAS_ALLOC, VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
 * IOMMU_IOAS_IOVA_RANGES with its EMSGSIZE protocol, IOMMU_IOAS_MAP and
 * UNMAP). What the planner makes of the IOVA ranges is checked through the
 * same path `vmm run` takes: host holes from sysfs and --reserved, every
 * device attached, the ranges turned into holes, the board's plan.
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
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <unistd.h>

#include "plan_helpers.h"
#include "vfio/host_collect.h"
#include "vfio/iommufd.h"

#define IOMMU_FD 100
#define CDEV_FD_BASE 200 /* + N for /dev/vfio/devices/vfioN */
#define IOAS_ID 3

struct fake {
	char root[64];                  /* root/sys, root/dev */
	char sys[96], dev[96];
	struct iommu_iova_range ranges[64];
	unsigned int nranges;
	int bind_errno[8];              /* per cdev number */
	bool bound[8], attached[8];
	u32 attached_to[8];
	unsigned int range_queries;
	unsigned int attaches_before_query; /* attaches seen when the ranges were asked */
	unsigned int nattached;
	char opened[512];               /* every path opened, ';'-separated */
	struct iommu_ioas_map maps[8];
	unsigned int nmaps;
	struct iommu_ioas_unmap unmaps[8];
	unsigned int nunmaps;
	unsigned int dups;
	int option_errno;               /* IOMMU_OPTION: ENOTTY-like kernel without the series */
	int set_errno;                  /* IOMMU_OPTION SET answers this */
	char options[512];              /* every IOMMU_OPTION, ';'-separated */
};

static struct fake F;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static int fake_open(void *opaque, const char *path, int flags)
{
	struct fake *f = opaque;
	char want[160];
	unsigned int n;

	assert_true(flags & O_CLOEXEC);
	snprintf(f->opened + strlen(f->opened), sizeof(f->opened) - strlen(f->opened), "%s;",
		 path + strlen(f->root));
	snprintf(want, sizeof(want), "%s/iommu", f->dev);
	if (!strcmp(path, want))
		return access(path, F_OK) ? (errno = ENOENT, -1) : IOMMU_FD;
	snprintf(want, sizeof(want), "%s/vfio/devices/vfio", f->dev);
	if (!strncmp(path, want, strlen(want)) && sscanf(path + strlen(want), "%u", &n) == 1 &&
	    n < 8)
		return CDEV_FD_BASE + (int)n;
	errno = ENOENT;
	return -1;
}

static int iova_ranges_reply(struct fake *f, struct iommu_ioas_iova_ranges *q)
{
	assert_int_equal(q->size, sizeof(*q));
	assert_int_equal(q->ioas_id, IOAS_ID);
	f->range_queries++;
	f->attaches_before_query = f->nattached;
	if (q->num_iovas < f->nranges) {
		q->num_iovas = f->nranges;
		errno = EMSGSIZE;
		return -1;
	}
	if (f->nranges)
		memcpy((void *)(unsigned long)q->allowed_iovas, f->ranges,
		       f->nranges * sizeof(f->ranges[0]));
	q->num_iovas = f->nranges;
	q->out_iova_alignment = 4096;
	return 0;
}

/* The sw-msi series: per device, before attach only; START (2) and SIZE (3, MiB). */
static int option_reply(struct fake *f, struct iommu_option *o)
{
	unsigned int n = o->object_id - 10;
	size_t used = strlen(f->options);

	assert_int_equal(o->size, sizeof(*o));
	assert_true(n < 8 && f->bound[n]);
	snprintf(f->options + used, sizeof(f->options) - used, "%s %s dev%u 0x%llx;",
		 o->op == IOMMU_OPTION_OP_GET ? "GET" : "SET",
		 o->option_id == 2 ? "START" : o->option_id == 3 ? "SIZE" : "?", o->object_id,
		 (unsigned long long)o->val64);
	if (f->option_errno) {
		errno = f->option_errno;
		return -1;
	}
	if (f->attached[n]) {
		errno = EBUSY;
		return -1;
	}
	if (o->op == IOMMU_OPTION_OP_SET && f->set_errno) {
		errno = f->set_errno;
		return -1;
	}
	if (o->op == IOMMU_OPTION_OP_GET)
		o->val64 = o->option_id == 2 ? 0x8000000 : 0;
	return 0;
}

static int fake_ioctl(void *opaque, int fd, unsigned long request, void *arg)
{
	struct fake *f = opaque;

	if (fd == IOMMU_FD) {
		switch (request) {
		case IOMMU_IOAS_ALLOC: {
			struct iommu_ioas_alloc *a = arg;

			assert_int_equal(a->size, sizeof(*a));
			assert_int_equal(a->flags, 0);
			a->out_ioas_id = IOAS_ID;
			return 0;
		}
		case IOMMU_IOAS_IOVA_RANGES:
			return iova_ranges_reply(f, arg);
		case IOMMU_IOAS_MAP:
			assert_true(f->nmaps < 8);
			f->maps[f->nmaps++] = *(struct iommu_ioas_map *)arg;
			return 0;
		case IOMMU_IOAS_UNMAP:
			assert_true(f->nunmaps < 8);
			f->unmaps[f->nunmaps++] = *(struct iommu_ioas_unmap *)arg;
			return 0;
		case IOMMU_OPTION:
			return option_reply(f, arg);
		}
	} else if (fd >= CDEV_FD_BASE && fd < CDEV_FD_BASE + 8) {
		unsigned int n = (unsigned int)(fd - CDEV_FD_BASE);

		switch (request) {
		case VFIO_DEVICE_BIND_IOMMUFD: {
			struct vfio_device_bind_iommufd *b = arg;

			assert_int_equal(b->argsz, sizeof(*b));
			assert_int_equal(b->flags, 0);
			assert_int_equal(b->iommufd, IOMMU_FD);
			if (f->bind_errno[n]) {
				errno = f->bind_errno[n];
				return -1;
			}
			f->bound[n] = true;
			b->out_devid = 10 + n;
			return 0;
		}
		case VFIO_DEVICE_ATTACH_IOMMUFD_PT: {
			struct vfio_device_attach_iommufd_pt *a = arg;

			assert_int_equal(a->argsz, sizeof(*a));
			assert_true(f->bound[n]);
			f->attached[n] = true;
			f->attached_to[n] = a->pt_id;
			f->nattached++;
			return 0;
		}
		}
	}
	errno = ENOTTY;
	return -1;
}

/* Descriptor numbers only: nothing real is opened, so nothing needs closing. */
static int fake_dup(void *opaque, int fd)
{
	struct fake *f = opaque;

	f->dups++;
	return fd + 1000;
}

static int fake_close(void *opaque, int fd)
{
	(void)opaque;
	(void)fd;
	return 0;
}

static const struct vfio_iommufd_sys fake_sys = {
	.open = fake_open, .ioctl = fake_ioctl, .dup = fake_dup, .close = fake_close, .opaque = &F,
};

/* A PCI function in the fake sysfs: its group (with reserved_regions), driver, cdev. */
static void add_device(const char *bdf, int group, const char *driver, int cdev)
{
	sh("mkdir -p %s/bus/pci/devices/%s %s/kernel/iommu_groups/%d/devices %s/bus/pci/drivers/%s",
	   F.sys, bdf, F.sys, group, F.sys, driver[0] ? driver : "none");
	sh("ln -sfn ../../../kernel/iommu_groups/%d %s/bus/pci/devices/%s/iommu_group", group, F.sys,
	   bdf);
	sh("touch %s/kernel/iommu_groups/%d/reserved_regions", F.sys, group);
	sh("ln -sfn ../../../../bus/pci/devices/%s %s/kernel/iommu_groups/%d/devices/%s", bdf, F.sys,
	   group, bdf);
	if (driver[0])
		sh("ln -sfn ../../drivers/%s %s/bus/pci/devices/%s/driver", driver, F.sys, bdf);
	if (cdev >= 0)
		sh("mkdir -p %s/bus/pci/devices/%s/vfio-dev/vfio%d", F.sys, bdf, cdev);
}

static void set_group_regions(int group, const char *text)
{
	char path[160];
	FILE *file;

	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/reserved_regions", F.sys, group);
	file = fopen(path, "w");
	assert_non_null(file);
	fputs(text, file);
	fclose(file);
}

static void set_ranges(const struct iommu_iova_range *r, unsigned int n)
{
	if (n)
		memcpy(F.ranges, r, n * sizeof(*r));
	F.nranges = n;
}

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	snprintf(F.root, sizeof(F.root), "/tmp/vmm-iommufd-XXXXXX");
	assert_non_null(mkdtemp(F.root));
	snprintf(F.sys, sizeof(F.sys), "%s/sys", F.root);
	snprintf(F.dev, sizeof(F.dev), "%s/dev", F.root);
	sh("mkdir -p %s %s/vfio/devices && touch %s/iommu", F.sys, F.dev, F.dev);
	for (int i = 0; i < 16; i++)
		sh("touch %s/vfio/devices/vfio%d", F.dev, i);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", F.root);
	return 0;
}

/* stderr into a buffer, to check the one error line. */
static int saved_stderr = -1;
static char captured[2048];

static void capture_begin(void)
{
	FILE *tmp = tmpfile();

	assert_non_null(tmp);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fileno(tmp), STDERR_FILENO);
	fclose(tmp); /* the descriptor now lives on as fd 2 */
}

static const char *capture_end(void)
{
	ssize_t n;

	fflush(stderr);
	lseek(STDERR_FILENO, 0, SEEK_SET);
	n = read(STDERR_FILENO, captured, sizeof(captured) - 1);
	captured[n > 0 ? n : 0] = '\0';
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	return captured;
}

static unsigned int lines(const char *text)
{
	unsigned int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

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

static void an_address_on_a_host_that_cannot_move_it_is_one_error(void **state)
{
	const char *bdfs[] = { "0000:00:01.0" };
	struct host_holes h;
	struct vfio_iommu *iommu;
	const char *err;

	(void)state;
	smmu_device("0000:00:01.0", 0, 0, 0x8000000);
	F.option_errno = EOPNOTSUPP;
	capture_begin();
	assert_int_equal(collect_msi(bdfs, 1, VFIO_MSI_AT, &h, &iommu), -EOPNOTSUPP);
	err = capture_end();
	assert_int_equal(lines(err), 1);
	assert_non_null(strstr(err, "cannot move the MSI window"));
	assert_false(F.attached[0]);
	iommu->ops->destroy(iommu);
}

static void eaddrinuse_names_the_region_in_the_way(void **state)
{
	const char *bdfs[] = { "0000:00:01.0" };
	struct host_holes h;
	struct vfio_iommu *iommu;
	const char *err;

	(void)state;
	smmu_device("0000:00:01.0", 0, 0, 0x8000000);
	set_group_regions(0, "0x0000000008000000 0x00000000080fffff msi\n"
			     "0x0000000030000000 0x00000000301fffff reserved\n");
	F.set_errno = EADDRINUSE;
	capture_begin();
	assert_int_equal(collect_msi(bdfs, 1, VFIO_MSI_AUTO, &h, &iommu), -EADDRINUSE);
	err = capture_end();
	assert_int_equal(lines(err), 1);
	assert_non_null(strstr(err, "MSI IOVA window 0x30000000-0x300fffff for 0000:00:01.0 overlaps host reserved (iommu group 0) 0x30000000-0x301fffff"));
	assert_false(F.attached[0]);
	iommu->ops->destroy(iommu);
}

static void ebusy_says_the_vmm_set_it_too_late(void **state)
{
	const char *bdfs[] = { "0000:00:01.0" };
	struct host_holes h;
	struct vfio_iommu *iommu;
	const char *err;

	(void)state;
	smmu_device("0000:00:01.0", 0, 0, 0x8000000);
	F.set_errno = EBUSY;
	capture_begin();
	assert_int_equal(collect_msi(bdfs, 1, VFIO_MSI_AUTO, &h, &iommu), -EBUSY);
	err = capture_end();
	assert_int_equal(lines(err), 1);
	assert_non_null(strstr(err, "a bug in the VMM"));
	iommu->ops->destroy(iommu);
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
		cmocka_unit_test_setup_teardown(a_kernel_without_the_option_keeps_the_host_window, setup, teardown),
		cmocka_unit_test_setup_teardown(the_window_is_set_start_then_size_on_every_device_before_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(host_mode_never_moves_it, setup, teardown),
		cmocka_unit_test_setup_teardown(an_address_on_a_host_that_cannot_move_it_is_one_error, setup, teardown),
		cmocka_unit_test_setup_teardown(eaddrinuse_names_the_region_in_the_way, setup, teardown),
		cmocka_unit_test_setup_teardown(ebusy_says_the_vmm_set_it_too_late, setup, teardown),
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
