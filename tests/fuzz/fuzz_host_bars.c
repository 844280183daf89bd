/*
 * A sysfs `resource` file as the host kernel would write it, or not:
 * host_parse_pci_resources either refuses with a message naming the line
 * or returns ranges that do not wrap, and never more lines than asked.
 *
 * Input: the file's text.
 */
#include "vfio/host_bars.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct pci_resource res[PCI_RES_MAX];
	char why[96] = "";
	int n = host_parse_pci_resources((const char *)data, size, res, PCI_RES_MAX, why,
					 sizeof(why));

	if (n < 0) {
		FUZZ_CHECK(n == -EINVAL && why[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(n <= PCI_RES_MAX);
	for (int i = 0; i < n; i++)
		FUZZ_CHECK(!res[i].size || res[i].start + res[i].size - 1 >= res[i].start);
	return 0;
}
