/* `evc-sim shrink FILE --seed N`: minimises a failing run's fault schedule (drop faults,
 * shorten durations, remove nodes) while the same invariant still fails, and writes the
 * smallest scenario found. It edits scenario JSON only; every candidate is a real run. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faults/faults.h"
#include "node/common/error.h"
#include "sim/evc_nodes.h"
#include "sim/tools.h"

#define SHRINK_FILE_BYTES_MAX EVC_SCENARIO_FILE_BYTES_MAX

struct shrink {
  cJSON *doc;               /* the candidate scenario */
  uint64_t seed;
  enum evc_verdict target;  /* safety or liveness */
  char kind[128];           /* the failure message up to its first digit: "fork at height " */
  char message[1024];
  uint64_t runs;
};

int evc_sim_run_json(const char *json, const char *label, const struct evc_run_options *opt,
                     struct evc_run_result *res, char *err, size_t err_size) {
  struct evc_scenario *sc = calloc(1, sizeof *sc);
  if (sc == NULL) return EVC_ENOMEM;
  int rc = evc_scenario_parse(json, strlen(json), label, sc, err, err_size);
  if (rc == 0) rc = evc_run_scenario(sc, opt, res);
  evc_scenario_free(sc);
  free(sc);
  return rc;
}

static void failure_kind(const char *message, char *out, size_t size) {
  size_t n = 0;
  while (message[n] != '\0' && !isdigit((unsigned char)message[n]) && n + 1 < size) n++;
  memcpy(out, message, n);
  out[n] = '\0';
}

/* Runs the candidate; true when it fails with the same verdict and kind of failure. */
static bool still_fails(struct shrink *s, bool keep_message) {
  char *json = cJSON_PrintUnformatted(s->doc);
  if (json == NULL) return false;
  struct evc_run_options opt = {.seed = s->seed, .class_for_role = evc_sim_class_for_role};
  struct evc_run_result res;
  char err[1024];
  int rc = evc_sim_run_json(json, "candidate", &opt, &res, err, sizeof err);
  free(json);
  s->runs++;
  if (rc != 0) return false;
  free(res.faults_json);
  char kind[sizeof s->kind];
  failure_kind(res.message, kind, sizeof kind);
  bool same = res.verdict == s->target && strcmp(kind, s->kind) == 0;
  if (same && keep_message) snprintf(s->message, sizeof s->message, "%s", res.message);
  return same;
}

static cJSON *schedule_step(cJSON *doc) {
  cJSON *step = NULL;
  cJSON_ArrayForEach(step, cJSON_GetObjectItemCaseSensitive(doc, "timeline")) {
    cJSON *name = cJSON_GetObjectItemCaseSensitive(step, "name");
    if (cJSON_IsString(name) && strcmp(name->valuestring, "schedule") == 0) return step;
  }
  return NULL;
}

static cJSON *fault_list(cJSON *doc) {
  cJSON *step = schedule_step(doc);
  return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(step, "params"),
                                          "faults");
}

/* Tries dropping chunks of faults (halves, then quarters, ... then single ones). */
static void drop_faults(struct shrink *s) {
  cJSON *list = fault_list(s->doc);
  for (int chunk = cJSON_GetArraySize(list); list != NULL && chunk >= 1; chunk /= 2) {
    for (int start = cJSON_GetArraySize(list) - chunk; start >= 0; start -= chunk) {
      cJSON *saved = cJSON_Duplicate(list, true);
      for (int k = 0; k < chunk && start < cJSON_GetArraySize(list); k++) {
        cJSON_DeleteItemFromArray(list, start);
      }
      if (still_fails(s, true)) {
        cJSON_Delete(saved);
      } else {
        cJSON_ReplaceItemInObject(cJSON_GetObjectItem(schedule_step(s->doc), "params"),
                                  "faults", saved);
        list = fault_list(s->doc);
      }
    }
  }
}

/* Halves every duration-like parameter while the failure stays. */
static void shorten(struct shrink *s) {
  static const char *const keys[] = {"duration_ms", "down_ms", "age_ms", "within_ms"};
  cJSON *e = NULL;
  cJSON_ArrayForEach(e, fault_list(s->doc)) {
    cJSON *params = cJSON_GetObjectItemCaseSensitive(e, "params");
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      cJSON *v = cJSON_GetObjectItemCaseSensitive(params, keys[k]);
      while (cJSON_IsNumber(v) && v->valuedouble >= 2) {
        double old = v->valuedouble;
        cJSON_SetNumberValue(v, (double)((uint64_t)old / 2));
        if (!still_fails(s, true)) {
          cJSON_SetNumberValue(v, old);
          break;
        }
      }
    }
  }
}

static bool names(const cJSON *item, const char *node) {
  return cJSON_IsString(item) && strcmp(item->valuestring, node) == 0;
}

static void remove_name_in_array(cJSON *array, const char *node) {
  for (int i = cJSON_GetArraySize(array) - 1; i >= 0; i--) {
    if (names(cJSON_GetArrayItem(array, i), node)) cJSON_DeleteItemFromArray(array, i);
  }
}

/* Whether a fault entry or a timeline step mentions the node. */
static bool mentions(const cJSON *obj, const char *node) {
  static const char *const keys[] = {"node", "a", "b", "from", "to", "key_of"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
    if (names(cJSON_GetObjectItemCaseSensitive(obj, keys[k]), node)) return true;
  }
  const cJSON *when = cJSON_GetObjectItemCaseSensitive(obj, "when");
  return when != NULL && names(cJSON_GetObjectItemCaseSensitive(when, "node"), node);
}

static void remove_node_from_expect(cJSON *expect, const char *node) {
  cJSON *item = NULL;
  cJSON_ArrayForEach(item, expect) {
    if (cJSON_IsObject(item)) cJSON_DeleteItemFromObjectCaseSensitive(item, node);
  }
  cJSON *same = cJSON_GetObjectItemCaseSensitive(expect, "same_chain");
  remove_name_in_array(same, node);
  if (same != NULL && cJSON_GetArraySize(same) < 2) {
    cJSON_DeleteItemFromObjectCaseSensitive(expect, "same_chain");
  }
}

/* A copy of doc without node: its entry, peers naming it, steps and faults naming it. */
static cJSON *without_node(const cJSON *doc, const char *node) {
  cJSON *copy = cJSON_Duplicate(doc, true);
  cJSON *nodes = cJSON_GetObjectItemCaseSensitive(copy, "nodes");
  for (int i = cJSON_GetArraySize(nodes) - 1; i >= 0; i--) {
    cJSON *n = cJSON_GetArrayItem(nodes, i);
    if (mentions(n, node) && !names(cJSON_GetObjectItemCaseSensitive(n, "name"), node)) {
      cJSON_Delete(copy); /* a twin of it: keep both */
      return NULL;
    }
    if (names(cJSON_GetObjectItemCaseSensitive(n, "name"), node)) {
      cJSON_DeleteItemFromArray(nodes, i);
    } else {
      remove_name_in_array(cJSON_GetObjectItemCaseSensitive(n, "peers"), node);
    }
  }
  cJSON *timeline = cJSON_GetObjectItemCaseSensitive(copy, "timeline");
  for (int i = cJSON_GetArraySize(timeline) - 1; i >= 0; i--) {
    cJSON *st = cJSON_GetArrayItem(timeline, i);
    if (mentions(st, node)) {
      cJSON_DeleteItemFromArray(timeline, i);
      continue;
    }
    cJSON *groups = cJSON_GetObjectItemCaseSensitive(st, "groups");
    cJSON *g = NULL;
    cJSON_ArrayForEach(g, groups) remove_name_in_array(g, node);
  }
  cJSON *faults = fault_list(copy);
  for (int i = cJSON_GetArraySize(faults) - 1; i >= 0; i--) {
    cJSON *params = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(faults, i), "params");
    if (mentions(params, node) || cJSON_GetObjectItemCaseSensitive(params, "groups") != NULL) {
      cJSON_DeleteItemFromArray(faults, i);
    }
  }
  remove_node_from_expect(cJSON_GetObjectItemCaseSensitive(copy, "expect"), node);
  return copy;
}

static void remove_nodes(struct shrink *s) {
  cJSON *nodes = cJSON_GetObjectItemCaseSensitive(s->doc, "nodes");
  for (int i = cJSON_GetArraySize(nodes) - 1; i >= 0 && cJSON_GetArraySize(nodes) > 1; i--) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(nodes, i), "name");
    if (!cJSON_IsString(name)) continue;
    cJSON *candidate = without_node(s->doc, name->valuestring);
    if (candidate == NULL) continue;
    cJSON *saved = s->doc;
    s->doc = candidate;
    if (still_fails(s, true)) {
      cJSON_Delete(saved);
    } else {
      s->doc = saved;
      cJSON_Delete(candidate);
    }
    nodes = cJSON_GetObjectItemCaseSensitive(s->doc, "nodes");
  }
}

/* With no fault left, try without the schedule step itself (a plain one-phase run). */
static void drop_empty_schedule(struct shrink *s) {
  if (cJSON_GetArraySize(fault_list(s->doc)) != 0) return;
  cJSON *timeline = cJSON_GetObjectItemCaseSensitive(s->doc, "timeline");
  cJSON *saved = cJSON_Duplicate(s->doc, true);
  for (int i = cJSON_GetArraySize(timeline) - 1; i >= 0; i--) {
    if (cJSON_GetArrayItem(timeline, i) == schedule_step(s->doc)) {
      cJSON_DeleteItemFromArray(timeline, i);
    }
  }
  if (still_fails(s, true)) {
    cJSON_Delete(saved);
  } else {
    cJSON_Delete(s->doc);
    s->doc = saved;
  }
}

static cJSON *read_doc(const char *file) {
  FILE *fp = fopen(file, "rb");
  if (fp == NULL) return NULL;
  char *text = malloc(SHRINK_FILE_BYTES_MAX + 1);
  size_t size = text == NULL ? 0 : fread(text, 1, SHRINK_FILE_BYTES_MAX + 1, fp);
  fclose(fp);
  cJSON *doc = NULL;
  if (text != NULL && size <= SHRINK_FILE_BYTES_MAX) doc = cJSON_ParseWithLength(text, size);
  free(text);
  return doc;
}

/* Puts the seed's swarm schedule as the first timeline step (what a swarm run injects). */
static int insert_swarm_schedule(cJSON *doc, const struct evc_scenario *sc, uint64_t seed) {
  struct evc_swarm_node nodes[EVC_SCENARIO_NODES_MAX];
  for (uint8_t i = 0; i < sc->nodes_count; i++) {
    nodes[i].name = sc->nodes[i].name;
    nodes[i].aggregator = evc_scenario_node_is_aggregator(&sc->nodes[i]);
  }
  struct evc_swarm_scope scope = {
      .name = sc->name, .nodes = nodes, .node_count = sc->nodes_count,
      .within_ms = sc->expect.within_ms,
      .da_block_time_ms = sc->chain.da_block_time_ms,
      .da_ttl_blocks = sc->chain.da_mempool_ttl_blocks,
      .inclusion_delay_max_ms = sc->da.inclusion_delay.max_ms};
  char *json = NULL;
  int rc = evc_faults_swarm_schedule(seed, &scope, &json);
  if (rc != 0) return rc;
  cJSON *params = cJSON_Parse(json);
  free(json);
  cJSON *step = cJSON_CreateObject();
  cJSON *timeline = cJSON_GetObjectItemCaseSensitive(doc, "timeline");
  if (params == NULL || step == NULL || !cJSON_IsArray(timeline)) {
    cJSON_Delete(params);
    cJSON_Delete(step);
    return EVC_ENOMEM;
  }
  cJSON_AddNumberToObject(step, "at_ms", 0);
  cJSON_AddStringToObject(step, "do", "fault");
  cJSON_AddStringToObject(step, "name", "schedule");
  cJSON_AddItemToObject(step, "params", params);
  cJSON *steps = cJSON_CreateArray(); /* rebuilt, not inserted: see crashpoints.c */
  if (steps == NULL) {
    cJSON_Delete(step);
    return EVC_ENOMEM;
  }
  cJSON_AddItemToArray(steps, step);
  while (cJSON_GetArraySize(timeline) > 0) {
    cJSON_AddItemToArray(steps, cJSON_DetachItemFromArray(timeline, 0));
  }
  cJSON_ReplaceItemInObjectCaseSensitive(doc, "timeline", steps);
  return 0;
}

static int write_doc(const cJSON *doc, const char *path) {
  char *text = cJSON_Print(doc);
  FILE *fp = text == NULL ? NULL : fopen(path, "w");
  bool ok = fp != NULL && fputs(text, fp) >= 0 && fputc('\n', fp) != EOF;
  if (fp != NULL && fclose(fp) != 0) ok = false;
  free(text);
  return ok ? 0 : EVC_EIO;
}

static int baseline(struct shrink *s, const char *file) {
  char *json = cJSON_PrintUnformatted(s->doc);
  struct evc_run_options opt = {.seed = s->seed, .class_for_role = evc_sim_class_for_role};
  struct evc_run_result res;
  char err[1024];
  int rc = json == NULL ? EVC_ENOMEM : evc_sim_run_json(json, file, &opt, &res, err, sizeof err);
  free(json);
  if (rc != 0) {
    fprintf(stderr, "evc-sim shrink: %s\n", rc == EVC_ENOMEM ? "out of memory" : err);
    return 2;
  }
  free(res.faults_json);
  if (res.verdict != EVC_VERDICT_SAFETY && res.verdict != EVC_VERDICT_LIVENESS) {
    printf("shrink: seed %llu does not fail a safety or liveness invariant (verdict %s: %s); "
           "nothing to shrink\n", (unsigned long long)s->seed, evc_verdict_name(res.verdict),
           res.message);
    return 2;
  }
  s->target = res.verdict;
  failure_kind(res.message, s->kind, sizeof s->kind);
  snprintf(s->message, sizeof s->message, "%s", res.message);
  return 0;
}

static int shrink_doc(struct shrink *s, const char *file, const char *out_path) {
  int status = baseline(s, file);
  if (status != 0) return status;
  int faults_before = cJSON_GetArraySize(fault_list(s->doc));
  int nodes_before = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s->doc, "nodes"));
  printf("shrink: %s seed %llu fails (%s): %s\n", file, (unsigned long long)s->seed,
         evc_verdict_name(s->target), s->message);
  drop_faults(s);
  shorten(s);
  remove_nodes(s);
  drop_empty_schedule(s);
  if (write_doc(s->doc, out_path) != 0) {
    fprintf(stderr, "evc-sim shrink: cannot write '%s'\n", out_path);
    return 2;
  }
  printf("shrink: %d faults -> %d, %d nodes -> %d, %llu runs; still fails (%s): %s\n"
         "wrote %s\nreplay: evc-sim run %s --seed %llu --trace trace.txt\n", faults_before,
         cJSON_GetArraySize(fault_list(s->doc)), nodes_before,
         cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s->doc, "nodes")),
         (unsigned long long)s->runs, evc_verdict_name(s->target), s->message, out_path,
         out_path, (unsigned long long)s->seed);
  return 0;
}

/* NAME.seedN.min.json in the current directory, NAME being FILE's base name without ".json":
 * never beside FILE, where scenarios/ *.json globs (ctest, sweeps) would pick it up. */
static void default_out_path(const char *file, uint64_t seed, char *out, size_t size) {
  const char *base = strrchr(file, '/');
  base = base != NULL ? base + 1 : file;
  size_t n = strlen(base);
  if (n > 5 && strcmp(base + n - 5, ".json") == 0) n -= 5;
  snprintf(out, size, "%.*s.seed%llu.min.json", (int)n, base, (unsigned long long)seed);
}

int evc_sim_shrink(const char *file, uint64_t seed, bool swarm, const char *out_path) {
  char err[1024];
  struct evc_scenario *sc = calloc(1, sizeof *sc);
  if (sc == NULL) return 2;
  int rc = evc_scenario_load_file(file, sc, err, sizeof err);
  if (rc != 0) fprintf(stderr, "evc-sim: %s\n", err);
  struct shrink s = {.doc = rc == 0 ? read_doc(file) : NULL, .seed = seed};
  if (rc == 0 && s.doc == NULL) fprintf(stderr, "evc-sim shrink: cannot read '%s'\n", file);
  if (s.doc != NULL && swarm && insert_swarm_schedule(s.doc, sc, seed) != 0) {
    cJSON_Delete(s.doc);
    s.doc = NULL;
  }
  char default_out[1024];
  if (out_path == NULL) {
    default_out_path(file, seed, default_out, sizeof default_out);
    out_path = default_out;
  }
  int status = s.doc == NULL ? 2 : shrink_doc(&s, file, out_path);
  cJSON_Delete(s.doc);
  evc_scenario_free(sc);
  free(sc);
  return status;
}
