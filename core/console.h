/*
 * The host side of the guest console: stdin/stdout. A terminal is put in
 * raw mode (restored on exit); pipes and files are used as they are, so CI
 * logs get the console verbatim. From a terminal, Ctrl-a x calls the quit
 * callback. Exactly one input sink (the console device the composition
 * chose: the UART or virtio-console) receives what is typed.
 */
#ifndef CORE_CONSOLE_H
#define CORE_CONSOLE_H

#include <stdatomic.h>
#include <termios.h>

#include "util.h"

struct event_loop;

typedef void (*console_input_fn)(void *opaque, const u8 *data, size_t len);

struct console {
	struct event_loop *loop;
	bool raw;
	struct termios saved;
	bool escape_pending;
	console_input_fn input;
	void *input_opaque;
	void (*quit)(void *opaque);
	void *quit_opaque;
	atomic_bool output_gone; /* stdout's reader closed it: output is dropped */
	atomic_bool output_stalled; /* stdout stayed full: dropped until it drains */
};

/* Output goes to stdout; input is not read until console_start(). */
void console_init(struct console *con, void (*quit)(void *opaque), void *quit_opaque);

/* The one device that receives input; -EBUSY when one is attached. */
int console_attach_input(struct console *con, console_input_fn fn, void *opaque);

/* Raw mode on a terminal, and stdin on the loop. */
int console_start(struct console *con, struct event_loop *loop);

/* Guest output; drops it when stdout is gone (SIGPIPE must be ignored). Any thread. */
void console_write(struct console *con, const u8 *data, size_t len);

/* Leaves the terminal as it was found. */
void console_restore(struct console *con);

#endif
