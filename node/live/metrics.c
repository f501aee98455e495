/* Metrics of a live node: observations become counters and gauges, periodic samples become
 * catchup rates, and both render as Prometheus text that `promtool check metrics` accepts
 * (counters end in _total, every metric has HELP and TYPE). Never feeds back into the node. */
#include "node/live/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"

#define NS_PER_SEC 1e9
#define RENDER_SIZE_INITIAL 8192u
#define RENDER_SIZE_MAX (1u << 20)

void evc_live_metrics_init(struct evc_live_metrics *m) { memset(m, 0, sizeof *m); }

/* Metric names allow [a-zA-Z0-9_]; anything else becomes '_' so a name can never break the
 * exposition format. Returns false when nothing usable is left. */
static bool sanitize(const char *text, char out[EVC_METRICS_NAME_SIZE]) {
  size_t i = 0;
  for (; text[i] != '\0' && i + 1 < EVC_METRICS_NAME_SIZE; i++) {
    char c = text[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out[i] = ok ? c : '_';
  }
  out[i] = '\0';
  return i > 0;
}

static struct evc_metrics_named *named_slot(struct evc_live_metrics *m, const char *text,
                                            bool gauge) {
  char name[EVC_METRICS_NAME_SIZE];
  if (text == NULL || !sanitize(text, name)) return NULL;
  for (uint32_t i = 0; i < m->named_count; i++) {
    if (m->named[i].gauge == gauge && strcmp(m->named[i].name, name) == 0) return &m->named[i];
  }
  if (m->named_count >= EVC_METRICS_NAMES_MAX) return NULL;
  struct evc_metrics_named *slot = &m->named[m->named_count++];
  memcpy(slot->name, name, sizeof name);
  slot->gauge = gauge;
  slot->value = 0;
  return slot;
}

static void observe_named(struct evc_live_metrics *m, const struct evc_observation *o) {
  bool gauge = o->kind == EVC_OBS_GAUGE;
  struct evc_metrics_named *slot = named_slot(m, o->text, gauge);
  if (slot == NULL) {
    m->names_dropped++;
    return;
  }
  slot->value = gauge ? o->count : slot->value + o->count;
}

void evc_live_metrics_observe(struct evc_live_metrics *m, const struct evc_observation *o) {
  EVC_ASSERT(m != NULL);
  EVC_ASSERT(o != NULL);
  switch (o->kind) {
  case EVC_OBS_MODE: m->mode_changes++; break;
  case EVC_OBS_BLOCK_STORED: m->blocks_stored++; break;
  case EVC_OBS_BLOCK_PRODUCED: m->blocks_produced++; break;
  case EVC_OBS_BLOCK_SIGNED: m->blocks_signed++; break;
  case EVC_OBS_ROLLED_BACK: m->rollbacks++; break;
  case EVC_OBS_EQUIVOCATION: m->equivocations++; break;
  case EVC_OBS_PEER_ANSWERED: m->peers_answered++; break;
  case EVC_OBS_COUNTER:
  case EVC_OBS_GAUGE: observe_named(m, o); break;
  default: break; /* DA inclusion is read from the status; new kinds are ignored */
  }
}

void evc_live_metrics_sample(struct evc_live_metrics *m, uint64_t mono_ns,
                             const struct evc_node_status *st) {
  struct evc_metrics_sample *s = &m->samples[m->sample_next];
  s->mono_ns = mono_ns;
  s->height = st->height;
  s->da_height = st->da_height_reached;
  m->sample_next = (m->sample_next + 1) % EVC_METRICS_SAMPLES;
  if (m->sample_count < EVC_METRICS_SAMPLES) m->sample_count++;
}

void evc_live_metrics_progress(const struct evc_live_metrics *m, const struct evc_node_status *st,
                               struct evc_metrics_progress *out) {
  memset(out, 0, sizeof *out);
  if (m->sample_count < 2) return;
  uint32_t newest = (m->sample_next + EVC_METRICS_SAMPLES - 1) % EVC_METRICS_SAMPLES;
  uint32_t oldest = (m->sample_next + EVC_METRICS_SAMPLES - m->sample_count) % EVC_METRICS_SAMPLES;
  const struct evc_metrics_sample *a = &m->samples[oldest];
  const struct evc_metrics_sample *b = &m->samples[newest];
  if (b->mono_ns <= a->mono_ns) return;
  double span = (double)(b->mono_ns - a->mono_ns) / NS_PER_SEC;
  /* a rollback can lower the height: a negative rate means "no progress" */
  out->blocks_per_second = b->height > a->height ? (double)(b->height - a->height) / span : 0;
  out->da_heights_per_second =
      b->da_height > a->da_height ? (double)(b->da_height - a->da_height) / span : 0;
  out->known = true;
  /* The ETA is the slower of the two remaining legs: blocks a peer proved, DA heights. */
  double eta = 0;
  bool any = false;
  if (st->p2p_target_height > st->height && out->blocks_per_second > 0) {
    eta = (double)(st->p2p_target_height - st->height) / out->blocks_per_second;
    any = true;
  }
  if (st->da_head > st->da_height_reached && out->da_heights_per_second > 0) {
    double da_eta = (double)(st->da_head - st->da_height_reached) / out->da_heights_per_second;
    if (da_eta > eta) eta = da_eta;
    any = true;
  }
  out->eta_known = any;
  out->eta_seconds = eta;
}

/* ---- rendering ---- */

struct out {
  char *text;
  size_t size;
  size_t capacity;
  bool failed;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...) {
  if (o->failed) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->text + o->size, o->capacity - o->size, fmt, ap);
    va_end(ap);
    if (n < 0) {
      o->failed = true;
      return;
    }
    if ((size_t)n < o->capacity - o->size) {
      o->size += (size_t)n;
      return;
    }
    size_t want = o->capacity * 2;
    char *bigger = want <= RENDER_SIZE_MAX ? realloc(o->text, want) : NULL;
    if (bigger == NULL) {
      o->failed = true;
      return;
    }
    o->text = bigger;
    o->capacity = want;
  }
}

static void metric(struct out *o, const char *name, const char *type, const char *help,
                   uint64_t value) {
  put(o, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
      (unsigned long long)value);
}

static void render_modes(struct out *o, const struct evc_node_status *st) {
  put(o, "# HELP evc_node_mode 1 for the node's current mode, 0 for the others.\n"
         "# TYPE evc_node_mode gauge\n");
  for (int i = 0; i < EVC_MODE_COUNT; i++) {
    put(o, "evc_node_mode{mode=\"%s\"} %d\n", evc_mode_name((enum evc_mode)i),
        (int)st->mode == i ? 1 : 0);
  }
}

/* Label values are escaped as the format requires (backslash, quote, newline). */
static void put_label_value(struct out *o, const char *text) {
  for (const char *c = text; *c != '\0'; c++) {
    if (*c == '\\' || *c == '"') {
      put(o, "\\%c", *c);
    } else if (*c == '\n') {
      put(o, "\\n");
    } else {
      put(o, "%c", *c);
    }
  }
}

static void render_status(struct out *o, const struct evc_node_status *st, const char *chain_id,
                          uint32_t known_peers) {
  put(o, "# HELP evc_node_info Static facts about this node.\n# TYPE evc_node_info gauge\n"
         "evc_node_info{chain_id=\"");
  put_label_value(o, chain_id);
  put(o, "\",role=\"%s\"} 1\n", st->aggregator ? "aggregator" : "full");
  render_modes(o, st);
  metric(o, "evc_node_height", "gauge", "Height of the last stored block.", st->height);
  metric(o, "evc_node_da_included_height", "gauge",
         "Highest height up to which every block is final (found on DA).",
         st->da_included_height);
  metric(o, "evc_node_da_height_reached", "gauge", "Last DA height the syncer processed.",
         st->da_height_reached);
  metric(o, "evc_node_da_head", "gauge", "Highest DA head observed.", st->da_head);
  metric(o, "evc_node_p2p_target_height", "gauge",
         "Highest height a peer proved with a header signed by the genesis key.",
         st->p2p_target_height);
  metric(o, "evc_node_peers", "gauge", "Connected peers.", st->peer_count);
  metric(o, "evc_node_known_peers", "gauge", "Peers configured with --p2p.peers.", known_peers);
  metric(o, "evc_node_mempool_txs", "gauge", "Transactions waiting in the mempool.",
         st->mempool_tx_count);
  metric(o, "evc_node_blocks_applied_total", "counter", "Blocks applied since start.",
         st->blocks_applied);
  metric(o, "evc_node_equivocations_total", "counter",
         "Conflicting blocks reported since start.", st->equivocations);
}

static void render_observed(struct out *o, const struct evc_live_metrics *m) {
  metric(o, "evc_blocks_stored_total", "counter", "Blocks committed to the store.",
         m->blocks_stored);
  metric(o, "evc_blocks_produced_total", "counter", "Blocks this node signed and stored.",
         m->blocks_produced);
  metric(o, "evc_blocks_signed_total", "counter", "Sign-state writes naming a new block.",
         m->blocks_signed);
  metric(o, "evc_rollbacks_total", "counter", "Store rollbacks of a soft tail.", m->rollbacks);
  metric(o, "evc_equivocations_observed_total", "counter", "Equivocation reports.",
         m->equivocations);
  metric(o, "evc_mode_changes_total", "counter", "Mode transitions.", m->mode_changes);
  metric(o, "evc_peers_answered_total", "counter", "Peer status answers during catchup.",
         m->peers_answered);
  metric(o, "evc_metrics_names_dropped_total", "counter",
         "Observations whose name did not fit the metrics table.", m->names_dropped);
  for (uint32_t i = 0; i < m->named_count; i++) {
    const struct evc_metrics_named *n = &m->named[i];
    char name[EVC_METRICS_NAME_SIZE + 16];
    snprintf(name, sizeof name, n->gauge ? "evc_%s" : "evc_%s_total", n->name);
    if (n->gauge && strlen(name) >= 6 && strcmp(name + strlen(name) - 6, "_total") == 0) {
      snprintf(name, sizeof name, "evc_%s_value", n->name); /* _total is for counters only */
    }
    metric(o, name, n->gauge ? "gauge" : "counter",
           n->gauge ? "A gauge reported by the node core." : "A counter reported by the node core.",
           n->value);
  }
}

int evc_live_metrics_render(const struct evc_live_metrics *m, const struct evc_node_status *st,
                            const char *chain_id, uint32_t known_peers, char **text_out,
                            size_t *size_out) {
  struct out o = {.text = malloc(RENDER_SIZE_INITIAL), .capacity = RENDER_SIZE_INITIAL};
  if (o.text == NULL) return EVC_ENOMEM;
  o.text[0] = '\0';
  render_status(&o, st, chain_id, known_peers);
  render_observed(&o, m);
  if (o.failed) {
    free(o.text);
    return EVC_ENOMEM;
  }
  *text_out = o.text;
  *size_out = o.size;
  return 0;
}
