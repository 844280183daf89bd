/*
 * The host console's output side: when stdout's reader goes away the
 * guest's output is dropped (once warned), and the writer goes on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(output_to_a_reader_that_left_is_dropped),
	};

	return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
