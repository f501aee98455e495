/* Log lines for the core: printf-style formatting into a bounded buffer, then handed
 * to env->log. Lines are key=value text ("event=block_stored height=12 hash=ab.."). */
#ifndef EVC_CORE_LOG_H
#define EVC_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "node/core/env.h"

#define EVC_LOG_LINE_MAX 1024

#if defined(__GNUC__)
#define EVC_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define EVC_PRINTF(fmt_index, first_arg)
#endif

/* Formats and logs one line; a line longer than EVC_LOG_LINE_MAX is cut, never overflows. */
void evc_logf(const struct evc_env *env, enum evc_log_level level, const char *fmt, ...)
    EVC_PRINTF(3, 4);
/* Rate limiting for repeated log lines, on the env's monotonic clock. *last_ns is when the
 * line was last logged (0: never). evc_log_quiet: true while less than interval_ns has
 * passed since then. evc_log_stamp: records now as that time. */
bool evc_log_quiet(uint64_t last_ns, uint64_t now_ns, uint64_t interval_ns);
void evc_log_stamp(uint64_t *last_ns, uint64_t now_ns);
/* Logs at error level and returns code, so an error path stays one line long. */
int evc_log_error(const struct evc_env *env, int code, const char *fmt, ...) EVC_PRINTF(3, 4);

#endif
