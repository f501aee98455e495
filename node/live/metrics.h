/* Metrics of a live node: counters and gauges fed by the node's observations, progress
 * samples for catchup rates, and the Prometheus text exposition served at GET /metrics.
 * Only observes: nothing here ever feeds back into the node's decisions. */
#ifndef EVC_LIVE_METRICS_H
#define EVC_LIVE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/core/env.h"
#include "node/core/node.h"

#define EVC_METRICS_NAMES_MAX 64    /* distinct named counters and gauges kept; more are ignored */
#define EVC_METRICS_NAME_SIZE 64    /* a sanitized name, with its NUL */
#define EVC_METRICS_SAMPLES 16      /* progress samples kept (one per sample period) */

struct evc_metrics_named {
  char name[EVC_METRICS_NAME_SIZE];
  bool gauge;
  uint64_t value;
};

struct evc_metrics_sample {
  uint64_t mono_ns;
  uint64_t height;
  uint64_t da_height;
};

struct evc_live_metrics {
  uint64_t blocks_stored;
  uint64_t blocks_produced;
  uint64_t blocks_signed;
  uint64_t rollbacks;
  uint64_t equivocations;
  uint64_t mode_changes;
  uint64_t peers_answered;
  uint64_t names_dropped; /* observations whose name did not fit the table */
  uint32_t named_count;
  struct evc_metrics_named named[EVC_METRICS_NAMES_MAX];
  uint32_t sample_count; /* valid samples, oldest at sample_next when full */
  uint32_t sample_next;
  struct evc_metrics_sample samples[EVC_METRICS_SAMPLES];
};

/* Progress rates over the sample window; rates are per second, eta in seconds. */
struct evc_metrics_progress {
  bool known;               /* at least two samples over a non-zero span */
  double blocks_per_second;
  double da_heights_per_second;
  bool eta_known;
  double eta_seconds;
};

void evc_live_metrics_init(struct evc_live_metrics *m);
/* Records one observation (env->observe). Never fails; unknown kinds are ignored. */
void evc_live_metrics_observe(struct evc_live_metrics *m, const struct evc_observation *o);
/* Records a progress sample (called periodically by the runtime). */
void evc_live_metrics_sample(struct evc_live_metrics *m, uint64_t mono_ns,
                             const struct evc_node_status *st);
/* Rates and the catchup ETA toward max(p2p target, ...) and the DA head. */
void evc_live_metrics_progress(const struct evc_live_metrics *m, const struct evc_node_status *st,
                               struct evc_metrics_progress *out);
/* Renders Prometheus text (format 0.0.4) into a malloc'd buffer; EVC_ENOMEM. known_peers is
 * the configured peer count. */
int evc_live_metrics_render(const struct evc_live_metrics *m, const struct evc_node_status *st,
                            const char *chain_id, uint32_t known_peers, char **text_out,
                            size_t *size_out);

#endif
