/* `evc-sim crashpoints FILE`: a power cut at every durable write the recovering node makes
 * between its last start and its first produced block, each followed by a restart; every
 * run must keep the invariants. It only reads the scenario and prints its report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "node/common/error.h"
#include "sim/evc_nodes.h"
#include "sim/tools.h"

#define CRASHPOINTS_MAX 10000u /* a recovery with more writes than this is a bug in itself */

static const char *recovering_node(const struct evc_scenario *sc) {
  const char *name = NULL;
  for (size_t i = 0; i < sc->steps_count; i++) {
    if (sc->steps[i].action == EVC_SCENARIO_DO_START) name = sc->nodes[sc->steps[i].node].name;
  }
  return name;
}

/* The scenario with crash point K as a fault step before the recovering start and an
 * empty schedule (two phases: the liveness phase follows the timeline). Every crash-point
 * run is this text, so the file written for a failure replays it exactly. NULL on error. */
static char *crashpoint_json(const char *file, const struct evc_scenario *sc, uint64_t k) {
  FILE *fp = fopen(file, "rb");
  char *text = malloc(EVC_SCENARIO_FILE_BYTES_MAX + 1);
  size_t n = fp == NULL || text == NULL ? 0 : fread(text, 1, EVC_SCENARIO_FILE_BYTES_MAX, fp);
  if (fp != NULL) fclose(fp);
  cJSON *doc = n == 0 ? NULL : cJSON_ParseWithLength(text, n);
  free(text);
  cJSON *timeline = cJSON_GetObjectItemCaseSensitive(doc, "timeline");
  size_t last = 0;
  for (size_t i = 0; i < sc->steps_count; i++) {
    if (sc->steps[i].action == EVC_SCENARIO_DO_START) last = i;
  }
  char step[256];
  snprintf(step, sizeof step, "{\"after_ms\":0,\"do\":\"fault\",\"name\":\"crash_at_sync\","
           "\"params\":{\"node\":\"%s\",\"n\":%llu,\"down_ms\":500}}",
           sc->nodes[sc->steps[last].node].name, (unsigned long long)k);
  cJSON *arm = cJSON_Parse(step);
  cJSON *sched = cJSON_Parse("{\"at_ms\":0,\"do\":\"fault\",\"name\":\"schedule\","
                             "\"params\":{\"heal_at_ms\":0,\"faults\":[]}}");
  char *json = NULL;
  cJSON *steps = cJSON_CreateArray();
  if (cJSON_IsArray(timeline) && arm != NULL && sched != NULL && steps != NULL) {
    /* Rebuilt in order rather than inserted: cJSON_InsertItemInArray is unreliable in
     * some cJSON releases. */
    cJSON_AddItemToArray(steps, sched);
    for (size_t i = 0; cJSON_GetArraySize(timeline) > 0; i++) {
      if (i == last) cJSON_AddItemToArray(steps, arm);
      cJSON_AddItemToArray(steps, cJSON_DetachItemFromArray(timeline, 0));
    }
    arm = sched = NULL;
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "timeline", steps);
    steps = NULL;
    json = cJSON_Print(doc);
  }
  cJSON_Delete(steps);
  cJSON_Delete(arm);
  cJSON_Delete(sched);
  cJSON_Delete(doc);
  return json;
}

/* Writes FILE.crashpoint-K.json; path[0] = 0 when it could not. */
static void write_replay(const char *file, uint64_t k, const char *json, char *path,
                         size_t size) {
  size_t len = strlen(file);
  if (len > 5 && strcmp(file + len - 5, ".json") == 0) len -= 5;
  snprintf(path, size, "%.*s.crashpoint-%llu.json", (int)len, file, (unsigned long long)k);
  FILE *w = fopen(path, "w");
  if (w == NULL || fputs(json, w) < 0) path[0] = '\0';
  if (w != NULL && fclose(w) != 0) path[0] = '\0';
}

static bool keeps_invariants(enum evc_verdict v) {
  return v == EVC_VERDICT_PASS || v == EVC_VERDICT_EXPECTATION;
}

static int crashpoints_run(const char *file, const struct evc_scenario *sc, uint64_t seed) {
  struct evc_run_options opt = {.seed = seed, .class_for_role = evc_sim_class_for_role};
  struct evc_run_result res;
  evc_run_scenario(sc, &opt, &res);
  free(res.faults_json);
  const char *node = recovering_node(sc);
  if (node == NULL) {
    printf("crashpoints: %s has no start step: no recovering node\n", file);
    return 2;
  }
  if (res.verdict != EVC_VERDICT_PASS) {
    printf("crashpoints: the run without crashes already fails (%s): %s\n"
           "replay: evc-sim run %s --seed %llu --trace trace.txt\n",
           evc_verdict_name(res.verdict), res.message, file, (unsigned long long)seed);
    return 1;
  }
  uint64_t count = res.recovery_syncs;
  printf("crashpoints: %s seed %llu: node %s made %llu durable writes from its last start to "
         "its %s\n", file, (unsigned long long)seed, node, (unsigned long long)count,
         res.recovery_produced ? "first produced block" : "end of the run (it produced none)");
  if (count > CRASHPOINTS_MAX) count = CRASHPOINTS_MAX;
  uint64_t failed = 0, expectation = 0;
  for (uint64_t k = 1; k <= count; k++) {
    char *json = crashpoint_json(file, sc, k);
    char err[1024];
    int rc = json == NULL ? EVC_ENOMEM : evc_sim_run_json(json, file, &opt, &res, err, sizeof err);
    if (rc != 0) {
      printf("crash point %llu: cannot run it: %s\n", (unsigned long long)k,
             rc == EVC_ENOMEM ? "out of memory" : err);
      free(json);
      return 2;
    }
    free(res.faults_json);
    if (res.verdict == EVC_VERDICT_EXPECTATION) expectation++;
    if (keeps_invariants(res.verdict)) {
      free(json);
      continue;
    }
    failed++;
    char path[1100];
    write_replay(file, k, json, path, sizeof path);
    printf("crash point %llu: %s: %s\nreplay: evc-sim run %s --seed %llu --trace trace.txt\n",
           (unsigned long long)k, evc_verdict_name(res.verdict), res.message,
           path[0] != '\0' ? path : "(could not write the replay scenario)",
           (unsigned long long)seed);
    free(json);
  }
  printf("crashpoints: %llu runs, %llu kept the invariants (%llu missed an expectation, "
         "reported only), %llu failed\n", (unsigned long long)count,
         (unsigned long long)(count - failed), (unsigned long long)expectation,
         (unsigned long long)failed);
  return failed == 0 ? 0 : 1;
}

int evc_sim_crashpoints(const char *file, uint64_t seed) {
  struct evc_scenario *sc = calloc(1, sizeof *sc);
  if (sc == NULL) return 2;
  char err[1024];
  int status = 2;
  if (evc_scenario_load_file(file, sc, err, sizeof err) != 0) {
    fprintf(stderr, "evc-sim: %s\n", err);
  } else {
    status = crashpoints_run(file, sc, seed);
  }
  evc_scenario_free(sc);
  free(sc);
  return status;
}
