/* Simulated nodes: their disks, keys and VFS for the whole run, and their lives (start,
 * graceful stop, crash, crash after the next sign-state write, wipe, lost machine,
 * snapshot and restore), plus the per-node view the scenario runner reads. Node objects
 * are destroyed only from the loop or a lifecycle call, never inside their own calls. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"
#include "sim/sim_internal.h"
#include "sim/simdisk.h"

#define KEY_FILE_SIZE_MAX 512

/* ---- helpers shared with the other kernel files ---- */

int evc_simk_node_index(const struct evc_sim *sim, const char *name) {
  if (name == NULL) return -1;
  for (size_t i = 0; i < sim->node_count; i++) {
    if (strcmp(sim->nodes[i]->name, name) == 0) return (int)i;
  }
  return -1;
}

bool evc_simk_node_live(const struct evc_sim *sim, uint32_t index, uint64_t incarnation) {
  if (index >= sim->node_count) return false;
  const struct evc_sim_node *node = sim->nodes[index];
  if (node->incarnation != incarnation || node->dead || node->object == NULL) return false;
  return node->state == EVC_SIM_NODE_RUNNING || node->state == EVC_SIM_NODE_STOPPING;
}

void evc_simk_enter(struct evc_sim *sim) { sim->node_call_depth++; }

void evc_simk_leave(struct evc_sim *sim) {
  EVC_ASSERT(sim->node_call_depth > 0);
  sim->node_call_depth--;
}

static bool name_ok(const char *name) {
  if (name == NULL) return false;
  size_t size = strlen(name);
  if (size == 0 || size > EVC_SIM_NODE_NAME_MAX) return false;
  for (size_t i = 0; i < size; i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

/* ---- creation ---- */

static uint64_t disk_rand(void *arg) {
  struct evc_sim_node *node = arg;
  return evc_sim_rng_next_u64(&node->rng_disk);
}

static uint64_t disk_now_unix_ms(void *arg) {
  struct evc_sim_node *node = arg;
  return node->env.wall_ns(node) / 1000000u;
}

static void disk_synced(void *arg, const char *path) {
  struct evc_sim_node *node = arg;
  evc_simk_trace(node->sim, node->name, "disk_sync path=%s", path);
  if (node->crash_at_sync == 0 || !evc_simk_node_may_act(node)) return;
  if (node->state != EVC_SIM_NODE_RUNNING && node->state != EVC_SIM_NODE_STOPPING) return;
  if (--node->crash_at_sync == 0) {
    evc_simk_trace(node->sim, node->name, "crash_at_sync path=%s", path);
    evc_simk_node_die_now(node);
  }
}

static void key_from_stream(uint64_t seed, const char *owner, const char *what,
                            struct evc_keypair *out) {
  char stream[96];
  snprintf(stream, sizeof stream, "keys/%s/%s", owner, what);
  struct evc_sim_rng rng;
  evc_sim_rng_init_stream(&rng, seed, stream);
  uint8_t key_seed[EVC_SEED_SIZE];
  evc_sim_rng_fill(&rng, key_seed, sizeof key_seed);
  evc_keypair_from_seed(key_seed, out);
}

static int write_key_file(struct evc_sim_node *node, const char *path,
                          const struct evc_keypair *kp) {
  uint8_t seed[EVC_SEED_SIZE];
  evc_keypair_seed(kp, seed);
  char seed_hex[2 * EVC_SEED_SIZE + 1];
  char pub_hex[2 * EVC_PUBKEY_SIZE + 1];
  evc_hex_encode(seed, sizeof seed, seed_hex);
  evc_hex_encode(kp->pubkey, EVC_PUBKEY_SIZE, pub_hex);
  char text[KEY_FILE_SIZE_MAX];
  int n = snprintf(text, sizeof text, "{\"type\":\"ed25519\",\"seed\":\"%s\",\"pubkey\":\"%s\"}\n",
                   seed_hex, pub_hex);
  EVC_ASSERT(n > 0 && (size_t)n < sizeof text);
  return evc_simdisk_replace(node->disk, path, (const uint8_t *)text, (size_t)n);
}

static int node_disk_init(struct evc_sim_node *node) {
  int rc = evc_simdisk_new(&node->disk);
  if (rc != 0) return rc;
  evc_simdisk_set_rand(node->disk, disk_rand, node);
  evc_simdisk_set_clock(node->disk, disk_now_unix_ms, node);
  evc_simdisk_set_sync_hook(node->disk, disk_synced, node);
  /* The first free name, so that runs made one after another use the same names. */
  for (int attempt = 0; attempt < 1000; attempt++) {
    if (attempt == 0) {
      snprintf(node->vfs_name, sizeof node->vfs_name, "evc-sim-%s", node->name);
    } else {
      snprintf(node->vfs_name, sizeof node->vfs_name, "evc-sim-%s-%d", node->name, attempt);
    }
    rc = evc_simvfs_register(node->vfs_name, node->disk);
    if (rc != EVC_EEXIST) break;
  }
  if (rc != 0) return rc;
  node->vfs_registered = true;
  if (node->has_signer) {
    rc = write_key_file(node, EVC_SIM_SIGNER_KEY_FILE, &node->signer);
    if (rc != 0) return rc;
  }
  return write_key_file(node, EVC_SIM_NODE_KEY_FILE, &node->node_key);
}

static void node_free(struct evc_sim_node *node) {
  if (node->vfs_registered) evc_simvfs_unregister(node->vfs_name);
  if (node->disk != NULL) evc_simdisk_free(node->disk);
  evc_keypair_wipe(&node->signer);
  evc_keypair_wipe(&node->node_key);
  free(node);
}

static int params_check(const struct evc_sim *sim, const struct evc_sim_node_params *p) {
  if (!name_ok(p->name) || !name_ok(p->role)) return EVC_EINVAL;
  if (p->key_of != NULL && !name_ok(p->key_of)) return EVC_EINVAL;
  const struct evc_sim_node_class *c = p->node_class;
  if (c == NULL || c->create == NULL || c->destroy == NULL || c->entry == NULL) return EVC_EINVAL;
  const struct evc_node_entry *e = c->entry;
  if (e->peer_connected == NULL || e->peer_disconnected == NULL || e->dial_failed == NULL ||
      e->message == NULL || e->stop == NULL) {
    return EVC_EINVAL;
  }
  if (p->peer_count > EVC_SIM_PEERS_MAX || (p->peers == NULL && p->peer_count > 0)) {
    return EVC_EINVAL;
  }
  for (size_t i = 0; i < p->peer_count; i++) {
    if (!name_ok(p->peers[i])) return EVC_EINVAL;
  }
  if (evc_simk_node_index(sim, p->name) >= 0) return EVC_EEXIST;
  if (sim->node_count >= EVC_SIM_NODES_MAX) return EVC_EFULL;
  return 0;
}

static void node_fill(struct evc_sim *sim, struct evc_sim_node *node,
                      const struct evc_sim_node_params *p) {
  node->sim = sim;
  node->index = (uint32_t)sim->node_count;
  snprintf(node->name, sizeof node->name, "%s", p->name);
  snprintf(node->role, sizeof node->role, "%s", p->role);
  node->node_class = p->node_class;
  node->class_arg = p->class_arg;
  for (size_t i = 0; i < p->peer_count; i++) {
    snprintf(node->peers[i], sizeof node->peers[i], "%s", p->peers[i]);
    node->peer_ptrs[i] = node->peers[i];
  }
  node->peer_count = p->peer_count;
  node->has_signer = strcmp(p->role, "aggregator") == 0 || p->key_of != NULL;
  uint64_t seed = sim->config.seed;
  if (node->has_signer) {
    key_from_stream(seed, p->key_of != NULL ? p->key_of : p->name, "signer", &node->signer);
  }
  key_from_stream(seed, p->name, "node", &node->node_key);
  char stream[64];
  snprintf(stream, sizeof stream, "node/%s", p->name);
  evc_sim_rng_init_stream(&node->rng_node, seed, stream);
  snprintf(stream, sizeof stream, "disk/%s", p->name);
  evc_sim_rng_init_stream(&node->rng_disk, seed, stream);
  node->state = EVC_SIM_NODE_DOWN;
  evc_simk_env_init(node);
}

int evc_sim_add_node(struct evc_sim *sim, const struct evc_sim_node_params *params,
                     struct evc_sim_node **node_out) {
  EVC_ASSERT(sim != NULL);
  EVC_ASSERT(params != NULL);
  EVC_ASSERT(sim->node_call_depth == 0);
  int rc = params_check(sim, params);
  if (rc != 0) return rc;
  struct evc_sim_node *node = calloc(1, sizeof *node);
  if (node == NULL) return EVC_ENOMEM;
  node_fill(sim, node, params);
  rc = node_disk_init(node);
  if (rc != 0) {
    node_free(node);
    return rc;
  }
  sim->nodes[sim->node_count++] = node;
  if (strcmp(node->role, "aggregator") == 0 && !sim->genesis_has_proposer) {
    memcpy(sim->genesis.proposer_pubkey, node->signer.pubkey, EVC_PUBKEY_SIZE);
    sim->genesis_has_proposer = true;
  }
  evc_simk_trace(sim, node->name, "add role=%s key_of=%s peers=%zu", node->role,
                 params->key_of != NULL ? params->key_of : "-", node->peer_count);
  if (node_out != NULL) *node_out = node;
  return 0;
}

void evc_simk_nodes_free(struct evc_sim *sim) {
  for (size_t i = 0; i < sim->node_count; i++) {
    struct evc_sim_node *node = sim->nodes[i];
    if (node->object != NULL) {
      node->dead = true; /* the run is over: its env calls are inert */
      evc_simk_enter(sim);
      node->node_class->destroy(node->object);
      evc_simk_leave(sim);
      node->object = NULL;
    }
  }
  for (size_t i = 0; i < sim->node_count; i++) {
    node_free(sim->nodes[i]);
    sim->nodes[i] = NULL;
  }
  sim->node_count = 0;
  for (size_t i = 0; i < sim->snapshot_count; i++) evc_simdisk_free(sim->snapshots[i].disk);
  sim->snapshot_count = 0;
}

/* ---- lookups ---- */

struct evc_sim_node *evc_sim_node_find(struct evc_sim *sim, const char *name) {
  int i = evc_simk_node_index(sim, name);
  return i < 0 ? NULL : sim->nodes[i];
}

size_t evc_sim_node_count(const struct evc_sim *sim) { return sim->node_count; }

struct evc_sim_node *evc_sim_node_at(struct evc_sim *sim, size_t index) {
  return index < sim->node_count ? sim->nodes[index] : NULL;
}

const struct evc_genesis *evc_sim_genesis(const struct evc_sim *sim) { return &sim->genesis; }

/* ---- lifecycle ---- */

void evc_sim_start_options_default(struct evc_sim_start_options *o) {
  EVC_ASSERT(o != NULL);
  memset(o, 0, sizeof *o);
  o->catchup_p2p_timeout_ms = EVC_SIM_UNSET;
  o->inbound_grace_ms = EVC_SIM_UNSET;
  o->catchup_peek_timeout_ms = EVC_SIM_UNSET;
  o->shutdown_timeout_ms = EVC_SIM_UNSET;
}

static void spec_build(const struct evc_sim_node *node, const struct evc_sim_start_options *o,
                       struct evc_sim_node_spec *spec) {
  const struct evc_sim *sim = node->sim;
  memset(spec, 0, sizeof *spec);
  spec->name = node->name;
  spec->role = node->role;
  spec->has_signer = node->has_signer;
  spec->signer = node->signer;
  spec->node_key = node->node_key;
  spec->peers = node->peer_ptrs;
  spec->peer_count = node->peer_count;
  spec->start = *o;
  spec->genesis = sim->genesis;
  spec->block_time_ns = sim->config.block_time_ns;
  spec->txs_per_block = sim->config.txs_per_block;
  spec->da_block_time_ns = sim->config.da_block_time_ns;
  spec->da_mempool_ttl_blocks = sim->config.da_mempool_ttl_blocks;
  spec->class_arg = node->class_arg;
}

static void finish_exit(struct evc_sim_node *node);

/* The node object is gone: drop its connections and mark it down. */
static void node_down(struct evc_sim_node *node) {
  node->object = NULL;
  evc_simk_net_node_down(node);
  node->state = EVC_SIM_NODE_DOWN;
  node->dead = false;
}

static int64_t option_text(uint64_t value) {
  return value == EVC_SIM_UNSET ? -1 : (int64_t)value; /* -1: the node's default */
}

static void trace_start(const struct evc_sim_node *node, const struct evc_sim_start_options *o) {
  evc_simk_trace(node->sim, node->name,
                 "start life=%" PRIu64 " catchup_p2p_timeout_ms=%" PRId64
                 " inbound_grace_ms=%" PRId64 " peek_timeout_ms=%" PRId64
                 " shutdown_timeout_ms=%" PRId64 " da_only=%d",
                 node->incarnation, option_text(o->catchup_p2p_timeout_ms),
                 option_text(o->inbound_grace_ms), option_text(o->catchup_peek_timeout_ms),
                 option_text(o->shutdown_timeout_ms), o->da_only ? 1 : 0);
}

int evc_sim_node_start(struct evc_sim_node *node, const struct evc_sim_start_options *options) {
  EVC_ASSERT(node != NULL);
  struct evc_sim *sim = node->sim;
  EVC_ASSERT(sim->node_call_depth == 0);
  finish_exit(node);
  if (node->state != EVC_SIM_NODE_DOWN) return EVC_ESTATE;
  struct evc_sim_start_options o;
  evc_sim_start_options_default(&o);
  if (options != NULL) o = *options;
  struct evc_sim_node_spec spec;
  spec_build(node, &o, &spec);
  node->incarnation++;
  node->state = EVC_SIM_NODE_RUNNING;
  node->dead = false;
  node->mode[0] = '\0';
  node->produced_since_start = 0;
  node->exit_code = 0;
  node->exit_reason[0] = '\0';
  node->starts++;
  trace_start(node, &o);
  void *object = NULL;
  evc_simk_enter(sim);
  int rc = node->node_class->create(&node->env, &spec, &object);
  evc_simk_leave(sim);
  evc_keypair_wipe(&spec.signer);
  evc_keypair_wipe(&spec.node_key);
  if (rc != 0) {
    EVC_ASSERT(object == NULL);
    evc_simk_trace(sim, node->name, "start_failed error=%s", evc_errname(rc));
    node_down(node);
    return rc;
  }
  EVC_ASSERT(object != NULL);
  node->object = object;
  return 0;
}

int evc_sim_node_stop(struct evc_sim_node *node) {
  EVC_ASSERT(node != NULL);
  EVC_ASSERT(node->sim->node_call_depth == 0);
  if (node->state != EVC_SIM_NODE_RUNNING) return EVC_ESTATE;
  node->state = EVC_SIM_NODE_STOPPING;
  evc_simk_trace(node->sim, node->name, "stop");
  evc_simk_enter(node->sim);
  node->node_class->entry->stop(node->object);
  evc_simk_leave(node->sim);
  return 0;
}

static void destroy_object(struct evc_sim_node *node) {
  if (node->object == NULL) return;
  evc_simk_enter(node->sim);
  node->node_class->destroy(node->object);
  evc_simk_leave(node->sim);
  node->object = NULL;
}

int evc_sim_node_crash(struct evc_sim_node *node) {
  EVC_ASSERT(node != NULL);
  EVC_ASSERT(node->sim->node_call_depth == 0);
  if (node->state == EVC_SIM_NODE_DOWN || node->dead) return EVC_ESTATE;
  evc_simk_trace(node->sim, node->name, "crash syncs=%" PRIu64, evc_simdisk_sync_count(node->disk));
  evc_simdisk_crash(node->disk);
  node->dead = true;
  node->crashes++;
  destroy_object(node);
  node_down(node);
  return 0;
}

void evc_sim_node_crash_after_next_sign(struct evc_sim_node *node) {
  EVC_ASSERT(node != NULL);
  node->crash_after_sign = true;
  evc_simk_trace(node->sim, node->name, "arm crash_after_next_sign");
}

void evc_simk_node_die_now(struct evc_sim_node *node) {
  struct evc_sim *sim = node->sim;
  EVC_ASSERT(!node->dead);
  evc_simk_trace(sim, node->name, "crash after_sign syncs=%" PRIu64,
                 evc_simdisk_sync_count(node->disk));
  evc_simdisk_crash(node->disk);
  node->dead = true;
  node->crashes++;
  node->state = EVC_SIM_NODE_EXITING;
  evc_simk_net_node_down(node);
  struct evc_simk_event ev;
  evc_simk_node_event(node, EVC_SIMK_EV_TEARDOWN, &ev);
  (void)evc_simk_push(sim, sim->now_ns, &ev, NULL);
}

/* Tears down a node that asked to stop or died after a sign-state write. Runs from its
 * queued event, or earlier from a lifecycle call at depth 0 (the queued event then finds
 * the node down and does nothing). */
static void finish_exit(struct evc_sim_node *node) {
  struct evc_sim *sim = node->sim;
  if (node->state != EVC_SIM_NODE_EXITING) return;
  if (node->dead) {
    evc_simk_trace(sim, node->name, "destroyed after crash");
  } else {
    evc_simk_trace(sim, node->name, "exit code=%d reason=\"%s\"", node->exit_code,
                   node->exit_reason);
  }
  destroy_object(node);
  node_down(node);
}

void evc_simk_teardown(struct evc_sim *sim, const struct evc_simk_event *ev) {
  struct evc_sim_node *node = sim->nodes[ev->node];
  if (node->incarnation != ev->incarnation) return;
  finish_exit(node);
}

int evc_sim_node_wipe(struct evc_sim_node *node) {
  EVC_ASSERT(node != NULL);
  EVC_ASSERT(node->sim->node_call_depth == 0);
  finish_exit(node);
  if (node->state != EVC_SIM_NODE_DOWN) return EVC_ESTATE;
  evc_simdisk_remove_prefix(node->disk, "data/");
  evc_simk_trace(node->sim, node->name, "wipe");
  return 0;
}

static int keep_file_read(struct evc_sim_node *node, const char *path, uint8_t **bytes,
                          size_t *size) {
  *bytes = NULL;
  *size = 0;
  int rc = evc_simdisk_read(node->disk, path, bytes, size);
  return rc == EVC_ENOTFOUND ? 0 : rc;
}

int evc_sim_node_lose_machine(struct evc_sim_node *node) {
  EVC_ASSERT(node != NULL);
  EVC_ASSERT(node->sim->node_call_depth == 0);
  finish_exit(node);
  if (node->state != EVC_SIM_NODE_DOWN) return EVC_ESTATE;
  uint8_t *signer = NULL, *node_key = NULL;
  size_t signer_size = 0, node_key_size = 0;
  int rc = keep_file_read(node, EVC_SIM_SIGNER_KEY_FILE, &signer, &signer_size);
  if (rc == 0) rc = keep_file_read(node, EVC_SIM_NODE_KEY_FILE, &node_key, &node_key_size);
  if (rc == 0) {
    evc_simdisk_remove_prefix(node->disk, "");
    if (signer != NULL) rc = evc_simdisk_replace(node->disk, EVC_SIM_SIGNER_KEY_FILE, signer,
                                                 signer_size);
    if (rc == 0 && node_key != NULL) {
      rc = evc_simdisk_replace(node->disk, EVC_SIM_NODE_KEY_FILE, node_key, node_key_size);
    }
  }
  free(signer);
  free(node_key);
  evc_simk_trace(node->sim, node->name, "lose_machine status=%s", rc == 0 ? "ok" : evc_errname(rc));
  return rc;
}

static struct evc_simk_snapshot *snapshot_find(struct evc_sim *sim, uint32_t node,
                                               const char *name) {
  for (size_t i = 0; i < sim->snapshot_count; i++) {
    struct evc_simk_snapshot *s = &sim->snapshots[i];
    if (s->node == node && strcmp(s->name, name) == 0) return s;
  }
  return NULL;
}

int evc_sim_node_snapshot(struct evc_sim_node *node, const char *snapshot_name,
                          const char *scope) {
  EVC_ASSERT(node != NULL);
  struct evc_sim *sim = node->sim;
  EVC_ASSERT(sim->node_call_depth == 0);
  bool home = false;
  if (scope != NULL && strcmp(scope, "home") == 0) home = true;
  else if (scope != NULL && strcmp(scope, "data") != 0) return EVC_EINVAL;
  if (!name_ok(snapshot_name)) return EVC_EINVAL;
  struct evc_simdisk *copy = NULL;
  int rc = evc_simdisk_new(&copy);
  if (rc != 0) return rc;
  rc = evc_simdisk_copy_prefix(copy, node->disk, home ? "" : "data/");
  struct evc_simk_snapshot *s = snapshot_find(sim, node->index, snapshot_name);
  if (rc == 0 && s == NULL && sim->snapshot_count == EVC_SIM_SNAPSHOTS_MAX) rc = EVC_EFULL;
  if (rc != 0) {
    evc_simdisk_free(copy);
    return rc;
  }
  if (s == NULL) {
    s = &sim->snapshots[sim->snapshot_count++];
  } else {
    evc_simdisk_free(s->disk);
  }
  memset(s, 0, sizeof *s);
  s->node = node->index;
  snprintf(s->name, sizeof s->name, "%s", snapshot_name);
  s->home = home;
  s->disk = copy;
  evc_simk_trace(sim, node->name, "snapshot name=%s scope=%s", snapshot_name,
                 home ? "home" : "data");
  return 0;
}

int evc_sim_node_restore(struct evc_sim_node *node, const char *snapshot_name) {
  EVC_ASSERT(node != NULL);
  struct evc_sim *sim = node->sim;
  EVC_ASSERT(sim->node_call_depth == 0);
  if (snapshot_name == NULL) return EVC_EINVAL;
  const struct evc_simk_snapshot *s = snapshot_find(sim, node->index, snapshot_name);
  if (s == NULL) return EVC_ENOTFOUND;
  finish_exit(node);
  if (node->state != EVC_SIM_NODE_DOWN) return EVC_ESTATE;
  const char *prefix = s->home ? "" : "data/";
  evc_simdisk_remove_prefix(node->disk, prefix);
  int rc = evc_simdisk_copy_prefix(node->disk, s->disk, prefix);
  evc_simk_trace(sim, node->name, "restore name=%s scope=%s status=%s", snapshot_name,
                 s->home ? "home" : "data", rc == 0 ? "ok" : evc_errname(rc));
  return rc;
}

/* ---- view, counters, observers ---- */

/* Counters add, gauges set; both share one name-ordered table. */
static void counter_update(struct evc_sim_node *node, const char *name, uint64_t amount,
                           bool gauge) {
  size_t i = 0;
  while (i < node->counter_count && strcmp(node->counters[i].name, name) < 0) i++;
  if (i < node->counter_count && strcmp(node->counters[i].name, name) == 0) {
    node->counters[i].value = gauge ? amount : node->counters[i].value + amount;
    return;
  }
  if (node->counter_count == EVC_SIM_COUNTERS_MAX || strlen(name) > EVC_SIM_COUNTER_NAME_MAX) {
    evc_simk_trace(node->sim, node->name, "counter_dropped name=%s", name);
    return;
  }
  memmove(&node->counters[i + 1], &node->counters[i],
          (node->counter_count - i) * sizeof node->counters[0]);
  memset(&node->counters[i], 0, sizeof node->counters[i]);
  snprintf(node->counters[i].name, sizeof node->counters[i].name, "%s", name);
  node->counters[i].value = amount;
  node->counter_count++;
}

void evc_simk_node_observed(struct evc_sim_node *node, const struct evc_observation *obs) {
  const char *text = obs->text != NULL ? obs->text : "";
  switch (obs->kind) {
    case EVC_OBS_MODE: snprintf(node->mode, sizeof node->mode, "%s", text); break;
    case EVC_OBS_BLOCK_STORED:
    case EVC_OBS_ROLLED_BACK: node->stored_height = obs->height; break;
    case EVC_OBS_BLOCK_PRODUCED: node->produced_since_start++; break;
    case EVC_OBS_DA_INCLUDED: node->da_included_height = obs->height; break;
    case EVC_OBS_COUNTER: counter_update(node, text, obs->count, false); break;
    case EVC_OBS_GAUGE: counter_update(node, text, obs->count, true); break;
    case EVC_OBS_BLOCK_SIGNED:
    case EVC_OBS_EQUIVOCATION:
    case EVC_OBS_PEER_ANSWERED: break;
  }
  struct evc_sim *sim = node->sim;
  evc_simk_enter(sim);
  for (size_t i = 0; i < sim->observer_count; i++) {
    sim->observers[i].fn(sim->observers[i].arg, node, obs);
  }
  evc_simk_leave(sim);
}

int evc_sim_add_observer(struct evc_sim *sim, evc_sim_observer fn, void *arg) {
  EVC_ASSERT(sim != NULL);
  EVC_ASSERT(fn != NULL);
  if (sim->observer_count == EVC_SIM_OBSERVERS_MAX) return EVC_EFULL;
  sim->observers[sim->observer_count].fn = fn;
  sim->observers[sim->observer_count].arg = arg;
  sim->observer_count++;
  return 0;
}

void evc_sim_node_get_view(const struct evc_sim_node *node, struct evc_sim_node_view *view) {
  EVC_ASSERT(node != NULL);
  EVC_ASSERT(view != NULL);
  memset(view, 0, sizeof *view);
  view->name = node->name;
  view->role = node->role;
  view->state = node->state;
  view->running = !node->dead && (node->state == EVC_SIM_NODE_RUNNING ||
                                  node->state == EVC_SIM_NODE_STOPPING);
  view->mode = node->mode;
  view->stored_height = node->stored_height;
  view->da_included_height = node->da_included_height;
  view->produced_since_start = node->produced_since_start;
  view->sync_count = evc_simdisk_sync_count(node->disk);
  view->starts = node->starts;
  view->crashes = node->crashes;
  view->exit_code = node->exit_code;
  view->exit_reason = node->exit_reason;
}

const char *evc_sim_node_name(const struct evc_sim_node *node) { return node->name; }

uint64_t evc_sim_node_counter(const struct evc_sim_node *node, const char *counter_name) {
  for (size_t i = 0; i < node->counter_count; i++) {
    if (strcmp(node->counters[i].name, counter_name) == 0) return node->counters[i].value;
  }
  return 0;
}

bool evc_sim_node_counter_at(const struct evc_sim_node *node, size_t index,
                             const char **name_out, uint64_t *value_out) {
  if (index >= node->counter_count) return false;
  *name_out = node->counters[index].name;
  *value_out = node->counters[index].value;
  return true;
}

void *evc_sim_node_object(const struct evc_sim_node *node) { return node->object; }
struct evc_simdisk *evc_sim_node_disk(struct evc_sim_node *node) { return node->disk; }
const struct evc_keypair *evc_sim_node_key(const struct evc_sim_node *node) {
  return &node->node_key;
}
const struct evc_keypair *evc_sim_node_signer(const struct evc_sim_node *node) {
  return node->has_signer ? &node->signer : NULL;
}

void evc_sim_node_set_wall_offset(struct evc_sim_node *node, int64_t offset_ns) {
  node->wall_offset_ns = offset_ns;
  evc_simk_trace(node->sim, node->name, "wall_offset ns=%" PRId64, offset_ns);
}

void evc_sim_node_crash_at_sync(struct evc_sim_node *node, uint64_t n) {
  EVC_ASSERT(node != NULL);
  node->crash_at_sync = n;
  evc_simk_trace(node->sim, node->name, "arm crash_at_sync n=%" PRIu64, n);
}

void evc_sim_node_pause(struct evc_sim_node *node, uint64_t duration_ns) {
  EVC_ASSERT(node != NULL);
  uint64_t until = node->sim->now_ns + duration_ns;
  if (until > node->paused_until_ns) node->paused_until_ns = until;
  evc_simk_trace(node->sim, node->name, "pause until=%" PRIu64, node->paused_until_ns);
}

int64_t evc_sim_node_wall_offset(const struct evc_sim_node *node) { return node->wall_offset_ns; }
