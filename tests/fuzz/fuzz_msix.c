/*
 * An emulated MSI-X table and PBA as a guest (or a VFIO device's guest)
 * drives them: accesses of any width at any offset, the capability's
 * Enable and Function Mask bits, signals and resets. Without KVM
 * (vm_fd -1) the routes are built and their ioctls fail, as in the unit
 * tests. Reads of the table return what was written, masked as the
 * specification says.
 *
 * Input: a vector count (u8, 1 to 64), then operations of one byte (bits
 * 0-2: table write, table read, PBA read, PBA write, control, signal,
 * reset; bits 3-4: log2 of the width) with an offset (u16) and a value.
 */
#include "core/irq_routing.h"
#include "core/log.h"
#include "core/vm.h"
#include "devices/msix.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct vm vm;
	struct msix msix;
	unsigned int nvectors = fuzz_u8(&in) % 64 + 1;

	log_threshold = LOG_QUIET;
	vm_init(&vm);
	vm.routing.msi_devid = fuzz_u8(&in) & 1;
	if (msix_init(&msix, &vm, nvectors, "fuzz"))
		abort();
	while (fuzz_more(&in)) {
		u8 op = fuzz_u8(&in), buf[8], back[8];
		u32 len = 1u << ((op >> 3) & 3);
		u64 offset = fuzz_u16(&in);

		switch (op & 7) {
		case 0:
			fuzz_bytes(&in, buf, len);
			msix_table_access(&msix, offset, buf, len, true);
			/* A dword written inside an entry reads back, masked. */
			if (len == 4 && offset % 4 == 0 && offset / MSIX_ENTRY_SIZE < nvectors) {
				u32 wrote, now, mask = offset % 16 == 0 ? ~3u : offset % 16 == 12 ? 1u : ~0u;

				msix_table_access(&msix, offset, back, 4, false);
				memcpy(&wrote, buf, 4);
				memcpy(&now, back, 4);
				FUZZ_CHECK(now == (wrote & mask));
			}
			break;
		case 1:
			msix_table_access(&msix, offset, buf, len, false);
			break;
		case 2:
			msix_pba_access(&msix, offset, buf, len, false);
			break;
		case 3:
			msix_pba_access(&msix, offset, buf, len, true);
			break;
		case 4:
			msix_set_control(&msix, offset & 1, offset & 2);
			break;
		case 5:
			msix_signal(&msix, (unsigned int)offset);
			break;
		case 6:
			msix_reset(&msix);
			break;
		default:
			FUZZ_CHECK(msix_vector_fd(&msix, (unsigned int)offset) >= -1);
			break;
		}
	}
	msix_destroy(&msix);
	irq_routing_destroy(&vm.routing);
	return 0;
}
