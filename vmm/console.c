#include "console.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "vm.h"

#define ESCAPE_CHAR 0x01 /* Ctrl-a */

static struct {
	bool raw;
	struct termios saved;
	console_input_fn input;
	void *input_opaque;
	bool escape_pending;
	struct vm *vm;
} console;

void console_set_input(console_input_fn fn, void *opaque)
{
	console.input = fn;
	console.input_opaque = opaque;
}

void console_write(const u8 *data, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* stdout gone: the guest keeps running, output is dropped */
		data += n;
		len -= (size_t)n;
	}
}

void console_restore(void)
{
	if (console.raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &console.saved);
	console.raw = false;
}

static void deliver(const u8 *data, size_t len)
{
	if (console.input && len)
		console.input(console.input_opaque, data, len);
}

static void on_stdin(void *opaque, uint32_t events)
{
	u8 buf[256];
	ssize_t n;
	size_t start = 0;

	(void)opaque;
	(void)events;
	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		/* End of input: keep the guest running, stop listening. */
		event_loop_remove(&console.vm->loop, STDIN_FILENO);
		return;
	}
	if (!console.raw) {
		deliver(buf, (size_t)n);
		return;
	}
	for (size_t i = 0; i < (size_t)n; i++) {
		if (console.escape_pending) {
			console.escape_pending = false;
			if (buf[i] == 'x') {
				vm_request_stop(console.vm, EXIT_POWEROFF);
				return;
			}
			if (buf[i] != ESCAPE_CHAR)
				deliver((const u8[]){ ESCAPE_CHAR }, 1);
			deliver(&buf[i], 1);
			start = i + 1;
		} else if (buf[i] == ESCAPE_CHAR) {
			deliver(buf + start, i - start);
			console.escape_pending = true;
			start = i + 1;
		}
	}
	if (!console.escape_pending && start < (size_t)n)
		deliver(buf + start, (size_t)n - start);
}

int console_init(struct vm *vm)
{
	int err;

	console.vm = vm;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &console.saved) == 0) {
		struct termios raw = console.saved;

		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0)
			console.raw = true;
		fprintf(stderr, "vmm: console on this terminal; Ctrl-a x quits\r\n");
	}
	err = event_loop_add(&vm->loop, STDIN_FILENO, EPOLLIN, on_stdin, NULL);
	/* stdin may be a regular file or /dev/null, which epoll refuses: no input then. */
	if (err == -EPERM)
		err = 0;
	return err;
}
