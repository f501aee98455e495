/* The simulator's core: configuration, the event pool and its binary heap ordered by
 * (virtual time, insertion sequence), the run loop and the trace entry points. Nothing
 * here sleeps or reads a clock; the only time is sim->now_ns, moved by popping events. */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "sim/sim_internal.h"
#include "sim/simdisk.h"

#define MS (1000000ull)
#define EVENTS_CAPACITY_INITIAL 1024u

void evc_sim_config_default(struct evc_sim_config *c) {
  EVC_ASSERT(c != NULL);
  memset(c, 0, sizeof *c);
  c->seed = 1;
  c->block_time_ns = 100 * MS;
  c->txs_per_block = 2;
  c->genesis_time_ns = 1704067200ull * 1000000000ull;
  c->net_latency_min_ns = 2 * MS;
  c->net_latency_max_ns = 40 * MS;
  c->net_queue_messages_max = 4096;
  c->da_block_time_ns = 1000 * MS;
  c->da_mempool_ttl_blocks = 10;
  c->da_inclusion_delay_min_ns = 0;
  c->da_inclusion_delay_max_ns = 1500 * MS;
  c->da_rpc_latency_min_ns = 1 * MS;
  c->da_rpc_latency_max_ns = 5 * MS;
  c->da_blob_size_max = 5u * 1024u * 1024u;
  c->da_call_size_max = 8u * 1024u * 1024u;
}

static int config_check(const struct evc_sim_config *c) {
  if (c->net_latency_min_ns > c->net_latency_max_ns) return EVC_ECONFIG;
  if (c->da_inclusion_delay_min_ns > c->da_inclusion_delay_max_ns) return EVC_ECONFIG;
  if (c->da_rpc_latency_min_ns > c->da_rpc_latency_max_ns) return EVC_ECONFIG;
  if (c->da_block_time_ns == 0 || c->da_mempool_ttl_blocks == 0) return EVC_ECONFIG;
  if (c->block_time_ns == 0 || c->net_queue_messages_max == 0) return EVC_ECONFIG;
  if (c->da_blob_size_max == 0 || c->da_call_size_max == 0) return EVC_ECONFIG;
  return 0;
}

/* ev-node's version-0 namespace: 0x00, 18 zero bytes, then SHA-256(text)[0..10). Written
 * here so the kernel does not depend on the types library's helper. */
static void namespace_from_text(const char *text, uint8_t out[EVC_NAMESPACE_SIZE]) {
  uint8_t digest[EVC_HASH_SIZE];
  evc_sha256(text, strlen(text), digest);
  memset(out, 0, EVC_NAMESPACE_SIZE);
  memcpy(out + EVC_NAMESPACE_SIZE - 10, digest, 10);
}

static void genesis_build(struct evc_sim *sim) {
  struct evc_genesis *g = &sim->genesis;
  memset(g, 0, sizeof *g);
  g->chain_id.size = (uint8_t)strlen(EVC_SIM_CHAIN_ID);
  memcpy(g->chain_id.text, EVC_SIM_CHAIN_ID, g->chain_id.size);
  g->initial_height = 1;
  g->genesis_time_ns = sim->config.genesis_time_ns;
  g->da_start_height = 1;
  namespace_from_text(EVC_SIM_HEADER_NAMESPACE_TEXT, g->header_namespace);
  namespace_from_text(EVC_SIM_DATA_NAMESPACE_TEXT, g->data_namespace);
}

int evc_sim_new(const struct evc_sim_config *config, struct evc_sim **sim_out) {
  EVC_ASSERT(config != NULL);
  EVC_ASSERT(sim_out != NULL);
  *sim_out = NULL;
  int rc = config_check(config);
  if (rc != 0) return rc;
  if (evc_crypto_init() != 0) return EVC_EIO;
  if (sqlite3_initialize() != SQLITE_OK) return EVC_EIO;
  struct evc_sim *sim = calloc(1, sizeof *sim);
  if (sim == NULL) return EVC_ENOMEM;
  sim->config = *config;
  evc_sim_rng_init_stream(&sim->rng_network, config->seed, "network");
  evc_sim_rng_init_stream(&sim->rng_da, config->seed, "da");
  evc_sim_rng_init_stream(&sim->rng_faults, config->seed, "faults");
  evc_sim_trace_init(&sim->trace);
  sim->trace.out = config->trace_out;
  sim->drop_ppm = config->net_drop_ppm;
  sim->duplicate_ppm = config->net_duplicate_ppm;
  sim->reorder_ppm = config->net_reorder_ppm;
  sim->dial_fail_ppm = config->net_dial_fail_ppm;
  genesis_build(sim);
  /* SQLite's PRNG (journal nonces, WAL salts, temp names) reseeds from the *default* VFS,
   * i.e. /dev/urandom, after a reset: seed it from the run's seed first, so runs agree
   * within a process and across processes (gcc and clang builds). Process-global: runs
   * must not interleave (one after another is fine). */
  struct evc_sim_rng sqlite_rng;
  evc_sim_rng_init_stream(&sqlite_rng, config->seed, "sqlite");
  int sqlite_seed = (int)(evc_sim_rng_next_u64(&sqlite_rng) & 0x7fffffff);
  (void)sqlite3_test_control(SQLITE_TESTCTRL_PRNG_SEED, sqlite_seed != 0 ? sqlite_seed : 1,
                             (sqlite3 *)NULL);
  sqlite3_randomness(0, NULL);
  evc_simk_da_start(sim);
  if (sim->failure != 0) {
    evc_sim_free(sim);
    return EVC_ENOMEM;
  }
  *sim_out = sim;
  return 0;
}

void evc_simk_event_release(struct evc_simk_event *ev) {
  if (ev->kind == EVC_SIMK_EV_DELIVER) free(ev->u.deliver.bytes);
  if (ev->kind == EVC_SIMK_EV_DA_GET) free(ev->u.get.namespaces);
  if (ev->kind == EVC_SIMK_EV_DIAL_FAILED) free(ev->u.dial_failed.address);
  ev->kind = 0;
}

void evc_sim_free(struct evc_sim *sim) {
  if (sim == NULL) return;
  evc_simk_nodes_free(sim);
  for (size_t i = 0; i < sim->heap_count; i++) {
    evc_simk_event_release(&sim->events[sim->heap[i].slot]);
  }
  evc_simk_da_free(sim);
  free(sim->events);
  free(sim->free_slots);
  free(sim->heap);
  free(sim);
}

/* ---- failure and trace ---- */

void evc_simk_fail(struct evc_sim *sim, int code, const char *message) {
  EVC_ASSERT(code < 0);
  if (sim->failure != 0) return;
  sim->failure = code;
  snprintf(sim->failure_message, sizeof sim->failure_message, "%s", message);
  evc_simk_trace(sim, "-", "sim failed error=%s reason=\"%s\"", evc_errname(code), message);
}

int evc_sim_failure(const struct evc_sim *sim, const char **message_out) {
  EVC_ASSERT(sim != NULL);
  if (message_out != NULL) *message_out = sim->failure_message;
  return sim->failure;
}

void evc_simk_trace(struct evc_sim *sim, const char *who, const char *fmt, ...) {
  char body[EVC_SIM_TRACE_LINE_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  EVC_ASSERT(n >= 0);
  evc_sim_trace_line(&sim->trace, sim->now_ns, who, "%s", body);
}

void evc_sim_trace_hash(const struct evc_sim *sim, uint8_t out[EVC_HASH_SIZE]) {
  EVC_ASSERT(sim != NULL);
  evc_sim_trace_digest(&sim->trace, out);
}

void evc_sim_set_trace_sink(struct evc_sim *sim, void (*sink)(void *arg, const char *line,
                                                              size_t size), void *arg) {
  EVC_ASSERT(sim != NULL);
  sim->trace.sink = sink;
  sim->trace.sink_arg = arg;
}

uint64_t evc_sim_trace_lines(const struct evc_sim *sim) { return sim->trace.line_count; }

void evc_sim_trace_note(struct evc_sim *sim, const char *node, const char *text) {
  EVC_ASSERT(sim != NULL);
  EVC_ASSERT(text != NULL);
  evc_simk_trace(sim, node != NULL ? node : "-", "note %s", text);
}

uint64_t evc_sim_fault_random(struct evc_sim *sim) {
  EVC_ASSERT(sim != NULL);
  return evc_sim_rng_next_u64(&sim->rng_faults);
}

/* ---- event pool and heap ---- */

static bool heap_less(const struct evc_simk_heap_entry *a, const struct evc_simk_heap_entry *b) {
  if (a->time_ns != b->time_ns) return a->time_ns < b->time_ns;
  return a->seq < b->seq;
}

static void heap_swap(struct evc_simk_heap_entry *h, size_t i, size_t j) {
  struct evc_simk_heap_entry t = h[i];
  h[i] = h[j];
  h[j] = t;
}

static void heap_up(struct evc_simk_heap_entry *h, size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!heap_less(&h[i], &h[parent])) return;
    heap_swap(h, i, parent);
    i = parent;
  }
}

static void heap_down(struct evc_simk_heap_entry *h, size_t count, size_t i) {
  for (;;) {
    size_t left = 2 * i + 1;
    size_t right = left + 1;
    size_t least = i;
    if (left < count && heap_less(&h[left], &h[least])) least = left;
    if (right < count && heap_less(&h[right], &h[least])) least = right;
    if (least == i) return;
    heap_swap(h, i, least);
    i = least;
  }
}

static int pool_grow(struct evc_sim *sim) {
  size_t old = sim->events_capacity;
  if (old >= EVC_SIM_EVENTS_MAX) return EVC_EFULL;
  size_t cap = old == 0 ? EVENTS_CAPACITY_INITIAL : old * 2;
  if (cap > EVC_SIM_EVENTS_MAX) cap = EVC_SIM_EVENTS_MAX;
  struct evc_simk_event *events = realloc(sim->events, cap * sizeof *events);
  if (events == NULL) return EVC_ENOMEM;
  sim->events = events;
  memset(events + old, 0, (cap - old) * sizeof *events);
  uint32_t *free_slots = realloc(sim->free_slots, cap * sizeof *free_slots);
  if (free_slots == NULL) return EVC_ENOMEM;
  sim->free_slots = free_slots;
  struct evc_simk_heap_entry *heap = realloc(sim->heap, cap * sizeof *heap);
  if (heap == NULL) return EVC_ENOMEM;
  sim->heap = heap;
  /* Lowest new slot on top of the free stack. */
  for (size_t s = cap; s > old; s--) sim->free_slots[sim->free_count++] = (uint32_t)(s - 1);
  sim->events_capacity = cap;
  return 0;
}

int evc_simk_push(struct evc_sim *sim, uint64_t at_ns, const struct evc_simk_event *ev,
                  uint64_t *id_out) {
  EVC_ASSERT(at_ns >= sim->now_ns);
  EVC_ASSERT(ev->kind != 0);
  if (sim->failure != 0) return sim->failure;
  if (sim->free_count == 0) {
    int rc = pool_grow(sim);
    if (rc != 0) {
      evc_simk_fail(sim, rc, rc == EVC_EFULL ? "event queue cap reached (1048576 events)"
                                             : "out of memory growing the event queue");
      return rc;
    }
  }
  uint32_t slot = sim->free_slots[--sim->free_count];
  struct evc_simk_event *dst = &sim->events[slot];
  uint32_t generation = dst->generation + 1;
  *dst = *ev;
  dst->generation = generation;
  dst->cancelled = false;
  struct evc_simk_heap_entry entry = {.time_ns = at_ns, .seq = sim->next_seq++, .slot = slot};
  sim->heap[sim->heap_count] = entry;
  heap_up(sim->heap, sim->heap_count);
  sim->heap_count++;
  if (id_out != NULL) *id_out = ((uint64_t)generation << EVC_SIMK_SLOT_BITS) | slot;
  return 0;
}

void evc_simk_cancel(struct evc_sim *sim, uint64_t id, uint32_t kind, uint32_t node) {
  uint64_t slot = id & ((1u << EVC_SIMK_SLOT_BITS) - 1);
  uint64_t generation = id >> EVC_SIMK_SLOT_BITS;
  if (slot >= sim->events_capacity) return;
  struct evc_simk_event *ev = &sim->events[slot];
  if (ev->kind != kind || ev->generation != generation || ev->node != node) return;
  ev->cancelled = true; /* lazy: skipped without a trace line when popped */
}

static void pop(struct evc_sim *sim, struct evc_simk_heap_entry *entry_out,
                struct evc_simk_event *ev_out) {
  EVC_ASSERT(sim->heap_count > 0);
  *entry_out = sim->heap[0];
  sim->heap_count--;
  if (sim->heap_count > 0) {
    sim->heap[0] = sim->heap[sim->heap_count];
    heap_down(sim->heap, sim->heap_count, 0);
  }
  struct evc_simk_event *ev = &sim->events[entry_out->slot];
  *ev_out = *ev;
  ev->kind = 0; /* the slot keeps its generation: a stale cancel cannot match it */
  sim->free_slots[sim->free_count++] = entry_out->slot;
}

/* ---- run loop ---- */

static void dispatch_node_event(struct evc_sim *sim, struct evc_simk_event *ev, uint64_t id) {
  if (!evc_simk_node_live(sim, ev->node, ev->incarnation)) return;
  const char *name = sim->nodes[ev->node]->name;
  evc_simk_enter(sim);
  if (ev->kind == EVC_SIMK_EV_TIMER) {
    evc_simk_trace(sim, name, "timer id=%" PRIu64, id);
    ev->u.timer.cb(ev->u.timer.arg);
  } else {
    EVC_ASSERT(ev->kind == EVC_SIMK_EV_WORK);
    evc_simk_trace(sim, name, "work");
    ev->u.work.fn(ev->u.work.work_arg);
    ev->u.work.done(ev->u.work.arg, 0);
  }
  evc_simk_leave(sim);
}

static void dispatch(struct evc_sim *sim, struct evc_simk_event *ev, uint64_t id) {
  switch (ev->kind) {
    case EVC_SIMK_EV_USER: ev->u.user.fn(ev->u.user.arg); break;
    case EVC_SIMK_EV_TIMER:
    case EVC_SIMK_EV_WORK: dispatch_node_event(sim, ev, id); break;
    case EVC_SIMK_EV_CONNECT:
    case EVC_SIMK_EV_PEER_DOWN:
    case EVC_SIMK_EV_DIAL_FAILED:
    case EVC_SIMK_EV_DELIVER: evc_simk_net_dispatch(sim, ev); break;
    case EVC_SIMK_EV_DA_BLOCK:
    case EVC_SIMK_EV_DA_SUBMIT_REPLY:
    case EVC_SIMK_EV_DA_GET:
    case EVC_SIMK_EV_DA_HEAD: evc_simk_da_dispatch(sim, ev); break;
    case EVC_SIMK_EV_TEARDOWN: evc_simk_teardown(sim, ev); break;
    default: EVC_UNREACHABLE();
  }
}

/* The node a queued event would run code of, or -1 (DA blocks, user events, teardown). */
static int event_target(const struct evc_sim *sim, const struct evc_simk_event *ev) {
  switch (ev->kind) {
    case EVC_SIMK_EV_TIMER:
    case EVC_SIMK_EV_WORK:
    case EVC_SIMK_EV_PEER_DOWN:
    case EVC_SIMK_EV_DIAL_FAILED:
    case EVC_SIMK_EV_DELIVER:
    case EVC_SIMK_EV_DA_SUBMIT_REPLY:
    case EVC_SIMK_EV_DA_GET:
    case EVC_SIMK_EV_DA_HEAD: return (int)ev->node;
    case EVC_SIMK_EV_CONNECT: {
      uint32_t pair = ev->u.connect.pair;
      uint32_t a = pair / EVC_SIM_NODES_MAX;
      uint32_t b = pair % EVC_SIM_NODES_MAX;
      return sim->nodes[a]->paused_until_ns > sim->nodes[b]->paused_until_ns ? (int)a : (int)b;
    }
    default: return -1;
  }
}

/* A paused node's next event moves, in the same slot (timer ids stay valid), to the end of
 * its pause, behind everything queued by then: its events keep their relative order. */
static bool defer_paused(struct evc_sim *sim) {
  struct evc_simk_heap_entry top = sim->heap[0];
  const struct evc_simk_event *ev = &sim->events[top.slot];
  if (ev->cancelled) return false;
  int target = event_target(sim, ev);
  if (target < 0) return false;
  uint64_t until = sim->nodes[target]->paused_until_ns;
  if (until <= top.time_ns) return false;
  sim->heap_count--;
  if (sim->heap_count > 0) {
    sim->heap[0] = sim->heap[sim->heap_count];
    heap_down(sim->heap, sim->heap_count, 0);
  }
  top.time_ns = until;
  top.seq = sim->next_seq++;
  sim->heap[sim->heap_count] = top;
  heap_up(sim->heap, sim->heap_count);
  sim->heap_count++;
  return true;
}

int evc_sim_step(struct evc_sim *sim) {
  EVC_ASSERT(sim != NULL);
  EVC_ASSERT(sim->node_call_depth == 0);
  if (sim->failure != 0) return sim->failure;
  while (sim->heap_count > 0 && defer_paused(sim)) {
  }
  if (sim->heap_count == 0) return EVC_ENOTFOUND;
  struct evc_simk_heap_entry entry;
  struct evc_simk_event ev;
  pop(sim, &entry, &ev);
  EVC_ASSERT(entry.time_ns >= sim->now_ns);
  sim->now_ns = entry.time_ns;
  uint64_t id = ((uint64_t)ev.generation << EVC_SIMK_SLOT_BITS) | entry.slot;
  if (!ev.cancelled) {
    sim->events_run++;
    dispatch(sim, &ev, id);
  }
  evc_simk_event_release(&ev);
  return sim->failure;
}

int evc_sim_run_until_predicate(struct evc_sim *sim, uint64_t deadline_ns,
                                evc_sim_predicate pred, void *arg, bool *held_out) {
  EVC_ASSERT(sim != NULL);
  EVC_ASSERT(held_out != NULL);
  *held_out = false;
  if (sim->failure != 0) return sim->failure;
  if (deadline_ns < sim->now_ns) return EVC_ERANGE;
  for (;;) {
    if (pred != NULL && pred(arg)) {
      *held_out = true;
      return 0;
    }
    while (sim->heap_count > 0 && defer_paused(sim)) {
    }
    if (sim->heap_count == 0 || sim->heap[0].time_ns > deadline_ns) break;
    int rc = evc_sim_step(sim);
    if (rc != 0) return rc;
  }
  sim->now_ns = deadline_ns;
  return 0;
}

int evc_sim_run_until(struct evc_sim *sim, uint64_t time_ns) {
  bool held = false;
  return evc_sim_run_until_predicate(sim, time_ns, NULL, NULL, &held);
}

uint64_t evc_sim_now(const struct evc_sim *sim) { return sim->now_ns; }
uint64_t evc_sim_events_run(const struct evc_sim *sim) { return sim->events_run; }
size_t evc_sim_events_queued(const struct evc_sim *sim) { return sim->heap_count; }

int evc_sim_schedule(struct evc_sim *sim, uint64_t at_ns, evc_sim_event_function fn, void *arg) {
  EVC_ASSERT(sim != NULL);
  EVC_ASSERT(fn != NULL);
  if (at_ns < sim->now_ns) return EVC_ERANGE;
  struct evc_simk_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVC_SIMK_EV_USER;
  ev.u.user.fn = fn;
  ev.u.user.arg = arg;
  return evc_simk_push(sim, at_ns, &ev, NULL);
}

const struct evc_sim_config *evc_sim_config_of(const struct evc_sim *sim) {
  EVC_ASSERT(sim != NULL);
  return &sim->config;
}
