/* Scenario file loader: validates one JSON scenario against the exact schema of DESIGN.md
 * and fills bounded C structs; every error names the file, the path (step, key) and why.
 * It must never crash, recurse without bound or read past the input (it is fuzzed), and
 * must not depend on the simulator kernel: cJSON, node/common and libc only. */
#include "sim/scenario.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"

#define SCN_PATH_MAX 96u
#define SCN_QUOTE_MAX 48u /* characters of an input string quoted in a message */

_Static_assert(EVC_SCENARIO_NODES_MAX < EVC_SCENARIO_NODE_NONE, "node index must fit u8");
_Static_assert(EVC_SCENARIO_NODES_MAX <= 32, "node sets are 32-bit masks");
_Static_assert(EVC_SCENARIO_MS_MAX <= EVC_SCENARIO_COUNT_MAX, "times are counts too");
_Static_assert(EVC_SCENARIO_TTL_BLOCKS_MAX * EVC_SCENARIO_MS_MAX < UINT64_MAX,
               "L x DA block time fits in 64 bits");
_Static_assert(EVC_SCENARIO_STEPS_MAX * EVC_SCENARIO_MS_MAX < UINT64_MAX / 1000000u,
               "the sum of every step's time, in ns, fits in 64 bits");

static const char *const scn_mode_names[EVC_SCENARIO_MODE_COUNT] = {
    "boot", "catching_up", "draining", "producing", "stopped", "failed", "syncing",
};

/* Roles are strings from this table so that later work can add roles without a new enum. */
static const char *const scn_roles[] = {"aggregator", "full", "liar_height", "byz_bad_sig",
                                        "byz_slow", "byz_reorder", "byz_flood"};

struct scn_ctx {
  const char *label;
  char *err;
  size_t err_size;
};

__attribute__((format(printf, 4, 5))) static int scn_fail(struct scn_ctx *ctx, int code,
                                                          const char *path, const char *fmt,
                                                          ...) {
  EVC_ASSERT(code < 0);
  EVC_ASSERT(fmt != NULL);
  if (ctx->err == NULL || ctx->err_size == 0) {
    return code;
  }
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (path != NULL && path[0] != '\0') {
    snprintf(ctx->err, ctx->err_size, "%s: %s: %s", ctx->label, path, msg);
  } else {
    snprintf(ctx->err, ctx->err_size, "%s: %s", ctx->label, msg);
  }
  return code;
}

/* Copies an input string into a message, printable ASCII only and bounded in length. */
static const char *scn_quote(const char *s, char out[SCN_QUOTE_MAX + 4]) {
  size_t n = 0;
  for (; s != NULL && s[n] != '\0' && n < SCN_QUOTE_MAX; n++) {
    unsigned char c = (unsigned char)s[n];
    out[n] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
  }
  out[n] = '\0';
  if (s != NULL && s[n] != '\0') {
    memcpy(out + n, "...", 4);
  }
  return out;
}

/* Bounded concatenation into a path buffer; a path too long is cut, never overflowed. */
static void scn_path_join(char out[SCN_PATH_MAX], const char *a, const char *sep,
                          const char *b, const char *tail) {
  const char *parts[4] = {a, sep, b, tail};
  char joined[SCN_PATH_MAX];
  size_t len = 0;
  for (size_t p = 0; p < 4; p++) {
    for (const char *c = parts[p]; *c != '\0' && len + 1 < SCN_PATH_MAX; c++) {
      joined[len++] = *c;
    }
  }
  joined[len] = '\0';
  memcpy(out, joined, len + 1); /* through a copy: out may be a or b */
}

static void scn_path(char out[SCN_PATH_MAX], const char *prefix, const char *key) {
  scn_path_join(out, prefix, prefix[0] == '\0' ? "" : ".", key, "");
}

static void scn_path_index(char out[SCN_PATH_MAX], const char *prefix, size_t index) {
  char digits[24];
  snprintf(digits, sizeof digits, "%zu", index);
  scn_path_join(out, prefix, "[", digits, "]");
}

static int scn_find_key(const char *key, const char *const *keys, size_t keys_count) {
  for (size_t i = 0; i < keys_count; i++) {
    if (strcmp(key, keys[i]) == 0) {
      return (int)i;
    }
  }
  return -1;
}

/* Every key of obj must be in keys_a or keys_b, and appear once. what (may be NULL) is
 * added to the message, e.g. "for action \"stop\"". */
static int scn_check_keys(struct scn_ctx *ctx, const cJSON *obj, const char *path,
                          const char *const *keys_a, size_t count_a,
                          const char *const *keys_b, size_t count_b, const char *what) {
  EVC_ASSERT(cJSON_IsObject(obj));
  EVC_ASSERT(count_a + count_b <= 32);
  uint32_t seen = 0;
  char q[SCN_QUOTE_MAX + 4];
  const cJSON *item;
  cJSON_ArrayForEach(item, obj) {
    const char *key = item->string != NULL ? item->string : "";
    int found = scn_find_key(key, keys_a, count_a);
    if (found < 0 && count_b > 0) {
      found = scn_find_key(key, keys_b, count_b);
      found = found < 0 ? -1 : found + (int)count_a;
    }
    if (found < 0) {
      return scn_fail(ctx, EVC_ECONFIG, path, "unknown key \"%s\"%s%s", scn_quote(key, q),
                      what != NULL ? " " : "", what != NULL ? what : "");
    }
    if ((seen & (UINT32_C(1) << found)) != 0) {
      return scn_fail(ctx, EVC_ECONFIG, path, "duplicate key \"%s\"", key);
    }
    seen |= UINT32_C(1) << found;
  }
  return 0;
}

#define SCN_KEYS(arr) (arr), (sizeof(arr) / sizeof((arr)[0]))

static int scn_expect_object(struct scn_ctx *ctx, const cJSON *item, const char *path) {
  if (!cJSON_IsObject(item)) {
    return scn_fail(ctx, EVC_ECONFIG, path, "expected an object");
  }
  return 0;
}

/* An array of 0 .. max_count elements. */
static int scn_expect_array(struct scn_ctx *ctx, const cJSON *item, const char *path,
                            size_t max_count, size_t *count_out) {
  if (!cJSON_IsArray(item)) {
    return scn_fail(ctx, EVC_ECONFIG, path, "expected an array");
  }
  size_t count = 0;
  const cJSON *element;
  cJSON_ArrayForEach(element, item) {
    if (++count > max_count) {
      return scn_fail(ctx, EVC_ECONFIG, path, "more than %zu elements", max_count);
    }
  }
  *count_out = count;
  return 0;
}

static int scn_u64(struct scn_ctx *ctx, const cJSON *item, const char *path, uint64_t min,
                   uint64_t max, uint64_t *out) {
  EVC_ASSERT(min <= max);
  EVC_ASSERT(max <= EVC_SCENARIO_COUNT_MAX);
  bool ok = cJSON_IsNumber(item);
  double d = ok ? item->valuedouble : 0.0;
  /* Comparisons reject NaN and infinities; the round trip rejects fractions. */
  ok = ok && d >= (double)min && d <= (double)max && (double)(uint64_t)d == d;
  if (ok) {
    *out = (uint64_t)d;
    return 0;
  }
  const char *kind = min == 0 ? "non-negative" : "positive";
  if (min > 1) {
    return scn_fail(ctx, EVC_ECONFIG, path, "expected an integer from %" PRIu64 " to %" PRIu64,
                    min, max);
  }
  if (max == EVC_SCENARIO_COUNT_MAX) {
    return scn_fail(ctx, EVC_ECONFIG, path, "expected a %s integer (at most 2^53)", kind);
  }
  return scn_fail(ctx, EVC_ECONFIG, path, "expected a %s integer no larger than %" PRIu64,
                  kind, max);
}

/* obj.key as an integer when present; *out keeps its default when absent. */
static int scn_field_u64(struct scn_ctx *ctx, const cJSON *obj, const char *prefix,
                         const char *key, uint64_t min, uint64_t max, uint64_t *out) {
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (item == NULL) {
    return 0;
  }
  char path[SCN_PATH_MAX];
  scn_path(path, prefix, key);
  return scn_u64(ctx, item, path, min, max, out);
}

static int scn_field_opt_u64(struct scn_ctx *ctx, const cJSON *obj, const char *prefix,
                             const char *key, uint64_t min, uint64_t max,
                             struct evc_scenario_opt_u64 *out) {
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (item == NULL) {
    return 0;
  }
  char path[SCN_PATH_MAX];
  scn_path(path, prefix, key);
  out->set = true;
  return scn_u64(ctx, item, path, min, max, &out->value);
}

static int scn_missing(struct scn_ctx *ctx, const char *prefix, const char *key) {
  return scn_fail(ctx, EVC_ECONFIG, prefix, "missing key \"%s\"", key);
}

static int scn_required_u64(struct scn_ctx *ctx, const cJSON *obj, const char *prefix,
                            const char *key, uint64_t min, uint64_t max, uint64_t *out) {
  if (cJSON_GetObjectItemCaseSensitive(obj, key) == NULL) {
    return scn_missing(ctx, prefix, key);
  }
  return scn_field_u64(ctx, obj, prefix, key, min, max, out);
}

static int scn_bool(struct scn_ctx *ctx, const cJSON *item, const char *path, bool *out) {
  if (!cJSON_IsBool(item)) {
    return scn_fail(ctx, EVC_ECONFIG, path, "expected true or false");
  }
  *out = cJSON_IsTrue(item);
  return 0;
}

/* [min, max] in ms with min <= max <= EVC_SCENARIO_MS_MAX. */
static int scn_range(struct scn_ctx *ctx, const cJSON *item, const char *path,
                     struct evc_scenario_range_ms *out) {
  size_t count = 0;
  int rc = scn_expect_array(ctx, item, path, 2, &count);
  if (rc == 0 && count != 2) {
    rc = scn_fail(ctx, EVC_ECONFIG, path, "expected [min, max]");
  }
  char elem_path[SCN_PATH_MAX];
  scn_path_index(elem_path, path, 0);
  rc = rc != 0 ? rc : scn_u64(ctx, item->child, elem_path, 0, EVC_SCENARIO_MS_MAX, &out->min_ms);
  scn_path_index(elem_path, path, 1);
  rc = rc != 0 ? rc
               : scn_u64(ctx, item->child->next, elem_path, 0, EVC_SCENARIO_MS_MAX, &out->max_ms);
  if (rc == 0 && out->min_ms > out->max_ms) {
    rc = scn_fail(ctx, EVC_ECONFIG, path, "min %" PRIu64 " is larger than max %" PRIu64,
                  out->min_ms, out->max_ms);
  }
  return rc;
}

static bool scn_name_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
}

/* A name: 1 .. len_max characters from [A-Za-z0-9_-], copied to out (len_max + 1 bytes). */
static int scn_name(struct scn_ctx *ctx, const cJSON *item, const char *path, size_t len_max,
                    char *out) {
  if (!cJSON_IsString(item) || item->valuestring == NULL) {
    return scn_fail(ctx, EVC_ECONFIG, path, "expected a string");
  }
  const char *s = item->valuestring;
  size_t n = 0;
  while (s[n] != '\0' && n <= len_max && scn_name_char_ok(s[n])) {
    n++;
  }
  if (n == 0 || n > len_max || s[n] != '\0') {
    char q[SCN_QUOTE_MAX + 4];
    return scn_fail(ctx, EVC_ECONFIG, path,
                    "\"%s\" is not a valid name (1 to %zu characters from A-Z a-z 0-9 _ -)",
                    scn_quote(s, q), len_max);
  }
  memcpy(out, s, n + 1);
  return 0;
}

static int scn_node_ref(struct scn_ctx *ctx, const struct evc_scenario *s, const cJSON *item,
                        const char *path, uint8_t *index_out) {
  if (!cJSON_IsString(item) || item->valuestring == NULL) {
    return scn_fail(ctx, EVC_ECONFIG, path, "expected a node name");
  }
  if (evc_scenario_node_index(s, item->valuestring, index_out) != 0) {
    char q[SCN_QUOTE_MAX + 4];
    return scn_fail(ctx, EVC_ECONFIG, path, "unknown node \"%s\"",
                    scn_quote(item->valuestring, q));
  }
  return 0;
}

static int scn_mode(struct scn_ctx *ctx, const cJSON *item, const char *path,
                    enum evc_scenario_mode *out) {
  if (!cJSON_IsString(item) || item->valuestring == NULL) {
    return scn_fail(ctx, EVC_ECONFIG, path, "expected a mode name");
  }
  if (evc_scenario_mode_from_name(item->valuestring, out) != 0) {
    char q[SCN_QUOTE_MAX + 4];
    return scn_fail(ctx, EVC_ECONFIG, path,
                    "unknown mode \"%s\" (expected boot, catching_up, draining, producing, "
                    "stopped, failed or syncing)",
                    scn_quote(item->valuestring, q));
  }
  return 0;
}

/* ---- top-level sections ---- */

static int scn_parse_chain(struct scn_ctx *ctx, const cJSON *obj, struct evc_scenario_chain *c) {
  static const char *const keys[] = {"block_time_ms", "da_block_time_ms", "txs_per_block",
                                     "da_mempool_ttl_blocks"};
  int rc = scn_expect_object(ctx, obj, "chain");
  rc = rc != 0 ? rc : scn_check_keys(ctx, obj, "chain", SCN_KEYS(keys), NULL, 0, NULL);
  rc = rc != 0 ? rc
               : scn_field_u64(ctx, obj, "chain", "block_time_ms", 1, EVC_SCENARIO_MS_MAX,
                               &c->block_time_ms);
  rc = rc != 0 ? rc
               : scn_field_u64(ctx, obj, "chain", "da_block_time_ms", 1, EVC_SCENARIO_MS_MAX,
                               &c->da_block_time_ms);
  rc = rc != 0 ? rc
               : scn_field_u64(ctx, obj, "chain", "txs_per_block", 0,
                               EVC_SCENARIO_TXS_PER_BLOCK_MAX, &c->txs_per_block);
  rc = rc != 0 ? rc
               : scn_field_u64(ctx, obj, "chain", "da_mempool_ttl_blocks", 1,
                               EVC_SCENARIO_TTL_BLOCKS_MAX, &c->da_mempool_ttl_blocks);
  return rc;
}

static int scn_parse_network(struct scn_ctx *ctx, const cJSON *obj,
                             struct evc_scenario_network *n) {
  static const char *const keys[] = {"latency_ms", "drop_ppm"};
  int rc = scn_expect_object(ctx, obj, "network");
  rc = rc != 0 ? rc : scn_check_keys(ctx, obj, "network", SCN_KEYS(keys), NULL, 0, NULL);
  if (rc != 0) {
    return rc;
  }
  const cJSON *latency = cJSON_GetObjectItemCaseSensitive(obj, "latency_ms");
  if (latency != NULL) {
    rc = scn_range(ctx, latency, "network.latency_ms", &n->latency);
  }
  uint64_t drop = n->drop_ppm;
  rc = rc != 0 ? rc
               : scn_field_u64(ctx, obj, "network", "drop_ppm", 0, EVC_SCENARIO_PPM_MAX, &drop);
  n->drop_ppm = (uint32_t)drop;
  return rc;
}

/* The DA bound L: a blob submitted while the DA head was d lands at a height <= d + L or is
 * dropped. It lands in the first DA block at or after submit time + delay, and it may be
 * submitted just before block d + 1: so only a delay <= (L - 1) x DA block time keeps every
 * blob within the bound. DESIGN.md said "can reach L x DA block time"; that allowed a blob
 * submitted late in a DA block to be dropped while later ones landed (a swarm sweep found
 * it), so the bound is one DA block tighter (docs/scenarios.md). */
static int scn_check_delay_bound(struct scn_ctx *ctx, const struct evc_scenario_chain *chain,
                                 const struct evc_scenario_range_ms *delay, const char *path) {
  EVC_ASSERT(chain->da_block_time_ms > 0);
  EVC_ASSERT(chain->da_mempool_ttl_blocks > 0);
  uint64_t bound = (chain->da_mempool_ttl_blocks - 1) * chain->da_block_time_ms;
  if (delay->max_ms > bound) {
    return scn_fail(ctx, EVC_ECONFIG, path,
                    "max delay %" PRIu64 " ms can carry a blob past L DA blocks: it must be at "
                    "most (L - 1) x DA block time = (%" PRIu64 " - 1) x %" PRIu64 " = %" PRIu64
                    " ms; lower it or raise chain.da_mempool_ttl_blocks",
                    delay->max_ms, chain->da_mempool_ttl_blocks, chain->da_block_time_ms, bound);
  }
  return 0;
}

static int scn_parse_da(struct scn_ctx *ctx, const cJSON *obj, struct evc_scenario *s) {
  static const char *const keys[] = {"inclusion_delay_ms"};
  int rc = scn_expect_object(ctx, obj, "da");
  rc = rc != 0 ? rc : scn_check_keys(ctx, obj, "da", SCN_KEYS(keys), NULL, 0, NULL);
  if (rc != 0) {
    return rc;
  }
  const cJSON *delay = cJSON_GetObjectItemCaseSensitive(obj, "inclusion_delay_ms");
  if (delay != NULL) {
    rc = scn_range(ctx, delay, "da.inclusion_delay_ms", &s->da.inclusion_delay);
  }
  return rc;
}

/* ---- nodes ---- */

static int scn_parse_node_name_role(struct scn_ctx *ctx, const cJSON *obj, const char *path,
                                    struct evc_scenario *s, size_t index) {
  static const char *const keys[] = {"name", "role", "peers", "key_of"};
  struct evc_scenario_node *node = &s->nodes[index];
  int rc = scn_expect_object(ctx, obj, path);
  rc = rc != 0 ? rc : scn_check_keys(ctx, obj, path, SCN_KEYS(keys), NULL, 0, NULL);
  if (rc != 0) {
    return rc;
  }
  char sub[SCN_PATH_MAX];
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "name");
  const cJSON *role = cJSON_GetObjectItemCaseSensitive(obj, "role");
  if (name == NULL || role == NULL) {
    return scn_missing(ctx, path, name == NULL ? "name" : "role");
  }
  scn_path(sub, path, "name");
  rc = scn_name(ctx, name, sub, EVC_SCENARIO_NAME_LEN_MAX, node->name);
  uint8_t other;
  if (rc == 0 && evc_scenario_node_index(s, node->name, &other) == 0 && other < index) {
    return scn_fail(ctx, EVC_ECONFIG, sub, "node \"%s\" is already defined by nodes[%u]",
                    node->name, (unsigned)other);
  }
  scn_path(sub, path, "role");
  size_t role_index = SIZE_MAX;
  if (rc == 0 && cJSON_IsString(role) && role->valuestring != NULL) {
    for (size_t i = 0; i < evc_scenario_roles_count(); i++) {
      role_index = strcmp(role->valuestring, scn_roles[i]) == 0 ? i : role_index;
    }
  }
  if (rc == 0 && !cJSON_IsString(role)) {
    return scn_fail(ctx, EVC_ECONFIG, sub, "expected a role name");
  }
  if (rc == 0 && role_index == SIZE_MAX) {
    char q[SCN_QUOTE_MAX + 4];
    return scn_fail(ctx, EVC_ECONFIG, sub,
                    "unknown role \"%s\" (expected aggregator, full, liar_height, "
                    "byz_bad_sig, byz_slow, byz_reorder or byz_flood)",
                    scn_quote(cJSON_IsString(role) ? role->valuestring : "", q));
  }
  if (rc == 0) {
    EVC_ASSERT(strlen(scn_roles[role_index]) <= EVC_SCENARIO_ROLE_LEN_MAX);
    snprintf(node->role, sizeof node->role, "%s", scn_roles[role_index]);
  }
  return rc;
}

static int scn_parse_node_peers(struct scn_ctx *ctx, const cJSON *obj, const char *path,
                                struct evc_scenario *s, size_t index) {
  struct evc_scenario_node *node = &s->nodes[index];
  const cJSON *peers = cJSON_GetObjectItemCaseSensitive(obj, "peers");
  if (peers == NULL) {
    return 0;
  }
  char sub[SCN_PATH_MAX];
  char elem_path[SCN_PATH_MAX];
  scn_path(sub, path, "peers");
  size_t count = 0;
  int rc = scn_expect_array(ctx, peers, sub, EVC_SCENARIO_NODES_MAX, &count);
  uint32_t seen = 0;
  size_t i = 0;
  const cJSON *peer;
  cJSON_ArrayForEach(peer, peers) {
    scn_path_index(elem_path, sub, i++);
    uint8_t peer_index = 0;
    rc = rc != 0 ? rc : scn_node_ref(ctx, s, peer, elem_path, &peer_index);
    if (rc != 0) {
      return rc;
    }
    if (peer_index == index) {
      return scn_fail(ctx, EVC_ECONFIG, elem_path, "a node cannot peer with itself");
    }
    if ((seen & (UINT32_C(1) << peer_index)) != 0) {
      return scn_fail(ctx, EVC_ECONFIG, elem_path, "peer \"%s\" is listed twice",
                      s->nodes[peer_index].name);
    }
    seen |= UINT32_C(1) << peer_index;
    node->peers[node->peers_count++] = peer_index;
  }
  return rc;
}

static int scn_parse_node_key_of(struct scn_ctx *ctx, const cJSON *obj, const char *path,
                                 struct evc_scenario *s, size_t index) {
  struct evc_scenario_node *node = &s->nodes[index];
  const cJSON *key_of = cJSON_GetObjectItemCaseSensitive(obj, "key_of");
  if (key_of == NULL) {
    return 0;
  }
  char sub[SCN_PATH_MAX];
  scn_path(sub, path, "key_of");
  uint8_t owner = 0;
  int rc = scn_node_ref(ctx, s, key_of, sub, &owner);
  if (rc != 0) {
    return rc;
  }
  if (owner == index) {
    return scn_fail(ctx, EVC_ECONFIG, sub, "a node cannot share its own key");
  }
  if (!evc_scenario_node_is_aggregator(node) ||
      !evc_scenario_node_is_aggregator(&s->nodes[owner])) {
    return scn_fail(ctx, EVC_ECONFIG, sub,
                    "key_of makes a twin sequencer: \"%s\" and \"%s\" must both be aggregators",
                    node->name, s->nodes[owner].name);
  }
  node->key_of = owner;
  return 0;
}

static int scn_parse_nodes(struct scn_ctx *ctx, const cJSON *arr, struct evc_scenario *s) {
  size_t count = 0;
  int rc = scn_expect_array(ctx, arr, "nodes", EVC_SCENARIO_NODES_MAX, &count);
  if (rc == 0 && count == 0) {
    rc = scn_fail(ctx, EVC_ECONFIG, "nodes", "at least one node is required");
  }
  char path[SCN_PATH_MAX];
  size_t i = 0;
  const cJSON *obj;
  cJSON_ArrayForEach(obj, arr) { /* pass 1: names and roles, so peers may refer ahead */
    if (rc != 0) {
      return rc;
    }
    EVC_ASSERT(i < EVC_SCENARIO_NODES_MAX);
    scn_path_index(path, "nodes", i);
    s->nodes[i].key_of = EVC_SCENARIO_NODE_NONE;
    rc = scn_parse_node_name_role(ctx, obj, path, s, i);
    s->nodes_count = (uint8_t)++i;
  }
  i = 0;
  cJSON_ArrayForEach(obj, arr) {
    if (rc != 0) {
      return rc;
    }
    scn_path_index(path, "nodes", i);
    rc = scn_parse_node_peers(ctx, obj, path, s, i);
    rc = rc != 0 ? rc : scn_parse_node_key_of(ctx, obj, path, s, i);
    i++;
  }
  for (i = 0; rc == 0 && i < s->nodes_count; i++) { /* a twin names the key's owner */
    uint8_t owner = s->nodes[i].key_of;
    if (owner != EVC_SCENARIO_NODE_NONE && s->nodes[owner].key_of != EVC_SCENARIO_NODE_NONE) {
      char sub[SCN_PATH_MAX];
      scn_path_index(path, "nodes", i);
      scn_path(sub, path, "key_of");
      rc = scn_fail(ctx, EVC_ECONFIG, sub,
                    "\"%s\" itself has key_of; name the node that owns the key",
                    s->nodes[owner].name);
    }
  }
  return rc;
}

/* ---- timeline ---- */

static const char *const scn_step_keys[] = {"at_ms", "after_ms", "when", "timeout_ms", "do"};
static const char *const scn_keys_node[] = {"node"};
static const char *const scn_keys_start[] = {"node", "catchup_p2p_timeout_ms", "inbound_grace_ms",
                                             "da_only"};
static const char *const scn_keys_crash[] = {"node", "point"};
static const char *const scn_keys_snapshot[] = {"node", "name", "scope"};
static const char *const scn_keys_restore[] = {"node", "name"};
static const char *const scn_keys_partition[] = {"groups"};
static const char *const scn_keys_da_outage[] = {"duration_ms"};
static const char *const scn_keys_da_slow[] = {"duration_ms", "inclusion_delay_ms"};
static const char *const scn_keys_fault[] = {"name", "params"};

struct scn_action_def {
  const char *name;
  enum evc_scenario_action action;
  const char *const *keys;
  size_t keys_count;
};

static const struct scn_action_def scn_actions[] = {
    {"start", EVC_SCENARIO_DO_START, SCN_KEYS(scn_keys_start)},
    {"stop", EVC_SCENARIO_DO_STOP, SCN_KEYS(scn_keys_node)},
    {"crash", EVC_SCENARIO_DO_CRASH, SCN_KEYS(scn_keys_crash)},
    {"wipe", EVC_SCENARIO_DO_WIPE, SCN_KEYS(scn_keys_node)},
    {"lose_machine", EVC_SCENARIO_DO_LOSE_MACHINE, SCN_KEYS(scn_keys_node)},
    {"snapshot", EVC_SCENARIO_DO_SNAPSHOT, SCN_KEYS(scn_keys_snapshot)},
    {"restore", EVC_SCENARIO_DO_RESTORE, SCN_KEYS(scn_keys_restore)},
    {"partition", EVC_SCENARIO_DO_PARTITION, SCN_KEYS(scn_keys_partition)},
    {"heal", EVC_SCENARIO_DO_HEAL, NULL, 0},
    {"da_outage", EVC_SCENARIO_DO_DA_OUTAGE, SCN_KEYS(scn_keys_da_outage)},
    {"da_slow", EVC_SCENARIO_DO_DA_SLOW, SCN_KEYS(scn_keys_da_slow)},
    {"fault", EVC_SCENARIO_DO_FAULT, SCN_KEYS(scn_keys_fault)},
};

static const char *const scn_condition_keys[] = {
    "height_gte", "da_included_gte", "da_pending_eq", "da_pending_gte",
    "da_posted_unincluded_gte", "mode",
};
static const enum evc_scenario_condition scn_conditions[] = {
    EVC_SCENARIO_COND_HEIGHT_GTE,     EVC_SCENARIO_COND_DA_INCLUDED_GTE,
    EVC_SCENARIO_COND_DA_PENDING_EQ,  EVC_SCENARIO_COND_DA_PENDING_GTE,
    EVC_SCENARIO_COND_DA_POSTED_UNINCLUDED_GTE, EVC_SCENARIO_COND_MODE,
};
_Static_assert(sizeof scn_condition_keys / sizeof scn_condition_keys[0] ==
                   sizeof scn_conditions / sizeof scn_conditions[0],
               "one key per condition");

static int scn_parse_when(struct scn_ctx *ctx, const struct evc_scenario *s, const cJSON *obj,
                          const char *path, struct evc_scenario_when *when) {
  int rc = scn_expect_object(ctx, obj, path);
  rc = rc != 0 ? rc
               : scn_check_keys(ctx, obj, path, SCN_KEYS(scn_keys_node),
                                SCN_KEYS(scn_condition_keys), NULL);
  if (rc != 0) {
    return rc;
  }
  char sub[SCN_PATH_MAX];
  const cJSON *node = cJSON_GetObjectItemCaseSensitive(obj, "node");
  if (node == NULL) {
    return scn_missing(ctx, path, "node");
  }
  scn_path(sub, path, "node");
  rc = scn_node_ref(ctx, s, node, sub, &when->node);
  const cJSON *cond = NULL;
  size_t found = 0;
  for (size_t i = 0; rc == 0 && i < sizeof scn_conditions / sizeof scn_conditions[0]; i++) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, scn_condition_keys[i]);
    if (item != NULL) {
      found++;
      cond = item;
      when->condition = scn_conditions[i];
    }
  }
  if (rc == 0 && found != 1) {
    return scn_fail(ctx, EVC_ECONFIG, path,
                    "exactly one condition of height_gte, da_included_gte, da_pending_eq, "
                    "da_pending_gte, da_posted_unincluded_gte, mode is required");
  }
  if (rc != 0) {
    return rc;
  }
  scn_path(sub, path, cond->string);
  if (when->condition == EVC_SCENARIO_COND_MODE) {
    return scn_mode(ctx, cond, sub, &when->mode);
  }
  return scn_u64(ctx, cond, sub, 0, EVC_SCENARIO_COUNT_MAX, &when->value);
}

static int scn_parse_trigger(struct scn_ctx *ctx, const struct evc_scenario *s, const cJSON *obj,
                             const char *path, struct evc_scenario_step *step) {
  const cJSON *at = cJSON_GetObjectItemCaseSensitive(obj, "at_ms");
  const cJSON *after = cJSON_GetObjectItemCaseSensitive(obj, "after_ms");
  const cJSON *when = cJSON_GetObjectItemCaseSensitive(obj, "when");
  if ((at != NULL) + (after != NULL) + (when != NULL) != 1) {
    return scn_fail(ctx, EVC_ECONFIG, path, "exactly one of at_ms, after_ms, when is required");
  }
  char sub[SCN_PATH_MAX];
  if (when == NULL && cJSON_GetObjectItemCaseSensitive(obj, "timeout_ms") != NULL) {
    scn_path(sub, path, "timeout_ms");
    return scn_fail(ctx, EVC_ECONFIG, sub, "allowed only with when");
  }
  if (when != NULL) {
    step->trigger = EVC_SCENARIO_TRIGGER_WHEN;
    scn_path(sub, path, "when");
    int rc = scn_parse_when(ctx, s, when, sub, &step->when);
    return rc != 0 ? rc
                   : scn_field_opt_u64(ctx, obj, path, "timeout_ms", 1, EVC_SCENARIO_MS_MAX,
                                       &step->timeout);
  }
  step->trigger = at != NULL ? EVC_SCENARIO_TRIGGER_AT : EVC_SCENARIO_TRIGGER_AFTER;
  scn_path(sub, path, at != NULL ? "at_ms" : "after_ms");
  int rc = scn_u64(ctx, at != NULL ? at : after, sub, 0, EVC_SCENARIO_MS_MAX, &step->trigger_ms);
  if (rc == 0 && at != NULL && step->trigger_ms > s->expect.within_ms) {
    rc = scn_fail(ctx, EVC_ECONFIG, sub,
                  "%" PRIu64 " is after expect.within_ms %" PRIu64 "; the step would never run",
                  step->trigger_ms, s->expect.within_ms);
  }
  return rc;
}

static int scn_step_node(struct scn_ctx *ctx, const struct evc_scenario *s, const cJSON *obj,
                         const char *path, struct evc_scenario_step *step) {
  const cJSON *node = cJSON_GetObjectItemCaseSensitive(obj, "node");
  if (node == NULL) {
    return scn_missing(ctx, path, "node");
  }
  char sub[SCN_PATH_MAX];
  scn_path(sub, path, "node");
  return scn_node_ref(ctx, s, node, sub, &step->node);
}

static int scn_step_start(struct scn_ctx *ctx, const struct evc_scenario *s, const cJSON *obj,
                          const char *path, struct evc_scenario_step *step) {
  int rc = scn_field_opt_u64(ctx, obj, path, "catchup_p2p_timeout_ms", 0, EVC_SCENARIO_MS_MAX,
                             &step->catchup_p2p_timeout_ms);
  rc = rc != 0 ? rc
               : scn_field_opt_u64(ctx, obj, path, "inbound_grace_ms", 0, EVC_SCENARIO_MS_MAX,
                                   &step->inbound_grace_ms);
  const cJSON *da_only = cJSON_GetObjectItemCaseSensitive(obj, "da_only");
  char sub[SCN_PATH_MAX];
  if (rc == 0 && da_only != NULL) {
    scn_path(sub, path, "da_only");
    rc = scn_bool(ctx, da_only, sub, &step->da_only);
  }
  bool catchup_options = step->catchup_p2p_timeout_ms.set || step->inbound_grace_ms.set ||
                         da_only != NULL;
  if (rc == 0 && catchup_options && !evc_scenario_node_is_aggregator(&s->nodes[step->node])) {
    rc = scn_fail(ctx, EVC_ECONFIG, path,
                  "catchup_p2p_timeout_ms, inbound_grace_ms and da_only apply only to an "
                  "aggregator, and \"%s\" is a %s node",
                  s->nodes[step->node].name, s->nodes[step->node].role);
  }
  return rc;
}

static int scn_step_crash(struct scn_ctx *ctx, const struct evc_scenario *s, const cJSON *obj,
                          const char *path, struct evc_scenario_step *step) {
  const cJSON *point = cJSON_GetObjectItemCaseSensitive(obj, "point");
  if (point == NULL) {
    step->crash_point = EVC_SCENARIO_CRASH_NOW;
    return 0;
  }
  char sub[SCN_PATH_MAX];
  scn_path(sub, path, "point");
  if (!cJSON_IsString(point) || point->valuestring == NULL ||
      strcmp(point->valuestring, "after_next_sign") != 0) {
    return scn_fail(ctx, EVC_ECONFIG, sub, "expected \"after_next_sign\"");
  }
  if (!evc_scenario_node_is_aggregator(&s->nodes[step->node])) {
    return scn_fail(ctx, EVC_ECONFIG, sub, "\"%s\" is a %s node and never signs",
                    s->nodes[step->node].name, s->nodes[step->node].role);
  }
  step->crash_point = EVC_SCENARIO_CRASH_AFTER_NEXT_SIGN;
  return 0;
}

static int scn_step_snapshot(struct scn_ctx *ctx, const struct evc_scenario *s, const cJSON *obj,
                             const char *path, struct evc_scenario_step *step) {
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "name");
  if (name == NULL) {
    return scn_missing(ctx, path, "name");
  }
  char sub[SCN_PATH_MAX];
  scn_path(sub, path, "name");
  int rc = scn_name(ctx, name, sub, EVC_SCENARIO_NAME_LEN_MAX, step->snapshot_name);
  if (rc != 0) {
    return rc;
  }
  if (step->action == EVC_SCENARIO_DO_RESTORE) { /* steps run in order: earlier = before */
    bool taken = false;
    for (size_t i = 0; i < step->index; i++) {
      taken = taken || (s->steps[i].action == EVC_SCENARIO_DO_SNAPSHOT &&
                        strcmp(s->steps[i].snapshot_name, step->snapshot_name) == 0);
    }
    return taken ? 0
                 : scn_fail(ctx, EVC_ECONFIG, sub, "no earlier snapshot step is named \"%s\"",
                            step->snapshot_name);
  }
  const cJSON *scope = cJSON_GetObjectItemCaseSensitive(obj, "scope");
  step->scope = EVC_SCENARIO_SCOPE_DATA;
  if (scope != NULL) {
    scn_path(sub, path, "scope");
    const char *text = cJSON_IsString(scope) ? scope->valuestring : NULL;
    if (text != NULL && strcmp(text, "home") == 0) {
      step->scope = EVC_SCENARIO_SCOPE_HOME;
    } else if (text == NULL || strcmp(text, "data") != 0) {
      return scn_fail(ctx, EVC_ECONFIG, sub, "expected \"data\" or \"home\"");
    }
  }
  return 0;
}

static int scn_partition_group(struct scn_ctx *ctx, const struct evc_scenario *s,
                               const cJSON *group, const char *path,
                               struct evc_scenario_step *step) {
  size_t count = 0;
  int rc = scn_expect_array(ctx, group, path, EVC_SCENARIO_NODES_MAX, &count);
  if (rc == 0 && count == 0) {
    rc = scn_fail(ctx, EVC_ECONFIG, path, "a group needs at least one node");
  }
  char elem_path[SCN_PATH_MAX];
  size_t i = 0;
  const cJSON *name;
  cJSON_ArrayForEach(name, group) {
    scn_path_index(elem_path, path, i++);
    uint8_t node = 0;
    rc = rc != 0 ? rc : scn_node_ref(ctx, s, name, elem_path, &node);
    if (rc != 0) {
      return rc;
    }
    if (step->group_of[node] != EVC_SCENARIO_GROUP_NONE) {
      return scn_fail(ctx, EVC_ECONFIG, elem_path, "node \"%s\" is already in groups[%u]",
                      s->nodes[node].name, (unsigned)step->group_of[node]);
    }
    step->group_of[node] = step->groups_count;
  }
  return rc;
}

static int scn_step_partition(struct scn_ctx *ctx, const struct evc_scenario *s,
                              const cJSON *obj, const char *path,
                              struct evc_scenario_step *step) {
  const cJSON *groups = cJSON_GetObjectItemCaseSensitive(obj, "groups");
  if (groups == NULL) {
    return scn_missing(ctx, path, "groups");
  }
  char sub[SCN_PATH_MAX];
  char group_path[SCN_PATH_MAX];
  scn_path(sub, path, "groups");
  size_t count = 0;
  int rc = scn_expect_array(ctx, groups, sub, EVC_SCENARIO_NODES_MAX, &count);
  if (rc == 0 && count < 2) {
    rc = scn_fail(ctx, EVC_ECONFIG, sub, "a partition needs at least two groups");
  }
  memset(step->group_of, EVC_SCENARIO_GROUP_NONE, sizeof step->group_of);
  const cJSON *group;
  cJSON_ArrayForEach(group, groups) {
    if (rc != 0) {
      return rc;
    }
    EVC_ASSERT(step->groups_count < EVC_SCENARIO_NODES_MAX);
    scn_path_index(group_path, sub, step->groups_count);
    rc = scn_partition_group(ctx, s, group, group_path, step);
    step->groups_count++;
  }
  return rc;
}

static int scn_step_da(struct scn_ctx *ctx, const struct evc_scenario *s, const cJSON *obj,
                       const char *path, struct evc_scenario_step *step) {
  int rc = scn_required_u64(ctx, obj, path, "duration_ms", 1, EVC_SCENARIO_MS_MAX,
                            &step->duration_ms);
  if (rc != 0 || step->action != EVC_SCENARIO_DO_DA_SLOW) {
    return rc;
  }
  const cJSON *delay = cJSON_GetObjectItemCaseSensitive(obj, "inclusion_delay_ms");
  if (delay == NULL) {
    return scn_missing(ctx, path, "inclusion_delay_ms");
  }
  char sub[SCN_PATH_MAX];
  scn_path(sub, path, "inclusion_delay_ms");
  rc = scn_range(ctx, delay, sub, &step->inclusion_delay);
  return rc != 0 ? rc : scn_check_delay_bound(ctx, &s->chain, &step->inclusion_delay, sub);
}

static int scn_step_fault(struct scn_ctx *ctx, const cJSON *obj, const char *path,
                          struct evc_scenario_step *step) {
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "name");
  if (name == NULL) {
    return scn_missing(ctx, path, "name");
  }
  char sub[SCN_PATH_MAX];
  scn_path(sub, path, "name");
  int rc = scn_name(ctx, name, sub, EVC_SCENARIO_NAME_LEN_MAX, step->fault_name);
  const cJSON *params = cJSON_GetObjectItemCaseSensitive(obj, "params");
  scn_path(sub, path, "params");
  if (rc == 0 && params != NULL) {
    rc = scn_expect_object(ctx, params, sub);
  }
  if (rc != 0) {
    return rc;
  }
  char *text = params != NULL ? cJSON_PrintUnformatted(params) : NULL;
  const char *src = params != NULL ? text : "{}";
  if (src == NULL) {
    return scn_fail(ctx, EVC_ENOMEM, sub, "out of memory");
  }
  size_t len = strlen(src);
  if (len > EVC_SCENARIO_FAULT_PARAMS_BYTES_MAX) {
    cJSON_free(text);
    return scn_fail(ctx, EVC_ECONFIG, sub, "more than %u bytes",
                    EVC_SCENARIO_FAULT_PARAMS_BYTES_MAX);
  }
  step->fault_params_json = malloc(len + 1);
  if (step->fault_params_json != NULL) {
    memcpy(step->fault_params_json, src, len + 1);
  }
  cJSON_free(text);
  return step->fault_params_json != NULL ? 0 : scn_fail(ctx, EVC_ENOMEM, sub, "out of memory");
}

static const struct scn_action_def *scn_find_action(const char *name) {
  for (size_t i = 0; i < sizeof scn_actions / sizeof scn_actions[0]; i++) {
    if (strcmp(name, scn_actions[i].name) == 0) {
      return &scn_actions[i];
    }
  }
  return NULL;
}

static int scn_step_action(struct scn_ctx *ctx, const struct evc_scenario *s, const cJSON *obj,
                           const char *path, struct evc_scenario_step *step) {
  step->node = EVC_SCENARIO_NODE_NONE;
  switch (step->action) {
  case EVC_SCENARIO_DO_START: {
    int rc = scn_step_node(ctx, s, obj, path, step);
    return rc != 0 ? rc : scn_step_start(ctx, s, obj, path, step);
  }
  case EVC_SCENARIO_DO_CRASH: {
    int rc = scn_step_node(ctx, s, obj, path, step);
    return rc != 0 ? rc : scn_step_crash(ctx, s, obj, path, step);
  }
  case EVC_SCENARIO_DO_SNAPSHOT:
  case EVC_SCENARIO_DO_RESTORE: {
    int rc = scn_step_node(ctx, s, obj, path, step);
    return rc != 0 ? rc : scn_step_snapshot(ctx, s, obj, path, step);
  }
  case EVC_SCENARIO_DO_STOP:
  case EVC_SCENARIO_DO_WIPE:
  case EVC_SCENARIO_DO_LOSE_MACHINE:
    return scn_step_node(ctx, s, obj, path, step);
  case EVC_SCENARIO_DO_PARTITION:
    return scn_step_partition(ctx, s, obj, path, step);
  case EVC_SCENARIO_DO_HEAL:
    return 0;
  case EVC_SCENARIO_DO_DA_OUTAGE:
  case EVC_SCENARIO_DO_DA_SLOW:
    return scn_step_da(ctx, s, obj, path, step);
  case EVC_SCENARIO_DO_FAULT:
    return scn_step_fault(ctx, obj, path, step);
  }
  EVC_UNREACHABLE();
}

static int scn_parse_step(struct scn_ctx *ctx, struct evc_scenario *s, const cJSON *obj,
                          size_t index) {
  EVC_ASSERT(index < EVC_SCENARIO_STEPS_MAX);
  EVC_ASSERT(index == s->steps_count);
  char path[SCN_PATH_MAX];
  scn_path_index(path, "timeline", index);
  int rc = scn_expect_object(ctx, obj, path);
  if (rc != 0) {
    return rc;
  }
  const cJSON *action = cJSON_GetObjectItemCaseSensitive(obj, "do");
  if (action == NULL) {
    return scn_missing(ctx, path, "do");
  }
  const struct scn_action_def *def = NULL;
  if (cJSON_IsString(action) && action->valuestring != NULL) {
    def = scn_find_action(action->valuestring);
  }
  if (def == NULL) {
    char q[SCN_QUOTE_MAX + 4];
    return scn_fail(ctx, EVC_ECONFIG, path, "unknown action \"%s\"",
                    scn_quote(cJSON_IsString(action) ? action->valuestring : "", q));
  }
  char what[48];
  snprintf(what, sizeof what, "for action \"%s\"", def->name);
  rc = scn_check_keys(ctx, obj, path, SCN_KEYS(scn_step_keys), def->keys, def->keys_count,
                      what);
  struct evc_scenario_step *step = &s->steps[index];
  s->steps_count = index + 1; /* counted from here on, so a failure frees what it owns */
  step->index = index;
  step->action = def->action;
  rc = rc != 0 ? rc : scn_parse_trigger(ctx, s, obj, path, step);
  return rc != 0 ? rc : scn_step_action(ctx, s, obj, path, step);
}

static int scn_parse_timeline(struct scn_ctx *ctx, const cJSON *arr, struct evc_scenario *s) {
  size_t count = 0;
  int rc = scn_expect_array(ctx, arr, "timeline", EVC_SCENARIO_STEPS_MAX, &count);
  size_t index = 0;
  const cJSON *obj;
  cJSON_ArrayForEach(obj, arr) {
    if (rc != 0) {
      break;
    }
    rc = scn_parse_step(ctx, s, obj, index++);
  }
  return rc;
}

/* ---- expect ---- */

/* {node: value} where every value is a count (u64s), a mode (modes) or a boolean (bools);
 * exactly one of the three arrays is given. */
static int scn_parse_node_map(struct scn_ctx *ctx, const struct evc_scenario *s,
                              const cJSON *obj, const char *path,
                              struct evc_scenario_opt_u64 *u64s,
                              struct evc_scenario_opt_mode *modes,
                              struct evc_scenario_opt_bool *bools) {
  EVC_ASSERT((u64s != NULL) + (modes != NULL) + (bools != NULL) == 1);
  int rc = scn_expect_object(ctx, obj, path);
  char sub[SCN_PATH_MAX];
  char q[SCN_QUOTE_MAX + 4];
  const cJSON *item;
  cJSON_ArrayForEach(item, obj) {
    uint8_t node = 0;
    const char *key = item->string != NULL ? item->string : "";
    if (rc == 0 && evc_scenario_node_index(s, key, &node) != 0) {
      rc = scn_fail(ctx, EVC_ECONFIG, path, "unknown node \"%s\"", scn_quote(key, q));
    }
    bool seen = rc == 0 && ((u64s != NULL && u64s[node].set) ||
                            (modes != NULL && modes[node].set) ||
                            (bools != NULL && bools[node].set));
    if (seen) {
      rc = scn_fail(ctx, EVC_ECONFIG, path, "duplicate key \"%s\"", key);
    }
    if (rc != 0) {
      return rc;
    }
    scn_path(sub, path, key);
    if (u64s != NULL) {
      u64s[node].set = true;
      rc = scn_u64(ctx, item, sub, 0, EVC_SCENARIO_COUNT_MAX, &u64s[node].value);
    } else if (modes != NULL) {
      modes[node].set = true;
      rc = scn_mode(ctx, item, sub, &modes[node].value);
    } else {
      bools[node].set = true;
      rc = scn_bool(ctx, item, sub, &bools[node].value);
    }
  }
  return rc;
}

static int scn_parse_same_chain(struct scn_ctx *ctx, const struct evc_scenario *s,
                                const cJSON *arr, struct evc_scenario_expect *e) {
  const char *path = "expect.same_chain";
  size_t count = 0;
  int rc = scn_expect_array(ctx, arr, path, EVC_SCENARIO_NODES_MAX, &count);
  if (rc == 0 && count < 2) {
    rc = scn_fail(ctx, EVC_ECONFIG, path, "name at least two nodes");
  }
  char elem_path[SCN_PATH_MAX];
  uint32_t seen = 0;
  const cJSON *name;
  cJSON_ArrayForEach(name, arr) {
    scn_path_index(elem_path, path, e->same_chain_count);
    uint8_t node = 0;
    rc = rc != 0 ? rc : scn_node_ref(ctx, s, name, elem_path, &node);
    if (rc == 0 && (seen & (UINT32_C(1) << node)) != 0) {
      rc = scn_fail(ctx, EVC_ECONFIG, elem_path, "node \"%s\" is listed twice",
                    s->nodes[node].name);
    }
    if (rc != 0) {
      return rc;
    }
    seen |= UINT32_C(1) << node;
    e->same_chain[e->same_chain_count++] = node;
  }
  return rc;
}

static int scn_parse_hazards(struct scn_ctx *ctx, const cJSON *obj,
                             struct evc_scenario_hazards *h) {
  static const char *const keys[] = {
      "p2p_only_blocks_at_crash_gte", "crashed_in_mode",          "late_blobs_landed_gte",
      "soft_blocks_rolled_back_gte",  "blocks_from_peers_gte",    "republished_signed_block",
      "own_key_conflicts_detected_gte"};
  const char *path = "expect.hazards";
  const uint64_t max = EVC_SCENARIO_COUNT_MAX;
  int rc = scn_expect_object(ctx, obj, path);
  rc = rc != 0 ? rc : scn_check_keys(ctx, obj, path, SCN_KEYS(keys), NULL, 0, NULL);
  rc = rc != 0 ? rc
               : scn_field_opt_u64(ctx, obj, path, "p2p_only_blocks_at_crash_gte", 0, max,
                                   &h->p2p_only_blocks_at_crash_gte);
  rc = rc != 0 ? rc
               : scn_field_opt_u64(ctx, obj, path, "late_blobs_landed_gte", 0, max,
                                   &h->late_blobs_landed_gte);
  rc = rc != 0 ? rc
               : scn_field_opt_u64(ctx, obj, path, "soft_blocks_rolled_back_gte", 0, max,
                                   &h->soft_blocks_rolled_back_gte);
  rc = rc != 0 ? rc
               : scn_field_opt_u64(ctx, obj, path, "blocks_from_peers_gte", 0, max,
                                   &h->blocks_from_peers_gte);
  rc = rc != 0 ? rc
               : scn_field_opt_u64(ctx, obj, path, "own_key_conflicts_detected_gte", 0, max,
                                   &h->own_key_conflicts_detected_gte);
  const cJSON *mode = cJSON_GetObjectItemCaseSensitive(obj, "crashed_in_mode");
  if (rc == 0 && mode != NULL) {
    h->crashed_in_mode.set = true;
    rc = scn_mode(ctx, mode, "expect.hazards.crashed_in_mode", &h->crashed_in_mode.value);
  }
  const cJSON *republished = cJSON_GetObjectItemCaseSensitive(obj, "republished_signed_block");
  if (rc == 0 && republished != NULL) {
    h->republished_signed_block.set = true;
    rc = scn_bool(ctx, republished, "expect.hazards.republished_signed_block",
                  &h->republished_signed_block.value);
  }
  return rc;
}

static int scn_check_produced_bounds(struct scn_ctx *ctx, const struct evc_scenario *s) {
  const struct evc_scenario_expect *e = &s->expect;
  for (size_t i = 0; i < s->nodes_count; i++) {
    if (e->produced_after_recovery_gte[i].set && e->produced_after_recovery_lte[i].set &&
        e->produced_after_recovery_gte[i].value > e->produced_after_recovery_lte[i].value) {
      return scn_fail(ctx, EVC_ECONFIG, "expect",
                      "produced_after_recovery_gte %" PRIu64 " is above "
                      "produced_after_recovery_lte %" PRIu64 " for \"%s\": it can never hold",
                      e->produced_after_recovery_gte[i].value,
                      e->produced_after_recovery_lte[i].value, s->nodes[i].name);
    }
  }
  return 0;
}

static int scn_parse_expect(struct scn_ctx *ctx, const cJSON *obj, struct evc_scenario *s) {
  static const char *const keys[] = {"within_ms", "produced_after_recovery_gte",
                                     "produced_after_recovery_lte", "same_chain", "mode",
                                     "equivocations_reported", "hazards"};
  struct evc_scenario_expect *e = &s->expect;
  int rc = scn_expect_object(ctx, obj, "expect");
  rc = rc != 0 ? rc : scn_check_keys(ctx, obj, "expect", SCN_KEYS(keys), NULL, 0, NULL);
  rc = rc != 0 ? rc
               : scn_required_u64(ctx, obj, "expect", "within_ms", 1, EVC_SCENARIO_MS_MAX,
                                  &e->within_ms);
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, "produced_after_recovery_gte");
  if (rc == 0 && item != NULL) {
    rc = scn_parse_node_map(ctx, s, item, "expect.produced_after_recovery_gte",
                            e->produced_after_recovery_gte, NULL, NULL);
  }
  item = cJSON_GetObjectItemCaseSensitive(obj, "produced_after_recovery_lte");
  if (rc == 0 && item != NULL) {
    rc = scn_parse_node_map(ctx, s, item, "expect.produced_after_recovery_lte",
                            e->produced_after_recovery_lte, NULL, NULL);
  }
  item = cJSON_GetObjectItemCaseSensitive(obj, "mode");
  if (rc == 0 && item != NULL) {
    rc = scn_parse_node_map(ctx, s, item, "expect.mode", NULL, e->mode, NULL);
  }
  item = cJSON_GetObjectItemCaseSensitive(obj, "equivocations_reported");
  if (rc == 0 && item != NULL) {
    rc = scn_parse_node_map(ctx, s, item, "expect.equivocations_reported", NULL, NULL,
                            e->equivocations_reported);
  }
  item = cJSON_GetObjectItemCaseSensitive(obj, "same_chain");
  if (rc == 0 && item != NULL) {
    rc = scn_parse_same_chain(ctx, s, item, e);
  }
  item = cJSON_GetObjectItemCaseSensitive(obj, "hazards");
  if (rc == 0 && item != NULL) {
    rc = scn_parse_hazards(ctx, item, &e->hazards);
  }
  return rc != 0 ? rc : scn_check_produced_bounds(ctx, s);
}

/* ---- the document ---- */

static void scn_set_defaults(struct evc_scenario *s) {
  s->chain.block_time_ms = 100;
  s->chain.da_block_time_ms = 1000;
  s->chain.txs_per_block = 2;
  s->chain.da_mempool_ttl_blocks = 10;
  s->network.latency.min_ms = 2;
  s->network.latency.max_ms = 40;
  s->network.drop_ppm = 0;
  s->da.inclusion_delay.min_ms = 0;
  s->da.inclusion_delay.max_ms = 1500;
}

static int scn_parse_header(struct scn_ctx *ctx, const cJSON *root, struct evc_scenario *s) {
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
  if (name == NULL) {
    return scn_missing(ctx, "", "name");
  }
  int rc = scn_name(ctx, name, "name", sizeof s->name - 1, s->name);
  const cJSON *description = cJSON_GetObjectItemCaseSensitive(root, "description");
  if (rc == 0 && description != NULL) {
    if (!cJSON_IsString(description) || description->valuestring == NULL) {
      return scn_fail(ctx, EVC_ECONFIG, "description", "expected a string");
    }
    if (strlen(description->valuestring) > EVC_SCENARIO_DESCRIPTION_LEN_MAX) {
      return scn_fail(ctx, EVC_ECONFIG, "description", "longer than %u bytes",
                      EVC_SCENARIO_DESCRIPTION_LEN_MAX);
    }
    snprintf(s->description, sizeof s->description, "%s", description->valuestring);
  }
  return rc;
}

static int scn_parse_root(struct scn_ctx *ctx, const cJSON *root, struct evc_scenario *s) {
  static const char *const keys[] = {"name",  "description", "chain",    "network",
                                     "da",    "nodes",       "timeline", "expect"};
  if (!cJSON_IsObject(root)) {
    return scn_fail(ctx, EVC_ECONFIG, "", "expected a JSON object at the top level");
  }
  int rc = scn_check_keys(ctx, root, "", SCN_KEYS(keys), NULL, 0, NULL);
  static const char *const required[] = {"nodes", "timeline", "expect"};
  for (size_t i = 0; rc == 0 && i < sizeof required / sizeof required[0]; i++) {
    if (cJSON_GetObjectItemCaseSensitive(root, required[i]) == NULL) {
      rc = scn_missing(ctx, "", required[i]);
    }
  }
  rc = rc != 0 ? rc : scn_parse_header(ctx, root, s);
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "chain");
  rc = rc != 0 || item == NULL ? rc : scn_parse_chain(ctx, item, &s->chain);
  item = cJSON_GetObjectItemCaseSensitive(root, "network");
  rc = rc != 0 || item == NULL ? rc : scn_parse_network(ctx, item, &s->network);
  item = cJSON_GetObjectItemCaseSensitive(root, "da");
  rc = rc != 0 || item == NULL ? rc : scn_parse_da(ctx, item, s);
  if (rc == 0) { /* also when the defaults apply: a short ttl can make them too long */
    rc = scn_check_delay_bound(ctx, &s->chain, &s->da.inclusion_delay,
                               "da.inclusion_delay_ms");
  }
  rc = rc != 0 ? rc : scn_parse_nodes(ctx, cJSON_GetObjectItemCaseSensitive(root, "nodes"), s);
  /* expect before timeline: steps are checked against within_ms */
  rc = rc != 0 ? rc : scn_parse_expect(ctx, cJSON_GetObjectItemCaseSensitive(root, "expect"), s);
  return rc != 0 ? rc
                 : scn_parse_timeline(ctx, cJSON_GetObjectItemCaseSensitive(root, "timeline"), s);
}

/* Nesting depth of arrays and objects outside strings; bounds cJSON's recursion before it
 * runs. Malformed input is left to cJSON, which stops no later than this scan does. */
static bool scn_depth_ok(const char *json, size_t size) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < size; i++) {
    char c = json[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > EVC_SCENARIO_DEPTH_MAX) {
        return false;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  return true;
}

static int scn_syntax_error(struct scn_ctx *ctx, const char *json, const char *end,
                            size_t size, const char *what) {
  size_t offset = end != NULL && end >= json && end <= json + size ? (size_t)(end - json) : 0;
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset; i++) {
    line += json[i] == '\n';
    column = json[i] == '\n' ? 1 : column + 1;
  }
  return scn_fail(ctx, EVC_EDECODE, "", "%s at line %zu, column %zu", what, line, column);
}

static int scn_parse_json(struct scn_ctx *ctx, const char *json, size_t size,
                          struct evc_scenario *s) {
  if (size > EVC_SCENARIO_FILE_BYTES_MAX) {
    return scn_fail(ctx, EVC_ETOOBIG, "", "larger than %u bytes", EVC_SCENARIO_FILE_BYTES_MAX);
  }
  if (!scn_depth_ok(json, size)) {
    return scn_fail(ctx, EVC_ETOOBIG, "", "nested deeper than %u levels",
                    EVC_SCENARIO_DEPTH_MAX);
  }
  /* A NUL-terminated copy: cJSON then never reads past the input, whatever the input. */
  char *copy = malloc(size + 1);
  if (copy == NULL) {
    return scn_fail(ctx, EVC_ENOMEM, "", "out of memory");
  }
  if (size > 0) {
    memcpy(copy, json, size);
  }
  copy[size] = '\0';
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(copy, size, &end, 0);
  int rc = 0;
  if (root == NULL) {
    rc = scn_syntax_error(ctx, copy, end, size, size == 0 ? "empty input" : "invalid JSON");
  } else {
    size_t offset = end != NULL && end >= copy && end <= copy + size ? (size_t)(end - copy) : 0;
    while (offset < size && strchr(" \t\r\n", copy[offset]) != NULL && copy[offset] != '\0') {
      offset++;
    }
    if (offset != size) {
      rc = scn_syntax_error(ctx, copy, copy + offset, size, "trailing bytes after the JSON");
    }
  }
  rc = rc != 0 ? rc : scn_parse_root(ctx, root, s);
  cJSON_Delete(root);
  free(copy);
  return rc;
}

int evc_scenario_parse(const char *json, size_t size, const char *file_label,
                       struct evc_scenario *out, char *err, size_t err_size) {
  EVC_ASSERT(out != NULL);
  EVC_ASSERT(json != NULL || size == 0);
  EVC_ASSERT(err != NULL || err_size == 0);
  struct scn_ctx ctx = {file_label != NULL ? file_label : "scenario", err, err_size};
  memset(out, 0, sizeof *out);
  if (err_size > 0) {
    err[0] = '\0';
  }
  scn_set_defaults(out);
  int rc = scn_parse_json(&ctx, json != NULL ? json : "", size, out);
  if (rc != 0) {
    EVC_ASSERT(rc < 0);
    evc_scenario_free(out);
    return rc;
  }
  EVC_ASSERT(out->nodes_count >= 1 && out->nodes_count <= EVC_SCENARIO_NODES_MAX);
  EVC_ASSERT(out->steps_count <= EVC_SCENARIO_STEPS_MAX);
  return 0;
}

int evc_scenario_load_file(const char *path, struct evc_scenario *out, char *err,
                           size_t err_size) {
  EVC_ASSERT(path != NULL);
  EVC_ASSERT(out != NULL);
  struct scn_ctx ctx = {path, err, err_size};
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    int e = errno;
    return scn_fail(&ctx, e == ENOENT ? EVC_ENOTFOUND : EVC_EIO, "", "cannot open: %s",
                    strerror(e));
  }
  char *buf = malloc(EVC_SCENARIO_FILE_BYTES_MAX + 1);
  if (buf == NULL) {
    fclose(f);
    return scn_fail(&ctx, EVC_ENOMEM, "", "out of memory");
  }
  size_t size = fread(buf, 1, EVC_SCENARIO_FILE_BYTES_MAX + 1, f);
  int rc = 0;
  if (ferror(f)) {
    int e = errno;
    rc = scn_fail(&ctx, EVC_EIO, "", "cannot read: %s", strerror(e));
  } else if (size > EVC_SCENARIO_FILE_BYTES_MAX) {
    rc = scn_fail(&ctx, EVC_ETOOBIG, "", "larger than %u bytes", EVC_SCENARIO_FILE_BYTES_MAX);
  }
  fclose(f);
  rc = rc != 0 ? rc : evc_scenario_parse(buf, size, path, out, err, err_size);
  free(buf);
  return rc;
}

void evc_scenario_free(struct evc_scenario *s) {
  EVC_ASSERT(s != NULL);
  EVC_ASSERT(s->steps_count <= EVC_SCENARIO_STEPS_MAX);
  for (size_t i = 0; i < s->steps_count; i++) {
    free(s->steps[i].fault_params_json);
    s->steps[i].fault_params_json = NULL;
  }
  memset(s, 0, sizeof *s);
}

const char *evc_scenario_mode_name(enum evc_scenario_mode mode) {
  if ((int)mode < 0 || mode >= EVC_SCENARIO_MODE_COUNT) {
    return "?";
  }
  return scn_mode_names[mode];
}

int evc_scenario_mode_from_name(const char *name, enum evc_scenario_mode *mode_out) {
  EVC_ASSERT(name != NULL);
  EVC_ASSERT(mode_out != NULL);
  for (size_t i = 0; i < EVC_SCENARIO_MODE_COUNT; i++) {
    if (strcmp(name, scn_mode_names[i]) == 0) {
      *mode_out = (enum evc_scenario_mode)i;
      return 0;
    }
  }
  return EVC_ENOTFOUND;
}

size_t evc_scenario_roles_count(void) {
  return sizeof scn_roles / sizeof scn_roles[0];
}

const char *evc_scenario_role_name(size_t index) {
  EVC_ASSERT(index < evc_scenario_roles_count());
  return scn_roles[index];
}

bool evc_scenario_node_is_aggregator(const struct evc_scenario_node *node) {
  EVC_ASSERT(node != NULL);
  return strcmp(node->role, "aggregator") == 0;
}

int evc_scenario_node_index(const struct evc_scenario *s, const char *name, uint8_t *index_out) {
  EVC_ASSERT(s != NULL);
  EVC_ASSERT(name != NULL);
  EVC_ASSERT(s->nodes_count <= EVC_SCENARIO_NODES_MAX);
  for (uint8_t i = 0; i < s->nodes_count; i++) {
    if (s->nodes[i].name[0] != '\0' && strcmp(s->nodes[i].name, name) == 0) {
      *index_out = i;
      return 0;
    }
  }
  return EVC_ENOTFOUND;
}
