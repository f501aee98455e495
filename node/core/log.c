/* Formatting helpers over env->log; no I/O of their own. */
#include "node/core/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "node/common/assert.h"
#include "node/common/error.h"

EVC_PRINTF(3, 0)
static void log_va(const struct evc_env *env, enum evc_log_level level, const char *fmt,
                   va_list ap) {
  char line[EVC_LOG_LINE_MAX];
  int n = vsnprintf(line, sizeof line, fmt, ap);
  EVC_ASSERT(n >= 0);
  env->log(env->ctx, level, line);
}

void evc_logf(const struct evc_env *env, enum evc_log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_va(env, level, fmt, ap);
  va_end(ap);
}

int evc_log_error(const struct evc_env *env, int code, const char *fmt, ...) {
  EVC_ASSERT(code < 0);
  char line[EVC_LOG_LINE_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  EVC_ASSERT(n >= 0);
  evc_logf(env, EVC_LOG_ERROR, "%s error=%s", line, evc_errname(code));
  return code;
}

bool evc_log_quiet(uint64_t last_ns, uint64_t now_ns, uint64_t interval_ns) {
  return last_ns != 0 && now_ns - last_ns < interval_ns;
}

void evc_log_stamp(uint64_t *last_ns, uint64_t now_ns) {
  *last_ns = now_ns == 0 ? 1 : now_ns; /* 0 means "never": a clock at 0 still counts */
}
