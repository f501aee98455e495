/* The node core: one evc node (aggregator or full node) driven entirely through struct
 * evc_env. Runtimes (node/live on libuv, sim/ on a virtual clock) create it, deliver events
 * through evc_node_entry_points, and tear it down when it calls env->request_stop. */
#ifndef EVC_CORE_NODE_H
#define EVC_CORE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/core/catchup.h"
#include "node/core/env.h"
#include "node/types/types.h"

#define EVC_NODE_PEERS_MAX 32

struct evc_node;

struct evc_node_config {
  bool aggregator;
  struct evc_genesis genesis;
  uint8_t signer_seed[32]; /* aggregator only: the ed25519 seed of the genesis proposer key */
  uint64_t block_time_ns;
  uint64_t da_block_time_ns;
  uint32_t da_mempool_ttl_blocks; /* L: a blob lands within L DA blocks of its submission */
  uint64_t catchup_p2p_timeout_ns;
  uint64_t catchup_inbound_grace_ns;
  uint64_t catchup_peek_timeout_ns;
  uint64_t shutdown_timeout_ns;
  bool catchup_da_only;
  bool expect_head;
  uint64_t expect_head_height;
  uint8_t expect_head_hash[EVC_HASH_SIZE];
  uint32_t peer_count;
  char peers[EVC_NODE_PEERS_MAX][EVC_ADDRESS_TEXT_MAX]; /* --p2p.peers */
  /* limits */
  uint32_t mempool_txs_max;
  uint32_t mempool_bytes_max;
  uint32_t block_txs_max;
  uint32_t da_batch_bytes_max; /* header + data blobs of one Submit call */
  uint32_t da_read_ahead;      /* DA heights fetched ahead of the one being applied */
  uint32_t rollback_depth_max;
};

/* Fills the defaults of DESIGN.md (block time 1 s, DA block time 6 s, L = 10, waits...). */
void evc_node_config_defaults(struct evc_node_config *cfg);

/* Creates a node over env (which must outlive it). Does no I/O. EVC_ENOMEM, EVC_ECONFIG. */
int evc_node_new(struct evc_env *env, const struct evc_node_config *cfg, struct evc_node **out);
/* Opens the store, reads the sign state and begins catchup (aggregator) or syncing. An error
 * here is also reported through request_stop; the node must still be freed. */
int evc_node_start(struct evc_node *node);
/* Frees the node: closes the store (no other I/O) and forgets pending callbacks. The runtime
 * must not deliver any event to it afterwards. */
void evc_node_free(struct evc_node *node);

/* The entry points a runtime delivers events to; the node pointer is the `void *node`. */
extern const struct evc_node_entry evc_node_entry_points;

/* Admits a transaction to the mempool (aggregator). EVC_ESTATE while not producing (caught
 * up not yet), EVC_EINVAL for a malformed tx, EVC_EFULL when the mempool is full. */
int evc_node_submit_tx(struct evc_node *node, const uint8_t *tx, size_t size,
                       uint8_t hash_out[EVC_HASH_SIZE]);

struct evc_node_status {
  enum evc_mode mode;
  bool aggregator;
  uint64_t height;
  uint8_t last_hash[EVC_HASH_SIZE];
  uint64_t da_included_height;
  uint64_t da_height_reached; /* the next DA height to process, minus one */
  uint64_t da_head;           /* highest DA head observed */
  uint64_t p2p_target_height; /* highest height proven by a peer's signed header */
  uint32_t peer_count;
  uint64_t equivocations;
  uint64_t blocks_applied;    /* since start */
  uint64_t blocks_produced;   /* since start */
  uint32_t mempool_tx_count;
  const char *waiting_for;    /* while catching up: the condition still missing */
  const char *failure;        /* in FAILED: why */
};

void evc_node_status(const struct evc_node *node, struct evc_node_status *out);

/* A stored block for RPC: its decoded signed header, raw bytes and finality. The caller
 * releases *out with evc_node_block_release. EVC_ENOTFOUND, EVC_ESTATE (store not open). */
struct evc_node_block {
  struct evc_signed_header sh;
  uint8_t hash[EVC_HASH_SIZE];
  uint8_t *data;          /* the data encoding (txs inside) */
  size_t data_size;
  bool final;
};
int evc_node_get_block(struct evc_node *node, uint64_t height, struct evc_node_block *out);
void evc_node_block_release(struct evc_node_block *b);

#endif
