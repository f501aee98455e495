/* The simulated DA layer: a block every da_block_time_ns (block h at time h * block time),
 * blobs indexed in inclusion order, inclusion delays and RPC latencies from the "da"
 * stream, the mempool TTL L enforced exactly, outages and slow periods. Blobs at a
 * produced height never change: injection only targets heights above the head. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "sim/sim_internal.h"

static uint64_t rpc_latency(struct evc_sim *sim) {
  return evc_sim_rng_range_inclusive(&sim->rng_da, sim->config.da_rpc_latency_min_ns,
                                     sim->config.da_rpc_latency_max_ns);
}

static bool in_outage(const struct evc_sim *sim) { return sim->now_ns < sim->da.outage_until_ns; }

/* When a reply to a call made now may leave: after one latency, past any hang. */
static uint64_t reply_time(struct evc_sim *sim) {
  uint64_t from = sim->now_ns;
  if (sim->da.hang_until_ns > from) from = sim->da.hang_until_ns;
  return from + rpc_latency(sim);
}

static void fault_period(struct evc_sim *sim, uint64_t *until, uint64_t duration_ns) {
  uint64_t end = sim->now_ns + duration_ns;
  if (end > *until) *until = end;
  if (end > sim->da.faults_until_ns) sim->da.faults_until_ns = end;
}

static void push_block(struct evc_sim *sim, uint64_t height) {
  struct evc_simk_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVC_SIMK_EV_DA_BLOCK;
  (void)evc_simk_push(sim, height * sim->config.da_block_time_ns, &ev, NULL);
}

void evc_simk_da_start(struct evc_sim *sim) {
  memset(&sim->da, 0, sizeof sim->da);
  push_block(sim, 1);
}

static void blobs_free(struct evc_da_blob *blobs, size_t count) {
  if (blobs == NULL) return;
  for (size_t i = 0; i < count; i++) free((void *)blobs[i].bytes);
  free(blobs);
}

void evc_simk_da_free(struct evc_sim *sim) {
  struct evc_simk_da *da = &sim->da;
  for (uint64_t h = 0; h < da->head; h++) blobs_free(da->heights[h].blobs, da->heights[h].count);
  free(da->heights);
  for (size_t i = 0; i < da->pending_count; i++) {
    blobs_free(da->pending[i].blobs, da->pending[i].count);
  }
  free(da->pending);
  memset(da, 0, sizeof *da);
}

static int blobs_copy(const struct evc_da_blob *blobs, size_t count,
                      struct evc_da_blob **copy_out) {
  struct evc_da_blob *copy = calloc(count, sizeof *copy);
  if (copy == NULL) return EVC_ENOMEM;
  for (size_t i = 0; i < count; i++) {
    memcpy(copy[i].namespace_id, blobs[i].namespace_id, EVC_NAMESPACE_SIZE);
    uint8_t *bytes = malloc(blobs[i].size > 0 ? blobs[i].size : 1);
    if (bytes == NULL) {
      blobs_free(copy, i);
      return EVC_ENOMEM;
    }
    if (blobs[i].size > 0) memcpy(bytes, blobs[i].bytes, blobs[i].size);
    copy[i].bytes = bytes;
    copy[i].size = blobs[i].size;
  }
  *copy_out = copy;
  return 0;
}

static int pending_add(struct evc_sim *sim, const struct evc_simk_da_submission *sub) {
  struct evc_simk_da *da = &sim->da;
  if (da->pending_count == da->pending_capacity) {
    size_t cap = da->pending_capacity == 0 ? 16 : da->pending_capacity * 2;
    struct evc_simk_da_submission *p = realloc(da->pending, cap * sizeof *p);
    if (p == NULL) return EVC_ENOMEM;
    da->pending = p;
    da->pending_capacity = cap;
  }
  da->pending[da->pending_count++] = *sub;
  return 0;
}

static void push_submit_reply(struct evc_sim *sim, uint32_t node, uint64_t incarnation,
                              evc_da_submit_callback cb, void *arg, int status,
                              uint64_t height) {
  struct evc_simk_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVC_SIMK_EV_DA_SUBMIT_REPLY;
  ev.node = node;
  ev.incarnation = incarnation;
  ev.u.submit.cb = cb;
  ev.u.submit.arg = arg;
  ev.u.submit.status = status;
  ev.u.submit.height = height;
  (void)evc_simk_push(sim, reply_time(sim), &ev, NULL);
}

/* The height a submission made now with this inclusion delay lands at: the first DA block
 * produced at or after now + delay (never one already produced). */
static uint64_t land_height(const struct evc_sim *sim, uint64_t delay_ns) {
  uint64_t bt = sim->config.da_block_time_ns;
  uint64_t t = sim->now_ns + delay_ns;
  uint64_t h = t / bt + (t % bt != 0 ? 1 : 0);
  if (h <= sim->da.head) h = sim->da.head + 1;
  return h;
}

static int submit_size_check(const struct evc_sim *sim, const struct evc_da_blob *blobs,
                             size_t count, size_t *total_out) {
  size_t total = 0;
  int rc = 0;
  if (count > EVC_SIM_DA_CALL_BLOBS_MAX) rc = EVC_ETOOBIG;
  for (size_t i = 0; i < count; i++) {
    if (blobs[i].size > sim->config.da_blob_size_max) rc = EVC_ETOOBIG;
    total += blobs[i].size < SIZE_MAX - total ? blobs[i].size : SIZE_MAX - total;
  }
  if (total > sim->config.da_call_size_max) rc = EVC_ETOOBIG;
  *total_out = total;
  return rc;
}

static uint64_t inclusion_delay(struct evc_sim *sim) {
  struct evc_simk_da *da = &sim->da;
  if (sim->now_ns < da->slow_until_ns) {
    return evc_sim_rng_range_inclusive(&sim->rng_da, da->slow_min_ns, da->slow_max_ns);
  }
  return evc_sim_rng_range_inclusive(&sim->rng_da, sim->config.da_inclusion_delay_min_ns,
                                     sim->config.da_inclusion_delay_max_ns);
}

int evc_simk_da_submit(struct evc_sim_node *node, const struct evc_da_blob *blobs, size_t count,
                       evc_da_submit_callback cb, void *arg) {
  struct evc_sim *sim = node->sim;
  if (blobs == NULL || count == 0 || cb == NULL) return EVC_EINVAL;
  for (size_t i = 0; i < count; i++) {
    if (blobs[i].bytes == NULL && blobs[i].size > 0) return EVC_EINVAL;
  }
  size_t total = 0;
  int status = submit_size_check(sim, blobs, count, &total);
  if (status == 0 && in_outage(sim)) status = EVC_EDA;
  if (status == 0 && sim->now_ns < sim->da.too_large_until_ns &&
      total > sim->da.too_large_call_max) {
    status = EVC_ETOOBIG;
  }
  if (status != 0) {
    evc_simk_trace(sim, node->name, "da_submit blobs=%zu size=%zu refused=%s", count, total,
                   evc_errname(status));
    push_submit_reply(sim, node->index, node->incarnation, cb, arg, status, 0);
    return 0;
  }
  struct evc_simk_da_submission sub;
  memset(&sub, 0, sizeof sub);
  uint64_t hang = sim->da.hang_until_ns > sim->now_ns ? sim->da.hang_until_ns - sim->now_ns : 0;
  sub.land_height = land_height(sim, hang + inclusion_delay(sim));
  uint64_t limit = sim->da.head + sim->config.da_mempool_ttl_blocks;
  /* A hang delays, it never drops: what was sent during it still lands within L. */
  if (hang > 0 && sub.land_height > limit) sub.land_height = limit;
  if (sub.land_height > limit) sub.timeout_height = limit; /* dropped from the mempool */
  sub.count = count;
  sub.has_callback = true;
  sub.node = node->index;
  sub.incarnation = node->incarnation;
  sub.cb = cb;
  sub.arg = arg;
  if (sub.timeout_height == 0) {
    int rc = blobs_copy(blobs, count, &sub.blobs);
    if (rc != 0) return rc;
  }
  int rc = pending_add(sim, &sub);
  if (rc != 0) {
    blobs_free(sub.blobs, count);
    return rc;
  }
  evc_simk_trace(sim, node->name, "da_submit blobs=%zu size=%zu head=%" PRIu64 " %s=%" PRIu64,
                 count, total, sim->da.head, sub.timeout_height != 0 ? "drop_at" : "land",
                 sub.timeout_height != 0 ? sub.timeout_height : sub.land_height);
  return 0;
}

int evc_simk_da_get(struct evc_sim_node *node, uint64_t height,
                    const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE], size_t namespace_count,
                    evc_da_get_callback cb, void *arg) {
  struct evc_sim *sim = node->sim;
  if (cb == NULL || namespaces == NULL || height == 0) return EVC_EINVAL;
  if (namespace_count == 0 || namespace_count > EVC_SIM_DA_NAMESPACES_MAX) return EVC_EINVAL;
  uint8_t (*copy)[EVC_NAMESPACE_SIZE] = malloc(namespace_count * EVC_NAMESPACE_SIZE);
  if (copy == NULL) return EVC_ENOMEM;
  memcpy(copy, namespaces, namespace_count * EVC_NAMESPACE_SIZE);
  struct evc_simk_event ev;
  evc_simk_node_event(node, EVC_SIMK_EV_DA_GET, &ev);
  ev.u.get.cb = cb;
  ev.u.get.arg = arg;
  ev.u.get.height = height;
  ev.u.get.fail = in_outage(sim);
  ev.u.get.namespaces = copy;
  ev.u.get.namespace_count = namespace_count;
  evc_simk_trace(sim, node->name, "da_get height=%" PRIu64 " namespaces=%zu", height,
                 namespace_count);
  int rc = evc_simk_push(sim, reply_time(sim), &ev, NULL);
  if (rc != 0) free(copy);
  return rc;
}

int evc_simk_da_head_call(struct evc_sim_node *node, evc_da_head_callback cb, void *arg) {
  struct evc_sim *sim = node->sim;
  if (cb == NULL) return EVC_EINVAL;
  struct evc_simk_event ev;
  evc_simk_node_event(node, EVC_SIMK_EV_DA_HEAD, &ev);
  ev.u.head.cb = cb;
  ev.u.head.arg = arg;
  ev.u.head.fail = in_outage(sim);
  evc_simk_trace(sim, node->name, "da_head");
  return evc_simk_push(sim, reply_time(sim), &ev, NULL);
}

/* ---- block production ---- */

static int height_append(struct evc_simk_da_height *h, struct evc_da_blob *blobs, size_t count) {
  struct evc_da_blob *grown = realloc(h->blobs, (h->count + count) * sizeof *grown);
  if (grown == NULL) return EVC_ENOMEM;
  h->blobs = grown;
  for (size_t i = 0; i < count; i++) {
    blobs[i].index = (uint32_t)(h->count + i);
    h->blobs[h->count + i] = blobs[i];
  }
  h->count += count;
  free(blobs); /* the array only: the bytes now belong to the height */
  return 0;
}

/* Settles one pending submission at the new head; returns true when it is done. */
static bool settle(struct evc_sim *sim, struct evc_simk_da_submission *sub,
                   struct evc_simk_da_height *height) {
  uint64_t head = sim->da.head;
  if (sub->timeout_height != 0) {
    if (sub->timeout_height != head) return false;
    if (sub->has_callback) {
      push_submit_reply(sim, sub->node, sub->incarnation, sub->cb, sub->arg, EVC_ETIMEDOUT, 0);
    }
    return true;
  }
  if (sub->land_height != head) return false;
  if (height_append(height, sub->blobs, sub->count) != 0) {
    evc_simk_fail(sim, EVC_ENOMEM, "out of memory storing DA blobs");
    blobs_free(sub->blobs, sub->count);
    return true;
  }
  sub->blobs = NULL;
  if (sub->has_callback) {
    push_submit_reply(sim, sub->node, sub->incarnation, sub->cb, sub->arg, 0, head);
  }
  return true;
}

/* Fisher-Yates over the block's blobs from the "da" stream; indexes follow the new order. */
static void shuffle(struct evc_sim *sim, struct evc_simk_da_height *height) {
  for (size_t i = height->count; i > 1; i--) {
    size_t j = (size_t)evc_sim_rng_range_inclusive(&sim->rng_da, 0, i - 1);
    struct evc_da_blob t = height->blobs[i - 1];
    height->blobs[i - 1] = height->blobs[j];
    height->blobs[j] = t;
  }
  for (size_t i = 0; i < height->count; i++) height->blobs[i].index = (uint32_t)i;
}

static void produce_block(struct evc_sim *sim) {
  struct evc_simk_da *da = &sim->da;
  if (da->head == da->heights_capacity) {
    size_t cap = da->heights_capacity == 0 ? 64 : da->heights_capacity * 2;
    struct evc_simk_da_height *h = realloc(da->heights, cap * sizeof *h);
    if (h == NULL) {
      evc_simk_fail(sim, EVC_ENOMEM, "out of memory growing the DA chain");
      return;
    }
    memset(h + da->heights_capacity, 0, (cap - da->heights_capacity) * sizeof *h);
    da->heights = h;
    da->heights_capacity = cap;
  }
  da->head++;
  struct evc_simk_da_height *height = &da->heights[da->head - 1];
  size_t kept = 0;
  for (size_t i = 0; i < da->pending_count; i++) {
    if (!settle(sim, &da->pending[i], height)) da->pending[kept++] = da->pending[i];
  }
  da->pending_count = kept;
  if (sim->now_ns < da->shuffle_until_ns) shuffle(sim, height);
  size_t bytes = 0;
  for (size_t i = 0; i < height->count; i++) bytes += height->blobs[i].size;
  evc_simk_trace(sim, "da", "block height=%" PRIu64 " blobs=%zu size=%zu pending=%zu", da->head,
                 height->count, bytes, kept);
  push_block(sim, da->head + 1);
}

static void reply_get(struct evc_sim *sim, struct evc_sim_node *node,
                      const struct evc_simk_event *ev) {
  const uint64_t height = ev->u.get.height;
  int status = ev->u.get.fail ? EVC_EDA : (height > sim->da.head ? EVC_EFUTURE : 0);
  struct evc_da_blob *found = NULL;
  size_t count = 0;
  if (status == 0) {
    const struct evc_simk_da_height *h = &sim->da.heights[height - 1];
    found = calloc(h->count > 0 ? h->count : 1, sizeof *found);
    if (found == NULL) status = EVC_EDA;
    for (size_t i = 0; found != NULL && i < h->count; i++) {
      for (size_t k = 0; k < ev->u.get.namespace_count; k++) {
        if (memcmp(h->blobs[i].namespace_id, ev->u.get.namespaces[k], EVC_NAMESPACE_SIZE) == 0) {
          found[count++] = h->blobs[i];
          break;
        }
      }
    }
  }
  evc_simk_trace(sim, node->name, "da_get_done height=%" PRIu64 " status=%s blobs=%zu", height,
                 status == 0 ? "ok" : evc_errname(status), count);
  evc_simk_enter(sim);
  ev->u.get.cb(ev->u.get.arg, status, status == 0 ? found : NULL, count);
  evc_simk_leave(sim);
  free(found);
}

void evc_simk_da_dispatch(struct evc_sim *sim, struct evc_simk_event *ev) {
  if (ev->kind == EVC_SIMK_EV_DA_BLOCK) {
    produce_block(sim);
    return;
  }
  if (!evc_simk_node_live(sim, ev->node, ev->incarnation)) return;
  struct evc_sim_node *node = sim->nodes[ev->node];
  if (ev->kind == EVC_SIMK_EV_DA_GET) {
    reply_get(sim, node, ev);
    return;
  }
  evc_simk_enter(sim);
  if (ev->kind == EVC_SIMK_EV_DA_SUBMIT_REPLY) {
    evc_simk_trace(sim, node->name, "da_submit_done status=%s height=%" PRIu64,
                   ev->u.submit.status == 0 ? "ok" : evc_errname(ev->u.submit.status),
                   ev->u.submit.height);
    ev->u.submit.cb(ev->u.submit.arg, ev->u.submit.status, ev->u.submit.height);
  } else {
    EVC_ASSERT(ev->kind == EVC_SIMK_EV_DA_HEAD);
    int status = ev->u.head.fail ? EVC_EDA : 0;
    uint64_t head = sim->da.head;
    if (sim->now_ns < sim->da.head_lag_until_ns) {
      head = head > sim->da.head_lag_blocks ? head - sim->da.head_lag_blocks : 0;
    }
    evc_simk_trace(sim, node->name, "da_head_done status=%s head=%" PRIu64,
                   status == 0 ? "ok" : evc_errname(status), head);
    ev->u.head.cb(ev->u.head.arg, status, status == 0 ? head : 0);
  }
  evc_simk_leave(sim);
}

/* ---- public DA controls ---- */

uint64_t evc_sim_da_head(const struct evc_sim *sim) { return sim->da.head; }

int evc_sim_da_blobs_at(const struct evc_sim *sim, uint64_t height,
                        const struct evc_da_blob **blobs_out, size_t *count_out) {
  EVC_ASSERT(blobs_out != NULL);
  EVC_ASSERT(count_out != NULL);
  *blobs_out = NULL;
  *count_out = 0;
  if (height == 0 || height > sim->da.head) return EVC_ERANGE;
  *blobs_out = sim->da.heights[height - 1].blobs;
  *count_out = sim->da.heights[height - 1].count;
  return 0;
}

int evc_sim_da_inject(struct evc_sim *sim, const struct evc_da_blob *blobs, size_t count,
                      uint64_t at_height) {
  EVC_ASSERT(sim != NULL);
  if (blobs == NULL || count == 0) return EVC_EINVAL;
  if (at_height == 0) at_height = sim->da.head + 1;
  if (at_height <= sim->da.head) return EVC_ERANGE;
  struct evc_simk_da_submission sub;
  memset(&sub, 0, sizeof sub);
  sub.land_height = at_height;
  sub.count = count;
  int rc = blobs_copy(blobs, count, &sub.blobs);
  if (rc != 0) return rc;
  rc = pending_add(sim, &sub);
  if (rc != 0) {
    blobs_free(sub.blobs, count);
    return rc;
  }
  evc_simk_trace(sim, "da", "inject blobs=%zu land=%" PRIu64, count, at_height);
  return 0;
}

void evc_sim_da_outage(struct evc_sim *sim, uint64_t duration_ns) {
  EVC_ASSERT(sim != NULL);
  fault_period(sim, &sim->da.outage_until_ns, duration_ns);
  evc_simk_trace(sim, "da", "outage until=%" PRIu64, sim->da.outage_until_ns);
}

void evc_sim_da_slow(struct evc_sim *sim, uint64_t duration_ns, uint64_t delay_min_ns,
                     uint64_t delay_max_ns) {
  EVC_ASSERT(sim != NULL);
  EVC_ASSERT(delay_min_ns <= delay_max_ns);
  sim->da.slow_until_ns = sim->now_ns + duration_ns;
  if (sim->da.slow_until_ns > sim->da.faults_until_ns) {
    sim->da.faults_until_ns = sim->da.slow_until_ns;
  }
  sim->da.slow_min_ns = delay_min_ns;
  sim->da.slow_max_ns = delay_max_ns;
  evc_simk_trace(sim, "da", "slow until=%" PRIu64 " delay=[%" PRIu64 ",%" PRIu64 "]",
                 sim->da.slow_until_ns, delay_min_ns, delay_max_ns);
}

size_t evc_sim_da_pending(const struct evc_sim *sim) { return sim->da.pending_count; }

/* ---- fault hooks ---- */

void evc_sim_da_hang(struct evc_sim *sim, uint64_t duration_ns) {
  EVC_ASSERT(sim != NULL);
  fault_period(sim, &sim->da.hang_until_ns, duration_ns);
  evc_simk_trace(sim, "da", "hang until=%" PRIu64, sim->da.hang_until_ns);
}

void evc_sim_da_shuffle(struct evc_sim *sim, uint64_t duration_ns) {
  EVC_ASSERT(sim != NULL);
  fault_period(sim, &sim->da.shuffle_until_ns, duration_ns);
  evc_simk_trace(sim, "da", "shuffle until=%" PRIu64, sim->da.shuffle_until_ns);
}

void evc_sim_da_head_lag(struct evc_sim *sim, uint64_t duration_ns, uint64_t blocks) {
  EVC_ASSERT(sim != NULL);
  fault_period(sim, &sim->da.head_lag_until_ns, duration_ns);
  sim->da.head_lag_blocks = blocks;
  evc_simk_trace(sim, "da", "head_lag blocks=%" PRIu64 " until=%" PRIu64, blocks,
                 sim->da.head_lag_until_ns);
}

void evc_sim_da_too_large(struct evc_sim *sim, uint64_t duration_ns, size_t call_max) {
  EVC_ASSERT(sim != NULL);
  fault_period(sim, &sim->da.too_large_until_ns, duration_ns);
  sim->da.too_large_call_max = call_max;
  evc_simk_trace(sim, "da", "too_large call_max=%zu until=%" PRIu64, call_max,
                 sim->da.too_large_until_ns);
}

void evc_sim_da_faults_clear(struct evc_sim *sim) {
  EVC_ASSERT(sim != NULL);
  struct evc_simk_da *da = &sim->da;
  uint64_t now = sim->now_ns;
  if (da->outage_until_ns > now) da->outage_until_ns = now;
  if (da->hang_until_ns > now) da->hang_until_ns = now;
  if (da->slow_until_ns > now) da->slow_until_ns = now;
  if (da->shuffle_until_ns > now) da->shuffle_until_ns = now;
  if (da->head_lag_until_ns > now) da->head_lag_until_ns = now;
  if (da->too_large_until_ns > now) da->too_large_until_ns = now;
  evc_simk_trace(sim, "da", "faults_clear");
}

uint64_t evc_sim_da_faults_until(const struct evc_sim *sim) { return sim->da.faults_until_ns; }
