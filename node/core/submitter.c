/* The DA submitter: posts each block's header and data blobs in height order. A Submit call
 * starts at most every quarter DA block (up to 4 L + 4 in flight), batches under the size
 * limit, halves a batch DA calls too big, retries with bounded exponential backoff and
 * re-posts what the mempool TTL dropped. It never drops a block it has not seen included,
 * and after a restart it derives what is pending from the store. */
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/core/log.h"
#include "node/core/node_internal.h"

#define EVC_SUBMIT_BATCH_BLOCKS_MAX 256u

static void try_submit(struct evc_node *n);

static uint64_t backoff_max_ns(const struct evc_node *n) {
  uint64_t cap = n->cfg.da_block_time_ns;
  return cap < 1000000000ull ? 1000000000ull : cap;
}

/* da_pending: produced blocks no Submit call carried yet; da_posted_unincluded: blocks
 * carried by a call (in flight or accepted) that the DA follower has not seen included. */
void evc_submitter_publish(struct evc_node *n) {
  struct evc_submitter *s = &n->sub;
  if (!s->running) return;
  uint64_t carried = s->next_height - 1;
  uint64_t pending = n->chain.height > carried ? n->chain.height - carried : 0;
  uint64_t posted = carried > n->chain.da_included_height ? carried - n->chain.da_included_height
                                                          : 0;
  evc_node_observe(n, EVC_OBS_GAUGE, 0, NULL, pending, "da_pending");
  evc_node_observe(n, EVC_OBS_GAUGE, 0, NULL, posted, "da_posted_unincluded");
}

uint64_t evc_submitter_pending(const struct evc_node *n) {
  const struct evc_submitter *s = &n->sub;
  return n->chain.height + 1 > s->next_height ? n->chain.height + 1 - s->next_height : 0;
}

/* Every produced block is carried and seen included on DA. */
bool evc_submitter_drained(const struct evc_node *n) {
  return n->sub.inflight == 0 && n->sub.next_height > n->chain.height &&
         n->chain.da_included_height == n->chain.height;
}

int evc_submitter_start(struct evc_node *n) {
  struct evc_submitter *s = &n->sub;
  memset(s, 0, sizeof *s);
  for (uint32_t i = 0; i < EVC_SUBMIT_INFLIGHT_MAX; i++) s->calls[i].node = n;
  s->running = true;
  s->batch_limit = EVC_SUBMIT_BATCH_BLOCKS_MAX;
  s->backoff_ns = EVC_SUBMIT_BACKOFF_MIN_NS;
  uint64_t first = 0;
  int rc = evc_store_next_soft(n->store, n->chain.da_included_height, &first);
  if (rc == EVC_ENOTFOUND) {
    first = n->chain.height + 1;
  } else if (rc != 0) {
    return rc;
  }
  s->next_height = first;
  if (first <= n->chain.height) {
    evc_logf(n->env, EVC_LOG_INFO, "event=submitter_start pending_from=%llu pending=%llu",
             (unsigned long long)first, (unsigned long long)(n->chain.height - first + 1));
  }
  try_submit(n);
  return 0;
}

void evc_submitter_stop(struct evc_node *n) {
  struct evc_submitter *s = &n->sub;
  s->running = false;
  if (s->retry_timer != 0) n->env->timer_cancel(n->env->ctx, s->retry_timer);
  s->retry_timer = 0;
}

void evc_submitter_notify(struct evc_node *n) {
  evc_submitter_publish(n);
  try_submit(n);
}

static void retry_timer_callback(void *arg) {
  struct evc_node *n = arg;
  n->sub.retry_timer = 0;
  try_submit(n);
}

static void arm_timer(struct evc_node *n, uint64_t delay_ns) {
  struct evc_submitter *s = &n->sub;
  if (s->retry_timer != 0) return;
  if (n->env->timer_start(n->env->ctx, delay_ns, retry_timer_callback, n, &s->retry_timer) != 0) {
    evc_node_fail(n, EVC_EIO, "cannot arm the submitter's timer");
  }
}

static void retry_later(struct evc_node *n) {
  struct evc_submitter *s = &n->sub;
  uint64_t delay = s->backoff_ns;
  s->backoff_ns = s->backoff_ns * 2 > backoff_max_ns(n) ? backoff_max_ns(n) : s->backoff_ns * 2;
  arm_timer(n, delay);
}
/* Skips blocks the DA follower already saw included (after a restart, or a re-post). */
static int skip_included(struct evc_node *n) {
  struct evc_submitter *s = &n->sub;
  while (s->next_height <= n->chain.height) {
    struct evc_block_record rec;
    int rc = evc_store_get_block(n->store, s->next_height, &rec);
    if (rc != 0) return rc;
    uint64_t da_height = rec.da_height;
    evc_block_record_release(&rec);
    if (da_height == 0) return 0;
    s->next_height++;
  }
  return 0;
}

struct submit_batch {
  struct evc_block blocks[EVC_SUBMIT_BATCH_BLOCKS_MAX];
  struct evc_da_blob blobs[2 * EVC_SUBMIT_BATCH_BLOCKS_MAX];
  uint32_t count;
};

static void batch_release(struct submit_batch *b) {
  for (uint32_t i = 0; i < b->count; i++) evc_block_release(&b->blocks[i]);
  free(b);
}

static int batch_build(struct evc_node *n, struct submit_batch *b) {
  struct evc_submitter *s = &n->sub;
  size_t bytes = 0;
  for (uint64_t h = s->next_height; h <= n->chain.height && b->count < s->batch_limit; h++) {
    struct evc_block *blk = &b->blocks[b->count];
    int rc = evc_chain_load_block(n, h, blk, NULL);
    if (rc != 0) return rc;
    size_t size = blk->header_size + blk->data_size;
    if (b->count > 0 && bytes + size > n->cfg.da_batch_bytes_max) {
      evc_block_release(blk);
      break;
    }
    bytes += size;
    struct evc_da_blob *hb = &b->blobs[2 * b->count], *db = hb + 1;
    memcpy(hb->namespace_id, n->cfg.genesis.header_namespace, EVC_NAMESPACE_SIZE);
    hb->bytes = blk->header_bytes;
    hb->size = blk->header_size;
    memcpy(db->namespace_id, n->cfg.genesis.data_namespace, EVC_NAMESPACE_SIZE);
    db->bytes = blk->data_bytes;
    db->size = blk->data_size;
    b->count++;
  }
  return 0;
}

static void submit_callback(void *arg, int status, uint64_t da_height);

/* 4 L + 4 calls in flight, at most EVC_SUBMIT_INFLIGHT_MAX (node_internal.h). */
static uint32_t inflight_limit(const struct evc_node *n) {
  uint64_t limit = 4ull * n->cfg.da_mempool_ttl_blocks + 4;
  return limit > EVC_SUBMIT_INFLIGHT_MAX ? EVC_SUBMIT_INFLIGHT_MAX : (uint32_t)limit;
}

static struct evc_submit_call *free_call(struct evc_node *n) {
  uint32_t limit = inflight_limit(n);
  if (n->sub.inflight >= limit) return NULL;
  for (uint32_t i = 0; i < limit; i++) {
    if (!n->sub.calls[i].busy) return &n->sub.calls[i];
  }
  return NULL;
}

/* Calls start at most every quarter DA block, so that one call carries every block made in
 * between, while a block still waits far less than a DA block before it is posted. */
static uint64_t spacing_ns(const struct evc_node *n) { return n->cfg.da_block_time_ns / 4; }

static void try_submit(struct evc_node *n) {
  struct evc_submitter *s = &n->sub;
  if (!s->running || s->retry_timer != 0 || !evc_node_is_running(n)) return;
  int rc = skip_included(n);
  if (rc != 0) return evc_node_fail(n, rc, "the submitter cannot read the store");
  if (s->next_height > n->chain.height) {
    evc_submitter_publish(n);
    evc_node_reevaluate(n);
    return;
  }
  struct evc_submit_call *call = free_call(n);
  if (call == NULL) return; /* a completion calls again */
  uint64_t now = n->env->mono_ns(n->env->ctx);
  if (s->submits_started > 0 && now < s->last_call_ns + spacing_ns(n)) {
    return arm_timer(n, s->last_call_ns + spacing_ns(n) - now);
  }
  struct submit_batch *b = calloc(1, sizeof *b);
  if (b == NULL) return evc_node_fail(n, EVC_ENOMEM, "the submitter cannot build a batch");
  rc = batch_build(n, b);
  if (rc == 0) {
    EVC_ASSERT(b->count > 0);
    call->from = s->next_height;
    call->to = s->next_height + b->count - 1;
    rc = n->env->da_submit(n->env->ctx, b->blobs, 2 * (size_t)b->count, submit_callback, call);
  }
  batch_release(b);
  if (rc != 0) {
    evc_logf(n->env, EVC_LOG_WARN, "event=da_submit_not_started error=%s", evc_errname(rc));
    return retry_later(n);
  }
  call->busy = true;
  s->inflight++;
  s->submits_started++;
  s->last_call_ns = now;
  s->next_height = call->to + 1;
  evc_submitter_publish(n);
}

static void submit_failed(struct evc_node *n, struct evc_submit_call *call, int status) {
  struct evc_submitter *s = &n->sub;
  uint64_t blocks = call->to - call->from + 1;
  if (call->from < s->next_height) s->next_height = call->from; /* post them again */
  if (status == EVC_ETOOBIG) {
    if (blocks == 1) return evc_node_fail(n, EVC_ETOOBIG, "DA refuses a single block as too big");
    s->batch_limit = (uint32_t)(blocks / 2);
    evc_logf(n->env, EVC_LOG_WARN, "event=da_batch_too_big blocks=%llu retry_blocks=%u",
             (unsigned long long)blocks, s->batch_limit);
    return;
  }
  if (status == EVC_ETIMEDOUT) {
    evc_logf(n->env, EVC_LOG_WARN, "event=da_submit_expired heights=%llu..%llu action=repost",
             (unsigned long long)call->from, (unsigned long long)call->to);
    return;
  }
  evc_logf(n->env, EVC_LOG_WARN, "event=da_submit_failed heights=%llu..%llu error=%s "
           "retry_in_ms=%llu", (unsigned long long)call->from, (unsigned long long)call->to,
           evc_errname(status), (unsigned long long)(s->backoff_ns / 1000000));
  retry_later(n);
}

static void submit_callback(void *arg, int status, uint64_t da_height) {
  struct evc_submit_call *call = arg;
  struct evc_node *n = call->node;
  struct evc_submitter *s = &n->sub;
  EVC_ASSERT(call->busy);
  EVC_ASSERT(s->inflight > 0);
  call->busy = false;
  s->inflight--;
  if (!evc_node_is_running(n)) return;
  if (status == 0) {
    /* Accepted is not yet final: the DA follower marks the blocks included when it finds
     * them first in DA order at their heights, and catches a twin's blocks if they are not. */
    evc_logf(n->env, EVC_LOG_INFO, "event=da_accepted heights=%llu..%llu da_height=%llu",
             (unsigned long long)call->from, (unsigned long long)call->to,
             (unsigned long long)da_height);
    s->backoff_ns = EVC_SUBMIT_BACKOFF_MIN_NS;
    s->submits_ok++;
    s->batch_limit = s->batch_limit * 2 > EVC_SUBMIT_BATCH_BLOCKS_MAX ? EVC_SUBMIT_BATCH_BLOCKS_MAX
                                                                      : s->batch_limit * 2;
  } else {
    submit_failed(n, call, status);
  }
  if (!evc_node_is_running(n)) return;
  evc_submitter_publish(n);
  try_submit(n);
  evc_node_reevaluate(n);
}
