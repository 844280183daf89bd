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

/*
 * The caller batches THR writes (register 0) until the guest's driver
 * sends by transmit interrupt; then the UART calls stop(opaque), once,
 * from the vCPU thread that took the interrupt, before that vCPU runs on.
 */
typedef void (*serial_batching_fn)(void *opaque);
void serial_8250_batch_until_tx_irq(struct serial_8250 *uart, serial_batching_fn stop,
				    void *opaque);

/* Bytes typed on the host console (a console_input_fn; opaque: the UART). */
void serial_8250_receive(void *opaque, const u8 *data, size_t len);

#endif
