#include "plan_print.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/board.h"
#include "core/log.h"
#include "core/size.h"
#include "devices/pci.h"

int plan_device_bars(const struct memory_plan *plan, const struct host_holes *host, u64 *guest)
{
	const struct plan_region *r32 = plan_find(plan, PLAN_PCI_MMIO32);
	const struct plan_region *r64 = plan_find(plan, PLAN_PCI_MMIO64);
	struct pci_window m32 = { 0 }, m64 = { 0 };
	struct pci_bar_slot slots[HOST_MAX_BARS];
	unsigned int failed;
	char sz[32], wsz[32];

	if (r32)
		m32 = (struct pci_window){ NULL, r32->start, r32->size, r32->start, r32->start + r32->size };
	if (r64)
		m64 = (struct pci_window){ NULL, r64->start, r64->size, r64->start, r64->start + r64->size };
	for (unsigned int i = 0; i < host->nbars; i++)
		slots[i] = (struct pci_bar_slot){ MAX(host->bars[i].size, 16), host->bars[i].is64, 0 };
	if (pci_place_bars(&m32, &m64, slots, host->nbars, &failed)) {
		const struct host_bar *b = &host->bars[failed];
		const struct pci_window *w = b->is64 && m64.size ? &m64 : &m32;

		if (b->size & (b->size - 1))
			pr_err("%s BAR%u: its size 0x%llx is not a power of two", b->bdf, b->index,
			       (unsigned long long)b->size);
		else
			pr_err("%s BAR%u (%s) does not fit the PCI %s-bit MMIO window (%s at 0x%llx) with the other BARs passed through",
			       b->bdf, b->index, format_size(b->size, sz, sizeof(sz)),
			       w == &m64 ? "64" : "32", format_size(w->size, wsz, sizeof(wsz)),
			       (unsigned long long)w->base);
		return -ENOSPC;
	}
	for (unsigned int i = 0; i < host->nbars; i++)
		guest[i] = slots[i].addr;
	return 0;
}

static int compare_placements(const void *a, const void *b)
{
	const struct plan_placement *pa = *(const struct plan_placement *const *)a;
	const struct plan_placement *pb = *(const struct plan_placement *const *)b;

	return pa->start < pb->start ? -1 : pa->start > pb->start;
}

/* The placements in address order (pointers into plan). */
static unsigned int sorted_placements(const struct memory_plan *plan,
				      const struct plan_placement **out)
{
	for (unsigned int i = 0; i < plan->nplacements; i++)
		out[i] = &plan->placements[i];
	qsort(out, plan->nplacements, sizeof(*out), compare_placements);
	return plan->nplacements;
}

/* Why the board's MSI window cannot move, or NULL (the window rows say who chose it). */
static const char *msi_window_fixed(const struct memory_plan *plan)
{
	const struct board_layout *layout = board_layout_find(plan->arch);

	return layout ? layout->msi_window_fixed : NULL;
}

void plan_print_table(const struct memory_plan *plan, unsigned int ncpus,
		      const struct mem_backing *backing,
		      const struct plan_iommu *iommu, FILE *out)
{
	const struct plan_placement *placed[PLAN_MAX_PLACEMENTS];
	unsigned int nplaced = sorted_placements(plan, placed), next = 0;
	char ram[32], sz[32], how[128];

	fprintf(out, "guest physical memory map: %s, %u vCPU%s, %s RAM, address limit 0x%llx\n",
		plan->arch, ncpus, ncpus == 1 ? "" : "s",
		format_size(plan->ram_size, ram, sizeof(ram)),
		(unsigned long long)plan->addr_limit);
	fprintf(out, "%-18s  %-18s  %10s  %-8s  %s\n", "start", "end", "size", "type", "what");
	for (unsigned int i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];

		fprintf(out, "0x%016llx  0x%016llx  %10s  %-8s  %s%s\n",
			(unsigned long long)r->start,
			(unsigned long long)(r->start + r->size - 1),
			format_size(r->size, sz, sizeof(sz)), region_kind_name(r->kind),
			r->label,
			r->kind == REGION_HOLE && r->firmware_reserved ? " [reserved in guest map]" : "");
		/* What the VMM writes into this bank before the guest starts, indented. */
		for (; next < nplaced && placed[next]->start < r->start + r->size &&
		       r->kind == REGION_RAM; next++)
			fprintf(out, "  0x%016llx  0x%016llx  %8s  %-8s  %s\n",
				(unsigned long long)placed[next]->start,
				(unsigned long long)(placed[next]->start + placed[next]->size - 1),
				format_size(placed[next]->size, sz, sizeof(sz)), "boot",
				placed[next]->label);
	}
	fprintf(out, "address limit: 0x%llx (%s)\n", (unsigned long long)plan->addr_limit,
		plan->addr_limit_label);
	fprintf(out, "memory backing: %s; RAM banks start on %s boundaries\n",
		mem_backing_describe(backing, how, sizeof(how)),
		format_size(backing->page_size, sz, sizeof(sz)));
	if (msi_window_fixed(plan))
		fprintf(out, "MSI IOVA window: fixed by the architecture (%s)\n",
			msi_window_fixed(plan));
	if (!iommu)
		return;
	for (unsigned int i = 0; i < iommu->nbars; i++) {
		const struct host_bar *b = &iommu->bars[i];

		fprintf(out, "%s BAR%u: host 0x%016llx, guest 0x%016llx, %s, %s-bit%s\n", b->bdf,
			b->index, (unsigned long long)b->start, (unsigned long long)iommu->guest[i],
			format_size(b->size, sz, sizeof(sz)), b->is64 ? "64" : "32",
			b->prefetch ? ", prefetchable" : "");
	}
	if (iommu->iova_checked)
		fprintf(out, "IOMMU backend: %s (IOVA ranges from the %s)\n", iommu->backend,
			iommu->iova_source);
	else
		fprintf(out, "IOMMU backend: %s (IOVA ranges not checked)\n", iommu->backend);
}

static void print_json_string(const char *s, FILE *out)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

void plan_print_json(const struct memory_plan *plan, unsigned int ncpus,
		     const struct mem_backing *backing,
		     const struct plan_iommu *iommu, FILE *out)
{
	fprintf(out, "{\"arch\": \"%s\", \"cpus\": %u, \"ram_bytes\": %llu, \"addr_limit\": %llu, \"regions\": [",
		plan->arch, ncpus, (unsigned long long)plan->ram_size,
		(unsigned long long)plan->addr_limit);
	for (unsigned int i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];

		fprintf(out, "%s\n  {\"start\": %llu, \"end\": %llu, \"size\": %llu, \"type\": \"%s\", \"name\": ",
			i ? "," : "", (unsigned long long)r->start,
			(unsigned long long)(r->start + r->size - 1), (unsigned long long)r->size,
			region_kind_name(r->kind));
		print_json_string(r->name ? r->name : "", out);
		fprintf(out, ", \"label\": ");
		print_json_string(r->label, out);
		fprintf(out, ", \"reserved\": %s}", r->firmware_reserved ? "true" : "false");
	}
	fprintf(out, "\n], \"placements\": [");
	for (unsigned int i = 0; i < plan->nplacements; i++) {
		const struct plan_placement *p = &plan->placements[i];

		fprintf(out, "%s\n  {\"start\": %llu, \"end\": %llu, \"size\": %llu, \"name\": ",
			i ? "," : "", (unsigned long long)p->start,
			(unsigned long long)(p->start + p->size - 1), (unsigned long long)p->size);
		print_json_string(p->name, out);
		fprintf(out, ", \"label\": ");
		print_json_string(p->label, out);
		fputc('}', out);
	}
	fprintf(out, "\n], \"addr_limit_source\": ");
	print_json_string(plan->addr_limit_label, out);
	fprintf(out, ", \"mem_backing\": {\"kind\": \"%s\", \"page_size\": %llu, \"memfd\": %s}",
		mem_backing_name(backing), (unsigned long long)backing->page_size,
		backing->kind == MEM_BACKING_HUGETLB ||
				(backing->kind == MEM_BACKING_THP && backing->thp_memfd) ?
			"true" : "false");
	fprintf(out, ", \"msi_window_fixed\": ");
	if (msi_window_fixed(plan))
		print_json_string(msi_window_fixed(plan), out);
	else
		fprintf(out, "null");
	fprintf(out, ", \"iommu\": ");
	if (iommu) {
		fprintf(out, "{\"backend\": ");
		print_json_string(iommu->backend, out);
		fprintf(out, ", \"iova_ranges_checked\": %s, \"iova_source\": ",
			iommu->iova_checked ? "true" : "false");
		if (iommu->iova_checked)
			print_json_string(iommu->iova_source, out);
		else
			fprintf(out, "null");
		fputc('}', out);
	} else {
		fprintf(out, "null");
	}
	fprintf(out, ", \"devices\": [");
	for (unsigned int i = 0; iommu && i < iommu->nbars; i++) {
		const struct host_bar *b = &iommu->bars[i];
		bool first = i == 0 || strcmp(b->bdf, iommu->bars[i - 1].bdf);
		bool last = i + 1 == iommu->nbars || strcmp(b->bdf, iommu->bars[i + 1].bdf);

		if (first)
			fprintf(out, "%s\n  {\"bdf\": \"%s\", \"bars\": [", i ? "," : "", b->bdf);
		fprintf(out, "%s{\"index\": %u, \"host\": %llu, \"guest\": %llu, \"size\": %llu, \"is64\": %s, \"prefetch\": %s}",
			first ? "" : ", ", b->index, (unsigned long long)b->start,
			(unsigned long long)iommu->guest[i], (unsigned long long)b->size,
			b->is64 ? "true" : "false", b->prefetch ? "true" : "false");
		if (last)
			fprintf(out, "]}");
	}
	fprintf(out, "\n]}\n");
}
