/* `evc-sim summarize FILE...`: merges sweep outputs (JSON lines, e.g. one per shard) into
 * one table of verdicts per scenario, then lists every failing run with its replay command.
 * It reads only; a line that is not a sweep result is counted and skipped, never fatal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim/scenario.h"
#include "sim/tools.h"

#define SUMMARY_SCENARIOS_MAX 512u
#define SUMMARY_LINE_MAX (1u << 20)
#define SUMMARY_FAILURES_SHOWN 50u

struct row {
  char name[EVC_SCENARIO_NAME_LEN_MAX * 2 + 1];
  uint64_t runs, pass, safety, liveness, expectation, error, soft, faults, ms, det, det_bad;
};

struct summary {
  struct row rows[SUMMARY_SCENARIOS_MAX];
  size_t count;
  uint64_t skipped, failures;
  uint64_t seed_min, seed_max;
};

static struct row *row_of(struct summary *s, const char *name) {
  for (size_t i = 0; i < s->count; i++) {
    if (strcmp(s->rows[i].name, name) == 0) return &s->rows[i];
  }
  if (s->count == SUMMARY_SCENARIOS_MAX) return NULL;
  struct row *r = &s->rows[s->count++];
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", name);
  return r;
}

static double number(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *text(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}

static void count_verdict(struct row *r, const char *v, bool soft) {
  if (strcmp(v, "pass") == 0) r->pass++;
  else if (strcmp(v, "safety") == 0) r->safety++;
  else if (strcmp(v, "liveness") == 0) r->liveness++;
  else if (strcmp(v, "expectation") == 0) r->expectation++;
  else r->error++;
  if (soft && strcmp(v, "expectation") == 0) r->soft++;
}

static void add_line(struct summary *s, const char *line, bool print_failures) {
  cJSON *o = cJSON_Parse(line);
  const char *verdict = text(o, "verdict");
  struct row *r = o == NULL || verdict[0] == '\0' ? NULL : row_of(s, text(o, "scenario"));
  if (r == NULL) {
    s->skipped++;
    cJSON_Delete(o);
    return;
  }
  bool soft = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "counts_as_pass"));
  r->runs++;
  count_verdict(r, verdict, soft);
  r->faults += (uint64_t)number(o, "fault_count");
  r->ms += (uint64_t)number(o, "duration_ms");
  const char *det = text(o, "determinism");
  if (det[0] != '\0') r->det++;
  if (strcmp(det, "mismatch") == 0) r->det_bad++;
  uint64_t seed = (uint64_t)number(o, "seed");
  if (s->seed_max == 0 || seed < s->seed_min) s->seed_min = seed;
  if (seed > s->seed_max) s->seed_max = seed;
  if (strcmp(verdict, "pass") != 0 && !soft) {
    s->failures++;
    if (print_failures && s->failures <= SUMMARY_FAILURES_SHOWN) {
      printf("  %s seed %llu %s: %s\n    replay: %s\n", r->name, (unsigned long long)seed,
             verdict, text(o, "message"), text(o, "replay"));
    }
  }
  cJSON_Delete(o);
}

static int read_all(struct summary *s, const char *const *files, size_t count, bool print) {
  char *line = malloc(SUMMARY_LINE_MAX);
  if (line == NULL) return 2;
  for (size_t f = 0; f < count; f++) {
    FILE *fp = fopen(files[f], "r");
    if (fp == NULL) {
      fprintf(stderr, "evc-sim summarize: cannot read '%s'\n", files[f]);
      free(line);
      return 2;
    }
    while (fgets(line, SUMMARY_LINE_MAX, fp) != NULL) add_line(s, line, print);
    fclose(fp);
  }
  free(line);
  return 0;
}

static void print_table(const struct summary *s) {
  struct row total;
  memset(&total, 0, sizeof total);
  printf("| scenario | runs | pass | safety | liveness | expectation (swarm: counted as pass) "
         "| error | faults injected | determinism checked (mismatch) | cpu s |\n"
         "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (size_t i = 0; i <= s->count; i++) {
    const struct row *r = i < s->count ? &s->rows[i] : &total;
    if (i < s->count) {
      total.runs += r->runs, total.pass += r->pass, total.safety += r->safety;
      total.liveness += r->liveness, total.expectation += r->expectation;
      total.soft += r->soft, total.error += r->error, total.faults += r->faults;
      total.det += r->det, total.det_bad += r->det_bad, total.ms += r->ms;
    }
    printf("| %s | %llu | %llu | %llu | %llu | %llu (%llu) | %llu | %llu | %llu (%llu) | %llu |\n",
           i < s->count ? r->name : "**total**", (unsigned long long)r->runs,
           (unsigned long long)r->pass, (unsigned long long)r->safety,
           (unsigned long long)r->liveness, (unsigned long long)r->expectation,
           (unsigned long long)r->soft, (unsigned long long)r->error,
           (unsigned long long)r->faults, (unsigned long long)r->det,
           (unsigned long long)r->det_bad, (unsigned long long)(r->ms / 1000));
  }
}

int evc_sim_summarize(const char *const *files, size_t count) {
  struct summary *s = calloc(1, sizeof *s);
  if (s == NULL) return 2;
  int status = read_all(s, files, count, false);
  if (status == 0) {
    print_table(s);
    printf("\nseeds %llu..%llu; %llu lines skipped (not sweep results); %llu failing runs%s\n",
           (unsigned long long)s->seed_min, (unsigned long long)s->seed_max,
           (unsigned long long)s->skipped, (unsigned long long)s->failures,
           s->failures > 0 ? ":" : "");
    uint64_t failures = s->failures;
    memset(s, 0, sizeof *s);
    if (failures > 0) status = read_all(s, files, count, true);
    if (status == 0 && failures > 0) status = 1;
  }
  free(s);
  return status;
}
