/* evc-sim: replays scenarios in the deterministic simulator (run, sweep). Exit status: 0
 * when every run passed, 1 when a run failed its invariants or expectations, 2 for a usage
 * or scenario-file error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/crypto/crypto.h"
#include "sim/cli_args.h"
#include "sim/evc_nodes.h"
#include "sim/runner.h"

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

/* One JSON line per run, written whole so that lines of parallel jobs never interleave. */
static bool sweep_one(const char *file, const struct evc_scenario *sc, uint64_t seed) {
  struct evc_run_options opt = {.seed = seed, .class_for_role = evc_sim_class_for_role};
  struct evc_run_result res;
  uint64_t t0 = wall_ms();
  evc_run_scenario(sc, &opt, &res);
  uint64_t elapsed = wall_ms() - t0;
  char hex[2 * EVC_HASH_SIZE + 1];
  evc_hex_encode(res.trace_hash, EVC_HASH_SIZE, hex);
  char *line = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&line, &size);
  if (out == NULL) return false;
  fprintf(out, "{\"scenario\":");
  json_string(out, sc->name);
  fprintf(out, ",\"file\":");
  json_string(out, file);
  fprintf(out, ",\"seed\":%llu,\"verdict\":\"%s\",\"trace_hash\":\"%s\",\"duration_ms\":%llu,"
          "\"virtual_ms\":%llu,\"events\":%llu,\"faults\":[],\"message\":",
          (unsigned long long)seed, evc_verdict_name(res.verdict), hex,
          (unsigned long long)elapsed, (unsigned long long)res.end_ms,
          (unsigned long long)res.events);
  json_string(out, res.message);
  fprintf(out, "}\n");
  fclose(out);
  fwrite(line, 1, size, stdout);
  fflush(stdout);
  free(line);
  return res.verdict == EVC_VERDICT_PASS;
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
      all_passed &= sweep_one(a->files[f], &scs[f], seed);
    }
    if (seed == UINT64_MAX) break;
  }
  return all_passed ? 0 : 1;
}

static int command_sweep(const struct evc_sim_cli_args *a) {
  if (a->swarm) {
    fprintf(stderr, "evc-sim sweep: --swarm needs the fault catalogue (issue 8), which this "
                    "build does not have yet\n");
    return 2;
  }
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

int main(int argc, char **argv) {
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
  return args.command == EVC_SIM_CLI_RUN ? command_run(&args) : command_sweep(&args);
}
