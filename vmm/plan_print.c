#include "plan_print.h"

#include "core/size.h"

void plan_print_table(const struct memory_plan *plan, unsigned int ncpus, FILE *out)
{
	char ram[32], sz[32];

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
	}
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

void plan_print_json(const struct memory_plan *plan, unsigned int ncpus, FILE *out)
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
	fprintf(out, "\n]}\n");
}
