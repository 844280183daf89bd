/*
 * The host console's output side: when stdout's reader goes away the
 * guest's output is dropped (once warned), and the writer goes on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/console.h"
#include "core/log.h"

/* Points stdout at a new pipe; the read end is returned (cmocka prints on stdout: restore it). */
static int stdout_to_pipe(void)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(dup2(fds[1], STDOUT_FILENO), STDOUT_FILENO);
	close(fds[1]);
	return fds[0];
}

static void output_to_a_reader_that_left_is_dropped(void **state)
{
	struct console con;
	int saved = dup(STDOUT_FILENO), reader;
	bool gone_at_once, gone_after;
	char buf[4] = { 0 };
	ssize_t n;

	(void)state;
	/* What vmm's main() does first. */
	signal(SIGPIPE, SIG_IGN);
	fflush(stdout);

	console_init(&con, NULL, NULL);
	reader = stdout_to_pipe();
	console_write(&con, (const u8 *)"ok", 2);
	n = read(reader, buf, sizeof(buf));
	gone_at_once = atomic_load(&con.output_gone);
	close(reader);
	console_write(&con, (const u8 *)"guest output\n", 13);
	console_write(&con, (const u8 *)"more\n", 5);
	gone_after = atomic_load(&con.output_gone);

	dup2(saved, STDOUT_FILENO);
	close(saved);
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(n, 2);
	assert_string_equal(buf, "ok");
	assert_false(gone_at_once);
	assert_true(gone_after);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A reader that stops reading costs one bounded wait, then output is dropped until it drains. */
static void output_to_a_reader_that_stopped_is_dropped_after_a_bounded_wait(void **state)
{
	struct console con;
	int saved = dup(STDOUT_FILENO), reader;
	char fill[4096], buf[4096];
	double t0, first_wait, second_wait;
	bool stalled, stalled_after_drain;
	ssize_t drained = 0, n;

	(void)state;
	fflush(stdout);
	console_init(&con, NULL, NULL);
	reader = stdout_to_pipe();
	fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 4096);
	fcntl(reader, F_SETFL, O_NONBLOCK);
	memset(fill, 'x', sizeof(fill));
	/* Fill the pipe as a guest's boot log would. */
	fcntl(STDOUT_FILENO, F_SETFL, O_NONBLOCK);
	while (write(STDOUT_FILENO, fill, sizeof(fill)) > 0)
		;
	fcntl(STDOUT_FILENO, F_SETFL, 0);

	t0 = now_s();
	console_write(&con, (const u8 *)"lost\n", 5);
	first_wait = now_s() - t0;
	t0 = now_s();
	for (int i = 0; i < 1000; i++)
		console_write(&con, (const u8 *)"x", 1);
	second_wait = now_s() - t0;
	stalled = atomic_load(&con.output_stalled);
	while ((n = read(reader, buf, sizeof(buf))) > 0)
		drained += n;
	console_write(&con, (const u8 *)"back", 4);
	stalled_after_drain = atomic_load(&con.output_stalled);
	n = read(reader, buf, sizeof(buf));

	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(reader);
	assert_true(drained > 0);
	assert_true(first_wait >= 0.5 && first_wait < 3.0);
	assert_true(second_wait < 0.5); /* no wait per byte once stalled */
	assert_true(stalled);
	assert_false(stalled_after_drain);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "back", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(output_to_a_reader_that_left_is_dropped),
		cmocka_unit_test(output_to_a_reader_that_stopped_is_dropped_after_a_bounded_wait),
	};

	return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
