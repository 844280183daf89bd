/*
 * The seccomp sandbox: each scenario runs in a forked child that loads a
 * role's filter and makes one kind of call, and the parent reads how the
 * child ended and what it wrote on stderr. After loading, children do
 * only the calls under test and leave with a bare exit_group: no stdio,
 * no exit handlers, no leak check, and not even _exit(), before which
 * ASan instruments a sigaltstack query that the VMM itself never makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "devices/msix.h"
#include "devices/serial_8250.h"
#include "sandbox/sandbox.h"
#include "core/event_loop.h"
#include "core/irq_routing.h"
#include "core/vm.h"

/* Exit codes of a child that did not get as far as the call under test. */
#define CHILD_PREPARE_FAILED 90
#define CHILD_ENTER_FAILED 91
#define CHILD_CALL_FAILED 92

enum call {
	CALL_COMMON,       /* what every role may do */
	CALL_ROLE,         /* what only the role under test may do */
	CALL_OPENAT,
	CALL_OPENAT_TWICE,
	CALL_EXECVE,
	CALL_SOCKET,
	CALL_FORK,
	CALL_MMAP_EXEC,
	CALL_CREATE_VM,    /* ioctl KVM_CREATE_VM */
	CALL_CREATE_VCPU,  /* ioctl KVM_CREATE_VCPU */
	CALL_KVM_RUN,      /* vCPU only */
	CALL_EPOLL_PWAIT,  /* main only */
	CALL_GETRANDOM,    /* main only */
	CALL_TGKILL_OTHER, /* a signal to another process */
	CALL_SECCOMP_STATUS, /* returns the Seccomp: field of /proc/self/status */
	CALL_DEVICES,      /* the VMM's own device code, as the role runs it */
};

struct scenario {
	enum sandbox_role role;
	enum sandbox_mode mode;
	enum call call;
};

struct outcome {
	int status;      /* as waitpid reports it */
	char err[8192];  /* the child's stderr */
};

/* Set up before the filter is loaded, for the calls that need an fd. */
static int pipe_fds[2] = { -1, -1 };
static int epoll_fd = -1;
static volatile sig_atomic_t kicked;

/*
 * Devices built before the filter, as set-up builds them. KVM is absent
 * (vm_fd -1): every ioctl passes the filter and fails with EBADF, which
 * the device code tolerates (and reports, through stdio, also under test).
 */
static struct {
	struct vm vm;
	struct msix msix;
	struct serial_8250 *uart;
	struct event_loop loop;
	int wake_fd;
} dev;

static void on_kick(int sig)
{
	(void)sig;
	kicked = 1;
}

static void child_exit(int code)
{
	syscall(SYS_exit_group, code);
}

static const char *role_name(enum sandbox_role role)
{
	return role == SANDBOX_ROLE_VCPU ? "vcpu0" : "main";
}

/* --- calls, in the child ------------------------------------------------ */

static int seccomp_status(void)
{
	char buf[4096], *field;
	ssize_t n;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	field = strstr(buf, "\nSeccomp:");
	return field ? atoi(field + strlen("\nSeccomp:")) : -1;
}

static int common_calls(void)
{
	struct timespec ts;
	void *page;
	int efd;

	if (write(pipe_fds[1], "x", 1) != 1)
		return 1;
	if (getpid() <= 0 || syscall(SYS_gettid) <= 0)
		return 2;
	/* Straight to the kernel: the vDSO would not test the filter. */
	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts))
		return 3;
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || mprotect(page, 4096, PROT_READ) || munmap(page, 4096))
		return 4;
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0 || eventfd_write(efd, 1))
		return 5;
	return 0;
}

static int role_calls(enum sandbox_role role)
{
	if (role == SANDBOX_ROLE_VCPU) {
		struct pollfd p = { .fd = pipe_fds[0], .events = POLLIN };

		/* Allowed: the kernel answers (not a KVM fd), the filter does not. */
		if (ioctl(pipe_fds[0], KVM_RUN, 0) != -1 || errno != ENOTTY)
			return 10;
		/* As an MSI-X PBA read polls a vector's eventfd. */
		if (write(pipe_fds[1], "x", 1) != 1 || poll(&p, 1, 0) != 1)
			return 11;
		if (pread(pipe_fds[0], &p, 1, 0) != -1 || errno != ESPIPE)
			return 12;
	} else {
		struct epoll_event ev;
		struct termios *none = NULL;
		char c;

		if (epoll_wait(epoll_fd, &ev, 1, 0) != 0)
			return 20;
		if (write(pipe_fds[1], "x", 1) != 1 || read(pipe_fds[0], &c, 1) != 1)
			return 21;
		if (getrandom(&c, 1, 0) != 1)
			return 22;
		/* stdin is /dev/null here: the kernel refuses, the filter does not. */
		if (ioctl(STDIN_FILENO, TCSETSF, none) != -1 || errno != ENOTTY)
			return 23;
		/* The vCPU kick, to this very thread. */
		if (pthread_kill(pthread_self(), SIGUSR1) || !kicked)
			return 24;
		if (close(pipe_fds[0]))
			return 25;
	}
	return 0;
}

static void uart_irq(void *opaque, int level)
{
	kvm_irq_line(opaque, 4, level);
}

static void on_wake(void *opaque, uint32_t events)
{
	eventfd_t count;

	(void)opaque;
	(void)events;
	eventfd_read(dev.wake_fd, &count);
	event_loop_stop(&dev.loop);
}

static int devices_setup(void)
{
	u8 ier_rdi = 0x01;

	vm_init(&dev.vm);
	if (msix_init(&dev.msix, &dev.vm, 4, "test") || event_loop_init(&dev.loop))
		return -1;
	dev.uart = serial_8250_create(uart_irq, &dev.vm, NULL);
	dev.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!dev.uart || dev.wake_fd < 0 ||
	    event_loop_add(&dev.loop, dev.wake_fd, EPOLLIN, on_wake, NULL))
		return -1;
	/* The guest driver enabled the receive interrupt during boot. */
	serial_8250_io(dev.uart, 1, &ier_rdi, 1, true);
	return 0;
}

static void table_write(u64 offset, u32 value)
{
	msix_table_access(&dev.msix, offset, (u8 *)&value, 4, true);
}

/* What a guest makes a vCPU thread run: MSI-X programming, the UART. */
static int vcpu_device_paths(void)
{
	u8 byte, pba[8];

	table_write(0, 0xfee00000);  /* vector 0: address, data */
	table_write(8, 0x41);
	msix_set_control(&dev.msix, true, false);
	table_write(12, 0);          /* unmask: eventfd, MSI route, irqfd */
	msix_pba_access(&dev.msix, 0, pba, sizeof(pba), false); /* polls */
	table_write(12, 1);          /* mask again */
	byte = 0x03;                 /* IER: receive and transmit interrupts */
	serial_8250_io(dev.uart, 1, &byte, 1, true);
	byte = '\n';                 /* a byte of console output */
	serial_8250_io(dev.uart, 0, &byte, 1, true);
	serial_8250_io(dev.uart, 2, &byte, 1, false);
	return 0;
}

/* What the main thread runs: one turn of the loop, console input, teardown. */
static int main_device_paths(void)
{
	if (eventfd_write(dev.wake_fd, 1) || event_loop_run(&dev.loop))
		return 30;
	serial_8250_receive(dev.uart, (const u8 *)"hi", 2); /* raises the line */
	msix_signal(&dev.msix, 1); /* a back-end's first signal makes the eventfd */
	event_loop_remove(&dev.loop, dev.wake_fd);
	close(dev.wake_fd);
	msix_destroy(&dev.msix);
	serial_8250_destroy(dev.uart);
	irq_routing_destroy(&dev.vm.routing);
	event_loop_destroy(&dev.loop);
	return 0;
}

static int make_call(enum sandbox_role role, enum call call)
{
	static char *const argv[] = { "true", NULL };
	char c;

	switch (call) {
	case CALL_COMMON:
		return common_calls();
	case CALL_ROLE:
		return role_calls(role);
	case CALL_OPENAT:
		return syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY) >= 0 ? 0 : CHILD_CALL_FAILED;
	case CALL_OPENAT_TWICE:
		if (syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY) < 0)
			return CHILD_CALL_FAILED;
		return syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY) >= 0 ? 0 : CHILD_CALL_FAILED;
	case CALL_EXECVE:
		syscall(SYS_execve, "/bin/true", argv, argv + 1);
		return CHILD_CALL_FAILED;
	case CALL_SOCKET:
		return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : CHILD_CALL_FAILED;
	case CALL_FORK: {
		pid_t pid = fork();

		if (pid == 0)
			child_exit(0);
		return pid > 0 ? 0 : CHILD_CALL_FAILED;
	}
	case CALL_MMAP_EXEC:
		return mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
		       MAP_FAILED ? CHILD_CALL_FAILED : 0;
	case CALL_CREATE_VM:
		ioctl(pipe_fds[0], KVM_CREATE_VM, 0);
		return CHILD_CALL_FAILED;
	case CALL_CREATE_VCPU:
		ioctl(pipe_fds[0], KVM_CREATE_VCPU, 0);
		return CHILD_CALL_FAILED;
	case CALL_KVM_RUN:
		ioctl(pipe_fds[0], KVM_RUN, 0);
		return CHILD_CALL_FAILED;
	case CALL_EPOLL_PWAIT:
		syscall(SYS_epoll_pwait, epoll_fd, &c, 1, 0, NULL, 8);
		return CHILD_CALL_FAILED;
	case CALL_GETRANDOM:
		syscall(SYS_getrandom, &c, 1, 0);
		return CHILD_CALL_FAILED;
	case CALL_TGKILL_OTHER:
		syscall(SYS_tgkill, 1, 1, 0);
		return CHILD_CALL_FAILED;
	case CALL_SECCOMP_STATUS:
		return seccomp_status();
	case CALL_DEVICES:
		return role == SANDBOX_ROLE_VCPU ? vcpu_device_paths() : main_device_paths();
	}
	return CHILD_CALL_FAILED;
}

/* What a VMM thread does before its filter: the fds and handlers it uses after. */
static int child_setup(void)
{
	struct sigaction sa = { .sa_handler = on_kick };
	int null = open("/dev/null", O_RDWR);

	/* stdin and stdout (the guest console) on /dev/null: cmocka owns stdout. */
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
	    pipe(pipe_fds) || devices_setup())
		return -1;
	/* A child stuck in a call ends (SIGALRM) instead of hanging the suite. */
	alarm(20);
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&sa.sa_mask);
	return epoll_fd < 0 || sigaction(SIGUSR1, &sa, NULL) ? -1 : 0;
}

static int run_scenario(void *arg)
{
	const struct scenario *s = arg;
	enum sandbox_mode mode = s->mode;

	if (child_setup() || sandbox_prepare(&mode, true) || mode != s->mode)
		return CHILD_PREPARE_FAILED;
	if (sandbox_enter(s->role, mode, role_name(s->role)))
		return CHILD_ENTER_FAILED;
	return make_call(s->role, s->call);
}

/* --- threads: a vCPU-like thread, then the main thread ------------------ */

struct thread_scenario {
	enum sandbox_mode mode;
	enum call vcpu_call;
	enum call main_call;
};

static void *vcpu_thread(void *arg)
{
	const struct thread_scenario *s = arg;
	long ret;

	if (sandbox_enter(SANDBOX_ROLE_VCPU, s->mode, "vcpu1"))
		return (void *)(long)CHILD_ENTER_FAILED;
	ret = make_call(SANDBOX_ROLE_VCPU, s->vcpu_call);
	/* A plain return: glibc's thread exit runs under the vCPU filter. */
	return (void *)ret;
}

static int run_threads(void *arg)
{
	const struct thread_scenario *s = arg;
	enum sandbox_mode mode = s->mode;
	pthread_t thread;
	void *ret;

	if (child_setup() || sandbox_prepare(&mode, true) || mode != s->mode)
		return CHILD_PREPARE_FAILED;
	if (pthread_create(&thread, NULL, vcpu_thread, (void *)s))
		return CHILD_PREPARE_FAILED;
	if (pthread_join(thread, &ret))
		return CHILD_PREPARE_FAILED;
	if (ret)
		return (int)(long)ret;
	if (sandbox_enter(SANDBOX_ROLE_MAIN, mode, "main"))
		return CHILD_ENTER_FAILED;
	return make_call(SANDBOX_ROLE_MAIN, s->main_call);
}

/* --- the parent's side ---------------------------------------------------- */

static void run_child(int (*fn)(void *), void *arg, struct outcome *out)
{
	size_t used = 0;
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDERR_FILENO) < 0)
			child_exit(CHILD_PREPARE_FAILED);
		child_exit(fn(arg));
	}
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], out->err + used, sizeof(out->err) - 1 - used);

		if (n <= 0)
			break;
		used += (size_t)n;
	}
	out->err[used] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &out->status, 0), pid);
}

static void run(enum sandbox_role role, enum sandbox_mode mode, enum call call,
		struct outcome *out)
{
	struct scenario s = { role, mode, call };

	run_child(run_scenario, &s, out);
}

static void assert_exit(const struct outcome *out, int code)
{
	if (!WIFEXITED(out->status) || WEXITSTATUS(out->status) != code)
		fail_msg("child: wait status 0x%x, expected exit %d; its stderr:\n%s", out->status,
			 code, out->err);
}

static void assert_err_has(const struct outcome *out, const char *text)
{
	if (!strstr(out->err, text))
		fail_msg("child stderr lacks \"%s\":\n%s", text, out->err);
}

static unsigned int count(const char *haystack, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* KILL: the child dies with SANDBOX_EXIT_STATUS and one line naming the call. */
static void assert_killed(enum sandbox_role role, enum call call, const char *name, long nr)
{
	struct outcome out;
	char want[160];

	run(role, SANDBOX_KILL, call, &out);
	assert_exit(&out, SANDBOX_EXIT_STATUS);
	snprintf(want, sizeof(want),
		 "vmm: sandbox: thread %s made a forbidden system call: %s (%ld); exiting",
		 role_name(role), name, nr);
	assert_err_has(&out, want);
	assert_int_equal(count(out.err, "vmm: sandbox:"), 1);
}

/* --- tests ------------------------------------------------------------------ */

static void parse_mode_accepts_the_three_modes(void **state)
{
	enum sandbox_mode mode = SANDBOX_OFF;

	(void)state;
	assert_int_equal(sandbox_parse_mode("kill", &mode), 0);
	assert_int_equal(mode, SANDBOX_KILL);
	assert_int_equal(sandbox_parse_mode("log", &mode), 0);
	assert_int_equal(mode, SANDBOX_LOG);
	assert_int_equal(sandbox_parse_mode("off", &mode), 0);
	assert_int_equal(mode, SANDBOX_OFF);
}

static void parse_mode_refuses_anything_else(void **state)
{
	static const char *const bad[] = { "", "KILL", "kil", "kill ", " log", "on", "1", "trap" };
	enum sandbox_mode mode = SANDBOX_LOG;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sandbox_parse_mode(bad[i], &mode), -EINVAL);
	assert_int_equal(sandbox_parse_mode(NULL, &mode), -EINVAL);
	assert_int_equal(mode, SANDBOX_LOG); /* untouched */
}

static void without_kernel_support_only_an_explicit_kill_fails(void **state)
{
	enum sandbox_mode mode;

	(void)state;
	assert_int_equal(sandbox_effective_mode(SANDBOX_KILL, true, false, &mode), -ENOSYS);
	assert_int_equal(sandbox_effective_mode(SANDBOX_KILL, false, false, &mode), 0);
	assert_int_equal(mode, SANDBOX_OFF);
	assert_int_equal(sandbox_effective_mode(SANDBOX_LOG, true, false, &mode), 0);
	assert_int_equal(mode, SANDBOX_OFF);
	assert_int_equal(sandbox_effective_mode(SANDBOX_KILL, true, true, &mode), 0);
	assert_int_equal(mode, SANDBOX_KILL);
	assert_int_equal(sandbox_effective_mode(SANDBOX_OFF, true, false, &mode), 0);
	assert_int_equal(mode, SANDBOX_OFF);
}

static void off_loads_nothing(void **state)
{
	struct outcome out;

	(void)state;
	run(SANDBOX_ROLE_MAIN, SANDBOX_OFF, CALL_SECCOMP_STATUS, &out);
	assert_exit(&out, 0); /* Seccomp: 0 */
	assert_string_equal(out.err, "");
}

static void kill_allows_what_every_role_needs(void **state)
{
	struct outcome out;

	(void)state;
	run(SANDBOX_ROLE_VCPU, SANDBOX_KILL, CALL_COMMON, &out);
	assert_exit(&out, 0);
	run(SANDBOX_ROLE_MAIN, SANDBOX_KILL, CALL_COMMON, &out);
	assert_exit(&out, 0);
}

static void kill_allows_each_role_its_own_calls(void **state)
{
	struct outcome out;

	(void)state;
	run(SANDBOX_ROLE_VCPU, SANDBOX_KILL, CALL_ROLE, &out);
	assert_exit(&out, 0);
	run(SANDBOX_ROLE_MAIN, SANDBOX_KILL, CALL_ROLE, &out);
	assert_exit(&out, 0);
}

static void kill_runs_the_device_code_of_each_role(void **state)
{
	struct outcome out;

	(void)state;
	run(SANDBOX_ROLE_VCPU, SANDBOX_KILL, CALL_DEVICES, &out);
	assert_exit(&out, 0);
	run(SANDBOX_ROLE_MAIN, SANDBOX_KILL, CALL_DEVICES, &out);
	assert_exit(&out, 0);
	/* The absent KVM was reported: stdio works under both filters. */
	assert_err_has(&out, "KVM_IRQ_LINE");
}

static void kill_ends_a_vcpu_on_set_up_calls(void **state)
{
	(void)state;
	assert_killed(SANDBOX_ROLE_VCPU, CALL_OPENAT, "openat", SYS_openat);
	assert_killed(SANDBOX_ROLE_VCPU, CALL_EXECVE, "execve", SYS_execve);
	assert_killed(SANDBOX_ROLE_VCPU, CALL_SOCKET, "socket", SYS_socket);
	assert_killed(SANDBOX_ROLE_VCPU, CALL_FORK, "clone", SYS_clone);
	assert_killed(SANDBOX_ROLE_VCPU, CALL_CREATE_VCPU, "ioctl", SYS_ioctl);
	assert_killed(SANDBOX_ROLE_VCPU, CALL_MMAP_EXEC, "mmap", SYS_mmap);
}

static void kill_ends_the_main_thread_on_set_up_calls(void **state)
{
	(void)state;
	assert_killed(SANDBOX_ROLE_MAIN, CALL_OPENAT, "openat", SYS_openat);
	assert_killed(SANDBOX_ROLE_MAIN, CALL_EXECVE, "execve", SYS_execve);
	assert_killed(SANDBOX_ROLE_MAIN, CALL_SOCKET, "socket", SYS_socket);
	assert_killed(SANDBOX_ROLE_MAIN, CALL_CREATE_VM, "ioctl", SYS_ioctl);
	assert_killed(SANDBOX_ROLE_MAIN, CALL_TGKILL_OTHER, "tgkill", SYS_tgkill);
}

static void kill_keeps_each_role_to_its_own_calls(void **state)
{
	(void)state;
	assert_killed(SANDBOX_ROLE_MAIN, CALL_KVM_RUN, "ioctl", SYS_ioctl);
	assert_killed(SANDBOX_ROLE_VCPU, CALL_EPOLL_PWAIT, "epoll_pwait", SYS_epoll_pwait);
	assert_killed(SANDBOX_ROLE_VCPU, CALL_GETRANDOM, "getrandom", SYS_getrandom);
}

/*
 * ASan's runtime queries and removes a thread's alternate signal stack
 * and madvises its own shadow memory when a thread exits; the VMM
 * without sanitizers does neither (checked with the non-sanitized build:
 * a thread entering the vCPU filter and returning reports nothing).
 */
static bool reported_by_the_sanitizer_only(const char *line)
{
#ifdef __SANITIZE_ADDRESS__
	return strstr(line, "would be denied: sigaltstack") ||
	       strstr(line, "would be denied: madvise");
#else
	(void)line;
	return false;
#endif
}

/*
 * A vCPU-like thread enters its filter, works, and returns: glibc's
 * thread exit (and the main thread's join) must need nothing more. LOG
 * mode, so that every extra call is listed rather than fatal.
 */
static void a_vcpu_thread_runs_and_exits_within_its_filter(void **state)
{
	struct thread_scenario s = { SANDBOX_LOG, CALL_COMMON, CALL_ROLE };
	struct outcome out;
	char *line, *save = NULL;

	(void)state;
	run_child(run_threads, &s, &out);
	assert_exit(&out, 0);
	for (line = strtok_r(out.err, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!reported_by_the_sanitizer_only(line))
			fail_msg("unexpected report: %s", line);
}

static void kill_names_the_thread_and_ends_the_process(void **state)
{
	struct thread_scenario s = { SANDBOX_KILL, CALL_OPENAT, CALL_COMMON };
	struct outcome out;
	char want[128];

	(void)state;
	run_child(run_threads, &s, &out);
	assert_exit(&out, SANDBOX_EXIT_STATUS);
	snprintf(want, sizeof(want), "thread vcpu1 made a forbidden system call: openat (%d)",
		 SYS_openat);
	assert_err_has(&out, want);
}

static void log_lets_the_call_run_and_names_it_once(void **state)
{
	struct outcome out;

	(void)state;
	run(SANDBOX_ROLE_MAIN, SANDBOX_LOG, CALL_OPENAT_TWICE, &out);
	assert_exit(&out, 0); /* both calls succeeded */
	assert_err_has(&out, "vmm: sandbox: thread main would be denied: openat");
	assert_int_equal(count(out.err, "would be denied: openat"), 1);

	run(SANDBOX_ROLE_VCPU, SANDBOX_LOG, CALL_SOCKET, &out);
	assert_exit(&out, 0);
	assert_err_has(&out, "vmm: sandbox: thread vcpu0 would be denied: socket");
}

static void log_loads_a_filter_and_is_quiet_on_allowed_calls(void **state)
{
	struct outcome out;

	(void)state;
	run(SANDBOX_ROLE_VCPU, SANDBOX_LOG, CALL_COMMON, &out);
	assert_exit(&out, 0);
	assert_string_equal(out.err, "");
	/* Reading /proc/self/status is itself reported (openat, and read for a vCPU). */
	run(SANDBOX_ROLE_VCPU, SANDBOX_LOG, CALL_SECCOMP_STATUS, &out);
	assert_exit(&out, 2); /* Seccomp: 2, filter mode */
	assert_err_has(&out, "thread vcpu0 would be denied: openat");
}

static void log_reports_per_thread(void **state)
{
	struct thread_scenario s = { SANDBOX_LOG, CALL_OPENAT, CALL_OPENAT };
	struct outcome out;

	(void)state;
	run_child(run_threads, &s, &out);
	assert_exit(&out, 0);
	assert_err_has(&out, "thread vcpu1 would be denied: openat");
	assert_err_has(&out, "thread main would be denied: openat");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_mode_accepts_the_three_modes),
		cmocka_unit_test(parse_mode_refuses_anything_else),
		cmocka_unit_test(without_kernel_support_only_an_explicit_kill_fails),
		cmocka_unit_test(off_loads_nothing),
		cmocka_unit_test(kill_allows_what_every_role_needs),
		cmocka_unit_test(kill_allows_each_role_its_own_calls),
		cmocka_unit_test(kill_runs_the_device_code_of_each_role),
		cmocka_unit_test(kill_ends_a_vcpu_on_set_up_calls),
		cmocka_unit_test(kill_ends_the_main_thread_on_set_up_calls),
		cmocka_unit_test(kill_keeps_each_role_to_its_own_calls),
		cmocka_unit_test(a_vcpu_thread_runs_and_exits_within_its_filter),
		cmocka_unit_test(kill_names_the_thread_and_ends_the_process),
		cmocka_unit_test(log_lets_the_call_run_and_names_it_once),
		cmocka_unit_test(log_loads_a_filter_and_is_quiet_on_allowed_calls),
		cmocka_unit_test(log_reports_per_thread),
	};

	return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL);
}
