/* The simulator's trace: one text line per event, a running SHA-256 over the lines, and
 * optional copies to a FILE* and to a line sink. The hash covers event lines only (never
 * the seed or the configuration), so two seeds hash apart only when their schedules do. */
#ifndef EVC_SIM_TRACE_H
#define EVC_SIM_TRACE_H

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>

#include "node/core/log.h"
#include "node/types/types.h"

#define EVC_SIM_TRACE_LINE_MAX 2048 /* longer lines are cut (deterministically) */

typedef void (*evc_sim_trace_sink)(void *arg, const char *line, size_t size);

struct evc_sim_trace {
  crypto_hash_sha256_state sha;
  FILE *out;               /* NULL: no copy */
  evc_sim_trace_sink sink; /* NULL: no sink */
  void *sink_arg;
  uint64_t line_count;
};

void evc_sim_trace_init(struct evc_sim_trace *trace);
/* Appends "t=<s>.<ns 9 digits> node=<node> <body>\n"; control characters in body become '?'. */
void evc_sim_trace_line(struct evc_sim_trace *trace, uint64_t now_ns, const char *node,
                        const char *fmt, ...) EVC_PRINTF(4, 5);
/* The hash of every line so far (the running state is not disturbed). */
void evc_sim_trace_digest(const struct evc_sim_trace *trace, uint8_t out[EVC_HASH_SIZE]);

#endif
