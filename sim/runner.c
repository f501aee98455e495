/* The scenario runner: plays a scenario's timeline on the kernel with the fault catalogue,
 * checks invariants after every event (sim/check.c), evaluates expectations, and reports
 * one verdict. Safety beats liveness beats expectations when several fail. Under two
 * phases (swarm, a schedule fault, crash points) expectation misses never stop the run:
 * faults may legitimately break them, so they are reported and the liveness phase runs. */
#include "sim/runner.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "faults/faults.h"
#include "node/crypto/sign_state.h"
#include "sim/check.h"
#include "sim/simdisk.h"

#define MS 1000000ull
#define EXPECT_POLL_NS (100 * MS)

struct run {
  const struct evc_scenario *sc;
  const struct evc_run_options *opt;
  struct evc_sim *sim;
  struct evc_check *check;
  struct evc_faults *faults;
  struct evc_sim_start_options last_start[EVC_SCENARIO_NODES_MAX];
  bool two_phase;
  bool missed;              /* two-phase: an expectation missed (kept in miss) */
  char miss[512];
  size_t recovery_step;     /* index of the last start step (SIZE_MAX: none) */
  uint8_t recovery_node;
  bool recovery_started;
  uint64_t recovery_sync0;
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

/* An unmet expectation: the verdict, or under two phases a note that does not stop the run. */
static void miss(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void miss(struct run *r, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!r->two_phase) return verdict(r, EVC_VERDICT_EXPECTATION, "%s", msg);
  if (r->missed) return;
  r->missed = true;
  snprintf(r->miss, sizeof r->miss, "%s", msg);
  evc_sim_trace_note(r->sim, "-", "expectation missed (two phases: reported, not fatal)");
}

static int index_of(const struct run *r, const struct evc_sim_node *node) {
  for (uint8_t i = 0; i < r->sc->nodes_count; i++) {
    if (r->nodes[i] == node) return i;
  }
  EVC_UNREACHABLE();
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

/* within_ms, or now when a two-phase run's faults already pushed the timeline past it. */
static uint64_t step_deadline(const struct run *r) {
  uint64_t now = evc_sim_now(r->sim);
  return r->within_ns > now ? r->within_ns : now;
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
  int rc = evc_sim_run_until_predicate(r->sim, step_deadline(r), down_or_failure, &w, &held);
  if (rc != 0) verdict(r, EVC_VERDICT_ERROR, "simulation failed: %s", evc_strerror(rc));
  if (!held && !r->failed) {
    miss(r, "timeline[%zu]: node %s never went down", step, evc_sim_node_name(node));
    return false;
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

static void note_crash(struct run *r, struct evc_sim_node *node) {
  struct evc_sim_node_view v;
  evc_sim_node_get_view(node, &v);
  const struct evc_scenario_hazards *hz = &r->sc->expect.hazards;
  if (hz->crashed_in_mode.set && v.running &&
      strcmp(v.mode, evc_scenario_mode_name(hz->crashed_in_mode.value)) == 0) {
    r->crashed_in_mode_hit = true;
  }
  uint64_t p2p_only = evc_check_p2p_only_blocks(r->check, node);
  if (p2p_only > r->p2p_only_at_crash) r->p2p_only_at_crash = p2p_only;
}

static void do_crash(struct run *r, const struct evc_scenario_step *st,
                     struct evc_sim_node *node) {
  note_crash(r, node);
  if (st->crash_point == EVC_SCENARIO_CRASH_AFTER_NEXT_SIGN) {
    evc_sim_node_crash_after_next_sign(node);
    return;
  }
  int rc = evc_sim_node_crash(node);
  if (rc != 0 && r->two_phase) {
    miss(r, "timeline[%zu]: crash %s: node is down (a fault took it down)", st->index,
         evc_sim_node_name(node));
  } else if (rc != 0) {
    verdict(r, EVC_VERDICT_ERROR, "timeline[%zu]: crash %s: node is down", st->index,
            evc_sim_node_name(node));
  }
}

/* The recovering node's last start: count its durable writes from here (crash points). */
static void recovery_begins(struct run *r, struct evc_sim_node *node) {
  struct evc_sim_node_view v;
  evc_sim_node_get_view(node, &v);
  r->recovery_started = true;
  r->recovery_sync0 = v.sync_count;
}

static void do_start(struct run *r, const struct evc_scenario_step *st,
                     struct evc_sim_node *node) {
  struct evc_sim_start_options o;
  evc_sim_start_options_default(&o);
  if (st->catchup_p2p_timeout_ms.set) o.catchup_p2p_timeout_ms = st->catchup_p2p_timeout_ms.value;
  if (st->inbound_grace_ms.set) o.inbound_grace_ms = st->inbound_grace_ms.value;
  o.da_only = st->da_only;
  r->last_start[index_of(r, node)] = o;
  if (r->two_phase && !node_down(node)) {
    struct evc_sim_node_view v;
    evc_sim_node_get_view(node, &v);
    if (v.state == EVC_SIM_NODE_RUNNING) {
      return miss(r, "timeline[%zu]: start %s: already running (a fault restarted it)",
                  st->index, evc_sim_node_name(node));
    }
  }
  if (!wait_down(r, node, st->index)) return; /* the old process must be gone first */
  if (st->index == r->recovery_step) recovery_begins(r, node);
  evc_check_on_start(r->check, node, st->da_only);
  int rc = evc_sim_node_start(node, &o);
  if (rc != 0) {
    verdict(r, EVC_VERDICT_ERROR, "timeline[%zu]: start %s: %s", st->index,
            evc_sim_node_name(node), evc_strerror(rc));
  }
}

static void do_disk_action(struct run *r, const struct evc_scenario_step *st,
                           struct evc_sim_node *node) {
  struct evc_sim_node_view v;
  evc_sim_node_get_view(node, &v);
  if (r->two_phase && v.state == EVC_SIM_NODE_RUNNING) { /* a fault restarted it */
    note_crash(r, node);
    (void)evc_sim_node_crash(node);
  }
  if (!wait_down(r, node, st->index)) return;
  int rc = 0;
  if (st->action == EVC_SCENARIO_DO_WIPE) {
    evc_check_on_wipe(r->check, node);
    rc = evc_sim_node_wipe(node);
  } else if (st->action == EVC_SCENARIO_DO_LOSE_MACHINE) {
    struct evc_simdisk_faults none; /* a new machine: the old disk's faults stay with it */
    memset(&none, 0, sizeof none);
    evc_simdisk_set_faults(evc_sim_node_disk(node), &none);
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
  case EVC_SCENARIO_DO_FAULT: {
    char err[512];
    rc = evc_faults_apply(r->faults, st->fault_name, st->fault_params_json, err, sizeof err);
    if (rc != 0) return verdict(r, EVC_VERDICT_ERROR, "timeline[%zu]: %s", st->index, err);
    break;
  }
  }
  if (rc == EVC_ESTATE && r->two_phase) {
    miss(r, "timeline[%zu]: %s: the node is not in the state the step needs (a fault)",
         st->index, node == NULL ? "-" : evc_sim_node_name(node));
  } else if (rc != 0) {
    verdict(r, EVC_VERDICT_ERROR, "timeline[%zu]: %s", st->index, evc_strerror(rc));
  }
}

/* Runs the step's trigger: until its time, or until its condition holds. */
static void run_trigger(struct run *r, const struct evc_scenario_step *st, uint64_t last_ns) {
  bool held = false;
  int rc;
  if (st->trigger == EVC_SCENARIO_TRIGGER_WHEN) {
    uint64_t deadline = step_deadline(r);
    if (st->timeout.set && evc_sim_now(r->sim) + st->timeout.value * MS < deadline) {
      deadline = evc_sim_now(r->sim) + st->timeout.value * MS;
    }
    r->when = &st->when;
    rc = evc_sim_run_until_predicate(r->sim, deadline, when_or_failure, r, &held);
    if (rc == 0 && !held && !r->failed) {
      miss(r, "timeline[%zu]: the condition on %s never held (by %llu ms)", st->index,
           name_of(r, st->when.node), (unsigned long long)(deadline / MS));
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

/* DESIGN.md: the maximum DA inclusion delay (slow periods included) plus two DA blocks. */
static uint64_t liveness_bound_ns(const struct run *r) {
  uint64_t delay_ns = r->sc->da.inclusion_delay.max_ms * MS;
  for (size_t i = 0; i < r->sc->steps_count; i++) {
    const struct evc_scenario_step *st = &r->sc->steps[i];
    if (st->action == EVC_SCENARIO_DO_DA_SLOW && st->inclusion_delay.max_ms * MS > delay_ns) {
      delay_ns = st->inclusion_delay.max_ms * MS;
    }
  }
  if (r->faults != NULL && evc_faults_da_delay_max_ns(r->faults) > delay_ns) {
    delay_ns = evc_faults_da_delay_max_ns(r->faults);
  }
  return delay_ns + 2 * r->sc->chain.da_block_time_ms * MS;
}

/* After the timeline: run until every expectation holds, or until within_ms. */
static void run_out(struct run *r) {
  char msg[512] = "";
  while (!r->failed) {
    if (expectations_hold(r, msg, sizeof msg) &&
        evc_check_liveness_holds(r->check, liveness_bound_ns(r)) &&
        evc_check_reorgs_resolved(r->check)) {
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
    miss(r, "by %llu ms: %s", (unsigned long long)(r->within_ns / MS), msg);
  }
}

/* The real nodes (aggregator and full roles) that run now. */
static bool is_live_real(const struct run *r, uint8_t i) {
  const char *role = r->sc->nodes[i].role;
  if (strcmp(role, "aggregator") != 0 && strcmp(role, "full") != 0) return false;
  struct evc_sim_node_view v;
  evc_sim_node_get_view(r->nodes[i], &v);
  return v.state == EVC_SIM_NODE_RUNNING;
}

/* One chain: every live node holds the same blocks up to the lower head, no live node
 * lags the highest by more than what the liveness bound lets a follower trail, and every
 * running aggregator has settled in producing (a recovery still under way is not yet
 * live: the liveness rule only covers producing sequencers). */
static bool converged(const struct run *r, char *msg, size_t size) {
  int first = -1;
  uint64_t top = 0;
  uint64_t lag = liveness_bound_ns(r) / (r->sc->chain.block_time_ms * MS) + 10;
  for (uint8_t i = 0; i < r->sc->nodes_count; i++) {
    if (!is_live_real(r, i)) continue;
    struct evc_sim_node_view v;
    evc_sim_node_get_view(r->nodes[i], &v);
    if (v.stored_height > top) top = v.stored_height;
    if (first < 0) {
      first = i;
    } else if (!evc_check_converged(r->check, r->nodes[first], r->nodes[i], msg, size)) {
      return false;
    }
  }
  for (uint8_t i = 0; i < r->sc->nodes_count; i++) {
    struct evc_sim_node_view v;
    evc_sim_node_get_view(r->nodes[i], &v);
    bool recovering = strcmp(v.role, "aggregator") == 0 && strcmp(v.mode, "producing") != 0;
    if (is_live_real(r, i) && recovering) { /* settled means producing, or down (failed) */
      snprintf(msg, size, "%s is still recovering (mode \"%s\")", v.name, v.mode);
      return false;
    }
    if (is_live_real(r, i) && v.stored_height + lag < top) {
      snprintf(msg, size, "%s is at height %llu, %llu blocks behind the highest live node",
               v.name, (unsigned long long)v.stored_height,
               (unsigned long long)(top - v.stored_height));
      return false;
    }
  }
  return true;
}

static bool healed_and_live(void *arg) {
  struct run *r = arg;
  char msg[256];
  return check_failed(r) ||
         (evc_check_liveness_holds(r->check, liveness_bound_ns(r)) &&
          converged(r, msg, sizeof msg));
}

/* Phase two: faults end (the schedule's heal time, or now), the network heals, and within
 * EVC_RUN_LIVENESS_WINDOW_MS every live node must hold one chain and every produced block
 * be DA-included within the liveness bound. */
static void liveness_phase(struct run *r) {
  uint64_t heal = evc_faults_heal_at_ns(r->faults);
  bool held = false;
  int rc = 0;
  if (heal > evc_sim_now(r->sim)) {
    rc = evc_sim_run_until_predicate(r->sim, heal, only_failure, r, &held);
  }
  if (r->failed || rc != 0) {
    if (rc != 0) verdict(r, EVC_VERDICT_ERROR, "simulation failed: %s", evc_strerror(rc));
    return;
  }
  evc_faults_heal(r->faults);
  uint64_t healed_at = evc_sim_now(r->sim);
  r->out->heal_ms = healed_at / MS;
  uint64_t deadline = healed_at + EVC_RUN_LIVENESS_WINDOW_MS * MS;
  rc = evc_sim_run_until_predicate(r->sim, deadline, healed_and_live, r, &held);
  if (rc != 0) return verdict(r, EVC_VERDICT_ERROR, "simulation failed: %s", evc_strerror(rc));
  if (r->failed || held) return;
  char msg[512] = "";
  if (evc_check_liveness_why(r->check, liveness_bound_ns(r), msg, sizeof msg)) {
    converged(r, msg, sizeof msg);
  }
  verdict(r, EVC_VERDICT_LIVENESS, "liveness phase: not converged %llu ms after the heal at "
          "%llu ms: %s", (unsigned long long)EVC_RUN_LIVENESS_WINDOW_MS,
          (unsigned long long)(healed_at / MS), msg);
}

static void finish(struct run *r) {
  enum evc_check_failure f = evc_check_finish(r->check, liveness_bound_ns(r));
  const char *msg;
  evc_check_failed(r->check, &msg);
  if (f != EVC_CHECK_OK) {
    enum evc_verdict v = f == EVC_CHECK_SAFETY ? EVC_VERDICT_SAFETY : EVC_VERDICT_LIVENESS;
    if (!r->failed || r->out->verdict == EVC_VERDICT_EXPECTATION) {
      r->failed = false;
      verdict(r, v, "%s", msg);
    }
  }
  const char *ferr = NULL;
  if (evc_faults_error(r->faults, &ferr) != 0) verdict(r, EVC_VERDICT_ERROR, "faults: %s", ferr);
  if (!r->failed && r->missed) verdict(r, EVC_VERDICT_EXPECTATION, "%s", r->miss);
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
  if (!r->failed && r->two_phase) liveness_phase(r);
  if (r->two_phase && r->within_ns < evc_sim_now(r->sim)) r->within_ns = evc_sim_now(r->sim);
  if (!r->failed) run_out(r);
  finish(r);
}

/* ---- the faults' lifecycle host: the same calls as the timeline, the checker told ---- */

static int host_crash(void *arg, struct evc_sim_node *node) {
  struct run *r = arg;
  struct evc_sim_node_view v;
  evc_sim_node_get_view(node, &v);
  if (v.state == EVC_SIM_NODE_DOWN) return EVC_ESTATE;
  note_crash(r, node);
  return evc_sim_node_crash(node);
}

static int host_stop(void *arg, struct evc_sim_node *node) {
  (void)arg;
  return evc_sim_node_stop(node);
}

static int host_start(void *arg, struct evc_sim_node *node) {
  struct run *r = arg;
  if (!node_down(node)) return EVC_ESTATE;
  const struct evc_sim_start_options *o = &r->last_start[index_of(r, node)];
  evc_check_on_start(r->check, node, o->da_only);
  return evc_sim_node_start(node, o);
}

static int host_wipe(void *arg, struct evc_sim_node *node) {
  struct run *r = arg;
  if (!node_down(node)) return EVC_ESTATE;
  evc_check_on_wipe(r->check, node);
  return evc_sim_node_wipe(node);
}

static int host_snapshot(void *arg, struct evc_sim_node *node, const char *name) {
  struct run *r = arg;
  evc_check_on_snapshot(r->check, node, name);
  return evc_sim_node_snapshot(node, name, "data");
}

static int host_restore(void *arg, struct evc_sim_node *node, const char *name) {
  struct run *r = arg;
  if (!node_down(node)) return EVC_ESTATE;
  evc_check_on_restore(r->check, node, name);
  return evc_sim_node_restore(node, name);
}

/* Counts the recovering node's durable writes up to its first produced block. */
static void recovery_observer(void *arg, struct evc_sim_node *node,
                              const struct evc_observation *obs) {
  struct run *r = arg;
  if (!r->recovery_started || r->out->recovery_produced) return;
  if (node != r->nodes[r->recovery_node] || obs->kind != EVC_OBS_BLOCK_PRODUCED) return;
  struct evc_sim_node_view v;
  evc_sim_node_get_view(node, &v);
  r->out->recovery_produced = true;
  r->out->recovery_syncs = v.sync_count - r->recovery_sync0;
}

static bool has_schedule(const struct evc_scenario *sc) {
  for (size_t i = 0; i < sc->steps_count; i++) {
    const struct evc_scenario_step *st = &sc->steps[i];
    if (st->action == EVC_SCENARIO_DO_FAULT && strcmp(st->fault_name, "schedule") == 0 &&
        st->fault_params_json != NULL && strstr(st->fault_params_json, "\"heal_at_ms\"") != NULL) {
      return true;
    }
  }
  return false;
}

static void find_recovery(struct run *r) {
  r->recovery_step = SIZE_MAX;
  for (size_t i = 0; i < r->sc->steps_count; i++) {
    if (r->sc->steps[i].action == EVC_SCENARIO_DO_START) {
      r->recovery_step = i;
      r->recovery_node = r->sc->steps[i].node;
    }
  }
}

/* Swarm: draws the schedule and injects it before the first step. */
static int swarm_begin(struct run *r) {
  struct evc_swarm_node nodes[EVC_SCENARIO_NODES_MAX];
  for (uint8_t i = 0; i < r->sc->nodes_count; i++) {
    nodes[i].name = r->sc->nodes[i].name;
    nodes[i].aggregator = evc_scenario_node_is_aggregator(&r->sc->nodes[i]);
  }
  struct evc_swarm_scope scope = {
      .name = r->sc->name, .nodes = nodes, .node_count = r->sc->nodes_count,
      .within_ms = r->sc->expect.within_ms,
      .da_block_time_ms = r->sc->chain.da_block_time_ms,
      .da_ttl_blocks = r->sc->chain.da_mempool_ttl_blocks,
      .inclusion_delay_max_ms = r->sc->da.inclusion_delay.max_ms};
  int rc = evc_faults_swarm_schedule(r->opt->seed, &scope, &r->out->faults_json);
  if (rc != 0) return rc;
  char err[512];
  rc = evc_faults_apply(r->faults, "schedule", r->out->faults_json, err, sizeof err);
  if (rc != 0) verdict(r, EVC_VERDICT_ERROR, "swarm schedule: %s", err);
  return rc;
}

static int run_setup(struct run *r) {
  bool twins = false;
  for (uint8_t i = 0; i < r->sc->nodes_count; i++) {
    twins |= r->sc->nodes[i].key_of != EVC_SCENARIO_NODE_NONE;
    evc_sim_start_options_default(&r->last_start[i]);
  }
  int rc = add_nodes(r, r->opt->class_for_role);
  if (rc == 0) rc = evc_check_new(r->sim, twins, &r->check);
  struct evc_fault_host host = {.arg = r, .crash = host_crash, .stop = host_stop,
                                .start = host_start, .wipe = host_wipe,
                                .snapshot = host_snapshot, .restore = host_restore};
  if (rc == 0) rc = evc_faults_new(r->sim, &host, &r->faults);
  if (rc == 0) rc = evc_sim_add_observer(r->sim, recovery_observer, r);
  find_recovery(r);
  r->two_phase = r->opt->swarm || has_schedule(r->sc);
  r->out->two_phase = r->two_phase;
  if (rc == 0 && r->opt->swarm) rc = swarm_begin(r);
  if (rc != 0 && !r->failed) verdict(r, EVC_VERDICT_ERROR, "setup: %s", evc_strerror(rc));
  return rc;
}

int evc_run_scenario(const struct evc_scenario *sc, const struct evc_run_options *opt,
                     struct evc_run_result *out) {
  memset(out, 0, sizeof *out);
  struct run r = {.sc = sc, .opt = opt, .out = out, .within_ns = sc->expect.within_ms * MS};
  struct evc_sim_config cfg;
  sim_config(sc, opt, &cfg);
  int rc = evc_sim_new(&cfg, &r.sim);
  if (rc != 0) {
    verdict(&r, EVC_VERDICT_ERROR, "cannot create the simulation: %s", evc_strerror(rc));
    return rc;
  }
  if (opt->trace_sink != NULL) evc_sim_set_trace_sink(r.sim, opt->trace_sink, opt->trace_sink_arg);
  rc = run_setup(&r);
  if (rc == 0) play(&r);
  if (r.recovery_started && !out->recovery_produced) {
    struct evc_sim_node_view v;
    evc_sim_node_get_view(r.nodes[r.recovery_node], &v);
    out->recovery_syncs = v.sync_count - r.recovery_sync0;
  }
  if (!r.failed) {
    out->verdict = EVC_VERDICT_PASS;
    snprintf(out->message, sizeof out->message, "every expectation and invariant held");
  }
  evc_sim_trace_hash(r.sim, out->trace_hash);
  out->end_ms = evc_sim_now(r.sim) / MS;
  out->events = evc_sim_events_run(r.sim);
  out->trace_lines = evc_sim_trace_lines(r.sim);
  evc_faults_free(r.faults);
  evc_check_free(r.check);
  evc_sim_free(r.sim);
  return rc;
}
