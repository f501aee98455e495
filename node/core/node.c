/* The node: lifecycle, modes, and the glue that feeds the catchup decision with facts from
 * the store, the sign state, the DA syncer and the waits. Every mode change goes through
 * evc_node_enter_mode, so it is logged and observed exactly once. */
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/core/log.h"
#include "node/core/node_internal.h"

#define MS 1000000ull
#define SEC 1000000000ull

void evc_node_config_defaults(struct evc_node_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->block_time_ns = 1 * SEC;
  cfg->da_block_time_ns = 6 * SEC;
  cfg->da_mempool_ttl_blocks = 10;
  cfg->catchup_p2p_timeout_ns = 30 * SEC;
  cfg->catchup_inbound_grace_ns = 10 * SEC;
  cfg->catchup_peek_timeout_ns = 2 * SEC;
  cfg->shutdown_timeout_ns = 30 * SEC;
  cfg->mempool_txs_max = 10000;
  cfg->mempool_bytes_max = 16u << 20;
  cfg->block_txs_max = 64;
  cfg->da_batch_bytes_max = 1536u << 10;
  cfg->da_read_ahead = 16;
  cfg->rollback_depth_max = 1000;
}

bool evc_node_is_running(const struct evc_node *n) {
  return n->mode != EVC_MODE_FAILED && n->mode != EVC_MODE_STOPPED;
}

void evc_node_observe(struct evc_node *n, enum evc_observation_kind kind, uint64_t height,
                      const uint8_t *hash, uint64_t count, const char *text) {
  if (n->env->observe == NULL) return;
  struct evc_observation o;
  memset(&o, 0, sizeof o);
  o.kind = kind;
  o.height = height;
  o.count = count;
  o.text = text;
  if (hash != NULL) memcpy(o.hash, hash, EVC_HASH_SIZE);
  n->env->observe(n->env->ctx, &o);
}

void evc_node_counter(struct evc_node *n, const char *name, uint64_t amount) {
  evc_node_observe(n, EVC_OBS_COUNTER, 0, NULL, amount, name);
}

void evc_node_enter_mode(struct evc_node *n, enum evc_mode mode, const char *reason) {
  if (n->mode == mode) return;
  evc_logf(n->env, mode == EVC_MODE_FAILED ? EVC_LOG_ERROR : EVC_LOG_INFO,
           "event=mode from=%s to=%s height=%llu reason=\"%s\"", evc_mode_name(n->mode),
           evc_mode_name(mode), (unsigned long long)n->chain.height, reason);
  n->mode = mode;
  evc_node_observe(n, EVC_OBS_MODE, n->chain.height, NULL, 0, evc_mode_name(mode));
}

static void cancel_timer(struct evc_node *n, uint64_t *timer) {
  if (*timer != 0) n->env->timer_cancel(n->env->ctx, *timer);
  *timer = 0;
}

static void quiesce(struct evc_node *n) {
  evc_p2p_stop(n);
  evc_producer_stop(n);
  evc_submitter_stop(n);
  cancel_timer(n, &n->catchup_timer_p2p);
  cancel_timer(n, &n->catchup_timer_grace);
  cancel_timer(n, &n->stop_timer);
  cancel_timer(n, &n->da.poll_timer);
}

void evc_node_fail(struct evc_node *n, int code, const char *reason) {
  if (!evc_node_is_running(n)) return;
  evc_logf(n->env, EVC_LOG_ERROR, "event=failed error=%s reason=\"%s\"", evc_errname(code),
           reason);
  n->failure = reason;
  quiesce(n);
  evc_node_enter_mode(n, EVC_MODE_FAILED, reason);
  n->env->request_stop(n->env->ctx, 1, reason);
}

static void finish_stop(struct evc_node *n, const char *reason) {
  if (!evc_node_is_running(n)) return;
  quiesce(n);
  evc_node_enter_mode(n, EVC_MODE_STOPPED, reason);
  n->env->request_stop(n->env->ctx, 0, reason);
}

/* ---- catchup glue ---- */

static void update_facts(struct evc_node *n) {
  struct evc_catchup_facts *f = &n->facts;
  f->local_height = n->chain.height;
  uint64_t highest = n->chain.height;
  uint64_t candidate = evc_da_sync_highest_candidate(n);
  if (candidate > highest) highest = candidate;
  f->da_height_above = candidate > n->chain.height ? candidate : 0;
  f->highest_known_height = highest;
  bool caught_up = evc_da_sync_caught_up(n);
  f->da_caught_up = caught_up;
  f->settle_reached = caught_up && n->d0_set &&
                      n->da.next_process > n->d0 + n->cfg.da_mempool_ttl_blocks;
  f->da_only = n->cfg.catchup_da_only;
  f->stop_requested = n->stop_requested;
  evc_p2p_update_facts(n);
  if (f->peer_signed_height_max > f->highest_known_height) {
    f->highest_known_height = f->peer_signed_height_max;
  }
}

static void apply_signed_block(struct evc_node *n) {
  EVC_ASSERT(n->sign_loaded && n->sign.has_block);
  struct evc_block b;
  int rc = evc_block_from_bytes(n->sign.header_bytes, n->sign.header_size, n->sign.data_bytes,
                                n->sign.data_size, &b);
  if (rc == 0) rc = evc_chain_check_next(n, &b);
  if (rc == 0) rc = evc_chain_apply(n, &b, 0, true);
  evc_block_release(&b);
  if (rc != 0) {
    n->facts.fatal_error = rc;
    evc_node_fail(n, rc, "the block in the sign state does not extend the stored chain");
    return;
  }
  evc_logf(n->env, EVC_LOG_INFO, "event=sign_state_block_applied height=%llu action=republish",
           (unsigned long long)n->chain.height);
  evc_node_counter(n, "republished_signed_block", 1);
  struct evc_block again; /* to peers now; to DA through the submitter (it is soft) */
  if (evc_chain_load_block(n, n->chain.height, &again, NULL) == 0) {
    evc_p2p_announce(n, &again);
    evc_block_release(&again);
  }
}

static int check_expect_head(struct evc_node *n) {
  if (!n->cfg.expect_head) return 0;
  struct evc_block_record rec;
  int rc = evc_store_get_block(n->store, n->cfg.expect_head_height, &rec);
  if (rc != 0) return EVC_ECONFLICT;
  bool same = memcmp(rec.hash, n->cfg.expect_head_hash, EVC_HASH_SIZE) == 0;
  evc_block_record_release(&rec);
  return same ? 0 : EVC_ECONFLICT;
}

/* DRAINING: the syncer has applied everything pending; check, then produce. */
static void drain(struct evc_node *n, const struct evc_catchup_decision *d) {
  if (d->equivocation_override) {
    n->override_equivocation = true;
    n->override_ceiling = n->facts.sign_status == EVC_SIGN_INTACT ? n->facts.sign_height
                                                                  : n->facts.peer_signed_height_max;
    evc_logf(n->env, EVC_LOG_ERROR,
             "event=da_only_override local_height=%llu sign_height=%llu detail=\"--catchup.da-only: "
             "producing without blocks that were signed; this node WILL equivocate over heights "
             "%llu..%llu\"",
             (unsigned long long)n->chain.height, (unsigned long long)n->facts.sign_height,
             (unsigned long long)(n->chain.height + 1), (unsigned long long)n->facts.sign_height);
  }
  evc_node_enter_mode(n, EVC_MODE_DRAINING, d->reason);
  cancel_timer(n, &n->catchup_timer_p2p);
  cancel_timer(n, &n->catchup_timer_grace);
  if (check_expect_head(n) != 0) {
    return evc_node_fail(n, EVC_ECONFLICT, "--catchup.expect-head does not match the chain");
  }
  int rc = evc_submitter_start(n);
  if (rc != 0) return evc_node_fail(n, rc, "cannot start the DA submitter");
  if (!evc_node_is_running(n)) return;
  evc_node_enter_mode(n, EVC_MODE_PRODUCING, "catchup complete");
  rc = evc_producer_start(n);
  if (rc != 0) evc_node_fail(n, rc, "cannot start the block producer");
}

#define EVC_WAITING_FLIP_QUIET_NS 10000000000ull /* 10 s */

/* Logs what catchup waits for when it changes. During the settle wait the reason alternates
 * with "DA retrieval" at every new DA block: a return to one of the last two reasons logged is
 * logged again only 10 s after the last log, as progress (/status always shows the current
 * reason). */
static void log_waiting(struct evc_node *n, const char *waiting_for) {
  if (n->waiting_for == waiting_for) return;
  n->waiting_for = waiting_for;
  uint64_t now = n->env->mono_ns(n->env->ctx);
  bool recent = waiting_for == n->waiting_logged[0] || waiting_for == n->waiting_logged[1];
  if (recent && evc_log_quiet(n->waiting_logged_ns, now, EVC_WAITING_FLIP_QUIET_NS)) return;
  if (waiting_for != n->waiting_logged[0]) {
    n->waiting_logged[1] = n->waiting_logged[0];
    n->waiting_logged[0] = waiting_for;
  }
  evc_log_stamp(&n->waiting_logged_ns, now);
  evc_logf(n->env, EVC_LOG_INFO,
           "event=catchup_waiting for=\"%s\" height=%llu da_height=%llu da_head=%llu",
           waiting_for, (unsigned long long)n->chain.height,
           (unsigned long long)(n->da.next_process - 1), (unsigned long long)n->da.head);
}

/* One step of catchup; returns true when another step may decide something new. */
static bool catchup_step(struct evc_node *n) {
  update_facts(n);
  struct evc_catchup_decision d;
  evc_catchup_decide(&n->facts, &d);
  switch (d.action) {
  case EVC_CATCHUP_WAIT:
    log_waiting(n, d.waiting_for);
    return false;
  case EVC_CATCHUP_MARK_STALE:
    evc_logf(n->env, EVC_LOG_ERROR,
             "event=sign_state_stale sign_height=%llu known_height=%llu detail=\"the chain reached "
             "beyond the sign state: it was restored from a backup; continuing as if there were "
             "none. Never restore keys/sign_state from a backup.\"",
             (unsigned long long)n->facts.sign_height,
             (unsigned long long)n->facts.highest_known_height);
    n->facts.sign_status = EVC_SIGN_STALE;
    evc_node_counter(n, "sign_state_stale", 1);
    return true;
  case EVC_CATCHUP_APPLY_SIGNED_BLOCK:
    apply_signed_block(n);
    return evc_node_is_running(n);
  case EVC_CATCHUP_DRAIN:
    drain(n, &d);
    return false;
  case EVC_CATCHUP_FAIL:
    evc_node_fail(n, n->facts.fatal_error != 0 ? n->facts.fatal_error : EVC_EFAILED, d.reason);
    return false;
  case EVC_CATCHUP_STOP:
    finish_stop(n, "stop requested during catchup: catchup did not complete");
    return false;
  }
  EVC_UNREACHABLE();
}

void evc_node_reevaluate(struct evc_node *n) {
#ifdef EVC_CANARY_IGNORE_SIGN_STATE
  /* The deliberately broken canary build (-DEVC_CANARY=ON): after a wipe it skips catchup
   * and re-signs heights its sign state already covers. The sweep must catch it. */
  if (n->mode == EVC_MODE_CATCHING_UP && n->chain.height < n->cfg.genesis.initial_height) {
    struct evc_catchup_decision canary = {.action = EVC_CATCHUP_DRAIN, .reason = "canary"};
    n->sign_loaded = false;
    drain(n, &canary);
    return;
  }
#endif
  if (n->mode == EVC_MODE_CATCHING_UP) {
    while (n->mode == EVC_MODE_CATCHING_UP && catchup_step(n)) {
    }
    return;
  }
  if (n->mode == EVC_MODE_PRODUCING && n->stop_requested && evc_submitter_drained(n)) {
    finish_stop(n, "stopped: every produced block is on DA");
  }
}

void evc_node_after_apply(struct evc_node *n) { (void)n; }

/* ---- start ---- */

static void p2p_timeout_callback(void *arg) {
  struct evc_node *n = arg;
  n->catchup_timer_p2p = 0;
  n->facts.p2p_timeout_expired = true;
  evc_logf(n->env, EVC_LOG_INFO, "event=catchup_p2p_timeout_expired answered=%u known=%u",
           n->facts.known_peers_answered, n->facts.known_peer_count);
  evc_node_reevaluate(n);
}

static void grace_callback(void *arg) {
  struct evc_node *n = arg;
  n->catchup_timer_grace = 0;
  n->facts.inbound_grace_expired = true;
  evc_node_reevaluate(n);
}

/* Reads keys/sign_state: absent, intact (validated against the genesis key) or invalid. */
static int load_sign_state(struct evc_node *n) {
  uint8_t *bytes = NULL;
  size_t size = 0;
  int rc = n->env->file_read(n->env->ctx, EVC_SIGN_STATE_FILE, EVC_SIGN_STATE_SIZE_MAX, &bytes,
                             &size);
  if (rc == EVC_ENOTFOUND) {
    n->facts.sign_status = EVC_SIGN_ABSENT;
    evc_logf(n->env, EVC_LOG_WARN, "event=sign_state_absent detail=\"no sign state: the node "
             "cannot know how far the chain got and will wait for peers and for late DA blobs\"");
    return 0;
  }
  if (rc != 0) return rc;
  rc = evc_sign_state_decode(bytes, size, &n->cfg.genesis, &n->sign);
  free(bytes);
  if (rc != 0) {
    n->facts.sign_status = EVC_SIGN_INVALID;
    evc_logf(n->env, EVC_LOG_ERROR, "event=sign_state_invalid error=%s", evc_errname(rc));
    return 0;
  }
  n->sign_loaded = true;
  n->facts.sign_status = EVC_SIGN_INTACT;
  n->facts.sign_height = n->sign.height;
  if (n->sign.has_block && n->sign.height <= n->chain.height) {
    struct evc_block_record rec;
    rc = evc_store_get_block(n->store, n->sign.height, &rec);
    if (rc != 0) return rc;
    n->facts.sign_block_conflicts = memcmp(rec.hash, n->sign.block_hash, EVC_HASH_SIZE) != 0;
    evc_block_record_release(&rec);
  }
  evc_logf(n->env, EVC_LOG_INFO, "event=sign_state_loaded sign_height=%llu local_height=%llu",
           (unsigned long long)n->sign.height, (unsigned long long)n->chain.height);
  return 0;
}

static int open_store(struct evc_node *n) {
  uint8_t app_hash[EVC_HASH_SIZE];
  evc_kv_empty_app_hash(app_hash);
  char err[256];
  int rc = evc_store_open(n->env->store_path, n->env->store_vfs_name, n->genesis_hash,
                          n->cfg.genesis.initial_height, app_hash, &n->store, err, sizeof err);
  if (rc != 0) {
    evc_logf(n->env, EVC_LOG_ERROR, "event=store_open_failed error=%s detail=\"%s\"",
             evc_errname(rc), err);
    return rc;
  }
  rc = evc_kv_exec_init(n->store, &n->exec);
  if (rc != 0) return rc;
  n->exec_open = true;
  evc_store_chain_state(n->store, &n->chain);
  if (n->chain.height >= n->cfg.genesis.initial_height) {
    struct evc_block last;
    rc = evc_chain_load_block(n, n->chain.height, &last, NULL);
    if (rc != 0) return rc;
    n->last_time_ns = last.sh.header.time_ns;
    evc_block_release(&last);
  }
  return 0;
}

static int begin_catchup(struct evc_node *n) {
  struct evc_env *e = n->env;
  int rc = e->timer_start(e->ctx, n->cfg.catchup_p2p_timeout_ns, p2p_timeout_callback, n,
                          &n->catchup_timer_p2p);
  if (rc == 0 && n->known_at_start == 0) {
    if (n->facts.sign_status != EVC_SIGN_INTACT) {
      evc_logf(e, EVC_LOG_WARN, "event=no_known_peers detail=\"no --p2p.peers and an empty peer "
               "book: waiting %llu ms for peers to dial in\"",
               (unsigned long long)(n->cfg.catchup_inbound_grace_ns / MS));
    }
    rc = e->timer_start(e->ctx, n->cfg.catchup_inbound_grace_ns, grace_callback, n,
                        &n->catchup_timer_grace);
  }
  if (rc != 0) return rc;
  evc_node_enter_mode(n, EVC_MODE_CATCHING_UP, "every aggregator start runs catchup");
  return 0;
}

int evc_node_start(struct evc_node *n) {
  EVC_ASSERT(!n->started);
  n->started = true;
  evc_logf(n->env, EVC_LOG_INFO, "event=start role=%s chain_id=%s",
           n->cfg.aggregator ? "aggregator" : "full", n->cfg.genesis.chain_id.text);
  int rc = open_store(n);
  if (rc == 0 && n->cfg.aggregator) rc = load_sign_state(n);
  if (rc == 0) rc = evc_p2p_start(n);
  if (rc == 0) {
    rc = n->cfg.aggregator ? begin_catchup(n) : 0;
    if (!n->cfg.aggregator) evc_node_enter_mode(n, EVC_MODE_SYNCING, "full node");
  }
  if (rc == 0) rc = evc_da_sync_start(n);
  if (rc != 0) {
    evc_node_fail(n, rc, "start failed");
    return rc;
  }
  evc_node_reevaluate(n);
  return 0;
}

/* ---- create and free ---- */

static int check_config(const struct evc_node_config *cfg) {
  if (cfg->block_time_ns == 0 || cfg->da_block_time_ns == 0) return EVC_ECONFIG;
  if (cfg->da_mempool_ttl_blocks == 0 || cfg->peer_count > EVC_NODE_PEERS_MAX) return EVC_ECONFIG;
  if (cfg->mempool_txs_max == 0 || cfg->block_txs_max == 0 || cfg->block_txs_max > 64) {
    return EVC_ECONFIG;
  }
  if (cfg->da_batch_bytes_max < 2 * EVC_SIGNED_HEADER_SIZE_MAX) return EVC_ECONFIG;
  if (cfg->genesis.initial_height == 0 || cfg->genesis.da_start_height == 0) return EVC_ECONFIG;
  return 0;
}

int evc_node_new(struct evc_env *env, const struct evc_node_config *cfg, struct evc_node **out) {
  *out = NULL;
  int rc = check_config(cfg);
  if (rc != 0) return rc;
  struct evc_node *n = calloc(1, sizeof *n);
  if (n == NULL) return EVC_ENOMEM;
  n->env = env;
  n->cfg = *cfg;
  n->mode = EVC_MODE_BOOT;
  evc_address_from_pubkey(cfg->genesis.proposer_pubkey, n->proposer);
  evc_genesis_hash(&cfg->genesis, n->genesis_hash);
  memcpy(n->da_namespaces[0], cfg->genesis.header_namespace, EVC_NAMESPACE_SIZE);
  memcpy(n->da_namespaces[1], cfg->genesis.data_namespace, EVC_NAMESPACE_SIZE);
  if (cfg->aggregator) {
    evc_keypair_from_seed(cfg->signer_seed, &n->signer);
    if (memcmp(n->signer.pubkey, cfg->genesis.proposer_pubkey, EVC_PUBKEY_SIZE) != 0) {
      evc_node_free(n);
      return EVC_ECONFIG; /* the signer key is not the genesis proposer's */
    }
  }
  rc = evc_mempool_init(&n->mempool, cfg->mempool_txs_max);
  if (rc == 0) rc = evc_da_sync_init(n);
  if (rc != 0) {
    evc_node_free(n);
    return rc;
  }
  *out = n;
  return 0;
}

void evc_node_free(struct evc_node *n) {
  if (n == NULL) return;
  evc_da_sync_free(n);
  evc_mempool_free(&n->mempool);
  evc_sign_state_release(&n->sign);
  if (n->exec_open) evc_kv_exec_close(&n->exec);
  evc_store_close(n->store);
  evc_keypair_wipe(&n->signer);
  free(n);
}

/* ---- entry points ---- */

static void entry_peer_connected(void *node, const struct evc_peer_id *peer, const char *address,
                                 bool inbound) {
  evc_p2p_peer_connected(node, peer, address, inbound);
}

static void entry_peer_disconnected(void *node, const struct evc_peer_id *peer) {
  evc_p2p_peer_disconnected(node, peer);
}

static void entry_dial_failed(void *node, const char *address, int status) {
  evc_p2p_dial_failed(node, address, status);
}

static void entry_message(void *node, const struct evc_peer_id *peer, const uint8_t *bytes,
                          size_t size) {
  evc_p2p_message(node, peer, bytes, size);
}

static void stop_timeout_callback(void *arg) {
  struct evc_node *n = arg;
  n->stop_timer = 0;
  evc_logf(n->env, EVC_LOG_WARN, "event=shutdown_timeout blocks_not_on_da=%llu",
           (unsigned long long)evc_submitter_pending(n));
  finish_stop(n, "stopped at --shutdown-timeout with blocks not yet on DA");
}

static void entry_stop(void *node) {
  struct evc_node *n = node;
  if (!evc_node_is_running(n) || n->stop_requested) return;
  n->stop_requested = true;
  evc_logf(n->env, EVC_LOG_INFO, "event=stop_requested mode=%s", evc_mode_name(n->mode));
  if (n->mode != EVC_MODE_PRODUCING) {
    if (n->mode == EVC_MODE_CATCHING_UP) return evc_node_reevaluate(n);
    return finish_stop(n, "stop requested");
  }
  evc_producer_stop(n);
  if (evc_submitter_drained(n)) return finish_stop(n, "stopped: every produced block is on DA");
  int rc = n->env->timer_start(n->env->ctx, n->cfg.shutdown_timeout_ns, stop_timeout_callback, n,
                               &n->stop_timer);
  if (rc != 0) finish_stop(n, "stopped: cannot arm the shutdown timer");
}

const struct evc_node_entry evc_node_entry_points = {
    .peer_connected = entry_peer_connected,
    .peer_disconnected = entry_peer_disconnected,
    .dial_failed = entry_dial_failed,
    .message = entry_message,
    .stop = entry_stop,
};

void evc_node_status(const struct evc_node *n, struct evc_node_status *out) {
  memset(out, 0, sizeof *out);
  out->mode = n->mode;
  out->aggregator = n->cfg.aggregator;
  out->height = n->chain.height;
  memcpy(out->last_hash, n->chain.last_hash, EVC_HASH_SIZE);
  out->da_included_height = n->chain.da_included_height;
  out->da_height_reached = n->da.next_process > 0 ? n->da.next_process - 1 : 0;
  out->da_head = n->da.head;
  out->p2p_target_height = n->peer_proven_max;
  for (uint32_t i = 0; i < EVC_PEERS_CONNECTED_MAX; i++) out->peer_count += n->peers[i].used;
  out->equivocations = n->equivocations;
  out->blocks_applied = n->blocks_applied;
  out->blocks_produced = n->blocks_produced;
  out->mempool_tx_count = n->mempool.count;
  out->waiting_for = n->mode == EVC_MODE_CATCHING_UP ? n->waiting_for : NULL;
  out->failure = n->failure;
}

int evc_node_get_block(struct evc_node *n, uint64_t height, struct evc_node_block *out) {
  memset(out, 0, sizeof *out);
  if (n->store == NULL) return EVC_ESTATE;
  struct evc_block b;
  uint64_t da_height = 0;
  int rc = evc_chain_load_block(n, height, &b, &da_height);
  if (rc != 0) return rc;
  out->sh = b.sh;
  memcpy(out->hash, b.hash, EVC_HASH_SIZE);
  out->data = b.data_bytes;
  out->data_size = b.data_size;
  out->final = da_height != 0;
  b.data_bytes = NULL;
  evc_block_release(&b);
  return 0;
}

void evc_node_block_release(struct evc_node_block *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}
