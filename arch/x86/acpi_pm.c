/*
 * ACPI fixed-hardware power management registers (ACPI 6.5, 4.8): PM1
 * status/enable/control, where writing SLP_TYP=S5 with SLP_EN powers the
 * guest off, and the FADT reset register. Plus the PC's other two reset
 * doors, the 8042 pulse (0xfe to port 0x64) used by reboot=k, so that
 * every way Linux reboots ends the run with the reset status.
 */
#include <string.h>

#include "acpi.h"
#include "platform.h"
#include "core/log.h"

#define PM1_CNT_SCI_EN 0x0001
#define PM1_CNT_SLP_EN 0x2000
#define PM1_CNT_SLP_TYP_SHIFT 10
#define I8042_COMMAND_PORT 0x64
#define I8042_DATA_PORT 0x60
#define I8042_CMD_RESET 0xfe

static void pm_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct x86_acpi_pm *pm = opaque;
	u16 value = 0;
	u16 *reg = NULL;
	unsigned int shift;

	memcpy(&value, data, MIN(len, 2u));
	pthread_mutex_lock(&pm->lock);
	if (offset < 2)
		reg = &pm->status;
	else if (offset < 4)
		reg = &pm->enable;
	else if (offset < 6)
		reg = &pm->control;
	shift = (offset & 1) ? 8 : 0;
	if (!is_write) {
		u16 current = reg ? *reg : 0;

		if (reg == &pm->control)
			current |= PM1_CNT_SCI_EN; /* always in ACPI mode */
		current >>= shift;
		memset(data, 0, len);
		memcpy(data, &current, MIN(len, 2u));
	} else if (offset == ACPI_RESET_PORT - ACPI_PM1A_EVT_PORT) {
		if (data[0] == ACPI_RESET_VALUE)
			vm_request_stop(pm->vm, EXIT_RESET);
	} else if (reg == &pm->status) {
		pm->status &= ~(u16)(value << shift); /* write one to clear */
	} else if (reg == &pm->enable) {
		pm->enable = (u16)(value << shift);
	} else if (reg == &pm->control) {
		u16 v = (u16)(value << shift);

		pm->control = v & ~PM1_CNT_SLP_EN;
		if ((v & PM1_CNT_SLP_EN) && ((v >> PM1_CNT_SLP_TYP_SHIFT) & 7) == ACPI_SLP_TYP_S5)
			vm_request_stop(pm->vm, EXIT_POWEROFF);
	}
	pthread_mutex_unlock(&pm->lock);
}

static void i8042_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct vm *vm = opaque;

	/* Status 0: input buffer empty, so a reboot loop polling it proceeds. */
	if (!is_write)
		memset(data, 0, len);
	else if (offset == I8042_COMMAND_PORT - I8042_DATA_PORT && data[0] == I8042_CMD_RESET)
		vm_request_stop(vm, EXIT_RESET);
}

int x86_acpi_pm_init(struct vm *vm, struct x86_acpi_pm *pm)
{
	int err;

	pthread_mutex_init(&pm->lock, NULL);
	pm->vm = vm;
	err = io_bus_register(&vm->pio, ACPI_PM1A_EVT_PORT, ACPI_PM_PORTS_LEN, pm_io, pm,
			      "ACPI PM");
	if (!err)
		err = io_bus_register(&vm->pio, I8042_DATA_PORT, 5, i8042_io, vm, "i8042 reset");
	return err;
}
