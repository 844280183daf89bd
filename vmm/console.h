/*
 * The host side of the guest console: stdin/stdout. A terminal is put in
 * raw mode (restored on exit); pipes and files are used as they are, so CI
 * logs get the console verbatim. Ctrl-a x stops the VMM from a terminal.
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include "util.h"

struct vm;

/* Where input bytes go: the active console device (8250, virtio-console). */
typedef void (*console_input_fn)(void *opaque, const u8 *data, size_t len);

int console_init(struct vm *vm);
void console_set_input(console_input_fn fn, void *opaque);
void console_write(const u8 *data, size_t len);
void console_restore(void);

#endif
