/* evc-sim: replays scenarios in the deterministic simulator (run, sweep, crashpoints,
 * shrink, summarize). Exit status: 0 when every run passed, 1 when a run failed its
 * invariants or expectations, 2 for a usage or scenario-file error. */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/crypto/crypto.h"
#include "node/types/verify.h"
#include "sim/cli_args.h"
#include "sim/evc_nodes.h"
#include "sim/runner.h"
#include "sim/tools.h"

/* The first run's trace, kept to find the first line where a second run differs. */
struct trace_capture {
  char *text;
  size_t size;
  size_t capacity;
  size_t compare_offset; /* second run: bytes of text matched so far */
  uint64_t line;
  bool differs;
  char first_diff[1024];
};

static void capture_sink(void *arg, const char *line, size_t size) {
  struct trace_capture *c = arg;
  if (c->size + size > c->capacity) {
    size_t cap = c->capacity == 0 ? 1 << 20 : c->capacity;
    while (cap < c->size + size) cap *= 2;
    char *p = realloc(c->text, cap);
    if (p == NULL) {
      fprintf(stderr, "evc-sim: out of memory keeping the trace\n");
      exit(2);
    }
    c->text = p;
    c->capacity = cap;
  }
  memcpy(c->text + c->size, line, size);
  c->size += size;
}

static void compare_sink(void *arg, const char *line, size_t size) {
  struct trace_capture *c = arg;
  c->line++;
  if (c->differs) return;
  bool same = c->compare_offset + size <= c->size &&
              memcmp(c->text + c->compare_offset, line, size) == 0;
  if (same) {
    c->compare_offset += size;
    return;
  }
  c->differs = true;
  const char *mine = c->text + c->compare_offset;
  const char *end = memchr(mine, '\n', c->size - c->compare_offset);
  int mine_len = end == NULL ? (int)(c->size - c->compare_offset) : (int)(end - mine);
  snprintf(c->first_diff, sizeof c->first_diff, "line %llu\n  first run:  %.*s\n  second run: %.*s",
           (unsigned long long)c->line, mine_len, mine, (int)(size > 0 ? size - 1 : 0), line);
}

static void print_result(const char *file, uint64_t seed, const struct evc_run_result *res) {
  char hex[2 * EVC_HASH_SIZE + 1];
  evc_hex_encode(res->trace_hash, EVC_HASH_SIZE, hex);
  printf("scenario=%s seed=%llu verdict=%s end_ms=%llu events=%llu\n", file,
         (unsigned long long)seed, evc_verdict_name(res->verdict),
         (unsigned long long)res->end_ms, (unsigned long long)res->events);
  printf("%s: %s\n", res->verdict == EVC_VERDICT_PASS ? "result" : "failure", res->message);
  if (res->verdict != EVC_VERDICT_PASS) {
    printf("replay: evc-sim run %s --seed %llu --trace trace.txt\n", file, (unsigned long long)seed);
  }
  printf("trace-hash: %s\n", hex);
}

static int load(const char *file, struct evc_scenario *sc) {
  char err[1024];
  int rc = evc_scenario_load_file(file, sc, err, sizeof err);
  if (rc != 0) fprintf(stderr, "evc-sim: %s\n", err);
  return rc;
}

static int command_run(const struct evc_sim_cli_args *a) {
  struct evc_scenario *sc = calloc(1, sizeof *sc);
  if (sc == NULL || load(a->file, sc) != 0) {
    free(sc);
    return 2;
  }
  FILE *trace = NULL;
  if (a->trace_path != NULL) {
    trace = strcmp(a->trace_path, "-") == 0 ? stdout : fopen(a->trace_path, "w");
    if (trace == NULL) {
      fprintf(stderr, "evc-sim: cannot write trace '%s': %s\n", a->trace_path, strerror(errno));
      evc_scenario_free(sc);
      free(sc);
      return 2;
    }
  }
  struct trace_capture cap = {0};
  struct evc_run_options opt = {.seed = a->seed, .trace_out = trace,
                                .class_for_role = evc_sim_class_for_role};
  if (a->check_determinism) {
    opt.trace_sink = capture_sink;
    opt.trace_sink_arg = &cap;
  }
  struct evc_run_result res;
  int rc = evc_run_scenario(sc, &opt, &res);
  if (trace != NULL && trace != stdout) fclose(trace);
  print_result(a->file, a->seed, &res);
  int status = rc != 0 ? 2 : res.verdict == EVC_VERDICT_PASS ? 0 : 1;
  if (a->check_determinism && rc == 0) {
    struct evc_run_result again;
    opt.trace_out = NULL;
    opt.trace_sink = compare_sink;
    evc_run_scenario(sc, &opt, &again);
    bool same = memcmp(again.trace_hash, res.trace_hash, EVC_HASH_SIZE) == 0 && !cap.differs &&
                cap.compare_offset == cap.size;
    printf("determinism: %s\n", same ? "ok (two runs, same trace hash)" : "MISMATCH");
    if (!same) {
      printf("first difference: %s\n", cap.differs ? cap.first_diff : "the second run is shorter");
      status = 1;
    }
  }
  free(cap.text);
  evc_scenario_free(sc);
  free(sc);
  return status;
}

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s != '\0'; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') {
      fprintf(out, "\\%c", ch);
    } else if (ch < 0x20) {
      fprintf(out, "\\u%04x", ch);
    } else {
      fputc(ch, out);
    }
  }
  fputc('"', out);
}

static void json_faults(FILE *out, const char *schedule_json) {
  cJSON *root = schedule_json == NULL ? NULL : cJSON_Parse(schedule_json);
  cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "faults");
  char *text = cJSON_IsArray(list) ? cJSON_PrintUnformatted(list) : NULL;
  int count = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
  fprintf(out, "\"fault_count\":%d,\"faults\":%s", count, text == NULL ? "[]" : text);
  free(text);
  cJSON_Delete(root);
}

/* Runs once more and compares the trace line by line with the first run's. */
static bool rerun_same(const struct evc_scenario *sc, struct evc_run_options opt,
                       const struct evc_run_result *first, struct trace_capture *cap) {
  struct evc_run_result again;
  opt.trace_sink = compare_sink;
  opt.trace_sink_arg = cap;
  evc_run_scenario(sc, &opt, &again);
  free(again.faults_json);
  return memcmp(again.trace_hash, first->trace_hash, EVC_HASH_SIZE) == 0 && !cap->differs &&
         cap->compare_offset == cap->size;
}

struct sweep_ctx {
  const struct evc_sim_cli_args *a;
  const char *file;
  const struct evc_scenario *sc;
};

static void sweep_line_tail(FILE *out, const struct sweep_ctx *x, uint64_t seed,
                            const struct evc_run_result *res, bool pass) {
  fprintf(out, ",\"message\":");
  json_string(out, res->message);
  if (!pass || res->verdict != EVC_VERDICT_PASS) {
    char cmd[1200];
    if (x->a->swarm) {
      snprintf(cmd, sizeof cmd, "evc-sim sweep %s --seeds %llu..%llu --swarm; to minimise: "
               "evc-sim shrink %s --seed %llu --swarm", x->file, (unsigned long long)seed,
               (unsigned long long)seed, x->file, (unsigned long long)seed);
    } else {
      snprintf(cmd, sizeof cmd, "evc-sim run %s --seed %llu --trace trace.txt", x->file,
               (unsigned long long)seed);
    }
    fprintf(out, ",\"replay\":");
    json_string(out, cmd);
  }
  fprintf(out, "}\n");
}

/* One JSON line per run, written whole so that lines of parallel jobs never interleave. */
static bool sweep_one(const struct sweep_ctx *x, uint64_t seed, uint64_t position) {
  struct evc_run_options opt = {.seed = seed, .swarm = x->a->swarm,
                                .class_for_role = evc_sim_class_for_role};
  uint32_t sample = x->a->determinism_sample;
  bool twice = sample > 0 && position % sample == 0;
  struct trace_capture cap = {0};
  if (twice) {
    opt.trace_sink = capture_sink;
    opt.trace_sink_arg = &cap;
  }
  struct evc_run_result res;
  uint64_t t0 = wall_ms();
  evc_run_scenario(x->sc, &opt, &res);
  uint64_t elapsed = wall_ms() - t0;
  bool same = !twice || rerun_same(x->sc, opt, &res, &cap);
  if (!same && res.verdict == EVC_VERDICT_PASS) {
    res.verdict = EVC_VERDICT_ERROR;
    snprintf(res.message, sizeof res.message, "determinism: two runs differ at %.900s",
             cap.differs ? cap.first_diff : "the end (the second run is shorter)");
  }
  bool pass = res.verdict == EVC_VERDICT_PASS ||
              (x->a->swarm && res.verdict == EVC_VERDICT_EXPECTATION && same);
  char hex[2 * EVC_HASH_SIZE + 1];
  evc_hex_encode(res.trace_hash, EVC_HASH_SIZE, hex);
  char *line = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&line, &size);
  if (out == NULL) return false;
  fprintf(out, "{\"scenario\":");
  json_string(out, x->sc->name);
  fprintf(out, ",\"file\":");
  json_string(out, x->file);
  fprintf(out, ",\"seed\":%llu,\"verdict\":\"%s\",\"counts_as_pass\":%s,\"swarm\":%s,"
          "\"two_phase\":%s,\"heal_ms\":%llu,\"trace_hash\":\"%s\",\"duration_ms\":%llu,"
          "\"virtual_ms\":%llu,\"events\":%llu,",
          (unsigned long long)seed, evc_verdict_name(res.verdict), pass ? "true" : "false",
          x->a->swarm ? "true" : "false", res.two_phase ? "true" : "false",
          (unsigned long long)res.heal_ms, hex, (unsigned long long)elapsed,
          (unsigned long long)res.end_ms, (unsigned long long)res.events);
  if (twice) fprintf(out, "\"determinism\":\"%s\",", same ? "ok" : "mismatch");
  json_faults(out, res.faults_json);
  sweep_line_tail(out, x, seed, &res, pass);
  fclose(out);
  fwrite(line, 1, size, stdout);
  fflush(stdout);
  free(line);
  free(res.faults_json);
  free(cap.text);
  return pass;
}

/* Runs the seeds of this shard whose position modulo jobs is job. */
static int sweep_job(const struct evc_sim_cli_args *a, struct evc_scenario *scs, uint32_t job,
                     uint32_t jobs) {
  bool all_passed = true;
  uint64_t position = 0;
  for (uint64_t seed = a->seed_first; seed <= a->seed_last; seed++) {
    if ((seed - a->seed_first) % a->shard_count != a->shard_index - 1) continue;
    for (size_t f = 0; f < a->files_count; f++, position++) {
      if (position % jobs != job) continue;
      struct sweep_ctx x = {a, a->files[f], &scs[f]};
      all_passed &= sweep_one(&x, seed, position);
    }
    if (seed == UINT64_MAX) break;
  }
  return all_passed ? 0 : 1;
}

static int command_sweep(const struct evc_sim_cli_args *a) {
  struct evc_scenario *scs = calloc(a->files_count, sizeof *scs);
  if (scs == NULL) return 2;
  int status = 0;
  for (size_t f = 0; f < a->files_count && status == 0; f++) {
    if (load(a->files[f], &scs[f]) != 0) status = 2;
  }
  if (status == 0 && a->jobs <= 1) status = sweep_job(a, scs, 0, 1);
  for (uint32_t j = 0; status == 0 && a->jobs > 1 && j < a->jobs; j++) {
    pid_t pid = fork();
    if (pid < 0) status = 2;
    if (pid == 0) _exit(sweep_job(a, scs, j, a->jobs));
  }
  for (uint32_t j = 0; a->jobs > 1 && j < a->jobs; j++) {
    int ws = 0;
    if (wait(&ws) < 0) break;
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) status = status == 2 ? 2 : 1;
  }
  for (size_t f = 0; f < a->files_count; f++) evc_scenario_free(&scs[f]);
  free(scs);
  return status;
}

/* A run allocates and frees the same large buffers (simulated disks, SQLite caches, the
 * checker's maps) over and over; with glibc's defaults each is a fresh mmap whose pages are
 * faulted in and zeroed again, about a third of a sweep's time. Keeping freed memory in the
 * heap (up to 256 MiB) makes the next run reuse it. Memory only: no effect on any trace. */
static void tune_malloc(void) {
#ifdef __GLIBC__
  (void)mallopt(M_MMAP_THRESHOLD, 64 << 20);
  (void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

/* Every simulated node verifies every block, often twice (from a peer, then from DA), and
 * runs are sequential on this thread: one memo of verification results serves them all
 * (node/types/verify.h). It changes no result, so no trace. */
static struct evc_verify_memo *verify_memo;

static void release_verify_memo(void) {
  evc_verify_memo_install(NULL);
  evc_verify_memo_free(verify_memo);
  verify_memo = NULL;
}

int main(int argc, char **argv) {
  tune_malloc();
  if (evc_verify_memo_new(&verify_memo) != 0) {
    fprintf(stderr, "evc-sim: out of memory\n");
    return 2;
  }
  evc_verify_memo_install(verify_memo);
  atexit(release_verify_memo);
  struct evc_sim_cli_args args;
  char err[512];
  if (evc_sim_cli_parse(argc, argv, &args, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n\n%s", err, evc_sim_cli_usage());
    return 2;
  }
  if (args.command == EVC_SIM_CLI_HELP) {
    fputs(evc_sim_cli_usage(), stdout);
    return 0;
  }
  if (args.help) {
    fputs(evc_sim_cli_help(args.command), stdout);
    return 0;
  }
  if (evc_crypto_init() != 0) {
    fprintf(stderr, "evc-sim: cannot initialise libsodium\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  switch (args.command) {
  case EVC_SIM_CLI_RUN: return command_run(&args);
  case EVC_SIM_CLI_SWEEP: return command_sweep(&args);
  case EVC_SIM_CLI_CRASHPOINTS: return evc_sim_crashpoints(args.file, args.seed);
  case EVC_SIM_CLI_SHRINK: return evc_sim_shrink(args.file, args.seed, args.swarm, args.out_path);
  case EVC_SIM_CLI_SUMMARIZE: return evc_sim_summarize(args.files, args.files_count);
  case EVC_SIM_CLI_HELP: break;
  }
  return 2;
}
