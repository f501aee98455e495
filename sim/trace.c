/* Trace lines and their running hash. Formatting is integer-only (no %f), so gcc and clang
 * builds print and hash identical bytes; nothing here reads a clock or an address. */
#include "sim/trace.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "node/common/assert.h"

void evc_sim_trace_init(struct evc_sim_trace *trace) {
  EVC_ASSERT(trace != NULL);
  memset(trace, 0, sizeof *trace);
  crypto_hash_sha256_init(&trace->sha);
}

static void sanitize(char *text, size_t size) {
  for (size_t i = 0; i < size; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c < 0x20 || c == 0x7f) text[i] = '?';
  }
}

void evc_sim_trace_line(struct evc_sim_trace *trace, uint64_t now_ns, const char *node,
                        const char *fmt, ...) {
  EVC_ASSERT(trace != NULL);
  EVC_ASSERT(node != NULL);
  char line[EVC_SIM_TRACE_LINE_MAX];
  int prefix = snprintf(line, sizeof line, "t=%" PRIu64 ".%09" PRIu64 " node=%s ",
                        now_ns / 1000000000u, now_ns % 1000000000u, node);
  EVC_ASSERT(prefix > 0 && (size_t)prefix < sizeof line - 2);
  va_list ap;
  va_start(ap, fmt);
  int body = vsnprintf(line + prefix, sizeof line - 1 - (size_t)prefix, fmt, ap);
  va_end(ap);
  EVC_ASSERT(body >= 0);
  size_t size = (size_t)prefix + (size_t)body;
  if (size > sizeof line - 2) size = sizeof line - 2; /* cut: vsnprintf stopped there */
  sanitize(line, size);
  line[size] = '\n';
  line[size + 1] = '\0';
  size += 1;
  crypto_hash_sha256_update(&trace->sha, (const uint8_t *)line, size);
  trace->line_count++;
  if (trace->out != NULL) fwrite(line, 1, size, trace->out);
  if (trace->sink != NULL) trace->sink(trace->sink_arg, line, size);
}

void evc_sim_trace_digest(const struct evc_sim_trace *trace, uint8_t out[EVC_HASH_SIZE]) {
  EVC_ASSERT(trace != NULL);
  crypto_hash_sha256_state copy = trace->sha;
  crypto_hash_sha256_final(&copy, out);
}
