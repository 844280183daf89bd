/*
 * A VFIO_IOMMU_GET_INFO reply with its capability chain: any bytes. The
 * parser stays inside the reply, ranges come out sorted and disjoint, and
 * the holes made from their gaps lie between them.
 */
#include "core/log.h"
#include "fuzz_input.h"
#include "vfio/host_regions.h"

#define MAX_RANGES 16

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct iova_range ranges[MAX_RANGES];
	static struct host_holes host;
	void *reply;
	int n;

	log_threshold = LOG_QUIET;
	/* A heap copy of exactly size bytes: ASan sees any read past the reply. */
	reply = malloc(size ? size : 1);
	memcpy(reply, data, size);
	n = host_parse_iova_cap(reply, size, ranges, MAX_RANGES);
	free(reply);
	FUZZ_CHECK(n == -EINVAL || (n >= 0 && n <= MAX_RANGES));
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(ranges[i].start <= ranges[i].end);
		if (i)
			FUZZ_CHECK(ranges[i].start > ranges[i - 1].end);
	}
	memset(&host, 0, sizeof(host));
	if (host_add_iova_ranges(ranges, (unsigned int)n, "fuzz", &host))
		return 0;
	for (unsigned int h = 0; h < host.n; h++) {
		u64 last = host.holes[h].start + host.holes[h].size - 1;

		FUZZ_CHECK(host.holes[h].size > 0);
		for (int i = 0; i < n; i++)
			FUZZ_CHECK(last < ranges[i].start || host.holes[h].start > ranges[i].end);
	}
	if (host.iova_limit)
		FUZZ_CHECK(host.iova_limit == ranges[n - 1].end + 1);
	return 0;
}
