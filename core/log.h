/* Logging: one line per message, prefixed so a user knows who speaks. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdbool.h>

enum log_level { LOG_QUIET = -1, LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_threshold;

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Between these, the calling thread logs nothing: for probes whose failure
 * is expected and reported better by the caller (`vmm plan` trying the
 * IOMMU backend).
 */
void log_quiet_begin(void);
void log_quiet_end(void);

/* CPU time of the whole process (all threads) since exec, in ms: for -d timing. */
double log_process_cpu_ms(void);

#define pr_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
