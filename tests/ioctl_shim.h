/*
 * For tests that play the kernel behind ioctl(): the VMM's code calls
 * ioctl() by name, so the test program's own definition here replaces
 * libc's. It hands every request to fake_ioctl(), which the including
 * test defines, and which passes what it does not play to real_ioctl().
 * Include it in one file of a program.
 */
#ifndef TESTS_IOCTL_SHIM_H
#define TESTS_IOCTL_SHIM_H

#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fake_ioctl(int fd, unsigned long request, void *arg);

static inline int real_ioctl(int fd, unsigned long request, void *arg)
{
	return (int)syscall(SYS_ioctl, fd, request, arg);
}

int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fake_ioctl(fd, request, arg);
}

#endif
