/* The real node core as a simulator node class. All it adds is a deterministic tx feed:
 * everything else is evc_node on the simulated env, unchanged. */
#include "sim/evc_nodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/core/node.h"
#include "node/p2p/messages.h"

struct sim_evc_node {
  struct evc_node *node;
  struct evc_env *env;
  uint32_t txs_per_block;
  uint64_t block_time_ns;
  uint64_t tx_timer;
  uint64_t tx_counter;
};

static void tx_timer_callback(void *arg) {
  struct sim_evc_node *w = arg;
  w->tx_timer = 0;
  struct evc_node_status st;
  evc_node_status(w->node, &st);
  if (st.mode == EVC_MODE_FAILED || st.mode == EVC_MODE_STOPPED) return;
  if (st.mode == EVC_MODE_PRODUCING) {
    for (uint32_t i = 0; i < w->txs_per_block; i++) {
      uint8_t r[4];
      w->env->random_bytes(w->env->ctx, r, sizeof r);
      char tx[64];
      int size = snprintf(tx, sizeof tx, "k%llu=v%02x%02x%02x%02x",
                          (unsigned long long)(w->tx_counter % 97), r[0], r[1], r[2], r[3]);
      uint8_t hash[EVC_HASH_SIZE];
      if (evc_node_submit_tx(w->node, (const uint8_t *)tx, (size_t)size, hash) == 0) {
        w->tx_counter++;
      }
    }
  }
  w->env->timer_start(w->env->ctx, w->block_time_ns, tx_timer_callback, w, &w->tx_timer);
}

static uint64_t option_ns(uint64_t ms, uint64_t fallback_ns) {
  return ms == EVC_SIM_UNSET ? fallback_ns : ms * 1000000ull;
}

static void fill_config(const struct evc_sim_node_spec *spec, bool aggregator,
                        struct evc_node_config *cfg) {
  evc_node_config_defaults(cfg);
  cfg->aggregator = aggregator;
  cfg->genesis = spec->genesis;
  if (aggregator) {
    EVC_ASSERT(spec->has_signer);
    evc_keypair_seed(&spec->signer, cfg->signer_seed);
  }
  cfg->block_time_ns = spec->block_time_ns;
  cfg->da_block_time_ns = spec->da_block_time_ns;
  cfg->da_mempool_ttl_blocks = (uint32_t)spec->da_mempool_ttl_blocks;
  cfg->catchup_p2p_timeout_ns = option_ns(spec->start.catchup_p2p_timeout_ms, cfg->catchup_p2p_timeout_ns);
  cfg->catchup_inbound_grace_ns = option_ns(spec->start.inbound_grace_ms, cfg->catchup_inbound_grace_ns);
  cfg->catchup_peek_timeout_ns = option_ns(spec->start.catchup_peek_timeout_ms, cfg->catchup_peek_timeout_ns);
  cfg->shutdown_timeout_ns = option_ns(spec->start.shutdown_timeout_ms, cfg->shutdown_timeout_ns);
  cfg->catchup_da_only = spec->start.da_only;
  cfg->peer_count = 0;
  for (size_t i = 0; i < spec->peer_count && i < EVC_NODE_PEERS_MAX; i++) {
    snprintf(cfg->peers[i], sizeof cfg->peers[i], "%s", spec->peers[i]);
    cfg->peer_count++;
  }
}

static int create(struct evc_env *env, const struct evc_sim_node_spec *spec, bool aggregator,
                  void **node_out) {
  struct sim_evc_node *w = calloc(1, sizeof *w);
  if (w == NULL) return EVC_ENOMEM;
  struct evc_node_config cfg;
  fill_config(spec, aggregator, &cfg);
  w->env = env;
  w->txs_per_block = spec->txs_per_block;
  w->block_time_ns = spec->block_time_ns;
  int rc = evc_node_new(env, &cfg, &w->node);
  if (rc != 0) {
    free(w);
    return rc;
  }
  /* A failed start has already entered FAILED and asked the runtime to stop; the object
   * stays valid until the runtime tears it down, like any failed node. */
  if (evc_node_start(w->node) == 0 && aggregator && w->txs_per_block > 0) {
    rc = env->timer_start(env->ctx, w->block_time_ns, tx_timer_callback, w, &w->tx_timer);
    if (rc != 0) {
      evc_node_free(w->node);
      free(w);
      return rc;
    }
  }
  *node_out = w;
  return 0;
}

static int create_aggregator(struct evc_env *env, const struct evc_sim_node_spec *spec,
                             void **node_out) {
  return create(env, spec, true, node_out);
}

static int create_full(struct evc_env *env, const struct evc_sim_node_spec *spec,
                       void **node_out) {
  return create(env, spec, false, node_out);
}

static void destroy(void *node) {
  struct sim_evc_node *w = node;
  evc_node_free(w->node);
  free(w);
}

static void on_peer_connected(void *node, const struct evc_peer_id *peer, const char *address,
                              bool inbound) {
  struct sim_evc_node *w = node;
  evc_node_entry_points.peer_connected(w->node, peer, address, inbound);
}

static void on_peer_disconnected(void *node, const struct evc_peer_id *peer) {
  struct sim_evc_node *w = node;
  evc_node_entry_points.peer_disconnected(w->node, peer);
}

static void on_dial_failed(void *node, const char *address, int status) {
  struct sim_evc_node *w = node;
  evc_node_entry_points.dial_failed(w->node, address, status);
}

static void on_message(void *node, const struct evc_peer_id *peer, const uint8_t *bytes,
                       size_t size) {
  struct sim_evc_node *w = node;
  evc_node_entry_points.message(w->node, peer, bytes, size);
}

static void on_stop(void *node) {
  struct sim_evc_node *w = node;
  evc_node_entry_points.stop(w->node);
}

static const struct evc_node_entry wrapper_entry = {
    .peer_connected = on_peer_connected,
    .peer_disconnected = on_peer_disconnected,
    .dial_failed = on_dial_failed,
    .message = on_message,
    .stop = on_stop,
};

const struct evc_sim_node_class evc_sim_aggregator_class = {
    .name = "aggregator", .create = create_aggregator, .destroy = destroy, .entry = &wrapper_entry};
const struct evc_sim_node_class evc_sim_full_class = {
    .name = "full", .create = create_full, .destroy = destroy, .entry = &wrapper_entry};

/* ---- liar_height: claims a huge height it cannot back with a signed header ---- */

#define LIAR_HEIGHT 1000000000ull

struct sim_liar {
  struct evc_env *env;
};

static void liar_status(struct sim_liar *l, const struct evc_peer_id *peer) {
  struct evc_p2p_message m;
  memset(&m, 0, sizeof m);
  m.type = EVC_P2P_STATUS;
  m.height = LIAR_HEIGHT; /* no head: nothing backs the claim */
  uint8_t *bytes = NULL;
  size_t size = 0;
  if (evc_p2p_encode(&m, &bytes, &size) == 0) l->env->p2p_send(l->env->ctx, peer, bytes, size);
  free(bytes);
}

static int create_liar(struct evc_env *env, const struct evc_sim_node_spec *spec, void **node_out) {
  struct sim_liar *l = calloc(1, sizeof *l);
  if (l == NULL) return EVC_ENOMEM;
  l->env = env;
  for (size_t i = 0; i < spec->peer_count; i++) env->p2p_dial(env->ctx, spec->peers[i]);
  env->log(env->ctx, EVC_LOG_INFO, "event=start role=liar_height claim=1000000000");
  *node_out = l;
  return 0;
}

static void destroy_liar(void *node) { free(node); }

static void liar_connected(void *node, const struct evc_peer_id *peer, const char *address,
                           bool inbound) {
  liar_status(node, peer);
}

static void liar_disconnected(void *node, const struct evc_peer_id *peer) {}

static void liar_dial_failed(void *node, const char *address, int status) {}

static void liar_message(void *node, const struct evc_peer_id *peer, const uint8_t *bytes,
                         size_t size) {
  struct evc_p2p_message m;
  if (evc_p2p_decode(bytes, size, &m) == 0 && m.type == EVC_P2P_STATUS_REQUEST) {
    liar_status(node, peer);
  }
}

static void liar_stop(void *node) {
  struct sim_liar *l = node;
  l->env->request_stop(l->env->ctx, 0, "stopped");
}

static const struct evc_node_entry liar_entry = {
    .peer_connected = liar_connected,
    .peer_disconnected = liar_disconnected,
    .dial_failed = liar_dial_failed,
    .message = liar_message,
    .stop = liar_stop,
};

const struct evc_sim_node_class evc_sim_liar_class = {
    .name = "liar_height", .create = create_liar, .destroy = destroy_liar, .entry = &liar_entry};

const struct evc_sim_node_class *evc_sim_class_for_role(const char *role) {
  if (strcmp(role, "aggregator") == 0) return &evc_sim_aggregator_class;
  if (strcmp(role, "full") == 0) return &evc_sim_full_class;
  if (strcmp(role, "liar_height") == 0) return &evc_sim_liar_class;
  return NULL;
}
