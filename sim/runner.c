/* The scenario runner: plays a scenario's timeline on the kernel, checks invariants after
 * every event (sim/check.c), evaluates expectations, and reports one verdict. Safety beats
 * liveness beats expectations when several fail. */
#include "sim/runner.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/crypto/sign_state.h"
#include "sim/check.h"
#include "sim/simdisk.h"

#define MS 1000000ull
#define EXPECT_POLL_NS (100 * MS)

struct run {
  const struct evc_scenario *sc;
  struct evc_sim *sim;
  struct evc_check *check;
  struct evc_sim_node *nodes[EVC_SCENARIO_NODES_MAX];
  struct evc_run_result *out;
  const struct evc_scenario_when *when;
  uint64_t within_ns;
  bool crashed_in_mode_hit;
  uint64_t p2p_only_at_crash;
  bool failed;
};

const char *evc_verdict_name(enum evc_verdict verdict) {
  switch (verdict) {
  case EVC_VERDICT_PASS: return "pass";
  case EVC_VERDICT_SAFETY: return "safety";
  case EVC_VERDICT_LIVENESS: return "liveness";
  case EVC_VERDICT_EXPECTATION: return "expectation";
  case EVC_VERDICT_ERROR: return "error";
  }
  EVC_UNREACHABLE();
}

static void verdict(struct run *r, enum evc_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void verdict(struct run *r, enum evc_verdict v, const char *fmt, ...) {
  if (r->failed) return;
  r->failed = true;
  r->out->verdict = v;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->out->message, sizeof r->out->message, fmt, ap);
  va_end(ap);
}

static const char *name_of(const struct run *r, uint8_t index) {
  return r->sc->nodes[index].name;
}

/* Turns a checker failure into the run's verdict; true when the run must stop. */
static bool check_failed(struct run *r) {
  evc_check_scan_da(r->check);
  const char *msg;
  enum evc_check_failure f = evc_check_failed(r->check, &msg);
  if (f == EVC_CHECK_OK) return r->failed;
  verdict(r, f == EVC_CHECK_SAFETY ? EVC_VERDICT_SAFETY : EVC_VERDICT_LIVENESS, "%s", msg);
  return true;
}

static bool only_failure(void *arg) { return check_failed(arg); }

static bool condition_holds(struct run *r, const struct evc_scenario_when *w) {
  struct evc_sim_node *node = r->nodes[w->node];
  struct evc_sim_node_view v;
  evc_sim_node_get_view(node, &v);
  switch (w->condition) {
  case EVC_SCENARIO_COND_HEIGHT_GTE: return v.stored_height >= w->value;
  case EVC_SCENARIO_COND_DA_INCLUDED_GTE: return v.da_included_height >= w->value;
  case EVC_SCENARIO_COND_DA_PENDING_EQ:
    return v.running && evc_sim_node_counter(node, "da_pending") == w->value;
  case EVC_SCENARIO_COND_DA_PENDING_GTE:
    return v.running && evc_sim_node_counter(node, "da_pending") >= w->value;
  case EVC_SCENARIO_COND_DA_POSTED_UNINCLUDED_GTE:
    return v.running && evc_sim_node_counter(node, "da_posted_unincluded") >= w->value;
  case EVC_SCENARIO_COND_MODE: return strcmp(v.mode, evc_scenario_mode_name(w->mode)) == 0;
  }
  EVC_UNREACHABLE();
}

static bool when_or_failure(void *arg) {
  struct run *r = arg;
  return check_failed(r) || condition_holds(r, r->when);
}

static bool node_down(void *arg) {
  struct evc_sim_node *node = arg;
  struct evc_sim_node_view v;
  evc_sim_node_get_view(node, &v);
  return v.state == EVC_SIM_NODE_DOWN;
}

struct down_wait {
  struct run *r;
  struct evc_sim_node *node;
};

static bool down_or_failure(void *arg) {
  struct down_wait *w = arg;
  return check_failed(w->r) || node_down(w->node);
}

/* Actions on a node's disk need the process gone: a graceful stop may still be draining. */
static bool wait_down(struct run *r, struct evc_sim_node *node, size_t step) {
  struct down_wait w = {r, node};
  bool held = false;
  int rc = evc_sim_run_until_predicate(r->sim, r->within_ns, down_or_failure, &w, &held);
  if (rc != 0) verdict(r, EVC_VERDICT_ERROR, "simulation failed: %s", evc_strerror(rc));
  if (!held) {
    verdict(r, EVC_VERDICT_EXPECTATION, "timeline[%zu]: node %s never went down",
            step, evc_sim_node_name(node));
  }
  return !r->failed;
}

static void do_partition(struct run *r, const struct evc_scenario_step *st) {
  const char *names[EVC_SCENARIO_NODES_MAX][EVC_SCENARIO_NODES_MAX];
  struct evc_sim_group groups[2 * EVC_SCENARIO_NODES_MAX];
  size_t counts[2 * EVC_SCENARIO_NODES_MAX] = {0};
  size_t group_count = st->groups_count;
  const char *alone[EVC_SCENARIO_NODES_MAX];
  for (uint8_t i = 0; i < r->sc->nodes_count; i++) {
    uint8_t g = st->group_of[i];
    if (g == EVC_SCENARIO_GROUP_NONE) { /* a node named in no group is cut off from all */
      alone[i] = name_of(r, i);
      groups[group_count].names = &alone[i];
      groups[group_count].count = 1;
      group_count++;
      continue;
    }
    names[g][counts[g]++] = name_of(r, i);
  }
  for (uint8_t g = 0; g < st->groups_count; g++) {
    groups[g].names = names[g];
    groups[g].count = counts[g];
  }
  int rc = evc_sim_partition(r->sim, groups, group_count);
  if (rc != 0) verdict(r, EVC_VERDICT_ERROR, "timeline[%zu]: partition: %s", st->index,
                       evc_strerror(rc));
}

static void do_crash(struct run *r, const struct evc_scenario_step *st,
                     struct evc_sim_node *node) {
  struct evc_sim_node_view v;
  evc_sim_node_get_view(node, &v);
  const struct evc_scenario_hazards *hz = &r->sc->expect.hazards;
  if (hz->crashed_in_mode.set && v.running &&
      strcmp(v.mode, evc_scenario_mode_name(hz->crashed_in_mode.value)) == 0) {
    r->crashed_in_mode_hit = true;
  }
  uint64_t p2p_only = evc_check_p2p_only_blocks(r->check, node);
  if (p2p_only > r->p2p_only_at_crash) r->p2p_only_at_crash = p2p_only;
  if (st->crash_point == EVC_SCENARIO_CRASH_AFTER_NEXT_SIGN) {
    evc_sim_node_crash_after_next_sign(node);
    return;
  }
  int rc = evc_sim_node_crash(node);
  if (rc != 0) verdict(r, EVC_VERDICT_ERROR, "timeline[%zu]: crash %s: node is down", st->index,
                       evc_sim_node_name(node));
}

static void do_start(struct run *r, const struct evc_scenario_step *st,
                     struct evc_sim_node *node) {
  struct evc_sim_start_options o;
  evc_sim_start_options_default(&o);
  if (st->catchup_p2p_timeout_ms.set) o.catchup_p2p_timeout_ms = st->catchup_p2p_timeout_ms.value;
  if (st->inbound_grace_ms.set) o.inbound_grace_ms = st->inbound_grace_ms.value;
  o.da_only = st->da_only;
  if (!wait_down(r, node, st->index)) return; /* the old process must be gone first */
  evc_check_on_start(r->check, node, st->da_only);
  int rc = evc_sim_node_start(node, &o);
  if (rc != 0) {
    verdict(r, EVC_VERDICT_ERROR, "timeline[%zu]: start %s: %s", st->index,
            evc_sim_node_name(node), evc_strerror(rc));
  }
}

static void do_disk_action(struct run *r, const struct evc_scenario_step *st,
                           struct evc_sim_node *node) {
  if (!wait_down(r, node, st->index)) return;
  int rc = 0;
  if (st->action == EVC_SCENARIO_DO_WIPE) {
    evc_check_on_wipe(r->check, node);
    rc = evc_sim_node_wipe(node);
  } else if (st->action == EVC_SCENARIO_DO_LOSE_MACHINE) {
    evc_check_on_lose_machine(r->check, node);
    rc = evc_sim_node_lose_machine(node);
  } else {
    evc_check_on_restore(r->check, node, st->snapshot_name);
    rc = evc_sim_node_restore(node, st->snapshot_name);
  }
  if (rc != 0) verdict(r, EVC_VERDICT_ERROR, "timeline[%zu]: %s: %s", st->index,
                       evc_sim_node_name(node), evc_strerror(rc));
}

static void do_action(struct run *r, const struct evc_scenario_step *st) {
  struct evc_sim_node *node = st->node == EVC_SCENARIO_NODE_NONE ? NULL : r->nodes[st->node];
  char note[160];
  snprintf(note, sizeof note, "step=%zu action=%d", st->index, (int)st->action);
  evc_sim_trace_note(r->sim, node == NULL ? "-" : evc_sim_node_name(node), note);
  int rc = 0;
  switch (st->action) {
  case EVC_SCENARIO_DO_START: return do_start(r, st, node);
  case EVC_SCENARIO_DO_STOP: rc = evc_sim_node_stop(node); break;
  case EVC_SCENARIO_DO_CRASH: return do_crash(r, st, node);
  case EVC_SCENARIO_DO_WIPE:
  case EVC_SCENARIO_DO_LOSE_MACHINE:
  case EVC_SCENARIO_DO_RESTORE: return do_disk_action(r, st, node);
  case EVC_SCENARIO_DO_SNAPSHOT:
    evc_check_on_snapshot(r->check, node, st->snapshot_name);
    rc = evc_sim_node_snapshot(node, st->snapshot_name,
                               st->scope == EVC_SCENARIO_SCOPE_HOME ? "home" : "data");
    break;
  case EVC_SCENARIO_DO_PARTITION: return do_partition(r, st);
  case EVC_SCENARIO_DO_HEAL: evc_sim_heal(r->sim); break;
  case EVC_SCENARIO_DO_DA_OUTAGE: evc_sim_da_outage(r->sim, st->duration_ms * MS); break;
  case EVC_SCENARIO_DO_DA_SLOW:
    evc_sim_da_slow(r->sim, st->duration_ms * MS, st->inclusion_delay.min_ms * MS,
                    st->inclusion_delay.max_ms * MS);
    break;
  case EVC_SCENARIO_DO_FAULT:
    return verdict(r, EVC_VERDICT_ERROR, "timeline[%zu]: fault \"%s\": no fault injectors in "
                   "this build yet (the fault catalogue is issue 8)", st->index, st->fault_name);
  }
  if (rc != 0) verdict(r, EVC_VERDICT_ERROR, "timeline[%zu]: %s", st->index, evc_strerror(rc));
}

/* Runs the step's trigger: until its time, or until its condition holds. */
static void run_trigger(struct run *r, const struct evc_scenario_step *st, uint64_t last_ns) {
  bool held = false;
  int rc;
  if (st->trigger == EVC_SCENARIO_TRIGGER_WHEN) {
    uint64_t deadline = r->within_ns;
    if (st->timeout.set && evc_sim_now(r->sim) + st->timeout.value * MS < deadline) {
      deadline = evc_sim_now(r->sim) + st->timeout.value * MS;
    }
    r->when = &st->when;
    rc = evc_sim_run_until_predicate(r->sim, deadline, when_or_failure, r, &held);
    if (rc == 0 && !held && !r->failed) {
      verdict(r, EVC_VERDICT_EXPECTATION, "timeline[%zu]: the condition on %s never held "
              "(by %llu ms)", st->index, name_of(r, st->when.node),
              (unsigned long long)(deadline / MS));
    }
  } else {
    uint64_t target = st->trigger == EVC_SCENARIO_TRIGGER_AT ? st->trigger_ms * MS
                                                             : last_ns + st->trigger_ms * MS;
    if (target < evc_sim_now(r->sim)) target = evc_sim_now(r->sim);
    rc = evc_sim_run_until_predicate(r->sim, target, only_failure, r, &held);
  }
  if (rc != 0) verdict(r, EVC_VERDICT_ERROR, "simulation failed: %s", evc_strerror(rc));
}

static uint64_t counter_sum(const struct run *r, const char *name) {
  uint64_t sum = 0;
  for (uint8_t i = 0; i < r->sc->nodes_count; i++) sum += evc_sim_node_counter(r->nodes[i], name);
  return sum;
}

/* Writes the first unmet expectation into msg; true when every one holds. */
static bool hazards_hold(const struct run *r, char *msg, size_t size) {
  const struct evc_scenario_hazards *hz = &r->sc->expect.hazards;
  struct { const struct evc_scenario_opt_u64 *want; const char *counter; } gte[] = {
      {&hz->late_blobs_landed_gte, "late_blobs_landed"},
      {&hz->soft_blocks_rolled_back_gte, "soft_blocks_rolled_back"},
      {&hz->blocks_from_peers_gte, "blocks_from_peers"},
      {&hz->own_key_conflicts_detected_gte, "own_key_conflicts_detected"},
  };
  for (size_t i = 0; i < sizeof gte / sizeof gte[0]; i++) {
    uint64_t got = counter_sum(r, gte[i].counter);
    if (gte[i].want->set && got < gte[i].want->value) {
      snprintf(msg, size, "hazard %s: %llu < %llu", gte[i].counter, (unsigned long long)got,
               (unsigned long long)gte[i].want->value);
      return false;
    }
  }
  if (hz->p2p_only_blocks_at_crash_gte.set &&
      r->p2p_only_at_crash < hz->p2p_only_blocks_at_crash_gte.value) {
    snprintf(msg, size, "hazard p2p_only_blocks_at_crash: %llu < %llu",
             (unsigned long long)r->p2p_only_at_crash,
             (unsigned long long)hz->p2p_only_blocks_at_crash_gte.value);
    return false;
  }
  if (hz->crashed_in_mode.set && !r->crashed_in_mode_hit) {
    snprintf(msg, size, "hazard crashed_in_mode: no crash in mode %s",
             evc_scenario_mode_name(hz->crashed_in_mode.value));
    return false;
  }
  if (hz->republished_signed_block.set &&
      (counter_sum(r, "republished_signed_block") > 0) != hz->republished_signed_block.value) {
    snprintf(msg, size, "hazard republished_signed_block: expected %s",
             hz->republished_signed_block.value ? "true" : "false");
    return false;
  }
  return true;
}

static bool node_expectations_hold(const struct run *r, uint8_t i, char *msg, size_t size) {
  const struct evc_scenario_expect *e = &r->sc->expect;
  struct evc_sim_node_view v;
  evc_sim_node_get_view(r->nodes[i], &v);
  if (e->produced_after_recovery_gte[i].set && v.produced_since_start < e->produced_after_recovery_gte[i].value) {
    snprintf(msg, size, "%s produced %llu blocks since its last start, expected >= %llu", v.name,
             (unsigned long long)v.produced_since_start,
             (unsigned long long)e->produced_after_recovery_gte[i].value);
    return false;
  }
  if (e->produced_after_recovery_lte[i].set && v.produced_since_start > e->produced_after_recovery_lte[i].value) {
    snprintf(msg, size, "%s produced %llu blocks since its last start, expected <= %llu", v.name,
             (unsigned long long)v.produced_since_start,
             (unsigned long long)e->produced_after_recovery_lte[i].value);
    return false;
  }
  if (e->mode[i].set && strcmp(v.mode, evc_scenario_mode_name(e->mode[i].value)) != 0) {
    snprintf(msg, size, "%s is in mode \"%s\", expected \"%s\"", v.name, v.mode,
             evc_scenario_mode_name(e->mode[i].value));
    return false;
  }
  if (e->equivocations_reported[i].set &&
      (evc_check_equivocations(r->check, r->nodes[i]) > 0) != e->equivocations_reported[i].value) {
    snprintf(msg, size, "%s equivocations reported: expected %s", v.name,
             e->equivocations_reported[i].value ? "some" : "none");
    return false;
  }
  return true;
}

static bool expectations_hold(const struct run *r, char *msg, size_t size) {
  const struct evc_scenario_expect *e = &r->sc->expect;
  for (uint8_t i = 0; i < r->sc->nodes_count; i++) {
    if (!node_expectations_hold(r, i, msg, size)) return false;
  }
  for (uint8_t i = 1; i < e->same_chain_count; i++) {
    if (!evc_check_same_chain(r->check, r->nodes[e->same_chain[0]], r->nodes[e->same_chain[i]],
                              msg, size)) {
      return false;
    }
  }
  return hazards_hold(r, msg, size);
}

/* `init --aggregator` with a fresh key writes S = initial_height - 1; a key_of twin imports
 * its key and so has no sign state. */
static int init_sign_state(struct run *r, struct evc_sim_node *node) {
  struct evc_sign_state s;
  int rc = evc_sign_state_init_empty(evc_sim_genesis(r->sim)->initial_height - 1, &s);
  if (rc != 0) return rc;
  uint8_t *bytes = NULL;
  size_t size = 0;
  rc = evc_sign_state_encode(&s, &bytes, &size);
  if (rc == 0) rc = evc_simdisk_replace(evc_sim_node_disk(node), EVC_SIGN_STATE_FILE, bytes, size);
  free(bytes);
  evc_sign_state_release(&s);
  return rc;
}

static void sim_config(const struct evc_scenario *sc, const struct evc_run_options *opt,
                       struct evc_sim_config *cfg) {
  evc_sim_config_default(cfg);
  cfg->seed = opt->seed;
  cfg->block_time_ns = sc->chain.block_time_ms * MS;
  cfg->txs_per_block = (uint32_t)sc->chain.txs_per_block;
  cfg->net_latency_min_ns = sc->network.latency.min_ms * MS;
  cfg->net_latency_max_ns = sc->network.latency.max_ms * MS;
  cfg->net_drop_ppm = sc->network.drop_ppm;
  cfg->da_block_time_ns = sc->chain.da_block_time_ms * MS;
  cfg->da_mempool_ttl_blocks = sc->chain.da_mempool_ttl_blocks;
  cfg->da_inclusion_delay_min_ns = sc->da.inclusion_delay.min_ms * MS;
  cfg->da_inclusion_delay_max_ns = sc->da.inclusion_delay.max_ms * MS;
  cfg->trace_out = opt->trace_out;
}

static int add_nodes(struct run *r, evc_class_resolver resolve) {
  const struct evc_scenario *sc = r->sc;
  for (uint8_t i = 0; i < sc->nodes_count; i++) {
    const struct evc_scenario_node *n = &sc->nodes[i];
    const struct evc_sim_node_class *cls = resolve(n->role);
    if (cls == NULL) {
      verdict(r, EVC_VERDICT_ERROR, "node %s: role \"%s\" is not available in this build",
              n->name, n->role);
      return EVC_ENOSYS;
    }
    const char *peers[EVC_SCENARIO_NODES_MAX];
    for (uint8_t p = 0; p < n->peers_count; p++) peers[p] = name_of(r, n->peers[p]);
    struct evc_sim_node_params params = {
        .name = n->name, .role = n->role, .node_class = cls,
        .key_of = n->key_of == EVC_SCENARIO_NODE_NONE ? NULL : name_of(r, n->key_of),
        .peers = peers, .peer_count = n->peers_count};
    int rc = evc_sim_add_node(r->sim, &params, &r->nodes[i]);
    if (rc == 0 && evc_scenario_node_is_aggregator(n) && n->key_of == EVC_SCENARIO_NODE_NONE) {
      rc = init_sign_state(r, r->nodes[i]);
    }
    if (rc != 0) {
      verdict(r, EVC_VERDICT_ERROR, "node %s: cannot add it: %s", n->name, evc_strerror(rc));
      return rc;
    }
  }
  return 0;
}

/* After the timeline: run until every expectation holds, or until within_ms. */
/* DESIGN.md: the maximum DA inclusion delay (slow periods included) plus two DA blocks. */
static uint64_t liveness_bound_ns(const struct run *r) {
  uint64_t delay_ms = r->sc->da.inclusion_delay.max_ms;
  for (size_t i = 0; i < r->sc->steps_count; i++) {
    const struct evc_scenario_step *st = &r->sc->steps[i];
    if (st->action == EVC_SCENARIO_DO_DA_SLOW && st->inclusion_delay.max_ms > delay_ms) {
      delay_ms = st->inclusion_delay.max_ms;
    }
  }
  return delay_ms * MS + 2 * r->sc->chain.da_block_time_ms * MS;
}

static void run_out(struct run *r) {
  char msg[512] = "";
  while (!r->failed) {
    if (expectations_hold(r, msg, sizeof msg) &&
        evc_check_liveness_holds(r->check, liveness_bound_ns(r))) {
      return;
    }
    uint64_t now = evc_sim_now(r->sim);
    if (now >= r->within_ns) break;
    uint64_t next = now + EXPECT_POLL_NS < r->within_ns ? now + EXPECT_POLL_NS : r->within_ns;
    bool held = false;
    int rc = evc_sim_run_until_predicate(r->sim, next, only_failure, r, &held);
    if (rc != 0) verdict(r, EVC_VERDICT_ERROR, "simulation failed: %s", evc_strerror(rc));
  }
  if (!r->failed && !expectations_hold(r, msg, sizeof msg)) {
    verdict(r, EVC_VERDICT_EXPECTATION, "by %llu ms: %s",
            (unsigned long long)(r->within_ns / MS), msg);
  }
}

static void play(struct run *r) {
  uint64_t last_ns = 0;
  for (size_t i = 0; i < r->sc->steps_count && !r->failed; i++) {
    const struct evc_scenario_step *st = &r->sc->steps[i];
    run_trigger(r, st, last_ns);
    if (r->failed || check_failed(r)) break;
    do_action(r, st);
    last_ns = evc_sim_now(r->sim);
  }
  if (!r->failed) run_out(r);
  enum evc_check_failure f = evc_check_finish(r->check, liveness_bound_ns(r));
  const char *msg;
  evc_check_failed(r->check, &msg);
  if (f != EVC_CHECK_OK) {
    bool was_failed = r->failed;
    enum evc_verdict v = f == EVC_CHECK_SAFETY ? EVC_VERDICT_SAFETY : EVC_VERDICT_LIVENESS;
    if (!was_failed || r->out->verdict == EVC_VERDICT_EXPECTATION) {
      r->failed = false;
      verdict(r, v, "%s", msg);
    }
  }
}

int evc_run_scenario(const struct evc_scenario *sc, const struct evc_run_options *opt,
                     struct evc_run_result *out) {
  memset(out, 0, sizeof *out);
  struct run r = {.sc = sc, .out = out, .within_ns = sc->expect.within_ms * MS};
  struct evc_sim_config cfg;
  sim_config(sc, opt, &cfg);
  int rc = evc_sim_new(&cfg, &r.sim);
  if (rc != 0) {
    verdict(&r, EVC_VERDICT_ERROR, "cannot create the simulation: %s", evc_strerror(rc));
    return rc;
  }
  if (opt->trace_sink != NULL) evc_sim_set_trace_sink(r.sim, opt->trace_sink, opt->trace_sink_arg);
  bool twins = false;
  for (uint8_t i = 0; i < sc->nodes_count; i++) {
    twins |= sc->nodes[i].key_of != EVC_SCENARIO_NODE_NONE;
  }
  rc = add_nodes(&r, opt->class_for_role);
  if (rc == 0) rc = evc_check_new(r.sim, twins, &r.check);
  if (rc == 0) play(&r);
  if (!r.failed) {
    out->verdict = EVC_VERDICT_PASS;
    snprintf(out->message, sizeof out->message, "every expectation and invariant held");
  }
  evc_sim_trace_hash(r.sim, out->trace_hash);
  out->end_ms = evc_sim_now(r.sim) / MS;
  out->events = evc_sim_events_run(r.sim);
  out->trace_lines = evc_sim_trace_lines(r.sim);
  evc_check_free(r.check);
  evc_sim_free(r.sim);
  return rc;
}
