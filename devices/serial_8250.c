/*
 * A 16550A UART, the register model Linux's 8250 driver probes for.
 * Transmission is instant (THR is always empty), so the only interrupt
 * sources are "receive data available" and "transmitter empty".
 *
 * Until the guest's driver first takes a transmit interrupt, it sends by
 * polling LSR and writing THR, a character at a time: that is a kernel
 * printing its boot log. Those THR writes may be batched by KVM (see
 * core/coalesced_io.h), halving the exits per character. Once the driver
 * drives output by interrupts, every THR write must reach the model at
 * once to raise the next one, so batching ends for good: when IIR first
 * reports THRE (before the handler writes THR), or, failing that, at a
 * THR write made with THRI enabled. Merely enabling THRI does not end it:
 * Linux's probe sets every IER bit long before the boot log is printed.
 */
#include "serial_8250.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/console.h"

enum {
	REG_RBR_THR = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3,
	REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
};

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ENABLED 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define RX_BUFFER 4096

struct serial_8250 {
	pthread_mutex_t lock;
	u8 ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_empty_pending; /* THRE interrupt not yet acknowledged */
	bool tx_by_interrupt;   /* the driver has sent by transmit interrupt */
	int irq_level;
	u8 rx[RX_BUFFER];
	unsigned int rx_head, rx_count;
	serial_irq_fn set_irq;
	void *irq_opaque;
	struct console *out;
	serial_batching_fn stop_batching; /* NULL: THR writes are never batched */
	void *batching_opaque;
};

static void update_irq(struct serial_8250 *u)
{
	int level = ((u->ier & IER_RDI) && u->rx_count) ||
		    ((u->ier & IER_THRI) && u->thr_empty_pending);

	/* Drive the line only on change: the PIC/IOAPIC see clean edges. */
	if (level != u->irq_level) {
		u->irq_level = level;
		u->set_irq(u->irq_opaque, level);
	}
}

static u8 read_iir(struct serial_8250 *u)
{
	u8 fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO_ENABLED : 0;

	if ((u->ier & IER_RDI) && u->rx_count)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thr_empty_pending) {
		/* Reading IIR with THRE as its source acknowledges it (16550 data sheet). */
		u->thr_empty_pending = false;
		u->tx_by_interrupt = true;
		return fifo | IIR_THRI;
	}
	return fifo | IIR_NO_INT;
}

static u8 read_msr(struct serial_8250 *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	/* Loopback: modem outputs appear on the inputs (Linux probes this). */
	return ((u->mcr & MCR_RTS) ? MSR_CTS : 0) | ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
	       ((u->mcr & MCR_OUT1) ? MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? MSR_DCD : 0);
}

static void push_rx(struct serial_8250 *u, u8 byte)
{
	if (u->rx_count == RX_BUFFER)
		return; /* overrun: the byte is lost, as on real hardware */
	u->rx[(u->rx_head + u->rx_count) % RX_BUFFER] = byte;
	u->rx_count++;
}

static u8 pop_rx(struct serial_8250 *u)
{
	u8 byte;

	if (!u->rx_count)
		return 0;
	byte = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % RX_BUFFER;
	u->rx_count--;
	return byte;
}

static void write_reg(struct serial_8250 *u, unsigned int reg, u8 value)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		if (dlab) {
			u->dll = value;
			break;
		}
		if (u->ier & IER_THRI)
			u->tx_by_interrupt = true;
		if (u->mcr & MCR_LOOP)
			push_rx(u, value);
		else
			console_write(u->out, &value, 1);
		u->thr_empty_pending = true;
		break;
	case REG_IER:
		if (dlab) {
			u->dlm = value;
			break;
		}
		/* Enabling THRI while THR is empty raises the interrupt at once. */
		if ((value & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_empty_pending = true;
		u->ier = value & 0x0f;
		break;
	case REG_IIR_FCR:
		u->fcr = value & 0xc9;
		if (value & FCR_CLEAR_RX)
			u->rx_head = u->rx_count = 0;
		break;
	case REG_LCR: u->lcr = value; break;
	case REG_MCR: u->mcr = value & 0x1f; break;
	case REG_SCR: u->scr = value; break;
	default: break; /* LSR and MSR are read-only */
	}
}

static u8 read_reg(struct serial_8250 *u, unsigned int reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR: return dlab ? u->dll : pop_rx(u);
	case REG_IER: return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR: return read_iir(u);
	case REG_LCR: return u->lcr;
	case REG_MCR: return u->mcr;
	case REG_LSR: return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case REG_MSR: return read_msr(u);
	case REG_SCR: return u->scr;
	}
	return 0xff;
}

void serial_8250_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct serial_8250 *u = opaque;

	serial_batching_fn stop_batching = NULL;

	pthread_mutex_lock(&u->lock);
	/* The UART has byte registers; wider accesses touch consecutive ones. */
	for (u32 i = 0; i < len && offset + i < 8; i++) {
		if (is_write)
			write_reg(u, (unsigned int)(offset + i), data[i]);
		else
			data[i] = read_reg(u, (unsigned int)(offset + i));
	}
	update_irq(u);
	if (u->stop_batching && u->tx_by_interrupt) {
		stop_batching = u->stop_batching;
		u->stop_batching = NULL;
	}
	pthread_mutex_unlock(&u->lock);
	/* Outside the lock: the batching layer replays writes into this UART under its own. */
	if (stop_batching)
		stop_batching(u->batching_opaque);
}

void serial_8250_batch_until_tx_irq(struct serial_8250 *u, serial_batching_fn stop,
				    void *opaque)
{
	pthread_mutex_lock(&u->lock);
	u->stop_batching = stop;
	u->batching_opaque = opaque;
	pthread_mutex_unlock(&u->lock);
}

void serial_8250_receive(void *opaque, const u8 *data, size_t len)
{
	struct serial_8250 *u = opaque;

	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < len; i++)
		push_rx(u, data[i]);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

struct serial_8250 *serial_8250_create(serial_irq_fn set_irq, void *irq_opaque,
				       struct console *out)
{
	struct serial_8250 *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	pthread_mutex_init(&u->lock, NULL);
	u->set_irq = set_irq;
	u->irq_opaque = irq_opaque;
	u->out = out;
	u->mcr = MCR_OUT2;
	return u;
}

void serial_8250_destroy(struct serial_8250 *uart)
{
	if (!uart)
		return;
	pthread_mutex_destroy(&uart->lock);
	free(uart);
}
