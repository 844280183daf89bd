#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

enum log_level log_threshold = LOG_WARN;

/* Quiet sections nest per thread, so one thread's probing never silences another. */
static __thread unsigned int quiet_depth;

void log_quiet_begin(void)
{
	quiet_depth++;
}

void log_quiet_end(void)
{
	if (quiet_depth)
		quiet_depth--;
}

double log_process_cpu_ms(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t))
		return 0;
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static const char *const level_prefix[] = {
	[LOG_ERR] = "vmm: error: ",
	[LOG_WARN] = "vmm: warning: ",
	[LOG_INFO] = "vmm: ",
	[LOG_DEBUG] = "vmm: debug: ",
};

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > log_threshold || quiet_depth)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/*
	 * One write per line, with \r so that messages stay readable while
	 * the terminal is in raw mode for the guest console.
	 */
	fprintf(stderr, "%s%s\r\n", level_prefix[level], line);
}
