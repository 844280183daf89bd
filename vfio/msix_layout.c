#include "msix_layout.h"

#include <errno.h>
#include <linux/pci_regs.h>
#include <stdio.h>

#include "core/size.h"

/* One structure (table or PBA) must lie inside a memory BAR. */
static int check_inside(const char *what, unsigned int bar, u64 offset, u64 size,
			unsigned int nvectors, const u64 bar_size[MSIX_LAYOUT_BARS], char *err,
			size_t errlen)
{
	char sz[32];

	if (bar >= MSIX_LAYOUT_BARS) {
		snprintf(err, errlen, "MSI-X %s names BAR indicator %u, which is reserved", what, bar);
		return -EINVAL;
	}
	if (!bar_size[bar]) {
		snprintf(err, errlen, "MSI-X %s is in BAR%u, which is not a memory BAR", what, bar);
		return -EINVAL;
	}
	if (offset > bar_size[bar] || size > bar_size[bar] - offset) {
		snprintf(err, errlen,
			 "MSI-X %s (BAR%u offset 0x%llx, %u vectors) ends beyond BAR%u (%s)", what,
			 bar, (unsigned long long)offset, nvectors, bar,
			 format_size(bar_size[bar], sz, sizeof(sz)));
		return -EINVAL;
	}
	return 0;
}

int msix_layout_parse(u16 control, u32 table, u32 pba, const u64 bar_size[MSIX_LAYOUT_BARS],
		      struct msix_layout *out, char *err, size_t errlen)
{
	struct msix_layout l = {
		/* Table Size is N-1 in 11 bits: 1 to 2048 by construction (6.8.2.3). */
		.nvectors = (control & PCI_MSIX_FLAGS_QSIZE) + 1u,
		.table_bar = table & PCI_MSIX_TABLE_BIR,
		.table_offset = table & PCI_MSIX_TABLE_OFFSET,
		.pba_bar = pba & PCI_MSIX_PBA_BIR,
		.pba_offset = pba & PCI_MSIX_PBA_OFFSET,
	};
	int ret;

	l.table_size = (u64)l.nvectors * 16;
	l.pba_size = ALIGN_UP(l.nvectors, 64) / 8;
	ret = check_inside("table", l.table_bar, l.table_offset, l.table_size, l.nvectors,
			   bar_size, err, errlen);
	if (!ret)
		ret = check_inside("PBA", l.pba_bar, l.pba_offset, l.pba_size, l.nvectors, bar_size,
				   err, errlen);
	if (ret)
		return ret;
	if (l.table_bar == l.pba_bar &&
	    ranges_overlap(l.table_offset, l.table_size, l.pba_offset, l.pba_size)) {
		snprintf(err, errlen,
			 "MSI-X table (BAR%u 0x%llx-0x%llx) and PBA (0x%llx-0x%llx) overlap",
			 l.table_bar, (unsigned long long)l.table_offset,
			 (unsigned long long)(l.table_offset + l.table_size - 1),
			 (unsigned long long)l.pba_offset,
			 (unsigned long long)(l.pba_offset + l.pba_size - 1));
		return -EINVAL;
	}
	*out = l;
	return 0;
}

unsigned int msix_layout_trapped(const struct msix_layout *l, unsigned int bar, u64 bar_size,
				 u64 page, u64 start[2], u64 end[2])
{
	unsigned int n = 0;

	if (l->table_bar == bar) {
		start[n] = ALIGN_DOWN(l->table_offset, page);
		end[n++] = MIN(ALIGN_UP(l->table_offset + l->table_size, page), bar_size);
	}
	if (l->pba_bar == bar) {
		start[n] = ALIGN_DOWN(l->pba_offset, page);
		end[n++] = MIN(ALIGN_UP(l->pba_offset + l->pba_size, page), bar_size);
	}
	if (n == 2 && start[1] < start[0]) {
		u64 s = start[0], e = end[0];

		start[0] = start[1], end[0] = end[1];
		start[1] = s, end[1] = e;
	}
	if (n == 2 && start[1] <= end[0]) { /* overlapping or adjacent: one range */
		end[0] = MAX(end[0], end[1]);
		n = 1;
	}
	return n;
}
