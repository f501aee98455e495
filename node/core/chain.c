/* Validating and applying blocks: the one path every block takes into the store, whether it
 * came from DA, from a peer, from the sign state or from this node's own producer. It never
 * checks signatures itself (callers batch them) and never commits a block whose recomputed
 * app hash differs from its header's. */
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/core/log.h"
#include "node/core/node_internal.h"

void evc_block_release(struct evc_block *b) {
  free(b->header_bytes);
  free(b->data_bytes);
  memset(b, 0, sizeof *b);
}

static uint8_t *copy_bytes(const uint8_t *bytes, size_t size) {
  uint8_t *copy = malloc(size > 0 ? size : 1);
  if (copy != NULL && size > 0) memcpy(copy, bytes, size);
  return copy;
}

static int copy_block_bytes(const uint8_t *header, size_t header_size, const uint8_t *data,
                            size_t data_size, struct evc_block *out) {
  out->header_bytes = copy_bytes(header, header_size);
  out->data_bytes = copy_bytes(data, data_size);
  if (out->header_bytes == NULL || out->data_bytes == NULL) {
    evc_block_release(out);
    return EVC_ENOMEM;
  }
  out->header_size = header_size;
  out->data_size = data_size;
  return 0;
}

int evc_block_from_bytes(const uint8_t *header, size_t header_size, const uint8_t *data,
                         size_t data_size, struct evc_block *out) {
  memset(out, 0, sizeof *out);
  int rc = evc_signed_header_decode(header, header_size, &out->sh);
  if (rc != 0) return rc;
  rc = evc_header_hash(&out->sh.header, out->hash);
  if (rc != 0) return rc;
  return copy_block_bytes(header, header_size, data, data_size, out);
}

int evc_block_from_decoded(const struct evc_signed_header *sh, const uint8_t hash[EVC_HASH_SIZE],
                           const uint8_t *header, size_t header_size, const uint8_t *data,
                           size_t data_size, struct evc_block *out) {
  memset(out, 0, sizeof *out);
  out->sh = *sh;
  memcpy(out->hash, hash, EVC_HASH_SIZE);
  out->data_hash_checked = true;
  return copy_block_bytes(header, header_size, data, data_size, out);
}

int evc_chain_check_next(const struct evc_node *n, const struct evc_block *b) {
  const struct evc_header *h = &b->sh.header;
  const struct evc_genesis *g = &n->cfg.genesis;
  if (!evc_chain_id_equal(&h->chain_id, &g->chain_id)) return EVC_EVALIDATE;
  if (h->height != n->chain.height + 1) return EVC_ECHAIN;
  if (memcmp(h->proposer, n->proposer, EVC_ADDRESS_SIZE) != 0) return EVC_EVALIDATE;
  if (memcmp(h->last_header_hash, n->chain.last_hash, EVC_HASH_SIZE) != 0) return EVC_ECHAIN;
  if (h->height == g->initial_height) {
    if (h->time_ns < g->genesis_time_ns) return EVC_EVALIDATE;
  } else if (h->time_ns <= n->last_time_ns) {
    return EVC_EVALIDATE;
  }
  if (b->data_hash_checked) return 0;
  uint8_t data_hash[EVC_HASH_SIZE];
  evc_sha256(b->data_bytes, b->data_size, data_hash);
  if (memcmp(data_hash, h->data_hash, EVC_HASH_SIZE) != 0) return EVC_EVALIDATE;
  return 0;
}

/* Executes the block's txs inside the open transaction; EVC_EAPPHASH on a mismatch. */
static int execute_block(struct evc_node *n, const struct evc_block *b) {
  struct evc_data data;
  int rc = evc_data_decode(b->data_bytes, b->data_size, &data);
  if (rc != 0) return EVC_EVALIDATE;
  if (data.height != b->sh.header.height ||
      !evc_chain_id_equal(&data.chain_id, &b->sh.header.chain_id)) {
    evc_data_release(&data);
    return EVC_EVALIDATE;
  }
  uint8_t app_hash[EVC_HASH_SIZE];
  rc = n->exec.ops->execute(n->exec.impl, data.height, data.txs, data.tx_count, app_hash);
  evc_data_release(&data);
  if (rc != 0) return rc;
  if (memcmp(app_hash, b->sh.header.app_hash, EVC_HASH_SIZE) != 0) return EVC_EAPPHASH;
  return 0;
}

int evc_chain_apply(struct evc_node *n, const struct evc_block *b, uint64_t da_height,
                    bool durable) {
  EVC_ASSERT(b->sh.header.height == n->chain.height + 1);
  int rc = evc_store_begin(n->store);
  if (rc != 0) return rc;
  /* Store, set the chain state and mark first, execute last: all in one unit that commits
   * only when the recomputed app hash equals the header's. Marking first lets the executor
   * see that the block is final, so it keeps no undo records for it (a final block is never
   * rolled back: evc_store_rollback_to refuses). */
  struct evc_chain_state next = n->chain;
  next.height = b->sh.header.height;
  memcpy(next.last_hash, b->hash, EVC_HASH_SIZE);
  memcpy(next.app_hash, b->sh.header.app_hash, EVC_HASH_SIZE);
  if (da_height > 0) {
    rc = evc_store_put_final_block(n->store, b->sh.header.height, b->hash, b->header_bytes,
                                   b->header_size, b->data_bytes, b->data_size, da_height);
  } else {
    rc = evc_store_put_block(n->store, b->sh.header.height, b->hash, b->header_bytes,
                             b->header_size, b->data_bytes, b->data_size);
  }
  if (rc == 0) rc = evc_store_set_chain_state(n->store, &next);
  if (rc == 0) rc = execute_block(n, b);
  if (rc != 0) {
    evc_store_abort(n->store);
    return rc;
  }
  rc = evc_store_commit(n->store, durable);
  if (rc != 0) return rc;
  evc_store_chain_state(n->store, &n->chain);
  EVC_ASSERT(n->chain.height == b->sh.header.height);
  n->last_time_ns = b->sh.header.time_ns;
  n->blocks_applied++;
  evc_node_observe(n, EVC_OBS_BLOCK_STORED, next.height, b->hash, da_height, NULL);
  if (da_height > 0) {
    evc_node_observe(n, EVC_OBS_DA_INCLUDED, n->chain.da_included_height, NULL, da_height, NULL);
  }
  return 0;
}

/* Records that blocks from..to were found on DA at da_height, in one durable commit. */
int evc_chain_mark_included(struct evc_node *n, uint64_t from, uint64_t to, uint64_t da_height) {
  EVC_ASSERT(da_height > 0);
  EVC_ASSERT(from <= to);
  EVC_ASSERT(to <= n->chain.height);
  uint64_t before = n->chain.da_included_height;
  int rc = evc_store_begin(n->store);
  if (rc != 0) return rc;
  for (uint64_t h = from; h <= to && rc == 0; h++) {
    rc = evc_store_mark_da_included(n->store, h, da_height);
  }
  if (rc != 0) {
    evc_store_abort(n->store);
    return rc;
  }
  rc = evc_store_commit(n->store, true);
  if (rc != 0) return rc;
  evc_store_chain_state(n->store, &n->chain);
  if (n->chain.da_included_height != before) {
    evc_node_observe(n, EVC_OBS_DA_INCLUDED, n->chain.da_included_height, NULL, da_height, NULL);
    evc_submitter_publish(n);
    if (n->mode == EVC_MODE_PRODUCING) evc_node_reevaluate(n); /* a draining stop may be done */
  }
  return 0;
}

int evc_chain_load_block(struct evc_node *n, uint64_t height, struct evc_block *out,
                         uint64_t *da_height_out) {
  struct evc_block_record rec;
  int rc = evc_store_get_block(n->store, height, &rec);
  if (rc != 0) return rc;
  rc = evc_block_from_bytes(rec.header, rec.header_size, rec.data, rec.data_size, out);
  if (rc == 0 && memcmp(out->hash, rec.hash, EVC_HASH_SIZE) != 0) {
    evc_block_release(out);
    rc = EVC_ECORRUPT;
  }
  if (da_height_out != NULL) *da_height_out = rec.da_height;
  evc_block_record_release(&rec);
  return rc == EVC_EDECODE ? EVC_ECORRUPT : rc;
}

/* DA showed a different block at height + 1 than the soft one we hold: the DA chain wins.
 * Rolls the store and the executor back in one transaction, bounded by the configured
 * depth; beyond it the node halts rather than rewrite a long history. */
int evc_chain_rollback_soft(struct evc_node *n, uint64_t height) {
  EVC_ASSERT(height < n->chain.height);
  uint64_t depth = n->chain.height - height;
  if (depth > n->cfg.rollback_depth_max) {
    evc_node_fail(n, EVC_ERANGE, "a soft tail deeper than the rollback limit conflicts with DA");
    return EVC_ERANGE;
  }
  int rc = evc_store_rollback_to(n->store, height, &n->exec);
  /* Inside the DA syncer's batch, the rollback's durable commit only marks the batch
   * durable. Commit the batch now, so the rollback is on disk before it is reported: a
   * power cut must not bring back the blocks the node already said it dropped. */
  if (rc == 0 && evc_store_batch_is_open(n->store)) rc = evc_store_batch_commit(n->store, true);
  evc_store_chain_state(n->store, &n->chain); /* on failure: what is on disk */
  if (rc != 0) return rc;
  EVC_ASSERT(n->chain.height == height);
  n->last_time_ns = n->cfg.genesis.genesis_time_ns;
  if (height >= n->cfg.genesis.initial_height) {
    struct evc_block last;
    rc = evc_chain_load_block(n, height, &last, NULL);
    if (rc != 0) return rc;
    n->last_time_ns = last.sh.header.time_ns;
    evc_block_release(&last);
  }
  evc_logf(n->env, EVC_LOG_WARN, "event=soft_rollback to_height=%llu blocks=%llu reason=\"DA holds "
           "a different block\"", (unsigned long long)height, (unsigned long long)depth);
  evc_node_observe(n, EVC_OBS_ROLLED_BACK, height, n->chain.last_hash, depth, NULL);
  evc_node_counter(n, "soft_blocks_rolled_back", depth);
  return 0;
}
