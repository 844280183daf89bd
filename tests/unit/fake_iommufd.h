/*
 * A fake kernel for the iommufd backend's tests: a sysfs tree and /dev in
 * a temporary directory (setup and teardown make and remove it), and the
 * backend's system call table answered here (IOMMU_IOAS_ALLOC,
 * VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
 * IOMMU_IOAS_IOVA_RANGES with its EMSGSIZE protocol, IOMMU_IOAS_MAP and
 * UNMAP, and the sw-msi series' IOMMU_OPTION), with a capture of the
 * error lines. Included by test_iommufd.c and test_iommufd_msi_window.c.
 */
#ifndef TESTS_UNIT_FAKE_IOMMUFD_H
#define TESTS_UNIT_FAKE_IOMMUFD_H

#include <errno.h>
#include <fcntl.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#endif
