/* evc-sim command-line parsing: `run`, `sweep`, `crashpoints`, `shrink` and `summarize`
 * arguments into a plain struct, with
 * --help text per command and errors that name the flag. It only parses: it never opens
 * a file, runs a scenario or prints anything itself (the caller prints err or the help). */
#ifndef EVC_SIM_CLI_ARGS_H
#define EVC_SIM_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVC_SIM_CLI_FILES_MAX 256u    /* scenario files one sweep takes */
#define EVC_SIM_CLI_SHARDS_MAX 65536u /* N in --shard I/N */
#define EVC_SIM_CLI_JOBS_MAX 256u     /* J in --jobs J */
#define EVC_SIM_CLI_SEED_DEFAULT 1u   /* run without --seed */

enum evc_sim_cli_command {
  EVC_SIM_CLI_HELP = 1, /* `evc-sim --help`, `evc-sim help`: print evc_sim_cli_usage() */
  EVC_SIM_CLI_RUN,
  EVC_SIM_CLI_SWEEP,
  EVC_SIM_CLI_CRASHPOINTS, /* FILE [--seed N] */
  EVC_SIM_CLI_SHRINK,      /* FILE --seed N [--swarm] [--out FILE] */
  EVC_SIM_CLI_SUMMARIZE,   /* FILE... (sweep outputs, JSON lines) */
};

#define EVC_SIM_CLI_DETERMINISM_SAMPLE_DEFAULT 50u /* sweep: every 50th run runs twice */

struct evc_sim_cli_args {
  enum evc_sim_cli_command command;
  bool help; /* COMMAND --help: print evc_sim_cli_help(command) and exit 0; nothing else set */
  /* run */
  const char *file;       /* points into argv */
  uint64_t seed;          /* --seed N, default EVC_SIM_CLI_SEED_DEFAULT */
  bool seed_set;
  const char *trace_path; /* --trace FILE, NULL when absent ("-" is the caller's choice) */
  bool check_determinism;
  /* sweep */
  const char *files[EVC_SIM_CLI_FILES_MAX]; /* point into argv */
  size_t files_count;                      /* >= 1 */
  uint64_t seed_first;                     /* --seeds A..B (required), A <= B */
  uint64_t seed_last;
  uint32_t shard_index; /* --shard I/N, 1 <= I <= N; default 1/1 */
  uint32_t shard_count;
  bool swarm;
  uint32_t jobs; /* --jobs J, 1 .. EVC_SIM_CLI_JOBS_MAX, default 1 */
  /* --determinism-sample N: every N-th run of a sweep job runs twice and compares traces
   * (0 = never; default EVC_SIM_CLI_DETERMINISM_SAMPLE_DEFAULT) */
  uint32_t determinism_sample;
  /* shrink */
  const char *out_path; /* --out FILE; NULL: NAME.seedN.min.json in the current directory */
};

/* Parses argv (argv[0] is the program). Returns 0 and fills out, or EVC_EINVAL with a
 * one-line message in err naming the flag or argument ("evc-sim run: unknown flag
 * \"--sed\"", "... --seeds: 5..3: A is larger than B"). The caller exits 2 on EVC_EINVAL. */
int evc_sim_cli_parse(int argc, char *const argv[], struct evc_sim_cli_args *out, char *err,
                      size_t err_size);
/* The top-level usage text (every command, one line each). */
const char *evc_sim_cli_usage(void);
/* The full help text of one command (usage, every flag, defaults). */
const char *evc_sim_cli_help(enum evc_sim_cli_command command);

#endif
