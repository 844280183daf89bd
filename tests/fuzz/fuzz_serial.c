/*
 * The 16550A UART as the guest and the host console drive it: register
 * reads and writes of any width at any offset, and typed input. The
 * interrupt line only ever changes level (clean edges).
 *
 * Input: operations of one byte (bits 0-1: write, read, receive; bits
 * 2-4: offset; bits 5-6: log2 of the width), then the value or, for
 * receive, a length byte and the bytes.
 */
#include "core/console.h"
#include "devices/serial_8250.h"
#include "fuzz_input.h"

static int level;

static void set_irq(void *opaque, int new_level)
{
	(void)opaque;
	FUZZ_CHECK(new_level == 0 || new_level == 1);
	FUZZ_CHECK(new_level != level);
	level = new_level;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	struct console con;
	struct serial_8250 *uart;

	/* Guest output goes nowhere: as if stdout's reader had gone. */
	console_init(&con, NULL, NULL);
	atomic_store(&con.output_gone, true);
	level = 0;
	uart = serial_8250_create(set_irq, NULL, &con);
	while (fuzz_more(&in)) {
		u8 op = fuzz_u8(&in), buf[8], rx[255];
		u32 len = 1u << ((op >> 5) & 3);
		u64 offset = (op >> 2) & 7;

		switch (op & 3) {
		case 0:
			fuzz_bytes(&in, buf, len);
			serial_8250_io(uart, offset, buf, len, true);
			break;
		case 1:
			serial_8250_io(uart, offset, buf, len, false);
			break;
		default:
			len = fuzz_u8(&in);
			fuzz_bytes(&in, rx, len);
			serial_8250_receive(uart, rx, len);
			break;
		}
	}
	serial_8250_destroy(uart);
	return 0;
}
