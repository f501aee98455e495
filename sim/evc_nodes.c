/* The real node core as a simulator node class. All it adds is a deterministic tx feed:
 * everything else is evc_node on the simulated env, unchanged. The byzantine peers are a
 * lying stub (liar_height) and real full nodes behind a tampering env (byz_*). */
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
    /* EVC_ESTOPPED: the node died while it started (a crash at one of its first syncs); the
     * runtime tears it down like any dead node, so the object is still handed over. */
    if (rc != 0 && rc != EVC_ESTOPPED) {
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

/* ---- byzantine peers built on a real full node ----
 * A byz_* node is an evc full node (it syncs the real chain from DA and its peers) whose env
 * is a wrapped copy: outgoing P2P messages are tampered with on their way out, and the node's
 * observations are hidden from the checker (a byzantine node's store is not an honest place),
 * except its mode and counters. Each role's tampering:
 * - byz_bad_sig: every block it sends (range replies, and a forged copy of each block
 *   announced to it, relayed to its other peers) has its header time moved by 1 ns and is
 *   re-signed with the node's own P2P key: a well-formed block whose signature does not
 *   verify under the genesis key. Its status is honest (a real signed head), so peers do
 *   ask it for blocks.
 * - byz_slow: every block message it sends (range replies, announcements) leaves
 *   BYZ_SLOW_DELAY_NS late, later than a node's range request timeout. Like a stalled TCP
 *   stream, what it still holds for a peer is dropped when that connection closes.
 * - byz_reorder: every range reply of two or more blocks is sent with its blocks reversed.
 * - byz_flood: every BYZ_FLOOD_TICK_NS it sends each connected peer a burst: a status
 *   request, a status, a duplicate announcement of its head block and range requests (one
 *   inside its chain, one far above any head); every BYZ_FLOOD_BAD_EVERY ticks one junk
 *   frame or an over-long range request. Replies to its own flood are swallowed so the
 *   wrapped node stays a well-behaved syncing peer apart from the flood. */

#define BYZ_PEERS_MAX 32u
#define BYZ_HELD_MAX 128u                       /* byz_slow: messages held at once */
#define BYZ_SLOW_DELAY_NS 8000000000ull         /* > the node's 5 s range request timeout */
#define BYZ_FLOOD_TICK_NS 50000000ull           /* 20 bursts per second per peer */
#define BYZ_FLOOD_BAD_EVERY 20u                 /* ticks between junk / over-long requests */
#define BYZ_FLOOD_RANGE_COUNT 8u                /* blocks per flood range request */
#define BYZ_FLOOD_FAR_FROM (1ull << 60)         /* a range far above any head */
#define BYZ_JUNK_SIZE_MAX 64u

_Static_assert(BYZ_FLOOD_RANGE_COUNT <= EVC_P2P_RANGE_BLOCKS_MAX, "a flood range must encode");

enum byz_kind { BYZ_BAD_SIG, BYZ_SLOW, BYZ_REORDER, BYZ_FLOOD };

struct sim_byz;

struct byz_held { /* byz_slow: one message waiting for its timer */
  struct sim_byz *owner;
  bool used;
  struct evc_peer_id peer;
  uint8_t *bytes;
  size_t size;
  uint64_t timer;
};

struct byz_peer {
  struct evc_peer_id id;
  uint64_t inner_from; /* byz_flood: the wrapped node's outstanding range request (0: none) */
  bool status_seen;    /* byz_flood: the peer's status on connect reached the wrapped node */
};

struct sim_byz {
  enum byz_kind kind;
  struct evc_env env;   /* the copy the wrapped node talks to; ctx = this */
  struct evc_env *outer;
  struct sim_evc_node *inner;
  struct evc_keypair key; /* byz_bad_sig: signs forged headers */
  struct byz_peer peers[BYZ_PEERS_MAX];
  uint32_t peer_count;
  struct byz_held held[BYZ_HELD_MAX];
  uint64_t flood_timer;
  uint64_t flood_ticks;
};

static void byz_counter(struct sim_byz *b, const char *name, uint64_t count) {
  struct evc_observation o;
  memset(&o, 0, sizeof o);
  o.kind = EVC_OBS_COUNTER;
  o.count = count;
  o.text = name;
  b->outer->observe(b->outer->ctx, &o);
}

static struct byz_peer *byz_peer_find(struct sim_byz *b, const struct evc_peer_id *id) {
  for (uint32_t i = 0; i < b->peer_count; i++) {
    if (memcmp(b->peers[i].id.key, id->key, EVC_NODE_ID_SIZE) == 0) return &b->peers[i];
  }
  return NULL;
}

static int byz_send_message(struct sim_byz *b, const struct evc_peer_id *peer,
                            const struct evc_p2p_message *m) {
  uint8_t *bytes = NULL;
  size_t size = 0;
  int rc = evc_p2p_encode(m, &bytes, &size);
  if (rc == 0) rc = b->outer->p2p_send(b->outer->ctx, peer, bytes, size);
  free(bytes);
  return rc;
}

/* byz_bad_sig: the same block one nanosecond later, signed by the wrong key. */
static int byz_forge_header(struct sim_byz *b, const uint8_t *bytes, size_t size,
                            uint8_t out[EVC_SIGNED_HEADER_SIZE_MAX], size_t *size_out) {
  struct evc_signed_header sh;
  int rc = evc_signed_header_decode(bytes, size, &sh);
  if (rc != 0) return rc;
  sh.header.time_ns++;
  rc = evc_signed_header_sign(&sh, b->key.seckey);
  if (rc != 0) return rc;
  return evc_signed_header_encode(&sh, out, EVC_SIGNED_HEADER_SIZE_MAX, size_out);
}

/* Sends m (BLOCKS or NEW_BLOCK) with every block's header forged. */
static int byz_send_forged(struct sim_byz *b, const struct evc_peer_id *peer,
                           struct evc_p2p_message *m) {
  uint8_t(*headers)[EVC_SIGNED_HEADER_SIZE_MAX] = malloc(EVC_P2P_RANGE_BLOCKS_MAX *
                                                         sizeof *headers);
  if (headers == NULL) return EVC_ENOMEM;
  int rc = 0;
  for (uint32_t i = 0; i < m->count && rc == 0; i++) {
    size_t size = 0;
    rc = byz_forge_header(b, m->blocks[i].header, m->blocks[i].header_size, headers[i], &size);
    m->blocks[i].header = headers[i];
    m->blocks[i].header_size = size;
  }
  if (rc == 0) rc = byz_send_message(b, peer, m);
  if (rc == 0) byz_counter(b, "byz_blocks_forged", m->count);
  free(headers);
  return rc;
}

static void byz_held_callback(void *arg) {
  struct byz_held *h = arg;
  struct sim_byz *b = h->owner;
  h->timer = 0;
  b->outer->p2p_send(b->outer->ctx, &h->peer, h->bytes, h->size); /* gone: dropped */
  free(h->bytes);
  h->bytes = NULL;
  h->used = false;
}

/* byz_slow: keeps a copy and sends it BYZ_SLOW_DELAY_NS later. */
static int byz_hold(struct sim_byz *b, const struct evc_peer_id *peer, const uint8_t *bytes,
                    size_t size) {
  struct byz_held *h = NULL;
  for (uint32_t i = 0; i < BYZ_HELD_MAX && h == NULL; i++) {
    if (!b->held[i].used) h = &b->held[i];
  }
  if (h == NULL) return EVC_EFULL;
  h->bytes = malloc(size);
  if (h->bytes == NULL) return EVC_ENOMEM;
  memcpy(h->bytes, bytes, size);
  h->size = size;
  h->peer = *peer;
  h->owner = b;
  int rc = b->outer->timer_start(b->outer->ctx, BYZ_SLOW_DELAY_NS, byz_held_callback, h, &h->timer);
  if (rc != 0) {
    free(h->bytes);
    h->bytes = NULL;
    return rc;
  }
  h->used = true;
  byz_counter(b, "byz_messages_delayed", 1);
  return 0;
}

/* byz_reorder: the range reply's blocks, last first. */
static int byz_send_reversed(struct sim_byz *b, const struct evc_peer_id *peer,
                             struct evc_p2p_message *m) {
  for (uint32_t i = 0; i < m->count / 2; i++) {
    struct evc_p2p_block t = m->blocks[i];
    m->blocks[i] = m->blocks[m->count - 1 - i];
    m->blocks[m->count - 1 - i] = t;
  }
  int rc = byz_send_message(b, peer, m);
  if (rc == 0) byz_counter(b, "byz_replies_reordered", 1);
  return rc;
}

/* What the wrapped node sends passes through here. */
static int byz_p2p_send(void *ctx, const struct evc_peer_id *peer, const uint8_t *bytes,
                        size_t size) {
  struct sim_byz *b = ctx;
  struct evc_p2p_message *m = malloc(sizeof *m);
  if (m == NULL) return EVC_ENOMEM;
  int rc = evc_p2p_decode(bytes, size, m);
  bool blocks = rc == 0 && (m->type == EVC_P2P_BLOCKS || m->type == EVC_P2P_NEW_BLOCK);
  struct byz_peer *bp = byz_peer_find(b, peer);
  if (rc == 0 && m->type == EVC_P2P_GET_BLOCKS && bp != NULL) bp->inner_from = m->from;
  if (blocks && m->count > 0 && b->kind == BYZ_BAD_SIG) {
    rc = byz_send_forged(b, peer, m);
  } else if (blocks && b->kind == BYZ_SLOW) {
    rc = byz_hold(b, peer, bytes, size);
  } else if (blocks && m->type == EVC_P2P_BLOCKS && m->count > 1 && b->kind == BYZ_REORDER) {
    rc = byz_send_reversed(b, peer, m);
  } else {
    rc = b->outer->p2p_send(b->outer->ctx, peer, bytes, size);
  }
  free(m);
  return rc;
}

/* Hidden from the checker: block, DA, signing and peer facts of a byzantine node. */
static void byz_observe(void *ctx, const struct evc_observation *o) {
  struct sim_byz *b = ctx;
  if (o->kind == EVC_OBS_MODE || o->kind == EVC_OBS_COUNTER || o->kind == EVC_OBS_GAUGE) {
    b->outer->observe(b->outer->ctx, o);
  }
}

/* ---- the rest of the env: straight through to the kernel's ---- */

static uint64_t byz_mono_ns(void *ctx) {
  struct sim_byz *b = ctx;
  return b->outer->mono_ns(b->outer->ctx);
}

static uint64_t byz_wall_ns(void *ctx) {
  struct sim_byz *b = ctx;
  return b->outer->wall_ns(b->outer->ctx);
}

static int byz_timer_start(void *ctx, uint64_t delay_ns, evc_timer_callback cb, void *arg,
                           uint64_t *timer_id_out) {
  struct sim_byz *b = ctx;
  return b->outer->timer_start(b->outer->ctx, delay_ns, cb, arg, timer_id_out);
}

static void byz_timer_cancel(void *ctx, uint64_t timer_id) {
  struct sim_byz *b = ctx;
  b->outer->timer_cancel(b->outer->ctx, timer_id);
}

static void byz_random_bytes(void *ctx, uint8_t *out, size_t size) {
  struct sim_byz *b = ctx;
  b->outer->random_bytes(b->outer->ctx, out, size);
}

static int byz_p2p_dial(void *ctx, const char *address) {
  struct sim_byz *b = ctx;
  return b->outer->p2p_dial(b->outer->ctx, address);
}

static void byz_p2p_disconnect(void *ctx, const struct evc_peer_id *peer) {
  struct sim_byz *b = ctx;
  b->outer->p2p_disconnect(b->outer->ctx, peer);
}

static int byz_da_submit(void *ctx, const struct evc_da_blob *blobs, size_t count,
                         evc_da_submit_callback cb, void *arg) {
  struct sim_byz *b = ctx;
  return b->outer->da_submit(b->outer->ctx, blobs, count, cb, arg);
}

static int byz_da_get(void *ctx, uint64_t height, const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE],
                      size_t namespace_count, evc_da_get_callback cb, void *arg) {
  struct sim_byz *b = ctx;
  return b->outer->da_get(b->outer->ctx, height, namespaces, namespace_count, cb, arg);
}

static int byz_da_head(void *ctx, evc_da_head_callback cb, void *arg) {
  struct sim_byz *b = ctx;
  return b->outer->da_head(b->outer->ctx, cb, arg);
}

static int byz_work_submit(void *ctx, evc_work_function fn, void *work_arg,
                           evc_work_done_callback done, void *arg) {
  struct sim_byz *b = ctx;
  return b->outer->work_submit(b->outer->ctx, fn, work_arg, done, arg);
}

static int byz_file_read(void *ctx, const char *name, size_t size_max, uint8_t **bytes_out,
                         size_t *size_out) {
  struct sim_byz *b = ctx;
  return b->outer->file_read(b->outer->ctx, name, size_max, bytes_out, size_out);
}

static int byz_file_replace(void *ctx, const char *name, const uint8_t *bytes, size_t size) {
  struct sim_byz *b = ctx;
  return b->outer->file_replace(b->outer->ctx, name, bytes, size);
}

static void byz_log(void *ctx, enum evc_log_level level, const char *line) {
  struct sim_byz *b = ctx;
  b->outer->log(b->outer->ctx, level, line);
}

static void byz_request_stop(void *ctx, int exit_code, const char *reason) {
  struct sim_byz *b = ctx;
  b->outer->request_stop(b->outer->ctx, exit_code, reason);
}

static void byz_env_init(struct sim_byz *b, struct evc_env *outer) {
  struct evc_env *env = &b->env;
  memset(env, 0, sizeof *env);
  env->ctx = b;
  env->mono_ns = byz_mono_ns;
  env->wall_ns = byz_wall_ns;
  env->timer_start = byz_timer_start;
  env->timer_cancel = byz_timer_cancel;
  env->random_bytes = byz_random_bytes;
  env->p2p_dial = byz_p2p_dial;
  env->p2p_send = byz_p2p_send;
  env->p2p_disconnect = byz_p2p_disconnect;
  env->da_submit = byz_da_submit;
  env->da_get = byz_da_get;
  env->da_head = byz_da_head;
  env->work_submit = byz_work_submit;
  env->store_vfs_name = outer->store_vfs_name;
  env->store_path = outer->store_path;
  env->file_read = byz_file_read;
  env->file_replace = byz_file_replace;
  env->log = byz_log;
  env->observe = byz_observe;
  env->request_stop = byz_request_stop;
  b->outer = outer;
}

/* ---- byz_flood ---- */

static uint64_t byz_random_u64(struct sim_byz *b) {
  uint8_t r[8];
  b->outer->random_bytes(b->outer->ctx, r, sizeof r);
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof r; i++) v = v << 8 | r[i];
  return v;
}

/* Junk bytes, or a range request for 2^32 - 1 blocks (the codec refuses to encode one). */
static void byz_flood_bad(struct sim_byz *b, const struct byz_peer *p) {
  uint8_t bytes[BYZ_JUNK_SIZE_MAX];
  size_t size = 0;
  if (b->flood_ticks / BYZ_FLOOD_BAD_EVERY % 2 == 0) {
    size = 1 + byz_random_u64(b) % BYZ_JUNK_SIZE_MAX;
    b->outer->random_bytes(b->outer->ctx, bytes, size);
  } else {
    const uint8_t huge[] = {EVC_P2P_VERSION, EVC_P2P_GET_BLOCKS, 0, 0, 0, 0, 0, 0, 0, 1,
                            0xff, 0xff, 0xff, 0xff};
    memcpy(bytes, huge, sizeof huge);
    size = sizeof huge;
  }
  if (b->outer->p2p_send(b->outer->ctx, &p->id, bytes, size) == 0) {
    byz_counter(b, "byz_flood_bad_frames", 1);
  }
}

static uint32_t byz_flood_peer(struct sim_byz *b, const struct byz_peer *p,
                               const struct evc_node_block *head, uint64_t height) {
  uint32_t sent = 0;
  struct evc_p2p_message m;
  memset(&m, 0, sizeof m);
  m.type = EVC_P2P_STATUS_REQUEST;
  sent += byz_send_message(b, &p->id, &m) == 0;
  if (head != NULL) {
    uint8_t header[EVC_SIGNED_HEADER_SIZE_MAX];
    size_t header_size = 0;
    if (evc_signed_header_encode(&head->sh, header, sizeof header, &header_size) == 0) {
      m.type = EVC_P2P_STATUS; /* an unsolicited status: its real head, again */
      m.height = height;
      m.has_head = true;
      m.head = header;
      m.head_size = header_size;
      sent += byz_send_message(b, &p->id, &m) == 0;
      memset(&m, 0, sizeof m);
      m.type = EVC_P2P_NEW_BLOCK; /* the same old block, announced again */
      m.count = 1;
      m.blocks[0] = (struct evc_p2p_block){header, header_size, head->data, head->data_size, 0};
      sent += byz_send_message(b, &p->id, &m) == 0;
    }
    uint64_t from = 1 + byz_random_u64(b) % height;
    if (from != p->inner_from) {
      memset(&m, 0, sizeof m);
      m.type = EVC_P2P_GET_BLOCKS;
      m.from = from;
      m.count = BYZ_FLOOD_RANGE_COUNT;
      sent += byz_send_message(b, &p->id, &m) == 0;
    }
  }
  memset(&m, 0, sizeof m);
  m.type = EVC_P2P_GET_BLOCKS;
  m.from = BYZ_FLOOD_FAR_FROM + byz_random_u64(b) % BYZ_FLOOD_FAR_FROM;
  m.count = EVC_P2P_RANGE_BLOCKS_MAX;
  sent += byz_send_message(b, &p->id, &m) == 0;
  if (b->flood_ticks % BYZ_FLOOD_BAD_EVERY == BYZ_FLOOD_BAD_EVERY - 1) byz_flood_bad(b, p);
  return sent;
}

static void byz_flood_callback(void *arg) {
  struct sim_byz *b = arg;
  b->flood_timer = 0;
  struct evc_node_status st;
  evc_node_status(b->inner->node, &st);
  struct evc_node_block head;
  bool have_head = st.height > 0 && evc_node_get_block(b->inner->node, st.height, &head) == 0;
  uint32_t sent = 0;
  for (uint32_t i = 0; i < b->peer_count; i++) {
    sent += byz_flood_peer(b, &b->peers[i], have_head ? &head : NULL, st.height);
  }
  if (have_head) evc_node_block_release(&head);
  if (sent > 0) byz_counter(b, "byz_flood_messages", sent);
  b->flood_ticks++;
  b->outer->timer_start(b->outer->ctx, BYZ_FLOOD_TICK_NS, byz_flood_callback, b, &b->flood_timer);
}

/* A range reply or status the flood asked for is not the wrapped node's business (the
 * wrapped node never asks for a status: only the one a peer sends on connect is its own). */
static bool byz_flood_swallows(struct sim_byz *b, const struct evc_peer_id *peer,
                               const struct evc_p2p_message *m) {
  struct byz_peer *p = byz_peer_find(b, peer);
  if (m->type == EVC_P2P_STATUS && p != NULL && !p->status_seen) {
    p->status_seen = true;
    return false;
  }
  if (m->type != EVC_P2P_BLOCKS && m->type != EVC_P2P_STATUS) return false;
  if (m->type == EVC_P2P_BLOCKS && p != NULL && p->inner_from != 0 && m->from == p->inner_from) {
    p->inner_from = 0;
    return false;
  }
  return true;
}

/* ---- the byz classes ---- */

static int create_byz(struct evc_env *env, const struct evc_sim_node_spec *spec,
                      enum byz_kind kind, void **node_out) {
  struct sim_byz *b = calloc(1, sizeof *b);
  if (b == NULL) return EVC_ENOMEM;
  b->kind = kind;
  b->key = spec->node_key;
  byz_env_init(b, env);
  void *inner = NULL;
  int rc = create(&b->env, spec, false, &inner);
  if (rc != 0) {
    free(b);
    return rc;
  }
  b->inner = inner;
  if (kind == BYZ_FLOOD) {
    rc = env->timer_start(env->ctx, BYZ_FLOOD_TICK_NS, byz_flood_callback, b, &b->flood_timer);
    if (rc == EVC_ESTOPPED) rc = 0; /* it died while starting: torn down like any dead node */
  }
  if (rc != 0) {
    destroy(inner);
    free(b);
    return rc;
  }
  char line[96];
  snprintf(line, sizeof line, "event=start role=%s byzantine=1", spec->role);
  env->log(env->ctx, EVC_LOG_INFO, line);
  *node_out = b;
  return 0;
}

static int create_byz_bad_sig(struct evc_env *env, const struct evc_sim_node_spec *spec,
                              void **node_out) {
  return create_byz(env, spec, BYZ_BAD_SIG, node_out);
}

static int create_byz_slow(struct evc_env *env, const struct evc_sim_node_spec *spec,
                           void **node_out) {
  return create_byz(env, spec, BYZ_SLOW, node_out);
}

static int create_byz_reorder(struct evc_env *env, const struct evc_sim_node_spec *spec,
                              void **node_out) {
  return create_byz(env, spec, BYZ_REORDER, node_out);
}

static int create_byz_flood(struct evc_env *env, const struct evc_sim_node_spec *spec,
                            void **node_out) {
  return create_byz(env, spec, BYZ_FLOOD, node_out);
}

static void destroy_byz(void *node) {
  struct sim_byz *b = node;
  destroy(b->inner);
  for (uint32_t i = 0; i < BYZ_HELD_MAX; i++) free(b->held[i].bytes);
  evc_keypair_wipe(&b->key);
  free(b);
}

static void byz_connected(void *node, const struct evc_peer_id *peer, const char *address,
                          bool inbound) {
  struct sim_byz *b = node;
  if (byz_peer_find(b, peer) == NULL && b->peer_count < BYZ_PEERS_MAX) {
    memset(&b->peers[b->peer_count], 0, sizeof b->peers[b->peer_count]);
    b->peers[b->peer_count++].id = *peer;
  }
  on_peer_connected(b->inner, peer, address, inbound);
}

static void byz_disconnected(void *node, const struct evc_peer_id *peer) {
  struct sim_byz *b = node;
  for (uint32_t i = 0; i < BYZ_HELD_MAX; i++) { /* a slow stream's backlog dies with it */
    struct byz_held *h = &b->held[i];
    if (!h->used || memcmp(h->peer.key, peer->key, EVC_NODE_ID_SIZE) != 0) continue;
    b->outer->timer_cancel(b->outer->ctx, h->timer);
    free(h->bytes);
    memset(h, 0, sizeof *h);
  }
  struct byz_peer *p = byz_peer_find(b, peer);
  if (p != NULL) *p = b->peers[--b->peer_count]; /* order is irrelevant: flood order aside */
  on_peer_disconnected(b->inner, peer);
}

static void byz_dial_failed(void *node, const char *address, int status) {
  struct sim_byz *b = node;
  on_dial_failed(b->inner, address, status);
}

/* byz_bad_sig relays a forged copy of every announcement to its other peers. */
static void byz_relay_forged(struct sim_byz *b, const struct evc_peer_id *from,
                             const uint8_t *bytes, size_t size) {
  struct evc_p2p_message *m = malloc(sizeof *m);
  if (m == NULL) return;
  for (uint32_t i = 0; i < b->peer_count; i++) {
    if (memcmp(b->peers[i].id.key, from->key, EVC_NODE_ID_SIZE) == 0) continue;
    if (evc_p2p_decode(bytes, size, m) == 0) byz_send_forged(b, &b->peers[i].id, m);
  }
  free(m);
}

static void byz_message(void *node, const struct evc_peer_id *peer, const uint8_t *bytes,
                        size_t size) {
  struct sim_byz *b = node;
  struct evc_p2p_message *m = malloc(sizeof *m);
  bool decoded = m != NULL && evc_p2p_decode(bytes, size, m) == 0;
  bool swallow = decoded && b->kind == BYZ_FLOOD && byz_flood_swallows(b, peer, m);
  bool relay = decoded && b->kind == BYZ_BAD_SIG && m->type == EVC_P2P_NEW_BLOCK;
  free(m);
  if (!swallow) on_message(b->inner, peer, bytes, size);
  if (relay) byz_relay_forged(b, peer, bytes, size);
}

static void byz_stop(void *node) {
  struct sim_byz *b = node;
  if (b->flood_timer != 0) b->outer->timer_cancel(b->outer->ctx, b->flood_timer);
  b->flood_timer = 0;
  on_stop(b->inner);
}

static const struct evc_node_entry byz_entry = {
    .peer_connected = byz_connected,
    .peer_disconnected = byz_disconnected,
    .dial_failed = byz_dial_failed,
    .message = byz_message,
    .stop = byz_stop,
};

const struct evc_sim_node_class evc_sim_byz_bad_sig_class = {
    .name = "byz_bad_sig", .create = create_byz_bad_sig, .destroy = destroy_byz,
    .entry = &byz_entry};
const struct evc_sim_node_class evc_sim_byz_slow_class = {
    .name = "byz_slow", .create = create_byz_slow, .destroy = destroy_byz, .entry = &byz_entry};
const struct evc_sim_node_class evc_sim_byz_reorder_class = {
    .name = "byz_reorder", .create = create_byz_reorder, .destroy = destroy_byz,
    .entry = &byz_entry};
const struct evc_sim_node_class evc_sim_byz_flood_class = {
    .name = "byz_flood", .create = create_byz_flood, .destroy = destroy_byz,
    .entry = &byz_entry};

const struct evc_sim_node_class *evc_sim_class_for_role(const char *role) {
  if (strcmp(role, "aggregator") == 0) return &evc_sim_aggregator_class;
  if (strcmp(role, "full") == 0) return &evc_sim_full_class;
  if (strcmp(role, "liar_height") == 0) return &evc_sim_liar_class;
  if (strcmp(role, "byz_bad_sig") == 0) return &evc_sim_byz_bad_sig_class;
  if (strcmp(role, "byz_slow") == 0) return &evc_sim_byz_slow_class;
  if (strcmp(role, "byz_reorder") == 0) return &evc_sim_byz_reorder_class;
  if (strcmp(role, "byz_flood") == 0) return &evc_sim_byz_flood_class;
  return NULL;
}
