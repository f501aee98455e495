/* The DA syncer: walks DA heights in order with a bounded read-ahead window, checks header
 * signatures off-loop in batches, pairs headers with data by data_hash, and applies blocks
 * strictly in height order, the first valid block in DA order winning each height. After
 * catchup it keeps running as the DA follower. It never applies a block out of height order
 * and never trusts a blob it has not validated. */
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/core/log.h"
#include "node/core/node_internal.h"

#define EVC_APPLY_BATCH_UNITS_MAX 256u /* store units (blocks, marks) per batch transaction */

static void pump(struct evc_node *n);
static void d0_observe(struct evc_node *n, uint64_t height, bool head_answer);
static void request_ahead(struct evc_node *n);

static uint64_t poll_interval_ns(const struct evc_node *n) {
  uint64_t t = n->cfg.da_block_time_ns / 4;
  if (t < 10000000ull) t = 10000000ull;
  if (t > 1000000000ull) t = 1000000000ull;
  return t;
}

static struct evc_da_slot *slot_for(struct evc_node *n, uint64_t da_height) {
  return &n->da.slots[da_height % n->da.window];
}

static void slot_clear(struct evc_da_slot *s) {
  free(s->bytes);
  free(s->items);
  s->bytes = NULL;
  s->items = NULL;
  s->size = 0;
  s->item_count = 0;
  s->state = EVC_SLOT_EMPTY;
}

static void pending_release(struct evc_da_pending *p) {
  free(p->bytes);
  p->bytes = NULL;
}

int evc_da_sync_init(struct evc_node *n) {
  struct evc_da_sync *d = &n->da;
  memset(d, 0, sizeof *d);
  d->window = n->cfg.da_read_ahead;
  if (d->window < 2) d->window = 2;
  if (d->window > EVC_DA_WINDOW_MAX) d->window = EVC_DA_WINDOW_MAX;
  d->headers = calloc(EVC_DA_PENDING_MAX, sizeof *d->headers);
  d->datas = calloc(EVC_DA_PENDING_MAX, sizeof *d->datas);
  d->candidates = calloc(EVC_DA_CANDIDATES_MAX, sizeof *d->candidates);
  if (d->headers == NULL || d->datas == NULL || d->candidates == NULL) {
    evc_da_sync_free(n);
    return EVC_ENOMEM;
  }
  for (uint32_t i = 0; i < EVC_DA_WINDOW_MAX; i++) d->slots[i].node = n;
  d->verify.node = n;
  return 0;
}

void evc_da_sync_free(struct evc_node *n) {
  struct evc_da_sync *d = &n->da;
  for (uint32_t i = 0; i < EVC_DA_WINDOW_MAX; i++) slot_clear(&d->slots[i]);
  for (uint32_t i = 0; i < d->header_count; i++) pending_release(&d->headers[i]);
  for (uint32_t i = 0; i < d->data_count; i++) pending_release(&d->datas[i]);
  for (uint32_t i = 0; i < d->candidate_count; i++) evc_block_release(&d->candidates[i].block);
  free(d->headers);
  free(d->datas);
  free(d->candidates);
  d->headers = NULL;
  d->datas = NULL;
  d->candidates = NULL;
  d->header_count = d->data_count = d->candidate_count = 0;
}

bool evc_da_sync_caught_up(const struct evc_node *n) {
  const struct evc_da_sync *d = &n->da;
  return d->future_at == d->next_process && d->next_process > d->head && !d->verify.busy;
}

uint64_t evc_da_sync_highest_candidate(const struct evc_node *n) {
  const struct evc_da_sync *d = &n->da;
  return d->candidate_count == 0 ? 0 : d->candidates[d->candidate_count - 1].block.sh.header.height;
}

/* ---- conflicts and known heights ---- */

static void report_equivocation(struct evc_node *n, const struct evc_block *b, const char *what) {
  char hash_hex[2 * EVC_HASH_SIZE + 1];
  evc_hex_encode(b->hash, EVC_HASH_SIZE, hash_hex);
  n->equivocations++;
  evc_logf(n->env, EVC_LOG_WARN, "event=equivocation height=%llu hash=%s detail=\"%s\"",
           (unsigned long long)b->sh.header.height, hash_hex, what);
  evc_node_observe(n, EVC_OBS_EQUIVOCATION, b->sh.header.height, b->hash, 0, what);
}

/* An aggregator that is producing (or about to) must be the only signer of new blocks. */
static bool own_key_watch(const struct evc_node *n) {
  return n->cfg.aggregator && (n->mode == EVC_MODE_DRAINING || n->mode == EVC_MODE_PRODUCING);
}

static void own_key_conflict(struct evc_node *n, const struct evc_block *b) {
  report_equivocation(n, b, "a block signed by this node's key that it did not produce");
  evc_node_counter(n, "own_key_conflicts_detected", 1);
  evc_node_fail(n, EVC_ECONFLICT,
                "another instance is signing with this node's key: a block it did not produce "
                "is on DA");
}

/* A complete DA block at a height the store already holds. Sets *rolled_back when the
 * stored block was soft and lost to this one: the caller then treats it as a candidate. */
static int handle_known(struct evc_node *n, const struct evc_block *b, uint64_t da_height,
                        bool *rolled_back) {
  *rolled_back = false;
  uint64_t height = b->sh.header.height;
  struct evc_block_record rec;
  int rc = evc_store_get_block(n->store, height, &rec);
  if (rc != 0) return rc;
  bool same = memcmp(rec.hash, b->hash, EVC_HASH_SIZE) == 0;
  uint64_t stored_da = rec.da_height;
  evc_block_record_release(&rec);
  if (same) {
    if (stored_da != 0) return 0; /* a re-post: identical blobs are harmless */
    return evc_chain_mark_included(n, height, height, da_height);
  }
  if (own_key_watch(n)) {
    own_key_conflict(n, b);
    return 0;
  }
  if (stored_da != 0) {
    /* Later in DA order than the final block we hold: it loses everywhere. */
    report_equivocation(n, b, "a second block for a height, later in DA order: discarded");
    return 0;
  }
  /* Our block is soft (from a peer) and DA decided otherwise: DA wins. */
  report_equivocation(n, b, "DA holds a different block than the soft one from a peer");
  rc = evc_chain_rollback_soft(n, height - 1);
  if (rc == 0) *rolled_back = true;
  return rc;
}

/* ---- candidates: complete blocks above the local height ---- */

static bool candidate_before(const struct evc_da_candidate *a, const struct evc_da_candidate *b) {
  uint64_t ha = a->block.sh.header.height, hb = b->block.sh.header.height;
  if (ha != hb) return ha < hb;
  if (a->da_height != b->da_height) return a->da_height < b->da_height;
  return a->da_index < b->da_index;
}

static void candidate_remove(struct evc_node *n, uint32_t index) {
  struct evc_da_sync *d = &n->da;
  EVC_ASSERT(index < d->candidate_count);
  evc_block_release(&d->candidates[index].block);
  memmove(&d->candidates[index], &d->candidates[index + 1],
          (d->candidate_count - index - 1) * sizeof *d->candidates);
  d->candidate_count--;
}

/* Takes ownership of b. */
static int candidate_add(struct evc_node *n, struct evc_block *b, uint64_t da_height,
                         uint32_t da_index) {
  struct evc_da_sync *d = &n->da;
  uint64_t height = b->sh.header.height;
  if (height <= n->chain.height) {
    bool rolled_back = false;
    int rc = handle_known(n, b, da_height, &rolled_back);
    if (rc != 0 || !rolled_back) {
      evc_block_release(b);
      return rc;
    }
  }
  if (own_key_watch(n)) {
    own_key_conflict(n, b);
    evc_block_release(b);
    return 0;
  }
  for (uint32_t i = 0; i < d->candidate_count; i++) {
    if (memcmp(d->candidates[i].block.hash, b->hash, EVC_HASH_SIZE) == 0) {
      evc_block_release(b); /* the same block again: the first copy keeps its DA position */
      return 0;
    }
  }
  if (d->candidate_count == EVC_DA_CANDIDATES_MAX) {
    evc_logf(n->env, EVC_LOG_WARN, "event=da_candidate_dropped height=%llu reason=\"full\"",
             (unsigned long long)height);
    evc_node_counter(n, "da_candidates_dropped", 1);
    evc_block_release(b);
    return 0;
  }
  struct evc_da_candidate c = {.block = *b, .da_height = da_height, .da_index = da_index};
  uint32_t at = d->candidate_count;
  while (at > 0 && candidate_before(&c, &d->candidates[at - 1])) at--;
  memmove(&d->candidates[at + 1], &d->candidates[at], (d->candidate_count - at) * sizeof c);
  d->candidates[at] = c;
  d->candidate_count++;
  memset(b, 0, sizeof *b);
  return 0;
}

/* Drops the candidates at or below the local height; reports the ones that differ. */
static int prune_candidates(struct evc_node *n) {
  struct evc_da_sync *d = &n->da;
  while (d->candidate_count > 0 && d->candidates[0].block.sh.header.height <= n->chain.height) {
    struct evc_da_candidate *c = &d->candidates[0];
    bool rolled_back = false;
    int rc = handle_known(n, &c->block, c->da_height, &rolled_back);
    if (rc != 0) return rc;
    if (!rolled_back) candidate_remove(n, 0);
  }
  return 0;
}

/* Tries the candidates for height local + 1 in DA order: the first that validates is
 * applied; the ones before it that fail validation or do not link are dropped for good
 * (the local block below them is final in this node's chain). */
static int apply_next_height(struct evc_node *n, bool *applied) {
  struct evc_da_sync *d = &n->da;
  *applied = false;
  while (d->candidate_count > 0 &&
         d->candidates[0].block.sh.header.height == n->chain.height + 1) {
    struct evc_da_candidate *c = &d->candidates[0];
    int rc = evc_chain_check_next(n, &c->block);
    if (rc == 0 && own_key_watch(n)) {
      own_key_conflict(n, &c->block);
      return 0;
    }
    if (rc == 0) rc = evc_chain_apply(n, &c->block, c->da_height, false);
    if (rc == 0) {
      if (n->mode == EVC_MODE_CATCHING_UP && n->d0_set && c->da_height > n->d0) {
        evc_node_counter(n, "late_blobs_landed", 1);
      }
      candidate_remove(n, 0);
      *applied = true;
      return 0;
    }
    if (rc != EVC_EAPPHASH && rc != EVC_EVALIDATE && rc != EVC_ECHAIN) return rc;
    evc_logf(n->env, EVC_LOG_WARN, "event=da_block_rejected height=%llu da_height=%llu reason=%s",
             (unsigned long long)c->block.sh.header.height, (unsigned long long)c->da_height,
             evc_errname(rc));
    if (rc == EVC_ECHAIN) report_equivocation(n, &c->block, "a block that does not extend the chain");
    candidate_remove(n, 0);
  }
  return 0;
}

/* Applies every candidate that extends the chain, in height order. Returns a store error. */
static int apply_candidates(struct evc_node *n) {
  for (;;) {
    int rc = prune_candidates(n);
    if (rc != 0 || !evc_node_is_running(n)) return rc;
    bool applied = false;
    rc = apply_next_height(n, &applied);
    if (rc != 0 || !applied) return rc;
    evc_node_after_apply(n);
  }
}

/* ---- pairing headers with data ---- */

static void pending_remove(struct evc_da_pending *arr, uint32_t *count, uint32_t index) {
  EVC_ASSERT(index < *count);
  pending_release(&arr[index]);
  memmove(&arr[index], &arr[index + 1], (*count - index - 1) * sizeof *arr);
  (*count)--;
}

/* Drops the entries found more than ttl DA heights below da_height: a prefix, since entries
 * are kept in DA order. One move for the whole prefix (the arrays hold up to
 * EVC_DA_PENDING_MAX entries; removing one at a time cost a move of the rest each). */
static uint32_t pending_expire_prefix(struct evc_da_pending *arr, uint32_t *count, uint64_t ttl,
                                      uint64_t da_height) {
  uint32_t k = 0;
  while (k < *count && arr[k].da_height + ttl < da_height) pending_release(&arr[k++]);
  if (k > 0) {
    memmove(&arr[0], &arr[k], (*count - k) * sizeof *arr);
    *count -= k;
  }
  return k;
}

/* Drops headers whose data did not appear within L DA blocks, and data likewise. */
static void pending_expire(struct evc_node *n, uint64_t da_height) {
  struct evc_da_sync *d = &n->da;
  uint64_t ttl = n->cfg.da_mempool_ttl_blocks;
  uint32_t headers = pending_expire_prefix(d->headers, &d->header_count, ttl, da_height);
  if (headers > 0) evc_node_counter(n, "da_headers_expired", headers);
  pending_expire_prefix(d->datas, &d->data_count, ttl, da_height);
}

static int pending_push(struct evc_node *n, struct evc_da_pending *arr, uint32_t *count,
                        const struct evc_da_pending *p) {
  if (*count == EVC_DA_PENDING_MAX) {
    evc_node_counter(n, "da_pending_dropped", 1);
    return EVC_EFULL;
  }
  uint8_t *copy = malloc(p->size > 0 ? p->size : 1);
  if (copy == NULL) return EVC_ENOMEM;
  if (p->size > 0) memcpy(copy, p->bytes, p->size);
  arr[*count] = *p;
  arr[*count].bytes = copy;
  (*count)++;
  return 0;
}

/* A header and the data it names by data_hash: the header was decoded, hashed and verified
 * when it was fetched, and the pairing compared the data's SHA-256 with data_hash. */
static int complete(struct evc_node *n, const struct evc_signed_header *sh,
                    const uint8_t block_hash[EVC_HASH_SIZE], const uint8_t *header,
                    size_t header_size, const uint8_t *data, size_t data_size, uint64_t da_height,
                    uint32_t index) {
  struct evc_block b;
  int rc = evc_block_from_decoded(sh, block_hash, header, header_size, data, data_size, &b);
  if (rc != 0) return rc;
  return candidate_add(n, &b, da_height, index);
}

static bool header_seen(const struct evc_node *n, const uint8_t hash[EVC_HASH_SIZE]) {
  const struct evc_da_sync *d = &n->da;
  for (uint32_t i = 0; i < d->header_count; i++) {
    if (memcmp(d->headers[i].block_hash, hash, EVC_HASH_SIZE) == 0) return true;
  }
  return false;
}

static int take_header(struct evc_node *n, const struct evc_da_slot *s, const struct evc_da_item *it) {
  struct evc_da_sync *d = &n->da;
  const uint8_t *bytes = s->bytes + it->offset;
  if (header_seen(n, it->hash)) return 0;
  for (uint32_t i = 0; i < d->data_count; i++) {
    if (memcmp(d->datas[i].hash, it->sh.header.data_hash, EVC_HASH_SIZE) == 0) {
      return complete(n, &it->sh, it->hash, bytes, it->size, d->datas[i].bytes, d->datas[i].size,
                      s->da_height, it->index);
    }
  }
  struct evc_da_pending p = {.da_height = s->da_height, .index = it->index, .bytes = (uint8_t *)bytes,
                             .size = it->size, .sh = it->sh};
  memcpy(p.hash, it->sh.header.data_hash, EVC_HASH_SIZE);
  memcpy(p.block_hash, it->hash, EVC_HASH_SIZE);
  int rc = pending_push(n, d->headers, &d->header_count, &p);
  return rc == EVC_EFULL ? 0 : rc;
}

static int take_data(struct evc_node *n, const struct evc_da_slot *s, const struct evc_da_item *it) {
  struct evc_da_sync *d = &n->da;
  const uint8_t *bytes = s->bytes + it->offset;
  for (uint32_t i = 0; i < d->data_count; i++) {
    if (memcmp(d->datas[i].hash, it->hash, EVC_HASH_SIZE) == 0) return 0; /* duplicate */
  }
  uint32_t i = 0;
  while (i < d->header_count) {
    if (memcmp(d->headers[i].hash, it->hash, EVC_HASH_SIZE) != 0) {
      i++;
      continue;
    }
    int rc = complete(n, &d->headers[i].sh, d->headers[i].block_hash, d->headers[i].bytes,
                      d->headers[i].size, bytes, it->size, s->da_height, it->index);
    pending_remove(d->headers, &d->header_count, i);
    if (rc != 0 || !evc_node_is_running(n)) return rc;
  }
  struct evc_da_pending p = {.da_height = s->da_height, .index = it->index,
                             .bytes = (uint8_t *)bytes, .size = it->size};
  memcpy(p.hash, it->hash, EVC_HASH_SIZE);
  int rc = pending_push(n, d->datas, &d->data_count, &p);
  return rc == EVC_EFULL ? 0 : rc;
}

#define EVC_REJECTED_WARN_INTERVAL_NS 10000000000ull /* 10 s */

/* Blobs in our namespaces that are not ours are ignored, the same on every node, but an
 * operator must hear of them (a misconfigured or hostile poster): one warning with the
 * counts at most every 10 s, so a flood cannot flood the log. */
static void note_rejected(struct evc_node *n, uint64_t da_height, bool bad_signature) {
  struct evc_da_sync *d = &n->da;
  evc_node_counter(n, bad_signature ? "da_bad_signatures" : "da_junk_blobs", 1);
  if (bad_signature) {
    d->rejected_bad_sig++;
  } else {
    d->rejected_junk++;
  }
  uint64_t now = n->env->mono_ns(n->env->ctx);
  if (evc_log_quiet(d->rejected_warn_ns, now, EVC_REJECTED_WARN_INTERVAL_NS)) return;
  evc_logf(n->env, EVC_LOG_WARN, "event=da_blobs_rejected da_height=%llu junk=%llu "
           "bad_signature=%llu detail=\"blobs in our namespaces that do not decode as this chain's, "
           "or whose header signature fails: ignored; counts since the last report\"",
           (unsigned long long)da_height, (unsigned long long)d->rejected_junk,
           (unsigned long long)d->rejected_bad_sig);
  d->rejected_junk = 0;
  d->rejected_bad_sig = 0;
  evc_log_stamp(&d->rejected_warn_ns, now);
}

/* Everything found at one DA height, in DA order. */
static int process_slot(struct evc_node *n, struct evc_da_slot *s) {
  EVC_ASSERT(s->state == EVC_SLOT_VERIFIED);
  pending_expire(n, s->da_height);
  for (uint32_t i = 0; i < s->item_count && evc_node_is_running(n); i++) {
    const struct evc_da_item *it = &s->items[i];
    int rc = 0;
    if (it->is_header && it->decoded && it->verified) {
      rc = take_header(n, s, it);
    } else if (!it->is_header && it->decoded) {
      rc = take_data(n, s, it);
    } else if (it->is_header && it->decoded) {
      note_rejected(n, s->da_height, true);
    }
    if (rc != 0) return rc;
  }
  return 0;
}

/* ---- fetching ---- */

static int item_compare(const void *a, const void *b) {
  const struct evc_da_item *x = a, *y = b;
  if (x->index != y->index) return x->index < y->index ? -1 : 1;
  if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
  return 0;
}

/* Decides what a blob is, cheaply, before any signature check. */
static void item_classify(const struct evc_node *n, const uint8_t *bytes, struct evc_da_item *it) {
  if (it->is_header) {
    if (evc_signed_header_decode(bytes, it->size, &it->sh) != 0) return;
    const struct evc_header *h = &it->sh.header;
    if (!evc_chain_id_equal(&h->chain_id, &n->cfg.genesis.chain_id)) return;
    if (memcmp(h->proposer, n->proposer, EVC_ADDRESS_SIZE) != 0) return;
    if (h->height < n->cfg.genesis.initial_height) return;
    if (evc_header_hash(h, it->hash) != 0) return;
    it->decoded = true;
    return;
  }
  struct evc_data data;
  if (evc_data_decode(bytes, it->size, &data) != 0) return;
  bool ours = evc_chain_id_equal(&data.chain_id, &n->cfg.genesis.chain_id);
  evc_data_release(&data);
  if (!ours) return;
  evc_sha256(bytes, it->size, it->hash);
  it->decoded = true;
}

/* Copies the blobs of our namespaces (bounded: beyond the caps they are dropped, the same on
 * every node) and classifies them. */
static int slot_fill(struct evc_node *n, struct evc_da_slot *s, const struct evc_da_blob *blobs,
                     size_t count) {
  size_t total = 0;
  uint32_t kept = 0;
  for (size_t i = 0; i < count && kept < EVC_DA_HEIGHT_BLOBS_MAX; i++) {
    if (blobs[i].size > EVC_DA_HEIGHT_BYTES_MAX - total) break;
    total += blobs[i].size;
    kept++;
  }
  s->bytes = malloc(total > 0 ? total : 1);
  s->items = calloc(kept > 0 ? kept : 1, sizeof *s->items);
  if (s->bytes == NULL || s->items == NULL) return EVC_ENOMEM;
  uint32_t headers = 0;
  size_t offset = 0;
  for (uint32_t i = 0; i < kept; i++) {
    bool is_header = memcmp(blobs[i].namespace_id, n->cfg.genesis.header_namespace,
                            EVC_NAMESPACE_SIZE) == 0;
    bool is_data = memcmp(blobs[i].namespace_id, n->cfg.genesis.data_namespace,
                          EVC_NAMESPACE_SIZE) == 0;
    if (!is_header && !is_data) continue;
    struct evc_da_item *it = &s->items[s->item_count++];
    it->is_header = is_header;
    it->index = blobs[i].index;
    it->offset = offset;
    it->size = blobs[i].size;
    if (blobs[i].size > 0) memcpy(s->bytes + offset, blobs[i].bytes, blobs[i].size);
    offset += blobs[i].size;
    if (is_header && headers == EVC_DA_HEIGHT_HEADERS_MAX) continue; /* junk cap */
    item_classify(n, s->bytes + it->offset, it);
    if (it->is_header && it->decoded) headers++;
    if (!it->decoded) note_rejected(n, s->da_height, false);
  }
  s->size = offset;
  qsort(s->items, s->item_count, sizeof *s->items, item_compare);
  return 0;
}

static void da_get_callback(void *arg, int status, const struct evc_da_blob *blobs, size_t count) {
  struct evc_da_slot *s = arg;
  struct evc_node *n = s->node;
  EVC_ASSERT(s->state == EVC_SLOT_REQUESTED);
  s->state = EVC_SLOT_EMPTY;
  if (!evc_node_is_running(n)) return;
  if (status == EVC_EFUTURE) {
    if (s->da_height == n->da.next_process) n->da.future_at = s->da_height;
    evc_node_reevaluate(n);
    return;
  }
  if (status != 0) {
    if (n->da.error_streak++ == 0) {
      evc_logf(n->env, EVC_LOG_WARN, "event=da_get_failed da_height=%llu error=%s retry=poll",
               (unsigned long long)s->da_height, evc_errname(status));
    }
    return;
  }
  if (n->da.error_streak > 0) {
    evc_logf(n->env, EVC_LOG_INFO, "event=da_recovered failures=%u", n->da.error_streak);
    n->da.error_streak = 0;
  }
  int rc = slot_fill(n, s, blobs, count);
  if (rc != 0) {
    slot_clear(s);
    evc_node_fail(n, rc, "cannot hold a DA height in memory");
    return;
  }
  s->state = EVC_SLOT_FETCHED;
  if (s->da_height > n->da.head) n->da.head = s->da_height; /* a fetched height exists */
  d0_observe(n, s->da_height, false);
  pump(n);
}

static int request_slot(struct evc_node *n, uint64_t da_height) {
  struct evc_da_slot *s = slot_for(n, da_height);
  EVC_ASSERT(s->state == EVC_SLOT_EMPTY);
  slot_clear(s);
  s->da_height = da_height;
  const uint8_t(*ns)[EVC_NAMESPACE_SIZE] = (const uint8_t(*)[EVC_NAMESPACE_SIZE])n->da_namespaces;
  int rc = n->env->da_get(n->env->ctx, da_height, ns, 2, da_get_callback, s);
  if (rc == 0) s->state = EVC_SLOT_REQUESTED;
  return rc;
}

/* ---- signature checks, off the core's thread ---- */

/* Runs off-loop: reads only the job's inputs, writes only its ok[] results. */
static void verify_work(void *arg) {
  struct evc_verify_job *job = arg;
  for (uint32_t i = 0; i < job->count; i++) {
    job->ok[i] = evc_verify(job->pubkey, job->messages[i], job->sizes[i], job->signatures[i]) == 0;
  }
}

static void verify_done(void *arg, int status) {
  struct evc_verify_job *job = arg;
  struct evc_node *n = job->node;
  EVC_ASSERT(job->busy);
  job->busy = false;
  for (uint64_t h = job->first_da_height; h <= job->last_da_height; h++) {
    struct evc_da_slot *s = slot_for(n, h);
    EVC_ASSERT(s->da_height == h);
    EVC_ASSERT(s->state == EVC_SLOT_VERIFYING);
    s->state = status == 0 ? EVC_SLOT_VERIFIED : EVC_SLOT_FETCHED;
  }
  if (status == 0) {
    for (uint32_t i = 0; i < job->count; i++) job->items[i]->verified = job->ok[i];
  }
  job->count = 0;
  if (evc_node_is_running(n)) pump(n);
}

static uint32_t slot_header_count(const struct evc_da_slot *s) {
  uint32_t count = 0;
  for (uint32_t i = 0; i < s->item_count; i++) count += s->items[i].is_header && s->items[i].decoded;
  return count;
}

static void job_add_slot(struct evc_verify_job *job, struct evc_da_slot *s) {
  for (uint32_t i = 0; i < s->item_count; i++) {
    struct evc_da_item *it = &s->items[i];
    if (!it->is_header || !it->decoded) continue;
    EVC_ASSERT(job->count < EVC_VERIFY_BATCH_MAX);
    EVC_ASSERT(it->size > 1 + EVC_SIG_SIZE);
    const uint8_t *bytes = s->bytes + it->offset;
    job->messages[job->count] = bytes + 1; /* the header encoding inside the signed header */
    job->sizes[job->count] = it->size - 1 - EVC_SIG_SIZE;
    job->signatures[job->count] = bytes + it->size - EVC_SIG_SIZE;
    job->items[job->count] = it;
    job->count++;
  }
  s->state = EVC_SLOT_VERIFYING;
}

/* Batches the headers of consecutive fetched DA heights into one off-loop check. Heights
 * without headers need no check and pass straight through. */
static void start_verify(struct evc_node *n) {
  struct evc_verify_job *job = &n->da.verify;
  if (job->busy) return;
  job->count = 0;
  /* At most half the window per job: the other half is fetched and applied meanwhile, so a
   * runtime with a thread pool checks one half while the core applies the other. */
  uint32_t slots_max = n->da.window / 2;
  uint32_t slots = 0;
  uint64_t h = n->da.next_process;
  for (; h < n->da.next_request && slots < slots_max; h++) {
    struct evc_da_slot *s = slot_for(n, h);
    if (s->da_height != h) break;
    if (s->state == EVC_SLOT_VERIFIED) continue;
    if (s->state != EVC_SLOT_FETCHED) break;
    uint32_t headers = slot_header_count(s);
    if (headers == 0 && job->count == 0) {
      s->state = EVC_SLOT_VERIFIED;
      continue;
    }
    if (job->count > 0 && job->count + headers > EVC_VERIFY_BATCH_MAX) break;
    if (job->count == 0) job->first_da_height = h;
    job_add_slot(job, s);
    slots++;
    job->last_da_height = h;
  }
  if (job->count == 0) return;
  memcpy(job->pubkey, n->cfg.genesis.proposer_pubkey, EVC_PUBKEY_SIZE);
  job->busy = true;
  int rc = n->env->work_submit(n->env->ctx, verify_work, job, verify_done, job);
  if (rc != 0) {
    job->busy = false;
    for (uint64_t k = job->first_da_height; k <= job->last_da_height; k++) {
      slot_for(n, k)->state = EVC_SLOT_FETCHED;
    }
    job->count = 0;
    evc_logf(n->env, EVC_LOG_WARN, "event=verify_submit_failed error=%s retry=poll",
             evc_errname(rc));
  }
}

/* ---- the pipeline ---- */

/* Blocks applied from DA go into the store in batches: one SQLite transaction per pump
 * (bounded by EVC_APPLY_BATCH_UNITS_MAX), each block still its own unit that validates,
 * executes and commits or rolls back alone. A batch never outlives the callback that opened
 * it, so no other path ever meets one open. */
static int batch_ensure(struct evc_node *n) {
  if (evc_store_batch_is_open(n->store)) return 0;
  return evc_store_batch_begin(n->store);
}

static int batch_flush(struct evc_node *n) {
  if (!evc_store_batch_is_open(n->store)) return 0;
  int rc = evc_store_batch_commit(n->store, false);
  evc_store_chain_state(n->store, &n->chain); /* on failure: what is on disk */
  return rc;
}

/* The read-ahead asks for heights up to the head + 1 early; an answer "from the future" (or
 * a failure) for one of them while lower heights still applied left its slot empty. When the
 * syncer reaches that height, ask again at once instead of on the next poll: at the end of a
 * catchup that poll was the whole wait between the last block applied and "caught up". */
static void ask_again_if_answered_early(struct evc_node *n) {
  struct evc_da_sync *d = &n->da;
  if (d->next_process >= d->next_request) return;
  if (slot_for(n, d->next_process)->state != EVC_SLOT_EMPTY) return;
  (void)request_slot(n, d->next_process); /* on failure the poll timer asks again */
}

static int process_ready(struct evc_node *n, bool *progress) {
  for (;;) {
    struct evc_da_slot *s = slot_for(n, n->da.next_process);
    if (s->da_height != n->da.next_process || s->state != EVC_SLOT_VERIFIED) return 0;
    int rc = batch_ensure(n);
    if (rc == 0) rc = process_slot(n, s);
    slot_clear(s);
    n->da.next_process++;
    *progress = true;
    ask_again_if_answered_early(n);
    if (rc == 0) rc = apply_candidates(n);
    if (rc == 0 && evc_store_batch_units(n->store) >= EVC_APPLY_BATCH_UNITS_MAX) {
      rc = batch_flush(n);
    }
    if (rc != 0 || !evc_node_is_running(n)) return rc;
    request_ahead(n); /* the freed slot fetches while the next heights apply */
    start_verify(n);  /* the next heights verify off-loop while this thread applies */
  }
}

static void request_ahead(struct evc_node *n) {
  struct evc_da_sync *d = &n->da;
  while (d->next_request < d->next_process + d->window && d->next_request <= d->head + 1) {
    if (slot_for(n, d->next_request)->state != EVC_SLOT_EMPTY) break;
    if (request_slot(n, d->next_request) != 0) break; /* retried by the poll timer */
    d->next_request++;
  }
}

static void pump(struct evc_node *n) {
  bool progress = true;
  while (progress && evc_node_is_running(n)) {
    progress = false;
    request_ahead(n);
    start_verify(n);
    int rc = process_ready(n, &progress);
    int flushed = batch_flush(n);
    if (rc == 0) rc = flushed;
    if (rc != 0) {
      evc_node_fail(n, rc, "cannot apply a block from DA");
      return;
    }
  }
  if (evc_node_is_running(n)) evc_node_reevaluate(n);
}

/* Re-asks for heights whose request failed or that were "from the future". */
static void rerequest(struct evc_node *n, uint64_t up_to) {
  struct evc_da_sync *d = &n->da;
  for (uint64_t h = d->next_process; h < d->next_request && h <= up_to; h++) {
    struct evc_da_slot *s = slot_for(n, h);
    if (s->state == EVC_SLOT_EMPTY && request_slot(n, h) != 0) return;
  }
}

/* d0, the settle wait's base, must be at least the DA head when this node started: the
 * lost sequencer submitted its last blobs at a head no higher. One head answer can be stale
 * (a lagging DA node), so d0 is the highest DA height seen, from head answers and from
 * heights actually fetched, over a window of at least one DA block time, closed by a second
 * head answer that did not go backwards. */
static void d0_observe(struct evc_node *n, uint64_t height, bool head_answer) {
  struct evc_da_sync *d = &n->da;
  if (n->d0_set || n->mode != EVC_MODE_CATCHING_UP) return;
  uint64_t now = n->env->mono_ns(n->env->ctx);
  if (height > d->d0_candidate) d->d0_candidate = height;
  if (!head_answer) return;
  if (d->head_read_count == 0) {
    d->head_read_count = 1;
    d->d0_window_start_ns = now;
    d->head_reads[1] = height;
    return;
  }
  bool backwards = height < d->head_reads[1];
  d->head_reads[1] = height;
  if (backwards || now - d->d0_window_start_ns < n->cfg.da_block_time_ns) return;
  n->d0 = d->d0_candidate;
  n->d0_set = true;
  evc_logf(n->env, EVC_LOG_INFO, "event=settle_target d0=%llu until_da_head=%llu",
           (unsigned long long)n->d0,
           (unsigned long long)(n->d0 + n->cfg.da_mempool_ttl_blocks));
}

static void da_head_callback(void *arg, int status, uint64_t head) {
  struct evc_node *n = arg;
  struct evc_da_sync *d = &n->da;
  d->head_inflight = false;
  if (!evc_node_is_running(n) || status != 0) return;
  if (head > d->head) {
    d->head = head;
    rerequest(n, head);
  }
  d0_observe(n, head, true);
  pump(n);
}

static void request_head(struct evc_node *n) {
  if (n->da.head_inflight) return;
  if (n->env->da_head(n->env->ctx, da_head_callback, n) == 0) n->da.head_inflight = true;
}

static void poll_timer_callback(void *arg) {
  struct evc_node *n = arg;
  n->da.poll_timer = 0;
  if (!evc_node_is_running(n)) return;
  request_head(n);
  rerequest(n, UINT64_MAX);
  pump(n);
  if (evc_node_is_running(n)) {
    n->env->timer_start(n->env->ctx, poll_interval_ns(n), poll_timer_callback, n, &n->da.poll_timer);
  }
}

/* Where to resume: a little before the DA height of the last final block, so a header whose
 * data lands later is paired again; from the genesis DA height on an empty store. */
static uint64_t resume_da_height(struct evc_node *n) {
  uint64_t start = n->cfg.genesis.da_start_height;
  if (n->chain.da_included_height < n->cfg.genesis.initial_height) return start;
  struct evc_block_record rec;
  if (evc_store_get_block(n->store, n->chain.da_included_height, &rec) != 0) return start;
  uint64_t at = rec.da_height;
  evc_block_record_release(&rec);
  uint64_t back = (uint64_t)n->cfg.da_mempool_ttl_blocks + 1;
  return at > start + back ? at - back : start;
}

int evc_da_sync_start(struct evc_node *n) {
  struct evc_da_sync *d = &n->da;
  d->next_process = d->next_request = resume_da_height(n);
  d->head = d->next_process - 1;
  evc_logf(n->env, EVC_LOG_INFO, "event=da_sync_start da_height=%llu",
           (unsigned long long)d->next_process);
  request_head(n);
  int rc = n->env->timer_start(n->env->ctx, poll_interval_ns(n), poll_timer_callback, n,
                               &d->poll_timer);
  if (rc != 0) return rc;
  pump(n);
  return 0;
}
