/* The fault catalogue: each named injector reads its parameters strictly and acts on the
 * simulation now, queueing the end of its period as a simulation event. It never touches
 * a node's internals, and every random choice comes from the simulation's "faults" stream,
 * so a (scenario, seed) pair replays exactly. Docs: docs/scenarios.md "Faults". */
#include "faults/faults.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults/faults_internal.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "sim/simdisk.h"

/* ---- deferred actions ---- */

static struct evc_fault_action *action_new(struct evc_faults *f, enum evc_fault_action_kind kind,
                                           struct evc_sim_node *node) {
  if (f->action_count >= EVC_FAULTS_ACTIONS_MAX) {
    evc_faults_set_error(f, EVC_EFULL, "more than 4096 deferred fault actions in one run");
    return NULL;
  }
  struct evc_fault_action *a = calloc(1, sizeof *a);
  if (a == NULL) {
    evc_faults_set_error(f, EVC_ENOMEM, "out of memory queueing a fault action");
    return NULL;
  }
  a->f = f;
  a->kind = kind;
  a->node = node;
  f->actions[f->action_count++] = a;
  return a;
}

void evc_faults_set_error(struct evc_faults *f, int code, const char *message) {
  if (f->error != 0) return;
  f->error = code;
  snprintf(f->error_message, sizeof f->error_message, "%s", message);
}

static int node_index(const struct evc_faults *f, const struct evc_sim_node *node) {
  for (size_t i = 0; i < evc_sim_node_count(f->sim); i++) {
    if (evc_sim_node_at(f->sim, i) == node) return (int)i;
  }
  EVC_UNREACHABLE();
}

static bool node_is_down(const struct evc_sim_node *node) {
  struct evc_sim_node_view v;
  evc_sim_node_get_view(node, &v);
  return v.state == EVC_SIM_NODE_DOWN;
}

static void run_action(void *arg);

int evc_faults_defer(struct evc_faults *f, uint64_t at_ns, enum evc_fault_action_kind kind,
                     struct evc_sim_node *node, struct evc_fault_action **out) {
  struct evc_fault_action *a = action_new(f, kind, node);
  if (a == NULL) return f->error;
  uint64_t now = evc_sim_now(f->sim);
  int rc = evc_sim_schedule(f->sim, at_ns > now ? at_ns : now, run_action, a);
  if (rc != 0) return rc;
  if (out != NULL) *out = a;
  return 0;
}

/* Runs a polling action (restart, crash watch, drift tick) again at at_ns: the same action,
 * so a poll costs one event, never one of the EVC_FAULTS_ACTIONS_MAX actions of a run. */
static void poll_again(struct evc_fault_action *a, uint64_t at_ns) {
  int rc = evc_sim_schedule(a->f->sim, at_ns, run_action, a);
  if (rc != 0) evc_faults_set_error(a->f, rc, "cannot queue a fault poll");
}

static void note(struct evc_faults *f, struct evc_sim_node *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(struct evc_faults *f, struct evc_sim_node *node, const char *fmt, ...) {
  char text[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  evc_sim_trace_note(f->sim, node == NULL ? "-" : evc_sim_node_name(node), text);
}

static bool node_is_running(const struct evc_sim_node *node) {
  struct evc_sim_node_view v;
  evc_sim_node_get_view(node, &v);
  return v.state == EVC_SIM_NODE_RUNNING;
}

/* Starts a node a fault took down once it is down (a graceful stop may still drain): polls,
 * with the same action, while it is stopping or exiting, until the deadline. A node that is
 * running (not stopping) was brought back by someone else (the timeline, another fault's
 * restart) and is left alone: waiting for it to go down would poll for nothing, and starting
 * it after some later unrelated exit would hide that exit. */
static void restart_when_down(struct evc_fault_action *a) {
  struct evc_faults *f = a->f;
  struct evc_sim_node *node = a->node;
  int i = node_index(f, node);
  if (!f->down_by_fault[i]) return; /* the heal (or the timeline) already brought it back */
  if (node_is_running(node)) {
    f->down_by_fault[i] = false;
    return;
  }
  if (!node_is_down(node)) {
    if (evc_sim_now(f->sim) < a->deadline_ns) {
      poll_again(a, evc_sim_now(f->sim) + EVC_FAULTS_POLL_NS);
    }
    return;
  }
  f->down_by_fault[i] = false;
  note(f, node, "fault restart");
  int rc = f->host.start(f->host.arg, node);
  if (rc != 0 && rc != EVC_ESTATE) evc_faults_set_error(f, rc, "a fault could not restart a node");
}

int evc_faults_restart_later(struct evc_faults *f, struct evc_sim_node *node, uint64_t delay_ns) {
  f->down_by_fault[node_index(f, node)] = true;
  struct evc_fault_action *a = NULL;
  uint64_t at = evc_sim_now(f->sim) + delay_ns;
  int rc = evc_faults_defer(f, at, EVC_FA_RESTART, node, &a);
  if (rc == 0) a->deadline_ns = at + EVC_FAULTS_WAIT_DOWN_NS;
  return rc;
}

/* crash_at_sync: polls for the armed power cut, then restarts after the down time. */
static void watch_crash(struct evc_fault_action *a) {
  struct evc_faults *f = a->f;
  struct evc_sim_node_view v;
  evc_sim_node_get_view(a->node, &v);
  if (v.crashes > a->crashes_before) { /* also after the heal: it may have come first */
    /* Any power cut ends the crash point: it may have been another fault's, whose own
     * restart may already have brought the node back between two polls. */
    evc_sim_node_crash_at_sync(a->node, 0);
    if (v.state == EVC_SIM_NODE_RUNNING) {
      note(f, a->node, "fault crash_at_sync: the node went down and is running again");
      return;
    }
    note(f, a->node, "fault crash_at_sync: the node went down");
    (void)evc_faults_restart_later(f, a->node, a->delay_ns);
    return;
  }
  if (f->healed || evc_sim_now(f->sim) >= a->deadline_ns) return; /* disarmed: no cut comes */
  poll_again(a, evc_sim_now(f->sim) + EVC_FAULTS_POLL_NS);
}

static void run_scheduled(struct evc_fault_action *a) {
  struct evc_faults *f = a->f;
  if (f->healed) return;
  char err[512];
  int rc = evc_faults_apply(f, a->name, a->params, err, sizeof err);
  if (rc != 0) evc_faults_set_error(f, rc, err);
}

static void run_drift(struct evc_fault_action *a) {
  struct evc_faults *f = a->f;
  if (f->healed || evc_sim_now(f->sim) >= a->deadline_ns) return;
  evc_sim_node_set_wall_offset(a->node, evc_sim_node_wall_offset(a->node) + a->step_ns);
  poll_again(a, evc_sim_now(f->sim) + EVC_FAULTS_DRIFT_TICK_NS);
}

static void run_action(void *arg) {
  struct evc_fault_action *a = arg;
  struct evc_faults *f = a->f;
  switch (a->kind) {
  case EVC_FA_RESTART: restart_when_down(a); return;
  case EVC_FA_WATCH_CRASH: watch_crash(a); return;
  case EVC_FA_SCHEDULED: run_scheduled(a); return;
  case EVC_FA_HEAL_ALL: evc_faults_heal(f); return;
  case EVC_FA_DRIFT: run_drift(a); return;
  default: break;
  }
  if (f->healed) return; /* the heal already ended every period */
  evc_faults_end_period(a);
}

/* ---- lifetime ---- */

int evc_faults_new(struct evc_sim *sim, const struct evc_fault_host *host,
                   struct evc_faults **out) {
  EVC_ASSERT(sim != NULL && host != NULL && out != NULL);
  struct evc_faults *f = calloc(1, sizeof *f);
  if (f == NULL) return EVC_ENOMEM;
  f->actions = calloc(EVC_FAULTS_ACTIONS_MAX, sizeof *f->actions);
  if (f->actions == NULL) {
    free(f);
    return EVC_ENOMEM;
  }
  f->sim = sim;
  f->host = *host;
  evc_sim_net_faults_get(sim, &f->base_knob[0], &f->base_knob[1], &f->base_knob[2],
                         &f->base_knob[3]);
  *out = f;
  return 0;
}

void evc_faults_free(struct evc_faults *f) {
  if (f == NULL) return;
  for (size_t i = 0; i < f->action_count; i++) {
    free(f->actions[i]->name);
    free(f->actions[i]->params);
    free(f->actions[i]);
  }
  free(f->actions);
  free(f);
}

void evc_faults_heal(struct evc_faults *f) {
  EVC_ASSERT(f != NULL);
  if (f->healed) return;
  f->healed = true;
  note(f, NULL, "faults heal");
  evc_sim_net_faults(f->sim, f->base_knob[0], f->base_knob[1], f->base_knob[2], f->base_knob[3]);
  evc_sim_heal(f->sim);
  evc_sim_links_reset(f->sim);
  evc_sim_da_faults_clear(f->sim);
  struct evc_simdisk_faults none;
  memset(&none, 0, sizeof none);
  for (size_t i = 0; i < evc_sim_node_count(f->sim); i++) {
    struct evc_sim_node *node = evc_sim_node_at(f->sim, i);
    evc_simdisk_set_faults(evc_sim_node_disk(node), &none);
    evc_sim_node_crash_at_sync(node, 0);
  }
  for (size_t i = 0; i < evc_sim_node_count(f->sim); i++) {
    struct evc_sim_node *node = evc_sim_node_at(f->sim, i);
    if (!f->down_by_fault[i]) continue;
    if (!node_is_down(node)) {
      (void)evc_faults_restart_later(f, node, 0); /* still draining: wait for it */
      continue;
    }
    f->down_by_fault[i] = false;
    note(f, node, "heal restart");
    int rc = f->host.start(f->host.arg, node);
    if (rc != 0 && rc != EVC_ESTATE) {
      evc_faults_set_error(f, rc, "the heal could not restart a node");
    }
  }
}

uint64_t evc_faults_heal_at_ns(const struct evc_faults *f) { return f->heal_at_ns; }
bool evc_faults_healed(const struct evc_faults *f) { return f->healed; }
uint64_t evc_faults_da_delay_max_ns(const struct evc_faults *f) { return f->da_delay_max_ns; }

int evc_faults_error(const struct evc_faults *f, const char **message_out) {
  if (message_out != NULL) *message_out = f->error_message;
  return f->error;
}

/* ---- apply ---- */

bool evc_faults_ready(struct evc_faults *f, struct evc_fault_params *p) {
  if (!evc_fault_params_done(p)) return false;
  char *text = cJSON_PrintUnformatted(p->root);
  note(f, NULL, "fault %s %s", p->fault, text == NULL ? "{}" : text);
  free(text);
  return true;
}

int evc_faults_apply(struct evc_faults *f, const char *name, const char *params_json, char *err,
                     size_t err_size) {
  EVC_ASSERT(f != NULL && name != NULL);
  const struct evc_fault_kind *kind = evc_faults_kind_find(name);
  if (kind == NULL) {
    if (err_size > 0) {
      snprintf(err, err_size, "unknown fault \"%.40s\" (see docs/scenarios.md \"Faults\")", name);
    }
    return EVC_EINVAL;
  }
  struct evc_fault_params p;
  int rc = EVC_EINVAL;
  if (evc_fault_params_open(&p, f->sim, name, params_json, err, err_size)) {
    rc = kind->apply(f, &p);
    if (rc == 0 && p.failed) rc = EVC_EINVAL;
  }
  evc_fault_params_close(&p);
  return rc;
}
