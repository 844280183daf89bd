#ifndef DEVICES_SERIAL_8250_H
#define DEVICES_SERIAL_8250_H

#include "core/util.h"

struct console;

/* Raises or lowers the UART's interrupt line. */
typedef void (*serial_irq_fn)(void *opaque, int level);

struct serial_8250;

/* A 16550A UART whose output goes to out (the host console). */
struct serial_8250 *serial_8250_create(serial_irq_fn set_irq, void *irq_opaque,
				       struct console *out);
void serial_8250_destroy(struct serial_8250 *uart);

/* Register access; offset 0-7. Any thread. */
void serial_8250_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write);

/* Bytes typed on the host console (a console_input_fn; opaque: the UART). */
void serial_8250_receive(void *opaque, const u8 *data, size_t len);

#endif
