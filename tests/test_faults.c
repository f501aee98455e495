/* The fault catalogue and the swarm harness: every fault applies on a real two-node run,
 * bad parameters are refused by name, each kernel hook does what it promises (pause, hang,
 * crash at the N-th durable write, corrupt page), swarm schedules are a function of the
 * seed, and two-phase runs report expectation misses without failing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "faults/faults.h"
#include "node/common/error.h"
#include "node/crypto/crypto.h"
#include "sim/evc_nodes.h"
#include "sim/simdisk.h"
#include "sim/tools.h"

/* A two-node scenario: %s is extra timeline steps (each ending in a comma, or empty). */
static const char scenario_head[] =
    "{\"name\":\"t\",\"nodes\":[{\"name\":\"seq\",\"role\":\"aggregator\",\"peers\":[\"full\"]},"
    "{\"name\":\"full\",\"role\":\"full\",\"peers\":[\"seq\"]}],\"timeline\":["
    "{\"at_ms\":0,\"do\":\"start\",\"node\":\"seq\"},"
    "{\"at_ms\":0,\"do\":\"start\",\"node\":\"full\"}";

struct trace_buf {
  char *text;
  size_t size;
};

static void sink(void *arg, const char *line, size_t size) {
  struct trace_buf *t = arg;
  char *p = realloc(t->text, t->size + size + 1);
  assert_non_null(p);
  memcpy(p + t->size, line, size);
  t->size += size;
  p[t->size] = '\0';
  t->text = p;
}

/* Runs the scenario made of head + steps + expect with seed 1 and returns its result. */
static void run(const char *steps, const char *expect, struct evc_run_result *res,
                struct trace_buf *trace) {
  char json[8192];
  snprintf(json, sizeof json, "%s%s],\"expect\":%s}", scenario_head, steps, expect);
  struct evc_run_options opt = {.seed = 1, .class_for_role = evc_sim_class_for_role,
                                .trace_sink = trace != NULL ? sink : NULL,
                                .trace_sink_arg = trace};
  char err[1024] = "";
  int rc = evc_sim_run_json(json, "test", &opt, res, err, sizeof err);
  if (rc != 0) print_error("run: %s (%s)\n", err, res->message);
  assert_int_equal(rc, 0);
  free(res->faults_json);
  res->faults_json = NULL;
}

static void test_bad_fault_params_are_refused_by_name(void **state) {
  (void)state;
  static const struct {
    const char *step;
    const char *needle;
  } cases[] = {
      {",{\"at_ms\":100,\"do\":\"fault\",\"name\":\"nope\"}", "unknown fault \"nope\""},
      {",{\"at_ms\":100,\"do\":\"fault\",\"name\":\"net_drop\",\"params\":{\"ppm\":5,"
       "\"duration_ms\":5,\"dropp\":1}}", "unknown key \"dropp\""},
      {",{\"at_ms\":100,\"do\":\"fault\",\"name\":\"net_drop\",\"params\":{\"ppm\":2000000,"
       "\"duration_ms\":5}}", "\"ppm\": expected an integer from 0 to 1000000"},
      {",{\"at_ms\":100,\"do\":\"fault\",\"name\":\"crash\",\"params\":{\"node\":\"x\"}}",
       "unknown node \"x\""},
      {",{\"at_ms\":100,\"do\":\"fault\",\"name\":\"da_hang\",\"params\":{\"duration_ms\":9000}}",
       "DA mempool TTL"},
      {",{\"at_ms\":100,\"do\":\"fault\",\"name\":\"disk\",\"params\":{\"node\":\"seq\","
       "\"kind\":\"melt\"}}", "unknown disk fault \"melt\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct evc_run_result res;
    run(cases[i].step, "{\"within_ms\":3000}", &res, NULL);
    if (res.verdict != EVC_VERDICT_ERROR || strstr(res.message, cases[i].needle) == NULL) {
      print_error("case %zu: verdict %s message \"%s\", want error with \"%s\"\n", i,
                  evc_verdict_name(res.verdict), res.message, cases[i].needle);
      fail();
    }
  }
}

/* One valid parameter set per fault of the catalogue (the test fails on a new fault
 * without an entry here, so every fault is exercised). */
static const struct {
  const char *name;
  const char *params;
} examples[] = {
    {"net_drop", "{\"ppm\":500000,\"duration_ms\":1000}"},
    {"net_duplicate", "{\"ppm\":500000,\"duration_ms\":1000}"},
    {"net_reorder", "{\"ppm\":500000,\"duration_ms\":1000}"},
    {"net_dial_fail", "{\"ppm\":500000,\"duration_ms\":1000}"},
    {"net_delay", "{\"min_ms\":100,\"max_ms\":900,\"duration_ms\":1000}"},
    {"net_clog", "{\"a\":\"seq\",\"b\":\"full\",\"duration_ms\":1000}"},
    {"partition", "{\"groups\":[[\"seq\"],[\"full\"]],\"duration_ms\":1000}"},
    {"partition_oneway", "{\"from\":\"seq\",\"to\":\"full\",\"duration_ms\":1000}"},
    {"isolate", "{\"node\":\"full\",\"duration_ms\":1000}"},
    {"da_outage", "{\"duration_ms\":1000}"},
    {"da_hang", "{\"duration_ms\":1000}"},
    {"da_slow", "{\"min_ms\":100,\"max_ms\":3000,\"duration_ms\":1000}"},
    {"da_shuffle", "{\"duration_ms\":3000}"},
    {"da_duplicate", "{\"blocks\":2}"},
    {"da_junk", "{\"count\":3,\"size_max\":100}"},
    {"da_foreign", "{\"count\":2}"},
    {"da_head_back", "{\"blocks\":2,\"duration_ms\":2000}"},
    {"da_too_large", "{\"call_max\":400,\"duration_ms\":2000}"},
    {"crash", "{\"node\":\"full\",\"down_ms\":300}"},
    {"crash_random", "{\"node\":\"seq\",\"within_ms\":1000,\"down_ms\":300}"},
    {"crash_at_sync", "{\"node\":\"seq\",\"n\":3,\"down_ms\":300}"},
    {"pause", "{\"node\":\"seq\",\"duration_ms\":700}"},
    {"restart", "{\"node\":\"seq\",\"down_ms\":300}"},
    {"wipe", "{\"node\":\"full\",\"down_ms\":300}"},
    {"stale_store", "{\"node\":\"full\",\"age_ms\":1000,\"down_ms\":300}"},
    {"disk", "{\"node\":\"full\",\"kind\":\"sync_error\",\"after\":3,\"duration_ms\":500}"},
    {"keys_write_fail", "{\"node\":\"seq\",\"after\":2,\"duration_ms\":500}"},
    {"clock_skew", "{\"node\":\"seq\",\"offset_ms\":-2000}"},
    {"clock_jump", "{\"node\":\"full\",\"by_ms\":3000}"},
    {"clock_drift", "{\"node\":\"seq\",\"ppm\":-20000,\"duration_ms\":2000}"},
    {"schedule", "{\"heal_at_ms\":4000,\"faults\":[{\"at_ms\":2500,\"name\":\"isolate\","
                 "\"params\":{\"node\":\"seq\",\"duration_ms\":500}}]}"},
};

static void test_every_fault_applies_and_invariants_hold(void **state) {
  (void)state;
  assert_int_equal(sizeof examples / sizeof examples[0], evc_faults_count());
  for (size_t i = 0; i < evc_faults_count(); i++) {
    const char *name = evc_faults_name(i);
    const char *params = NULL;
    for (size_t k = 0; k < sizeof examples / sizeof examples[0]; k++) {
      if (strcmp(examples[k].name, name) == 0) params = examples[k].params;
    }
    if (params == NULL) {
      print_error("fault \"%s\" has no example in this test\n", name);
      fail();
    }
    char steps[1024];
    snprintf(steps, sizeof steps, ",{\"at_ms\":2000,\"do\":\"fault\",\"name\":\"%s\","
             "\"params\":%s},{\"at_ms\":9000,\"do\":\"heal\"}", name, params);
    struct evc_run_result res;
    struct trace_buf trace = {0};
    run(steps, "{\"within_ms\":15000}", &res, &trace);
    char note[64];
    snprintf(note, sizeof note, "note fault %s ", name);
    bool ok = (res.verdict == EVC_VERDICT_PASS || res.verdict == EVC_VERDICT_EXPECTATION) &&
              trace.text != NULL && strstr(trace.text, note) != NULL;
    if (!ok) {
      print_error("fault %s: verdict %s: %s\n", name, evc_verdict_name(res.verdict), res.message);
      fail();
    }
    free(trace.text);
  }
}

/* The time (ns) of a trace line "t=S.NNNNNNNNN ..." */
static uint64_t line_time(const char *line) {
  unsigned long long s = 0, ns = 0;
  if (sscanf(line, "t=%llu.%9llu", &s, &ns) != 2) return UINT64_MAX;
  return s * 1000000000ull + ns;
}

/* Counts lines containing all of needles whose time is in [from, to). */
static size_t count_lines(const char *text, uint64_t from, uint64_t to, const char *a,
                          const char *b) {
  size_t n = 0;
  for (const char *line = text; line != NULL && *line != '\0';) {
    const char *end = strchr(line, '\n');
    size_t len = end == NULL ? strlen(line) : (size_t)(end - line);
    char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
    uint64_t t = line_time(buf);
    if (t >= from && t < to && strstr(buf, a) != NULL && (b == NULL || strstr(buf, b) != NULL)) n++;
    line = end == NULL ? NULL : end + 1;
  }
  return n;
}

static void test_pause_freezes_the_node_and_hang_holds_da_replies(void **state) {
  (void)state;
  struct evc_run_result res;
  struct trace_buf trace = {0};
  run(",{\"at_ms\":2000,\"do\":\"fault\",\"name\":\"pause\",\"params\":{\"node\":\"seq\","
      "\"duration_ms\":1000}},{\"at_ms\":5000,\"do\":\"fault\",\"name\":\"da_hang\","
      "\"params\":{\"duration_ms\":1500}},{\"at_ms\":8000,\"do\":\"heal\"}",
      "{\"within_ms\":9000}", &res, &trace);
  assert_true(res.verdict == EVC_VERDICT_PASS || res.verdict == EVC_VERDICT_EXPECTATION);
  const uint64_t s = 1000000000ull;
  assert_int_equal(count_lines(trace.text, 2 * s + 1, 3 * s, "node=seq timer", NULL), 0);
  assert_true(count_lines(trace.text, 3 * s, 4 * s, "node=seq timer", NULL) > 0);
  assert_int_equal(count_lines(trace.text, 5 * s + s / 10, 6 * s + s / 2, "da_head_done", NULL), 0);
  assert_int_equal(count_lines(trace.text, 5 * s + s / 10, 6 * s + s / 2, "da_get_done", NULL), 0);
  assert_true(count_lines(trace.text, 6 * s + s / 2, 7 * s, "da_get_done", NULL) > 0);
  free(trace.text);
}

static void test_crash_at_sync_cuts_power_at_the_nth_durable_write(void **state) {
  (void)state;
  struct evc_run_result res;
  struct trace_buf trace = {0};
  run(",{\"at_ms\":2000,\"do\":\"fault\",\"name\":\"crash_at_sync\",\"params\":{\"node\":\"seq\","
      "\"n\":5,\"down_ms\":200}},{\"at_ms\":6000,\"do\":\"heal\"}", "{\"within_ms\":8000}",
      &res, &trace);
  const char *arm = strstr(trace.text, "node=seq arm crash_at_sync n=5");
  const char *cut = strstr(trace.text, "node=seq crash_at_sync path=");
  assert_non_null(arm);
  assert_non_null(cut);
  size_t syncs = 0;
  for (const char *p = arm; p != NULL && p < cut; p = strstr(p + 1, "node=seq disk_sync")) {
    if (p != arm) syncs++;
  }
  assert_int_equal(syncs, 5); /* the fifth durable write is the one the power cut follows */
  assert_non_null(strstr(cut, "node=seq note fault restart"));
  free(trace.text);
}

static void test_two_phase_run_reports_a_missed_expectation_after_the_liveness_phase(
    void **state) {
  (void)state;
  struct evc_run_result res;
  run(",{\"at_ms\":0,\"do\":\"fault\",\"name\":\"schedule\",\"params\":{\"heal_at_ms\":3000,"
      "\"faults\":[{\"at_ms\":1000,\"name\":\"isolate\",\"params\":{\"node\":\"full\","
      "\"duration_ms\":60000}}]}}", "{\"within_ms\":6000,\"mode\":{\"seq\":\"failed\"}}", &res,
      NULL);
  assert_true(res.two_phase);
  assert_int_equal(res.heal_ms, 3000);
  assert_int_equal(res.verdict, EVC_VERDICT_EXPECTATION);
  assert_non_null(strstr(res.message, "expected \"failed\""));
}

static void test_swarm_schedule_is_a_function_of_the_seed(void **state) {
  (void)state;
  const struct evc_swarm_node nodes[] = {{"seq", true}, {"full", false}};
  struct evc_swarm_scope scope = {.name = "s", .nodes = nodes, .node_count = 2,
                                  .within_ms = 60000, .da_block_time_ms = 1000,
                                  .da_ttl_blocks = 10, .inclusion_delay_max_ms = 1500};
  size_t absent_somewhere = 0, repeated_somewhere = 0;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    char *a = NULL, *b = NULL;
    assert_int_equal(evc_faults_swarm_schedule(seed, &scope, &a), 0);
    assert_int_equal(evc_faults_swarm_schedule(seed, &scope, &b), 0);
    assert_string_equal(a, b);
    char *next = NULL;
    assert_int_equal(evc_faults_swarm_schedule(seed + 1000, &scope, &next), 0);
    assert_string_not_equal(a, next);
    for (size_t k = 0; k < evc_faults_count(); k++) {
      char key[64];
      snprintf(key, sizeof key, "\"name\":\"%s\"", evc_faults_name(k));
      const char *first = strstr(a, key);
      if (first == NULL) absent_somewhere++;
      else if (strstr(first + 1, key) != NULL) repeated_somewhere++;
    }
    free(a);
    free(b);
    free(next);
  }
  assert_true(absent_somewhere > 0);   /* rates of zero occur */
  assert_true(repeated_somewhere > 0); /* and rates above one */
}

static void test_corrupt_page_flips_durable_bytes(void **state) {
  (void)state;
  struct evc_simdisk *disk = NULL;
  assert_int_equal(evc_simdisk_new(&disk), 0);
  uint8_t bytes[64];
  memset(bytes, 0xAB, sizeof bytes);
  assert_int_equal(evc_simdisk_replace(disk, "data/x", bytes, sizeof bytes), 0);
  assert_int_equal(evc_simdisk_corrupt(disk, "data/x", 10, 2, 0x01), 0);
  assert_int_equal(evc_simdisk_corrupt(disk, "data/nope", 0, 1, 1), EVC_ENOTFOUND);
  assert_int_equal(evc_simdisk_corrupt(disk, "data/x", 64, 1, 1), EVC_ERANGE);
  evc_simdisk_crash(disk); /* durable: it survives a power cut */
  uint8_t *got = NULL;
  size_t size = 0;
  assert_int_equal(evc_simdisk_read(disk, "data/x", &got, &size), 0);
  assert_int_equal(size, sizeof bytes);
  for (size_t i = 0; i < size; i++) {
    assert_int_equal(got[i], (i == 10 || i == 11) ? 0xAA : 0xAB);
  }
  free(got);
  evc_simdisk_free(disk);
}

int main(void) {
  if (evc_crypto_init() != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_fault_params_are_refused_by_name),
      cmocka_unit_test(test_every_fault_applies_and_invariants_hold),
      cmocka_unit_test(test_pause_freezes_the_node_and_hang_holds_da_replies),
      cmocka_unit_test(test_crash_at_sync_cuts_power_at_the_nth_durable_write),
      cmocka_unit_test(test_two_phase_run_reports_a_missed_expectation_after_the_liveness_phase),
      cmocka_unit_test(test_swarm_schedule_is_a_function_of_the_seed),
      cmocka_unit_test(test_corrupt_page_flips_durable_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
