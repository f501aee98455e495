/* Log lines for the core: printf-style formatting into a bounded buffer, then handed
 * to env->log. Lines are key=value text ("event=block_stored height=12 hash=ab.."). */
#ifndef EVC_CORE_LOG_H
#define EVC_CORE_LOG_H

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
/* Logs at error level and returns code, so an error path stays one line long. */
int evc_log_error(const struct evc_env *env, int code, const char *fmt, ...) EVC_PRINTF(3, 4);

#endif
