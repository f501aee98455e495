/* struct evc_env for a simulated node: every function of node/core/env.h on the virtual
 * clock, the node's seeded stream, the simulated network and DA, and the node's simdisk.
 * Never calls back into the node from inside its own call: outcomes are queued events.
 * Once the node is dead (crashed after a sign-state write), every call is inert. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/crypto/sign_state.h"
#include "sim/sim_internal.h"
#include "sim/simdisk.h"

#define FILE_NAME_MAX 200

bool evc_simk_node_may_act(const struct evc_sim_node *node) {
  return node->state != EVC_SIM_NODE_DOWN && !node->dead;
}

static struct evc_sim_node *node_of(void *ctx) {
  struct evc_sim_node *node = ctx;
  EVC_ASSERT(node != NULL);
  EVC_ASSERT(node->sim != NULL);
  return node;
}

static uint64_t env_mono_ns(void *ctx) { return node_of(ctx)->sim->now_ns; }

static uint64_t env_wall_ns(void *ctx) {
  struct evc_sim_node *node = node_of(ctx);
  uint64_t base = node->sim->config.genesis_time_ns + node->sim->now_ns;
  if (node->wall_offset_ns < 0) {
    uint64_t back = (uint64_t)(-(node->wall_offset_ns + 1)) + 1;
    return back > base ? 0 : base - back;
  }
  return base + (uint64_t)node->wall_offset_ns;
}

static int env_timer_start(void *ctx, uint64_t delay_ns, evc_timer_callback cb, void *arg,
                           uint64_t *timer_id_out) {
  struct evc_sim_node *node = node_of(ctx);
  if (cb == NULL || timer_id_out == NULL) return EVC_EINVAL;
  if (!evc_simk_node_may_act(node)) return EVC_ESTOPPED;
  struct evc_sim *sim = node->sim;
  if (delay_ns > UINT64_MAX - sim->now_ns) return EVC_ERANGE;
  struct evc_simk_event ev;
  evc_simk_node_event(node, EVC_SIMK_EV_TIMER, &ev);
  ev.u.timer.cb = cb;
  ev.u.timer.arg = arg;
  return evc_simk_push(sim, sim->now_ns + delay_ns, &ev, timer_id_out);
}

static void env_timer_cancel(void *ctx, uint64_t timer_id) {
  struct evc_sim_node *node = node_of(ctx);
  evc_simk_cancel(node->sim, timer_id, EVC_SIMK_EV_TIMER, node->index);
}

static void env_random_bytes(void *ctx, uint8_t *out, size_t size) {
  struct evc_sim_node *node = node_of(ctx);
  evc_sim_rng_fill(&node->rng_node, out, size);
}

static int env_p2p_dial(void *ctx, const char *address) {
  struct evc_sim_node *node = node_of(ctx);
  if (!evc_simk_node_may_act(node)) return EVC_ESTOPPED;
  return evc_simk_net_dial(node, address);
}

static int env_p2p_send(void *ctx, const struct evc_peer_id *peer, const uint8_t *bytes,
                        size_t size) {
  struct evc_sim_node *node = node_of(ctx);
  if (!evc_simk_node_may_act(node)) return EVC_ESTOPPED;
  return evc_simk_net_send(node, peer, bytes, size);
}

static void env_p2p_disconnect(void *ctx, const struct evc_peer_id *peer) {
  struct evc_sim_node *node = node_of(ctx);
  if (!evc_simk_node_may_act(node)) return;
  evc_simk_net_disconnect(node, peer);
}

static int env_da_submit(void *ctx, const struct evc_da_blob *blobs, size_t count,
                         evc_da_submit_callback cb, void *arg) {
  struct evc_sim_node *node = node_of(ctx);
  if (!evc_simk_node_may_act(node)) return EVC_ESTOPPED;
  return evc_simk_da_submit(node, blobs, count, cb, arg);
}

static int env_da_get(void *ctx, uint64_t height, const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE],
                      size_t namespace_count, evc_da_get_callback cb, void *arg) {
  struct evc_sim_node *node = node_of(ctx);
  if (!evc_simk_node_may_act(node)) return EVC_ESTOPPED;
  return evc_simk_da_get(node, height, namespaces, namespace_count, cb, arg);
}

static int env_da_head(void *ctx, evc_da_head_callback cb, void *arg) {
  struct evc_sim_node *node = node_of(ctx);
  if (!evc_simk_node_may_act(node)) return EVC_ESTOPPED;
  return evc_simk_da_head_call(node, cb, arg);
}

static int env_work_submit(void *ctx, evc_work_function fn, void *work_arg,
                           evc_work_done_callback done, void *arg) {
  struct evc_sim_node *node = node_of(ctx);
  if (fn == NULL || done == NULL) return EVC_EINVAL;
  if (!evc_simk_node_may_act(node)) return EVC_ESTOPPED;
  struct evc_simk_event ev;
  evc_simk_node_event(node, EVC_SIMK_EV_WORK, &ev);
  ev.u.work.fn = fn;
  ev.u.work.work_arg = work_arg;
  ev.u.work.done = done;
  ev.u.work.arg = arg;
  return evc_simk_push(node->sim, node->sim->now_ns, &ev, NULL);
}

/* HOME-relative, no absolute paths, no "..", printable ASCII only. */
static bool file_name_ok(const char *name) {
  if (name == NULL || name[0] == '\0' || name[0] == '/') return false;
  size_t size = strlen(name);
  if (size > FILE_NAME_MAX || strstr(name, "..") != NULL) return false;
  for (size_t i = 0; i < size; i++) {
    if (name[i] <= 0x20 || name[i] >= 0x7f) return false;
  }
  return true;
}

static int env_file_read(void *ctx, const char *name, size_t size_max, uint8_t **bytes_out,
                         size_t *size_out) {
  struct evc_sim_node *node = node_of(ctx);
  if (bytes_out == NULL || size_out == NULL || !file_name_ok(name)) return EVC_EINVAL;
  *bytes_out = NULL;
  *size_out = 0;
  if (!evc_simk_node_may_act(node)) return EVC_EIO;
  uint8_t *bytes = NULL;
  size_t size = 0;
  int rc = evc_simdisk_read(node->disk, name, &bytes, &size);
  if (rc == 0 && size > size_max) {
    free(bytes);
    rc = EVC_ETOOBIG;
  }
  evc_simk_trace(node->sim, node->name, "file_read name=%s size=%zu status=%s", name,
                 rc == 0 ? size : 0, rc == 0 ? "ok" : evc_errname(rc));
  if (rc != 0) return rc;
  *bytes_out = bytes;
  *size_out = size;
  return 0;
}

static const char *kind_name(enum evc_observation_kind kind) {
  switch (kind) {
    case EVC_OBS_MODE: return "mode";
    case EVC_OBS_BLOCK_STORED: return "block_stored";
    case EVC_OBS_BLOCK_PRODUCED: return "block_produced";
    case EVC_OBS_BLOCK_SIGNED: return "block_signed";
    case EVC_OBS_ROLLED_BACK: return "rolled_back";
    case EVC_OBS_DA_INCLUDED: return "da_included";
    case EVC_OBS_EQUIVOCATION: return "equivocation";
    case EVC_OBS_COUNTER: return "counter";
    case EVC_OBS_GAUGE: return "gauge";
    case EVC_OBS_PEER_ANSWERED: return "peer_answered";
  }
  return "unknown";
}

/* Traces an observation and hands it to the simulator's observers (the checker). */
static void record_observation(struct evc_sim_node *node, const struct evc_observation *obs) {
  char hash[2 * EVC_HASH_SIZE + 1];
  evc_hex_encode(obs->hash, EVC_HASH_SIZE, hash);
  const char *text = obs->text != NULL ? obs->text : "";
  evc_simk_trace(node->sim, node->name,
                 "observe kind=%s height=%" PRIu64 " count=%" PRIu64 " hash=%s text=%s",
                 kind_name(obs->kind), obs->height, obs->count, hash, text);
  evc_simk_node_observed(node, obs);
}

/* A crash right after the sign state reached the disk (crash_after_sign, crash_at_sync on
 * it) kills the node inside the write, before it reports the signature. The signature is
 * made and durable all the same: the sim reports it for the node, from the bytes written,
 * so the checker knows the key signed that block in this life (with this life's flags). */
static void observe_signature_before_crash(void *ctx, const uint8_t *bytes, size_t size) {
  struct evc_sim_node *node = node_of(ctx);
  /* Only what the crash left on the disk counts: a write the crash dropped signed nothing
   * the next life will see, and reporting the old state again would be a false re-sign. */
  uint8_t *on_disk = NULL;
  size_t on_disk_size = 0;
  if (evc_simdisk_read(node->disk, EVC_SIM_SIGN_STATE_FILE, &on_disk, &on_disk_size) != 0) return;
  bool kept = on_disk_size == size && (size == 0 || memcmp(on_disk, bytes, size) == 0);
  free(on_disk);
  if (!kept) return;
  struct evc_sign_state st;
  int rc = evc_sign_state_decode(bytes, size, evc_sim_genesis(node->sim), &st);
  if (rc != 0) {
    evc_simk_trace(node->sim, node->name, "note sign state written before the crash does not "
                   "decode: %s", evc_errname(rc));
    return;
  }
  if (st.has_block) {
    struct evc_observation obs;
    memset(&obs, 0, sizeof obs);
    obs.kind = EVC_OBS_BLOCK_SIGNED;
    obs.height = st.height;
    memcpy(obs.hash, st.block_hash, EVC_HASH_SIZE);
    obs.text = "reported by the simulator: the node died in the write";
    record_observation(node, &obs); /* not env_observe: the node may be dead already */
  }
  evc_sign_state_release(&st);
}

static int env_file_replace(void *ctx, const char *name, const uint8_t *bytes, size_t size) {
  struct evc_sim_node *node = node_of(ctx);
  if (!file_name_ok(name) || (bytes == NULL && size > 0)) return EVC_EINVAL;
  if (size > EVC_DURABLE_FILE_SIZE_MAX) return EVC_ETOOBIG;
  if (!evc_simk_node_may_act(node)) return EVC_EIO; /* dead: nothing is written */
  int rc = evc_simdisk_replace(node->disk, name, bytes, size);
  evc_simk_trace(node->sim, node->name, "file_replace name=%s size=%zu status=%s", name, size,
                 rc == 0 ? "ok" : evc_errname(rc));
  bool sign_state = strcmp(name, EVC_SIM_SIGN_STATE_FILE) == 0;
  if (rc == 0 && sign_state && node->crash_after_sign && !node->dead) {
    node->crash_after_sign = false;
    observe_signature_before_crash(ctx, bytes, size);
    evc_simk_node_die_now(node);
  } else if (rc == 0 && sign_state && node->dead) {
    observe_signature_before_crash(ctx, bytes, size); /* crash_at_sync on its sync */
  }
  return rc;
}

static const char *level_name(enum evc_log_level level) {
  switch (level) {
    case EVC_LOG_DEBUG: return "debug";
    case EVC_LOG_INFO: return "info";
    case EVC_LOG_WARN: return "warn";
    case EVC_LOG_ERROR: return "error";
  }
  return "unknown";
}

static void env_log(void *ctx, enum evc_log_level level, const char *line) {
  struct evc_sim_node *node = node_of(ctx);
  if (!evc_simk_node_may_act(node)) return;
  evc_simk_trace(node->sim, node->name, "log level=%s %s", level_name(level),
                 line != NULL ? line : "");
}


static void env_observe(void *ctx, const struct evc_observation *obs) {
  struct evc_sim_node *node = node_of(ctx);
  if (obs == NULL || !evc_simk_node_may_act(node)) return;
  record_observation(node, obs);
}

static void env_request_stop(void *ctx, int exit_code, const char *reason) {
  struct evc_sim_node *node = node_of(ctx);
  if (!evc_simk_node_may_act(node) || node->state == EVC_SIM_NODE_EXITING) return;
  struct evc_sim *sim = node->sim;
  node->exit_code = exit_code;
  snprintf(node->exit_reason, sizeof node->exit_reason, "%s", reason != NULL ? reason : "");
  node->state = EVC_SIM_NODE_EXITING;
  evc_simk_trace(sim, node->name, "request_stop code=%d reason=\"%s\"", exit_code,
                 node->exit_reason);
  struct evc_simk_event ev;
  evc_simk_node_event(node, EVC_SIMK_EV_TEARDOWN, &ev);
  (void)evc_simk_push(sim, sim->now_ns, &ev, NULL);
}

void evc_simk_env_init(struct evc_sim_node *node) {
  struct evc_env *env = &node->env;
  memset(env, 0, sizeof *env);
  env->ctx = node;
  env->mono_ns = env_mono_ns;
  env->wall_ns = env_wall_ns;
  env->timer_start = env_timer_start;
  env->timer_cancel = env_timer_cancel;
  env->random_bytes = env_random_bytes;
  env->p2p_dial = env_p2p_dial;
  env->p2p_send = env_p2p_send;
  env->p2p_disconnect = env_p2p_disconnect;
  env->da_submit = env_da_submit;
  env->da_get = env_da_get;
  env->da_head = env_da_head;
  env->work_submit = env_work_submit;
  env->store_vfs_name = node->vfs_name;
  env->store_path = EVC_SIM_STORE_PATH;
  env->file_read = env_file_read;
  env->file_replace = env_file_replace;
  env->log = env_log;
  env->observe = env_observe;
  env->request_stop = env_request_stop;
}
