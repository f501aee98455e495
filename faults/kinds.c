/* The injectors of the catalogue, one function per fault name: read the parameters, act
 * now, queue the end of the period. Parameters and semantics: docs/scenarios.md "Faults".
 * No injector may break the DA layer's own TTL bound (L): such parameters are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults/faults_internal.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "sim/simdisk.h"

#define MS EVC_FAULTS_MS
#define DURATION_MS_MAX 600000u   /* any fault period: 10 minutes of virtual time */
#define PPM_MAX 1000000u
#define BLOBS_MAX 64u
#define BLOB_SIZE_MAX 65536u
#define CLOCK_MS_MAX 86400000ll   /* a day */

static uint64_t now(const struct evc_faults *f) { return evc_sim_now(f->sim); }

static bool duration(struct evc_fault_params *p, uint64_t *out_ns) {
  uint64_t ms = 0;
  bool ok = evc_fault_params_u64(p, "duration_ms", true, 0, 1, DURATION_MS_MAX, &ms);
  *out_ns = ms * MS;
  return ok;
}

static bool down_time(struct evc_fault_params *p, uint64_t *out_ns) {
  uint64_t ms = 0;
  bool ok = evc_fault_params_u64(p, "down_ms", false, 500, 0, DURATION_MS_MAX, &ms);
  *out_ns = ms * MS;
  return ok;
}

/* ---- network ---- */

static int knob_period(struct evc_faults *f, struct evc_fault_params *p, uint32_t knob) {
  uint64_t ppm = 0, d = 0;
  evc_fault_params_u64(p, "ppm", true, 0, 0, PPM_MAX, &ppm);
  duration(p, &d);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  uint32_t k[4];
  evc_sim_net_faults_get(f->sim, &k[0], &k[1], &k[2], &k[3]);
  k[knob] = (uint32_t)ppm;
  evc_sim_net_faults(f->sim, k[0], k[1], k[2], k[3]);
  struct evc_fault_action *a = NULL;
  int rc = evc_faults_defer(f, now(f) + d, EVC_FA_NET_KNOB, NULL, &a);
  if (rc == 0) {
    a->knob = knob;
    a->partition_epoch = ++f->knob_epoch[knob];
  }
  return rc;
}

static int net_drop(struct evc_faults *f, struct evc_fault_params *p) {
  return knob_period(f, p, 0);
}
static int net_duplicate(struct evc_faults *f, struct evc_fault_params *p) {
  return knob_period(f, p, 1);
}
static int net_reorder(struct evc_faults *f, struct evc_fault_params *p) {
  return knob_period(f, p, 2);
}
static int net_dial_fail(struct evc_faults *f, struct evc_fault_params *p) {
  return knob_period(f, p, 3);
}

/* Every link (or the one between a and b) for the period. */
static int net_delay(struct evc_faults *f, struct evc_fault_params *p) {
  uint64_t lo = 0, hi = 0, d = 0;
  const char *a = NULL, *b = NULL;
  evc_fault_params_u64(p, "min_ms", true, 0, 0, DURATION_MS_MAX, &lo);
  evc_fault_params_u64(p, "max_ms", true, 0, 0, DURATION_MS_MAX, &hi);
  duration(p, &d);
  evc_fault_params_str(p, "a", false, NULL, &a);
  evc_fault_params_str(p, "b", false, NULL, &b);
  if (lo > hi) return evc_fault_params_fail(p, "\"min_ms\" is above \"max_ms\""), EVC_EINVAL;
  if ((a == NULL) != (b == NULL)) {
    return evc_fault_params_fail(p, "give both \"a\" and \"b\", or neither"), EVC_EINVAL;
  }
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  size_t n = evc_sim_node_count(f->sim);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = i + 1; j < n; j++) {
      const char *x = evc_sim_node_name(evc_sim_node_at(f->sim, i));
      const char *y = evc_sim_node_name(evc_sim_node_at(f->sim, j));
      bool chosen = a == NULL || (strcmp(x, a) == 0 && strcmp(y, b) == 0) ||
                    (strcmp(x, b) == 0 && strcmp(y, a) == 0);
      if (!chosen) continue;
      int rc = evc_sim_link_latency(f->sim, x, y, lo * MS, hi * MS);
      struct evc_fault_action *act = NULL;
      if (rc == 0) rc = evc_faults_defer(f, now(f) + d, EVC_FA_LATENCY_RESET, NULL, &act);
      if (rc != 0) return rc;
      act->node = evc_sim_node_at(f->sim, i);
      act->peer = evc_sim_node_at(f->sim, j);
    }
  }
  return 0;
}

static int net_clog(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *a = NULL, *b = NULL;
  uint64_t d = 0;
  evc_fault_params_node(p, "a", &a);
  evc_fault_params_node(p, "b", &b);
  duration(p, &d);
  if (a != NULL && a == b) evc_fault_params_fail(p, "\"a\" and \"b\" are the same node");
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  return evc_sim_link_clog(f->sim, evc_sim_node_name(a), evc_sim_node_name(b), now(f) + d);
}

static int partition_now(struct evc_faults *f, const struct evc_sim_group *groups, size_t count,
                         uint64_t d) {
  int rc = evc_sim_partition(f->sim, groups, count);
  struct evc_fault_action *a = NULL;
  if (rc == 0) rc = evc_faults_defer(f, now(f) + d, EVC_FA_HEAL_PARTITION, NULL, &a);
  if (rc == 0) a->partition_epoch = ++f->partition_epoch;
  return rc;
}

/* {"groups": [["a","b"],["c"]], "duration_ms": n}: nodes in no group form one more group. */
static int partition(struct evc_faults *f, struct evc_fault_params *p) {
  uint64_t d = 0;
  const char *names[EVC_SIM_NODES_MAX][EVC_SIM_NODES_MAX];
  struct evc_sim_group groups[EVC_SIM_NODES_MAX];
  size_t group_count = 0;
  cJSON *item = evc_fault_params_item(p, "groups");
  duration(p, &d);
  if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) < 1 ||
      cJSON_GetArraySize(item) > (int)EVC_SIM_NODES_MAX) {
    return evc_fault_params_fail(p, "\"groups\": expected 1..32 arrays of node names"), EVC_EINVAL;
  }
  const cJSON *g = NULL;
  cJSON_ArrayForEach(g, item) {
    size_t k = 0;
    const cJSON *n = NULL;
    if (!cJSON_IsArray(g)) {
      return evc_fault_params_fail(p, "\"groups\": a group is not an array"), EVC_EINVAL;
    }
    cJSON_ArrayForEach(n, g) {
      if (!cJSON_IsString(n) || k >= EVC_SIM_NODES_MAX ||
          evc_sim_node_find(f->sim, n->valuestring) == NULL) {
        return evc_fault_params_fail(p, "\"groups\": expected known node names"), EVC_EINVAL;
      }
      names[group_count][k++] = n->valuestring;
    }
    groups[group_count].names = names[group_count];
    groups[group_count].count = k;
    group_count++;
  }
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  int rc = partition_now(f, groups, group_count, d);
  if (rc == EVC_EINVAL) evc_fault_params_fail(p, "\"groups\": a node is in two groups");
  return rc;
}

static int isolate(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  uint64_t d = 0;
  evc_fault_params_node(p, "node", &node);
  duration(p, &d);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  const char *name = evc_sim_node_name(node);
  struct evc_sim_group group = {&name, 1};
  return partition_now(f, &group, 1, d);
}

static int partition_oneway(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *from = NULL, *to = NULL;
  uint64_t d = 0;
  evc_fault_params_node(p, "from", &from);
  evc_fault_params_node(p, "to", &to);
  duration(p, &d);
  if (from != NULL && from == to) evc_fault_params_fail(p, "\"from\" and \"to\" are the same node");
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  int rc = evc_sim_link_block(f->sim, evc_sim_node_name(from), evc_sim_node_name(to), true);
  struct evc_fault_action *a = NULL;
  if (rc == 0) rc = evc_faults_defer(f, now(f) + d, EVC_FA_UNBLOCK, from, &a);
  if (rc == 0) a->peer = to;
  return rc;
}

/* ---- DA ---- */

/* The longest delay that can never make DA drop a blob: a submission made just before a
 * DA block counts its TTL from the previous head, so L - 1 block times, not L. */
static uint64_t ttl_safe_ns(const struct evc_faults *f) {
  const struct evc_sim_config *c = evc_sim_config_of(f->sim);
  return (c->da_mempool_ttl_blocks - 1) * c->da_block_time_ns;
}

/* DESIGN.md: a blob is included within L DA blocks or never; a fault must not make the
 * simulated DA drop one, so a period plus the worst inclusion delay stays below that. */
static bool within_ttl(struct evc_faults *f, struct evc_fault_params *p, uint64_t extra_ns) {
  const struct evc_sim_config *c = evc_sim_config_of(f->sim);
  uint64_t ttl_ns = ttl_safe_ns(f);
  if (extra_ns + c->da_inclusion_delay_max_ns >= ttl_ns) {
    return evc_fault_params_fail(p, "the delay must stay below the DA mempool TTL: (L - 1) "
                                 "DA blocks, %llu ms, minus the inclusion delay",
                                 (unsigned long long)(ttl_ns / MS));
  }
  if (extra_ns > f->da_delay_max_ns) f->da_delay_max_ns = extra_ns;
  return true;
}

static int da_outage(struct evc_faults *f, struct evc_fault_params *p) {
  uint64_t d = 0;
  duration(p, &d);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  evc_sim_da_outage(f->sim, d);
  return 0;
}

static int da_hang(struct evc_faults *f, struct evc_fault_params *p) {
  uint64_t d = 0;
  duration(p, &d);
  if (!p->failed) within_ttl(f, p, d);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  evc_sim_da_hang(f->sim, d);
  return 0;
}

static int da_slow(struct evc_faults *f, struct evc_fault_params *p) {
  uint64_t d = 0, lo = 0, hi = 0;
  duration(p, &d);
  evc_fault_params_u64(p, "min_ms", true, 0, 0, DURATION_MS_MAX, &lo);
  evc_fault_params_u64(p, "max_ms", true, 0, 0, DURATION_MS_MAX, &hi);
  if (lo > hi) evc_fault_params_fail(p, "\"min_ms\" is above \"max_ms\"");
  if (!p->failed && hi * MS >= ttl_safe_ns(f)) {
    evc_fault_params_fail(p, "\"max_ms\" must stay below the DA mempool TTL: (L - 1) DA "
                          "blocks, %llu ms", (unsigned long long)(ttl_safe_ns(f) / MS));
  }
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  if (hi * MS > f->da_delay_max_ns) f->da_delay_max_ns = hi * MS;
  evc_sim_da_slow(f->sim, d, lo * MS, hi * MS);
  return 0;
}

static int da_shuffle(struct evc_faults *f, struct evc_fault_params *p) {
  uint64_t d = 0;
  duration(p, &d);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  evc_sim_da_shuffle(f->sim, d);
  return 0;
}

static int da_head_back(struct evc_faults *f, struct evc_fault_params *p) {
  uint64_t d = 0, blocks = 0;
  duration(p, &d);
  evc_fault_params_u64(p, "blocks", false, 1, 1, 1000, &blocks);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  evc_sim_da_head_lag(f->sim, d, blocks);
  return 0;
}

static int da_too_large(struct evc_faults *f, struct evc_fault_params *p) {
  uint64_t d = 0, call_max = 0;
  duration(p, &d);
  evc_fault_params_u64(p, "call_max", false, 1024, 0, 8u * 1024u * 1024u, &call_max);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  evc_sim_da_too_large(f->sim, d, (size_t)call_max);
  return 0;
}

static bool our_namespace(const struct evc_faults *f, const uint8_t *ns) {
  const struct evc_genesis *g = evc_sim_genesis(f->sim);
  return memcmp(ns, g->header_namespace, EVC_NAMESPACE_SIZE) == 0 ||
         memcmp(ns, g->data_namespace, EVC_NAMESPACE_SIZE) == 0;
}

/* Copies of the blobs in our namespaces of the last `blocks` DA heights, at the next one. */
static int da_duplicate(struct evc_faults *f, struct evc_fault_params *p) {
  uint64_t blocks = 0;
  evc_fault_params_u64(p, "blocks", false, 1, 1, 64, &blocks);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  uint64_t head = evc_sim_da_head(f->sim);
  struct evc_da_blob copies[BLOBS_MAX];
  size_t count = 0;
  for (uint64_t h = head > blocks ? head - blocks + 1 : 1; h <= head; h++) {
    const struct evc_da_blob *blobs = NULL;
    size_t n = 0;
    if (evc_sim_da_blobs_at(f->sim, h, &blobs, &n) != 0) continue;
    for (size_t i = 0; i < n && count < BLOBS_MAX; i++) {
      if (our_namespace(f, blobs[i].namespace_id)) copies[count++] = blobs[i];
    }
  }
  if (count == 0) return 0;
  return evc_sim_da_inject(f->sim, copies, count, 0);
}

static int da_junk(struct evc_faults *f, struct evc_fault_params *p) {
  uint64_t count = 0, size_max = 0;
  evc_fault_params_u64(p, "count", false, 2, 1, BLOBS_MAX, &count);
  evc_fault_params_u64(p, "size_max", false, 512, 1, BLOB_SIZE_MAX, &size_max);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  const struct evc_genesis *g = evc_sim_genesis(f->sim);
  struct evc_da_blob blobs[BLOBS_MAX];
  uint8_t *bytes = malloc(count * size_max);
  if (bytes == NULL) return EVC_ENOMEM;
  for (uint64_t i = 0; i < count; i++) {
    uint8_t *b = bytes + i * size_max;
    size_t size = 1 + (size_t)(evc_sim_fault_random(f->sim) % size_max);
    for (size_t k = 0; k < size; k += 8) {
      uint64_t r = evc_sim_fault_random(f->sim);
      memcpy(b + k, &r, size - k < 8 ? size - k : 8);
    }
    memset(&blobs[i], 0, sizeof blobs[i]);
    memcpy(blobs[i].namespace_id, i % 2 == 0 ? g->header_namespace : g->data_namespace,
           EVC_NAMESPACE_SIZE);
    blobs[i].bytes = b;
    blobs[i].size = size;
  }
  int rc = evc_sim_da_inject(f->sim, blobs, count, 0);
  free(bytes);
  return rc;
}

/* The newest header on DA in our header namespace, decoded; false when there is none. */
static bool newest_header(struct evc_faults *f, struct evc_signed_header *out) {
  const struct evc_genesis *g = evc_sim_genesis(f->sim);
  for (uint64_t h = evc_sim_da_head(f->sim); h >= 1; h--) {
    const struct evc_da_blob *blobs = NULL;
    size_t n = 0;
    if (evc_sim_da_blobs_at(f->sim, h, &blobs, &n) != 0) break;
    for (size_t i = n; i > 0; i--) {
      if (memcmp(blobs[i - 1].namespace_id, g->header_namespace, EVC_NAMESPACE_SIZE) != 0) continue;
      if (evc_signed_header_decode(blobs[i - 1].bytes, blobs[i - 1].size, out) == 0) return true;
    }
  }
  return false;
}

/* Headers for the next heights of our chain, well formed, signed by a key that is not the
 * proposer's (and naming that key's address): a follower must refuse every one. */
static int da_foreign(struct evc_faults *f, struct evc_fault_params *p) {
  uint64_t count = 0;
  evc_fault_params_u64(p, "count", false, 1, 1, BLOBS_MAX, &count);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  struct evc_signed_header base;
  memset(&base, 0, sizeof base);
  if (!newest_header(f, &base)) {
    base.header.version = EVC_HEADER_VERSION;
    base.header.chain_id = evc_sim_genesis(f->sim)->chain_id;
    base.header.time_ns = evc_sim_genesis(f->sim)->genesis_time_ns;
  }
  uint8_t seed[EVC_SEED_SIZE];
  for (size_t k = 0; k < sizeof seed; k += 8) {
    uint64_t r = evc_sim_fault_random(f->sim);
    memcpy(seed + k, &r, 8);
  }
  struct evc_keypair other;
  evc_keypair_from_seed(seed, &other);
  uint8_t buf[BLOBS_MAX][EVC_SIGNED_HEADER_SIZE_MAX];
  struct evc_da_blob blobs[BLOBS_MAX];
  for (uint64_t i = 0; i < count; i++) {
    struct evc_signed_header sh = base;
    sh.header.height = base.header.height + 1 + i;
    sh.header.time_ns = base.header.time_ns + (i + 1) * MS;
    evc_header_hash(&base.header, sh.header.last_header_hash);
    evc_address_from_pubkey(other.pubkey, sh.header.proposer);
    size_t size = 0;
    int rc = evc_signed_header_sign(&sh, other.seckey);
    if (rc == 0) rc = evc_signed_header_encode(&sh, buf[i], sizeof buf[i], &size);
    if (rc != 0) return rc;
    memset(&blobs[i], 0, sizeof blobs[i]);
    memcpy(blobs[i].namespace_id, evc_sim_genesis(f->sim)->header_namespace, EVC_NAMESPACE_SIZE);
    blobs[i].bytes = buf[i];
    blobs[i].size = size;
  }
  return evc_sim_da_inject(f->sim, blobs, count, 0);
}

/* ---- process ---- */

static int crash_now(struct evc_faults *f, struct evc_sim_node *node, bool restart,
                     uint64_t down_ns) {
  int rc = f->host.crash(f->host.arg, node);
  if (rc == EVC_ESTATE) return 0; /* already down: nothing to cut */
  if (rc == 0 && restart) rc = evc_faults_restart_later(f, node, down_ns);
  return rc;
}

static int crash(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  uint64_t down = 0;
  bool restart = true;
  evc_fault_params_node(p, "node", &node);
  down_time(p, &down);
  evc_fault_params_bool(p, "restart", true, &restart);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  return crash_now(f, node, restart, down);
}

static int crash_random(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  uint64_t down = 0, within = 0;
  evc_fault_params_node(p, "node", &node);
  down_time(p, &down);
  evc_fault_params_u64(p, "within_ms", true, 0, 1, DURATION_MS_MAX, &within);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  uint64_t at = now(f) + evc_sim_fault_random(f->sim) % (within * MS);
  struct evc_fault_action *a = NULL;
  int rc = evc_faults_defer(f, at, EVC_FA_CRASH, node, &a);
  if (rc == 0) a->delay_ns = down;
  return rc;
}

static int crash_at_sync(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  uint64_t down = 0, n = 0;
  evc_fault_params_node(p, "node", &node);
  down_time(p, &down);
  evc_fault_params_u64(p, "n", true, 0, 1, 1000000, &n);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  struct evc_sim_node_view v;
  evc_sim_node_get_view(node, &v);
  evc_sim_node_crash_at_sync(node, n);
  struct evc_fault_action *a = NULL;
  int rc = evc_faults_defer(f, now(f), EVC_FA_WATCH_CRASH, node, &a);
  if (rc != 0) return rc;
  a->crashes_before = v.crashes;
  a->delay_ns = down;
  a->deadline_ns = now(f) + EVC_FAULTS_WAIT_DOWN_NS;
  return 0;
}

static int pause_node(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  uint64_t d = 0;
  evc_fault_params_node(p, "node", &node);
  duration(p, &d);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  evc_sim_node_pause(node, d);
  return 0;
}

static int restart(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  uint64_t down = 0;
  evc_fault_params_node(p, "node", &node);
  down_time(p, &down);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  int rc = f->host.stop(f->host.arg, node);
  if (rc == EVC_ESTATE) return 0;
  return rc == 0 ? evc_faults_restart_later(f, node, down) : rc;
}

static int wipe(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  uint64_t down = 0;
  evc_fault_params_node(p, "node", &node);
  down_time(p, &down);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  int rc = f->host.crash(f->host.arg, node);
  if (rc == EVC_ESTATE) return 0;
  if (rc == 0) rc = f->host.wipe(f->host.arg, node);
  return rc == 0 ? evc_faults_restart_later(f, node, down) : rc;
}

/* Snapshot data/ now; after age_ms, crash the node, put the old store back, restart. */
static int stale_store(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  uint64_t down = 0, age = 0;
  evc_fault_params_node(p, "node", &node);
  down_time(p, &down);
  evc_fault_params_u64(p, "age_ms", true, 0, 1, DURATION_MS_MAX, &age);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  struct evc_fault_action *a = NULL;
  int rc = evc_faults_defer(f, now(f) + age * MS, EVC_FA_STALE_RESTORE, node, &a);
  if (rc != 0) return rc;
  snprintf(a->snapshot, sizeof a->snapshot, "fault-stale-%llu",
           (unsigned long long)++f->snapshot_counter);
  a->delay_ns = down;
  return f->host.snapshot(f->host.arg, node, a->snapshot);
}

/* ---- disk ---- */

static const char *const disk_kinds[] = {"torn_write", "lost_fsync", "read_error", "write_error",
                                         "sync_error", "misdirected_write", "corrupt_page"};

static int disk_corrupt(struct evc_faults *f, struct evc_sim_node *node, uint64_t page) {
  uint8_t mask = (uint8_t)(1u << (evc_sim_fault_random(f->sim) % 8));
  uint64_t offset = page * 4096 + 100 + evc_sim_fault_random(f->sim) % 3900;
  int rc = evc_simdisk_corrupt(evc_sim_node_disk(node), EVC_SIM_STORE_PATH, offset, 1, mask);
  return rc == EVC_ENOTFOUND || rc == EVC_ERANGE ? 0 : rc; /* no store (yet): nothing to rot */
}

static int disk(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  const char *kind = NULL;
  uint64_t after = 0, ppm = 0, d = 0, page = 0;
  bool persistent = false;
  evc_fault_params_node(p, "node", &node);
  evc_fault_params_str(p, "kind", true, NULL, &kind);
  evc_fault_params_u64(p, "after", false, 1, 1, 1000000, &after);
  evc_fault_params_u64(p, "ppm", false, PPM_MAX, 1, PPM_MAX, &ppm);
  evc_fault_params_u64(p, "duration_ms", false, 0, 0, DURATION_MS_MAX, &d);
  evc_fault_params_u64(p, "page", false, 1, 1, 1000000, &page);
  evc_fault_params_bool(p, "persistent", false, &persistent);
  size_t k = 0;
  while (kind != NULL && k < sizeof disk_kinds / sizeof disk_kinds[0] &&
         strcmp(kind, disk_kinds[k]) != 0) {
    k++;
  }
  if (kind != NULL && k == sizeof disk_kinds / sizeof disk_kinds[0]) {
    evc_fault_params_fail(p, "\"kind\": unknown disk fault \"%.32s\"", kind);
  }
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  if (k == 6) return disk_corrupt(f, node, page);
  struct evc_simdisk_faults df;
  memset(&df, 0, sizeof df);
  df.path_prefix = "data/"; /* DESIGN.md: keys/ relies on an honest fsync */
  df.persistent = persistent;
  if (k == 0) df.torn_write_ppm = (uint32_t)ppm;
  if (k == 1) df.lost_fsync_ppm = (uint32_t)ppm;
  if (k == 2) df.fail_read_countdown = after;
  if (k == 3) df.fail_write_countdown = after;
  if (k == 4) df.fail_sync_countdown = after;
  if (k == 5) df.misdirect_write_countdown = after;
  evc_simdisk_set_faults(evc_sim_node_disk(node), &df);
  if (d == 0) return 0;
  return evc_faults_defer(f, now(f) + d * MS, EVC_FA_DISK_DISARM, node, NULL);
}

/* keys/: only failed writes (the sign state's file_replace fails; nothing is half-written). */
static int keys_write_fail(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  uint64_t after = 0, d = 0;
  bool persistent = false;
  evc_fault_params_node(p, "node", &node);
  evc_fault_params_u64(p, "after", false, 1, 1, 1000000, &after);
  evc_fault_params_u64(p, "duration_ms", false, 0, 0, DURATION_MS_MAX, &d);
  evc_fault_params_bool(p, "persistent", false, &persistent);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  struct evc_simdisk_faults df;
  memset(&df, 0, sizeof df);
  df.path_prefix = "keys/";
  df.fail_write_countdown = after;
  df.persistent = persistent;
  evc_simdisk_set_faults(evc_sim_node_disk(node), &df);
  if (d == 0) return 0;
  return evc_faults_defer(f, now(f) + d * MS, EVC_FA_DISK_DISARM, node, NULL);
}

/* ---- clock ---- */

static int clock_skew(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  int64_t ms = 0;
  evc_fault_params_node(p, "node", &node);
  evc_fault_params_i64(p, "offset_ms", true, 0, -CLOCK_MS_MAX, CLOCK_MS_MAX, &ms);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  evc_sim_node_set_wall_offset(node, ms * (int64_t)MS);
  return 0;
}

static int clock_jump(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  int64_t ms = 0;
  evc_fault_params_node(p, "node", &node);
  evc_fault_params_i64(p, "by_ms", true, 0, -CLOCK_MS_MAX, CLOCK_MS_MAX, &ms);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  int64_t off = evc_sim_node_wall_offset(node) + ms * (int64_t)MS;
  if (off > CLOCK_MS_MAX * (int64_t)MS) off = CLOCK_MS_MAX * (int64_t)MS;
  if (off < -CLOCK_MS_MAX * (int64_t)MS) off = -CLOCK_MS_MAX * (int64_t)MS;
  evc_sim_node_set_wall_offset(node, off);
  return 0;
}

/* The wall clock runs ppm parts per million fast (or slow), in 100 ms steps. */
static int clock_drift(struct evc_faults *f, struct evc_fault_params *p) {
  struct evc_sim_node *node = NULL;
  int64_t ppm = 0;
  uint64_t d = 0;
  evc_fault_params_node(p, "node", &node);
  evc_fault_params_i64(p, "ppm", true, 0, -500000, 500000, &ppm);
  duration(p, &d);
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  struct evc_fault_action *a = NULL;
  int rc = evc_faults_defer(f, now(f) + EVC_FAULTS_DRIFT_TICK_NS, EVC_FA_DRIFT, node, &a);
  if (rc != 0) return rc;
  a->step_ns = ppm * (int64_t)(EVC_FAULTS_DRIFT_TICK_NS / 1000000u);
  a->deadline_ns = now(f) + d;
  return 0;
}

/* ---- meta ---- */

static int schedule_entry(struct evc_faults *f, struct evc_fault_params *p, const cJSON *e) {
  const cJSON *at = cJSON_GetObjectItemCaseSensitive(e, "at_ms");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
  const cJSON *params = cJSON_GetObjectItemCaseSensitive(e, "params");
  if (!cJSON_IsNumber(at) || at->valuedouble < 0 || at->valuedouble > 1e9 ||
      !cJSON_IsString(name) || evc_faults_kind_find(name->valuestring) == NULL ||
      strcmp(name->valuestring, "schedule") == 0 || (params != NULL && !cJSON_IsObject(params)) ||
      cJSON_GetArraySize(e) != (params != NULL ? 3 : 2)) {
    return evc_fault_params_fail(p, "\"faults\": each entry is {\"at_ms\", \"name\" (a fault "
                                 "other than schedule), \"params\"?}"), EVC_EINVAL;
  }
  struct evc_fault_action *a = NULL;
  int rc = evc_faults_defer(f, (uint64_t)at->valuedouble * MS, EVC_FA_SCHEDULED, NULL, &a);
  if (rc != 0) return rc;
  a->name = strdup(name->valuestring);
  a->params = params != NULL ? cJSON_PrintUnformatted(params) : strdup("{}");
  return a->name == NULL || a->params == NULL ? EVC_ENOMEM : 0;
}

/* {"heal_at_ms": T?, "faults": [{"at_ms", "name", "params"}, ...]}: each entry runs at its
 * absolute time alongside the timeline; at T every fault ends (evc_faults_heal). */
static int schedule(struct evc_faults *f, struct evc_fault_params *p) {
  uint64_t heal = 0;
  evc_fault_params_u64(p, "heal_at_ms", false, 0, 0, 1000000000u, &heal);
  cJSON *list = evc_fault_params_item(p, "faults");
  if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > (int)EVC_FAULTS_SCHEDULE_MAX) {
    return evc_fault_params_fail(p, "\"faults\": expected an array of at most 256 entries"),
           EVC_EINVAL;
  }
  if (!evc_faults_ready(f, p)) return EVC_EINVAL;
  const cJSON *e = NULL;
  cJSON_ArrayForEach(e, list) {
    int rc = schedule_entry(f, p, e);
    if (rc != 0) return rc;
  }
  if (heal == 0) return 0;
  f->heal_at_ns = heal * MS;
  return evc_faults_defer(f, heal * MS, EVC_FA_HEAL_ALL, NULL, NULL);
}

/* ---- ends of periods ---- */

void evc_faults_end_period(struct evc_fault_action *a) {
  struct evc_faults *f = a->f;
  uint32_t k[4];
  struct evc_simdisk_faults none;
  switch (a->kind) {
  case EVC_FA_NET_KNOB:
    if (a->partition_epoch != f->knob_epoch[a->knob]) return; /* a later period owns it */
    evc_sim_net_faults_get(f->sim, &k[0], &k[1], &k[2], &k[3]);
    k[a->knob] = f->base_knob[a->knob];
    evc_sim_net_faults(f->sim, k[0], k[1], k[2], k[3]);
    return;
  case EVC_FA_LATENCY_RESET:
    (void)evc_sim_link_latency_reset(f->sim, evc_sim_node_name(a->node),
                                     evc_sim_node_name(a->peer));
    return;
  case EVC_FA_HEAL_PARTITION:
    if (a->partition_epoch == f->partition_epoch) evc_sim_heal(f->sim);
    return;
  case EVC_FA_UNBLOCK:
    (void)evc_sim_link_block(f->sim, evc_sim_node_name(a->node), evc_sim_node_name(a->peer),
                             false);
    return;
  case EVC_FA_DISK_DISARM:
    memset(&none, 0, sizeof none);
    evc_simdisk_set_faults(evc_sim_node_disk(a->node), &none);
    return;
  case EVC_FA_CRASH:
    if (crash_now(f, a->node, true, a->delay_ns) != 0) {
      evc_faults_set_error(f, EVC_EIO, "crash_random could not crash its node");
    }
    return;
  case EVC_FA_STALE_RESTORE: {
    int rc = f->host.crash(f->host.arg, a->node);
    if (rc == EVC_ESTATE) return; /* down already: leave its store to whoever took it down */
    if (rc == 0) rc = f->host.restore(f->host.arg, a->node, a->snapshot);
    if (rc == 0) rc = evc_faults_restart_later(f, a->node, a->delay_ns);
    if (rc != 0) evc_faults_set_error(f, rc, "stale_store could not restore the old store");
    return;
  }
  default: EVC_UNREACHABLE();
  }
}

/* ---- the catalogue ---- */

static const struct evc_fault_kind kinds[] = {
    {"net_drop", net_drop},
    {"net_duplicate", net_duplicate},
    {"net_reorder", net_reorder},
    {"net_dial_fail", net_dial_fail},
    {"net_delay", net_delay},
    {"net_clog", net_clog},
    {"partition", partition},
    {"partition_oneway", partition_oneway},
    {"isolate", isolate},
    {"da_outage", da_outage},
    {"da_hang", da_hang},
    {"da_slow", da_slow},
    {"da_shuffle", da_shuffle},
    {"da_duplicate", da_duplicate},
    {"da_junk", da_junk},
    {"da_foreign", da_foreign},
    {"da_head_back", da_head_back},
    {"da_too_large", da_too_large},
    {"crash", crash},
    {"crash_random", crash_random},
    {"crash_at_sync", crash_at_sync},
    {"pause", pause_node},
    {"restart", restart},
    {"wipe", wipe},
    {"stale_store", stale_store},
    {"disk", disk},
    {"keys_write_fail", keys_write_fail},
    {"clock_skew", clock_skew},
    {"clock_jump", clock_jump},
    {"clock_drift", clock_drift},
    {"schedule", schedule},
};

const struct evc_fault_kind *evc_faults_kind_find(const char *name) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (strcmp(kinds[i].name, name) == 0) return &kinds[i];
  }
  return NULL;
}

size_t evc_faults_count(void) { return sizeof kinds / sizeof kinds[0]; }

const char *evc_faults_name(size_t index) {
  return index < evc_faults_count() ? kinds[index].name : NULL;
}
