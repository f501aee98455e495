/* Block production on an aggregator: the mempool, the block-time timer, and the signing
 * order that makes a double signature impossible: the sign state naming the block is durable
 * before the signature leaves the process, and the block's store commit is synced before the
 * block leaves the node. It never signs a height at or below the sign state's S (unless the
 * operator's --catchup.da-only override was taken). */
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/core/log.h"
#include "node/core/node_internal.h"

/* ---- mempool: a bounded FIFO of admitted txs ---- */

int evc_mempool_init(struct evc_mempool *m, uint32_t capacity) {
  memset(m, 0, sizeof *m);
  EVC_ASSERT(capacity > 0);
  m->txs = calloc(capacity, sizeof *m->txs);
  m->sizes = calloc(capacity, sizeof *m->sizes);
  if (m->txs == NULL || m->sizes == NULL) {
    evc_mempool_free(m);
    return EVC_ENOMEM;
  }
  m->capacity = capacity;
  return 0;
}

void evc_mempool_free(struct evc_mempool *m) {
  for (uint32_t i = 0; i < m->count; i++) free(m->txs[(m->head + i) % m->capacity]);
  free(m->txs);
  free(m->sizes);
  memset(m, 0, sizeof *m);
}

static int mempool_push(struct evc_mempool *m, uint64_t bytes_max, const uint8_t *tx,
                        uint32_t size) {
  if (m->count == m->capacity || m->bytes + size > bytes_max) return EVC_EFULL;
  uint8_t *copy = malloc(size);
  if (copy == NULL) return EVC_ENOMEM;
  memcpy(copy, tx, size);
  uint32_t at = (m->head + m->count) % m->capacity;
  m->txs[at] = copy;
  m->sizes[at] = size;
  m->count++;
  m->bytes += size;
  return 0;
}

static void mempool_pop(struct evc_mempool *m, uint32_t count) {
  EVC_ASSERT(count <= m->count);
  for (uint32_t i = 0; i < count; i++) {
    free(m->txs[m->head]);
    m->bytes -= m->sizes[m->head];
    m->txs[m->head] = NULL;
    m->head = (m->head + 1) % m->capacity;
  }
  m->count -= count;
}

int evc_node_submit_tx(struct evc_node *n, const uint8_t *tx, size_t size,
                       uint8_t hash_out[EVC_HASH_SIZE]) {
  if (!n->cfg.aggregator || n->mode != EVC_MODE_PRODUCING) return EVC_ESTATE;
  if (size == 0 || size > EVC_TX_SIZE_MAX || evc_kv_check_tx(tx, size) != 0) return EVC_EINVAL;
  int rc = mempool_push(&n->mempool, n->cfg.mempool_bytes_max, tx, (uint32_t)size);
  if (rc == 0) evc_sha256(tx, size, hash_out);
  return rc;
}

/* ---- the sign state ---- */

int evc_signer_record(struct evc_node *n, const struct evc_block *b) {
  struct evc_sign_state next;
  int rc = evc_sign_state_init_block(b->header_bytes, b->header_size, b->data_bytes,
                                     b->data_size, &next);
  if (rc != 0) return rc;
  uint8_t *bytes = NULL;
  size_t size = 0;
  rc = evc_sign_state_encode(&next, &bytes, &size);
  if (rc == 0) rc = n->env->file_replace(n->env->ctx, EVC_SIGN_STATE_FILE, bytes, size);
  free(bytes);
  if (rc != 0) {
    evc_sign_state_release(&next);
    return rc;
  }
  evc_sign_state_release(&n->sign);
  n->sign = next;
  n->sign_loaded = true;
  evc_node_observe(n, EVC_OBS_BLOCK_SIGNED, b->sh.header.height, b->hash, 0, NULL);
  return 0;
}

/* ---- producing ---- */

/* The txs of the next block: the oldest admitted ones, as many as the block limits allow. */
static uint32_t take_txs(const struct evc_node *n, struct evc_tx *txs) {
  const struct evc_mempool *m = &n->mempool;
  uint32_t count = 0;
  size_t bytes = 0;
  while (count < m->count && count < n->cfg.block_txs_max) {
    uint32_t at = (m->head + count) % m->capacity;
    if (bytes + 4 + m->sizes[at] > EVC_DATA_SIZE_MAX - 1024) break;
    txs[count].bytes = m->txs[at];
    txs[count].size = m->sizes[at];
    bytes += 4 + m->sizes[at];
    count++;
  }
  return count;
}

static uint64_t next_time_ns(const struct evc_node *n) {
  uint64_t wall = n->env->wall_ns(n->env->ctx);
  uint64_t floor = n->chain.height < n->cfg.genesis.initial_height ? n->cfg.genesis.genesis_time_ns
                                                                    : n->last_time_ns + 1;
  return wall > floor ? wall : floor;
}

/* Builds, executes and signs the next block inside the open store transaction. */
static int build_block(struct evc_node *n, const struct evc_tx *txs, uint32_t tx_count,
                       struct evc_block *out) {
  memset(out, 0, sizeof *out);
  uint64_t height = n->chain.height + 1;
  struct evc_data data = {.chain_id = n->cfg.genesis.chain_id, .height = height,
                          .tx_count = tx_count, .txs = (struct evc_tx *)txs};
  size_t data_size = 0;
  int rc = evc_data_encode(&data, NULL, 0, &data_size);
  if (rc != 0) return rc;
  out->data_bytes = malloc(data_size);
  out->header_bytes = malloc(EVC_SIGNED_HEADER_SIZE_MAX);
  if (out->data_bytes == NULL || out->header_bytes == NULL) return EVC_ENOMEM;
  rc = evc_data_encode(&data, out->data_bytes, data_size, &out->data_size);
  if (rc != 0) return rc;
  struct evc_header *h = &out->sh.header;
  h->version = EVC_HEADER_VERSION;
  h->chain_id = n->cfg.genesis.chain_id;
  h->height = height;
  h->time_ns = next_time_ns(n);
  memcpy(h->last_header_hash, n->chain.last_hash, EVC_HASH_SIZE);
  evc_sha256(out->data_bytes, out->data_size, h->data_hash);
  memcpy(h->proposer, n->proposer, EVC_ADDRESS_SIZE);
  rc = n->exec.ops->execute(n->exec.impl, height, txs, tx_count, h->app_hash);
  if (rc != 0) return rc;
  rc = evc_signed_header_sign(&out->sh, n->signer.seckey);
  if (rc != 0) return rc;
  rc = evc_signed_header_encode(&out->sh, out->header_bytes, EVC_SIGNED_HEADER_SIZE_MAX,
                                &out->header_size);
  if (rc != 0) return rc;
  return evc_header_hash(h, out->hash);
}

/* The order that matters: execute, sign, sign state durable, store commit durable, publish. */
static int produce_block(struct evc_node *n) {
  uint64_t height = n->chain.height + 1;
  if (n->sign_loaded && n->sign.height >= height && !n->override_equivocation) {
    return EVC_ESIGNSTATE;
  }
  struct evc_tx txs[64];
  uint32_t tx_count = take_txs(n, txs);
  struct evc_block b;
  int rc = evc_store_begin(n->store);
  if (rc != 0) return rc;
  rc = build_block(n, txs, tx_count, &b);
  if (rc == 0) rc = evc_signer_record(n, &b);
  if (rc == 0) {
    rc = evc_store_put_block(n->store, height, b.hash, b.header_bytes, b.header_size,
                             b.data_bytes, b.data_size);
  }
  struct evc_chain_state next = n->chain;
  next.height = height;
  memcpy(next.last_hash, b.hash, EVC_HASH_SIZE);
  memcpy(next.app_hash, b.sh.header.app_hash, EVC_HASH_SIZE);
  if (rc == 0) rc = evc_store_set_chain_state(n->store, &next);
  if (rc != 0) {
    evc_store_abort(n->store);
    evc_block_release(&b);
    return rc;
  }
  rc = evc_store_commit(n->store, true);
  if (rc != 0) {
    evc_block_release(&b);
    return rc;
  }
  evc_store_chain_state(n->store, &n->chain);
  n->last_time_ns = b.sh.header.time_ns;
  mempool_pop(&n->mempool, tx_count);
  n->blocks_produced++;
  evc_node_observe(n, EVC_OBS_BLOCK_STORED, height, b.hash, 0, NULL);
  evc_node_observe(n, EVC_OBS_BLOCK_PRODUCED, height, b.hash, 0, NULL);
  char hex[2 * EVC_HASH_SIZE + 1];
  evc_hex_encode(b.hash, EVC_HASH_SIZE, hex);
  evc_logf(n->env, EVC_LOG_INFO, "event=block_produced height=%llu hash=%s txs=%u",
           (unsigned long long)height, hex, tx_count);
  evc_p2p_announce(n, &b);
  evc_block_release(&b);
  evc_submitter_notify(n);
  return 0;
}

static void produce_timer_callback(void *arg) {
  struct evc_node *n = arg;
  n->produce_timer = 0;
  if (n->mode != EVC_MODE_PRODUCING || n->stop_requested) return;
  int rc = produce_block(n);
  if (rc != 0) {
    evc_node_fail(n, rc, rc == EVC_ESIGNSTATE ? "the sign state forbids signing this height"
                                              : "block production failed");
    return;
  }
  rc = n->env->timer_start(n->env->ctx, n->cfg.block_time_ns, produce_timer_callback, n,
                           &n->produce_timer);
  if (rc != 0) evc_node_fail(n, rc, "cannot arm the block timer");
}

int evc_producer_start(struct evc_node *n) {
  EVC_ASSERT(n->mode == EVC_MODE_PRODUCING);
  EVC_ASSERT(n->produce_timer == 0);
  uint64_t first_ns = n->cfg.block_time_ns;
#ifdef EVC_CANARY_IGNORE_SIGN_STATE
  first_ns = 0; /* the canary signs at once, before DA or a peer can tell it otherwise */
#endif
  return n->env->timer_start(n->env->ctx, first_ns, produce_timer_callback, n, &n->produce_timer);
}

void evc_producer_stop(struct evc_node *n) {
  if (n->produce_timer != 0) n->env->timer_cancel(n->env->ctx, n->produce_timer);
  n->produce_timer = 0;
}
