/* The executor interface (init chain, execute a block's txs, roll back, prune undo records)
 * and the built-in deterministic key/value executor, whose state lives in the store's SQLite
 * database and changes only inside the store's open transaction. Nothing here may depend on
 * time, randomness or iteration order: every node must compute the same app hash. */
#ifndef EVC_EXEC_EXEC_H
#define EVC_EXEC_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "node/store/store.h"
#include "node/types/types.h"

struct evc_exec_ops {
  /* The app hash of the empty state (the chain's state before its first block). */
  int (*init_chain)(void *impl, uint8_t app_hash_out[EVC_HASH_SIZE]);
  /* Applies a block's txs inside the store's open transaction; height must be above every
   * height executed so far. A tx that breaks the executor's rules is skipped, never an error. */
  int (*execute)(void *impl, uint64_t height, const struct evc_tx *txs, uint32_t tx_count,
                 uint8_t app_hash_out[EVC_HASH_SIZE]);
  /* Inside the open transaction: undoes every block above height; EVC_ESTATE when their
   * undo records were pruned. */
  int (*rollback_to)(void *impl, uint64_t height, uint8_t app_hash_out[EVC_HASH_SIZE]);
  /* Inside the open transaction: forgets undo records at or below a final height. */
  int (*prune_undo)(void *impl, uint64_t final_height);
};

struct evc_exec {
  const struct evc_exec_ops *ops;
  void *impl;
};

/* ---- the key/value executor ----
 * A tx is "key=value": key 1..64 bytes of [A-Za-z0-9._-], then '=', then a value of
 * 0..1024 printable ASCII bytes (0x20..0x7e; '=' allowed). A later tx for a key replaces
 * its value; "" is a value like any other; there is no delete. The app hash is
 * SHA-256("evc-kv-state-v1" || accumulator || u64 entry_count), where the accumulator is the
 * sum mod 2^256 (big-endian) of SHA-256("evc-kv-entry" || u32 keylen || key || u32 vallen ||
 * value) over every entry: the same entries give the same hash whatever the history. */

#define EVC_KV_KEY_SIZE_MAX 64u
#define EVC_KV_VALUE_SIZE_MAX 1024u

/* Creates the executor's tables if absent (its own transaction: none may be open) and fills
 * out. The executor keeps its prepared statements until evc_kv_exec_close; the store must
 * outlive it. EVC_ENOMEM, EVC_EIO, EVC_ECORRUPT (its state row is malformed). */
int evc_kv_exec_init(struct evc_store *store, struct evc_exec *out);
void evc_kv_exec_close(struct evc_exec *e);
/* Mempool admission: 0 when tx follows the rules above, EVC_EINVAL otherwise. */
int evc_kv_check_tx(const uint8_t *tx, size_t size);
/* The app hash of the empty state, without a store (for genesis, before opening one). */
void evc_kv_empty_app_hash(uint8_t out[EVC_HASH_SIZE]);
/* Txs skipped as invalid by execute since init (in this process, aborted blocks included). */
uint64_t evc_kv_skipped_tx_count(const struct evc_exec *e);
/* Reads the value of key into value (capacity EVC_KV_VALUE_SIZE_MAX) and its size; for RPC
 * and tests. EVC_ENOTFOUND, EVC_ECORRUPT, EVC_EIO. */
int evc_kv_get(const struct evc_exec *e, const uint8_t *key, size_t key_size, uint8_t *value,
               size_t *value_size_out);

#endif
