/* Swarm schedules: for one seed, each fault kind's rate is itself drawn (zero included), so
 * different seeds explore different mixes of faults, not one average mix. Every draw comes
 * from the seed's "swarm" stream: the schedule is a pure function of (seed, scope). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faults/faults_internal.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "sim/rng.h"

#define SWARM_PHASE_MS_MIN 5000u
#define SWARM_PHASE_MS_MAX 40000u
#define SWARM_RATE_MAX 3u      /* a kind fires 0..rate times; rate drawn in 0..3 */
#define SWARM_DURATION_MS_MAX 8000u

struct swarm {
  struct evc_sim_rng rng;
  const struct evc_swarm_scope *scope;
  uint64_t phase_ms;
  cJSON *list;
  bool failed;
};

static uint64_t draw(struct swarm *s, uint64_t lo, uint64_t hi) {
  return evc_sim_rng_range_inclusive(&s->rng, lo, hi);
}

static const char *any_node(struct swarm *s) {
  return s->scope->nodes[draw(s, 0, s->scope->node_count - 1)].name;
}

static const char *aggregator(struct swarm *s) {
  size_t count = 0;
  for (size_t i = 0; i < s->scope->node_count; i++) count += s->scope->nodes[i].aggregator;
  if (count == 0) return NULL;
  uint64_t k = draw(s, 0, count - 1);
  for (size_t i = 0; i < s->scope->node_count; i++) {
    if (s->scope->nodes[i].aggregator && k-- == 0) return s->scope->nodes[i].name;
  }
  EVC_UNREACHABLE();
}

static void num(struct swarm *s, cJSON *o, const char *key, double v) {
  if (cJSON_AddNumberToObject(o, key, v) == NULL) s->failed = true;
}

static void str(struct swarm *s, cJSON *o, const char *key, const char *v) {
  if (cJSON_AddStringToObject(o, key, v) == NULL) s->failed = true;
}

static void dur(struct swarm *s, cJSON *o) {
  num(s, o, "duration_ms", (double)draw(s, 200, SWARM_DURATION_MS_MAX));
}

/* Two distinct node names; false with a single node. */
static bool two_nodes(struct swarm *s, const char **a, const char **b) {
  size_t n = s->scope->node_count;
  if (n < 2) return false;
  uint64_t i = draw(s, 0, n - 1);
  uint64_t j = (i + draw(s, 1, n - 1)) % n;
  *a = s->scope->nodes[i].name;
  *b = s->scope->nodes[j].name;
  return true;
}

static bool net_params(struct swarm *s, const char *name, cJSON *o) {
  const char *a = NULL, *b = NULL;
  if (strcmp(name, "net_delay") == 0) {
    uint64_t lo = draw(s, 0, 200);
    num(s, o, "min_ms", (double)lo);
    num(s, o, "max_ms", (double)draw(s, lo, lo + 2000));
    dur(s, o);
  } else if (strcmp(name, "net_clog") == 0 || strcmp(name, "partition_oneway") == 0) {
    if (!two_nodes(s, &a, &b)) return false;
    str(s, o, name[0] == 'n' ? "a" : "from", a);
    str(s, o, name[0] == 'n' ? "b" : "to", b);
    dur(s, o);
  } else if (strcmp(name, "partition") == 0) {
    if (s->scope->node_count < 2) return false;
    cJSON *groups = cJSON_AddArrayToObject(o, "groups");
    cJSON *g0 = cJSON_CreateArray(), *g1 = cJSON_CreateArray();
    size_t n = s->scope->node_count;
    uint64_t lone = draw(s, 0, n - 1); /* in the first group; the next one in the second */
    for (size_t i = 0; i < n; i++) {
      bool first = i == lone || (i != (lone + 1) % n && draw(s, 0, 1) == 0);
      cJSON_AddItemToArray(first ? g0 : g1, cJSON_CreateString(s->scope->nodes[i].name));
    }
    if (groups == NULL) s->failed = true;
    cJSON_AddItemToArray(groups, g0);
    cJSON_AddItemToArray(groups, g1);
    dur(s, o);
  } else if (strcmp(name, "isolate") == 0) {
    str(s, o, "node", any_node(s));
    dur(s, o);
  } else {
    num(s, o, "ppm", (double)draw(s, 1000, strcmp(name, "net_dial_fail") == 0 ? 800000 : 300000));
    dur(s, o);
  }
  return true;
}

static bool da_params(struct swarm *s, const char *name, cJSON *o) {
  const struct evc_swarm_scope *sc = s->scope;
  uint64_t ttl_ms = (sc->da_ttl_blocks - 1) * sc->da_block_time_ms; /* see kinds.c */
  if (ttl_ms == 0 && (strcmp(name, "da_hang") == 0 || strcmp(name, "da_slow") == 0)) return false;
  if (strcmp(name, "da_hang") == 0) {
    if (ttl_ms <= sc->inclusion_delay_max_ms + 201) return false;
    uint64_t hi = ttl_ms - sc->inclusion_delay_max_ms - 1;
    uint64_t cap = hi < SWARM_DURATION_MS_MAX ? hi : SWARM_DURATION_MS_MAX;
    num(s, o, "duration_ms", (double)draw(s, 200, cap));
  } else if (strcmp(name, "da_slow") == 0) {
    uint64_t hi = draw(s, 0, ttl_ms - 1);
    num(s, o, "min_ms", (double)draw(s, 0, hi));
    num(s, o, "max_ms", (double)hi);
    dur(s, o);
  } else if (strcmp(name, "da_duplicate") == 0) {
    num(s, o, "blocks", (double)draw(s, 1, 3));
  } else if (strcmp(name, "da_junk") == 0) {
    num(s, o, "count", (double)draw(s, 1, 4));
    num(s, o, "size_max", (double)draw(s, 1, 2048));
  } else if (strcmp(name, "da_foreign") == 0) {
    num(s, o, "count", (double)draw(s, 1, 3));
  } else if (strcmp(name, "da_too_large") == 0) {
    num(s, o, "call_max", (double)draw(s, 300, 4000)); /* one block (~270 B) still fits */
    dur(s, o);
  } else if (strcmp(name, "da_head_back") == 0) {
    num(s, o, "blocks", (double)draw(s, 1, 3));
    dur(s, o);
  } else {
    dur(s, o); /* da_outage, da_shuffle */
  }
  return true;
}

static const char *const swarm_disk_kinds[] = {"torn_write", "lost_fsync", "read_error",
                                               "write_error", "sync_error", "misdirected_write",
                                               "corrupt_page"};

static bool node_params(struct swarm *s, const char *name, cJSON *o) {
  if (strcmp(name, "keys_write_fail") == 0) {
    const char *agg = aggregator(s);
    if (agg == NULL) return false;
    str(s, o, "node", agg);
    num(s, o, "after", (double)draw(s, 1, 5));
    num(s, o, "duration_ms", (double)draw(s, 500, 5000));
    return true;
  }
  str(s, o, "node", any_node(s));
  if (strcmp(name, "pause") == 0 || strcmp(name, "clock_drift") == 0) {
    if (name[0] == 'c') {
      num(s, o, "ppm", (double)draw(s, 0, 100000) - 50000);
      dur(s, o);
    } else {
      num(s, o, "duration_ms", (double)draw(s, 50, 3000));
    }
  } else if (strcmp(name, "clock_skew") == 0) {
    num(s, o, "offset_ms", (double)draw(s, 0, 10000) - 5000);
  } else if (strcmp(name, "clock_jump") == 0) {
    num(s, o, "by_ms", (double)draw(s, 0, 10000) - 5000);
  } else if (strcmp(name, "disk") == 0) {
    str(s, o, "kind", swarm_disk_kinds[draw(s, 0, 6)]);
    num(s, o, "after", (double)draw(s, 1, 50));
    num(s, o, "ppm", (double)draw(s, 100000, 1000000));
    num(s, o, "duration_ms", (double)draw(s, 500, 10000));
  } else {
    num(s, o, "down_ms", (double)draw(s, 0, 3000));
    if (strcmp(name, "crash_random") == 0) num(s, o, "within_ms", (double)draw(s, 1, s->phase_ms));
    if (strcmp(name, "crash_at_sync") == 0) num(s, o, "n", (double)draw(s, 1, 40));
    if (strcmp(name, "stale_store") == 0) num(s, o, "age_ms", (double)draw(s, 500, 10000));
  }
  return true;
}

static bool entry_params(struct swarm *s, const char *name, cJSON *o) {
  if (strncmp(name, "net_", 4) == 0 || strncmp(name, "partition", 9) == 0 ||
      strcmp(name, "isolate") == 0) {
    return net_params(s, name, o);
  }
  if (strncmp(name, "da_", 3) == 0) return da_params(s, name, o);
  return node_params(s, name, o);
}

static void add_entry(struct swarm *s, const char *name) {
  cJSON *e = cJSON_CreateObject();
  cJSON *params = cJSON_CreateObject();
  if (e == NULL || params == NULL) {
    cJSON_Delete(e);
    cJSON_Delete(params);
    s->failed = true;
    return;
  }
  num(s, e, "at_ms", (double)draw(s, 0, s->phase_ms - 1));
  str(s, e, "name", name);
  if (!entry_params(s, name, params)) {
    cJSON_Delete(e);
    cJSON_Delete(params);
    return;
  }
  cJSON_AddItemToObject(e, "params", params);
  cJSON_AddItemToArray(s->list, e);
}

static double at_of(const cJSON *e) {
  return cJSON_GetObjectItemCaseSensitive(e, "at_ms")->valuedouble;
}

/* Entries sorted by time (stable insertion sort), so the file reads in the order faults
 * happen. Detaches every entry and appends them again: no insertion in the middle. */
static void sort_by_time(cJSON *list) {
  cJSON *items[EVC_FAULTS_SCHEDULE_MAX];
  size_t n = 0;
  while (cJSON_GetArraySize(list) > 0 && n < EVC_FAULTS_SCHEDULE_MAX) {
    items[n++] = cJSON_DetachItemFromArray(list, 0);
  }
  for (size_t i = 1; i < n; i++) {
    for (size_t j = i; j > 0 && at_of(items[j - 1]) > at_of(items[j]); j--) {
      cJSON *t = items[j];
      items[j] = items[j - 1];
      items[j - 1] = t;
    }
  }
  for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(list, items[i]);
}

int evc_faults_swarm_schedule(uint64_t seed, const struct evc_swarm_scope *scope,
                              char **json_out) {
  EVC_ASSERT(scope != NULL && scope->node_count > 0 && json_out != NULL);
  struct swarm s = {.scope = scope};
  char stream[96];
  snprintf(stream, sizeof stream, "swarm/%.64s", scope->name == NULL ? "" : scope->name);
  evc_sim_rng_init_stream(&s.rng, seed, stream); /* each scenario its own mix per seed */
  s.phase_ms = scope->within_ms / 2;
  if (s.phase_ms > SWARM_PHASE_MS_MAX) s.phase_ms = SWARM_PHASE_MS_MAX;
  if (s.phase_ms < SWARM_PHASE_MS_MIN) s.phase_ms = SWARM_PHASE_MS_MIN;
  cJSON *root = cJSON_CreateObject();
  s.list = cJSON_CreateArray();
  if (root == NULL || s.list == NULL) {
    cJSON_Delete(root);
    cJSON_Delete(s.list);
    return EVC_ENOMEM;
  }
  num(&s, root, "heal_at_ms", (double)s.phase_ms);
  cJSON_AddItemToObject(root, "faults", s.list);
  for (size_t k = 0; k < evc_faults_count(); k++) {
    const char *name = evc_faults_name(k);
    if (strcmp(name, "schedule") == 0) continue;
    uint64_t rate = draw(&s, 0, SWARM_RATE_MAX);
    uint64_t times = rate == 0 ? 0 : draw(&s, 0, rate);
    for (uint64_t t = 0; t < times; t++) add_entry(&s, name);
  }
  sort_by_time(s.list);
  char *text = s.failed ? NULL : cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (text == NULL) return EVC_ENOMEM;
  *json_out = text;
  return 0;
}
