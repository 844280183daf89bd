#include "console.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "event_loop.h"
#include "log.h"

#define ESCAPE_CHAR 0x01 /* Ctrl-a */

/*
 * How long one write may wait for a full stdout (a pipe nobody reads)
 * before the console gives up on it: a vCPU writing the UART must not
 * stop the guest for longer than this.
 */
#define CONSOLE_STALL_MS 1000

void console_init(struct console *con, void (*quit)(void *opaque), void *quit_opaque)
{
	memset(con, 0, sizeof(*con));
	con->quit = quit;
	con->quit_opaque = quit_opaque;
}

int console_attach_input(struct console *con, console_input_fn fn, void *opaque)
{
	if (con->input)
		return -EBUSY;
	con->input = fn;
	con->input_opaque = opaque;
	return 0;
}

/*
 * Whether stdout takes a write now. A reader that stopped reading stalls
 * the console: after CONSOLE_STALL_MS the output is dropped (never
 * waited for again) until the reader catches up.
 */
static bool output_ready(struct console *con)
{
	bool stalled = con && atomic_load(&con->output_stalled);
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
	int n = poll(&p, 1, stalled ? 0 : CONSOLE_STALL_MS);

	if (n > 0) {
		if (stalled && atomic_exchange(&con->output_stalled, false))
			pr_warn("console output flows again; what the guest wrote meanwhile is lost");
		return true;
	}
	/* EINTR: the stop kick, the only signal a vCPU thread takes. */
	if (n == 0 && con && !atomic_exchange(&con->output_stalled, true))
		pr_warn("console output is blocked (nobody reads it): dropping it until it drains");
	return false;
}

void console_write(struct console *con, const u8 *data, size_t len)
{
	if (con && atomic_load(&con->output_gone))
		return;
	while (len) {
		ssize_t n;

		if (!output_ready(con))
			return;
		/* One pipe buffer at most: POLLOUT promises room for that much only. */
		n = write(STDOUT_FILENO, data, MIN(len, (size_t)PIPE_BUF));
		/*
		 * stdout gone, or a write interrupted by the stop kick: drop the
		 * output so the guest keeps running and the stop path never waits.
		 * Once the reader has gone (EPIPE; SIGPIPE is ignored), for good.
		 */
		if (n < 0 && errno == EPIPE && con && !atomic_exchange(&con->output_gone, true))
			pr_warn("console output is dropped from now on: its reader has gone");
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

void console_restore(struct console *con)
{
	if (con->raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &con->saved);
	con->raw = false;
}

static void deliver(struct console *con, const u8 *data, size_t len)
{
	if (con->input && len)
		con->input(con->input_opaque, data, len);
}

static void on_stdin(void *opaque, uint32_t events)
{
	struct console *con = opaque;
	u8 buf[256];
	ssize_t n;
	size_t start = 0;

	(void)events;
	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		/* End of input: keep the guest running, stop listening. */
		event_loop_remove(con->loop, STDIN_FILENO);
		return;
	}
	if (!con->raw) {
		deliver(con, buf, (size_t)n);
		return;
	}
	for (size_t i = 0; i < (size_t)n; i++) {
		if (con->escape_pending) {
			con->escape_pending = false;
			if (buf[i] == 'x') {
				if (con->quit)
					con->quit(con->quit_opaque);
				return;
			}
			if (buf[i] != ESCAPE_CHAR)
				deliver(con, (const u8[]){ ESCAPE_CHAR }, 1);
			deliver(con, &buf[i], 1);
			start = i + 1;
		} else if (buf[i] == ESCAPE_CHAR) {
			deliver(con, buf + start, i - start);
			con->escape_pending = true;
			start = i + 1;
		}
	}
	if (!con->escape_pending && start < (size_t)n)
		deliver(con, buf + start, (size_t)n - start);
}

int console_start(struct console *con, struct event_loop *loop)
{
	int err;

	con->loop = loop;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &con->saved) == 0) {
		struct termios raw = con->saved;

		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0)
			con->raw = true;
		fprintf(stderr, "vmm: console on this terminal; Ctrl-a x quits\r\n");
	}
	err = event_loop_add(loop, STDIN_FILENO, EPOLLIN, on_stdin, con);
	/* stdin may be a regular file or /dev/null, which epoll refuses: no input then. */
	if (err == -EPERM)
		err = 0;
	return err;
}
