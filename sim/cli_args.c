/* evc-sim command-line parsing into struct evc_sim_cli_args; errors name the flag.
 * It never touches files, never prints and never exits: main decides what to do. */
#include "sim/cli_args.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"

#define CLI_ARG_SHOWN_MAX 80 /* characters of a user's argument repeated in a message */

static const char cli_usage[] =
    "usage: evc-sim run FILE [--seed N] [--trace FILE] [--check-determinism]\n"
    "       evc-sim sweep FILE... --seeds A..B [--shard I/N] [--swarm] [--jobs J]\n"
    "                             [--determinism-sample N]\n"
    "       evc-sim crashpoints FILE [--seed N]\n"
    "       evc-sim shrink FILE --seed N [--swarm] [--out FILE]\n"
    "       evc-sim summarize FILE...\n"
    "       evc-sim COMMAND --help\n";

static const char cli_help_run[] =
    "usage: evc-sim run FILE [--seed N] [--trace FILE] [--check-determinism]\n"
    "\n"
    "Replays one scenario file in the deterministic simulator and checks every\n"
    "expectation and invariant. Exits 0 only when all of them hold.\n"
    "\n"
    "  --seed N             seed of every random stream (decimal, 0 .. 2^64-1; default 1)\n"
    "  --trace FILE         write the trace, one line per event, to FILE\n"
    "  --check-determinism  run twice with the same seed and compare the traces; on a\n"
    "                       mismatch print the first differing line and exit non-zero\n"
    "  --help               this text\n";

static const char cli_help_sweep[] =
    "usage: evc-sim sweep FILE... --seeds A..B [--shard I/N] [--swarm] [--jobs J]\n"
    "                             [--determinism-sample N]\n"
    "\n"
    "Runs every scenario FILE once per seed A..B (inclusive), one JSON line per run, and\n"
    "gives each failing run the command that replays it. Exits 0 only when every run\n"
    "passes (under --swarm an \"expectation\" verdict counts as a pass).\n"
    "\n"
    "  --seeds A..B  the seeds to run, A <= B (required)\n"
    "  --shard I/N   run only the seeds whose position in A..B is I modulo N,\n"
    "                1 <= I <= N <= 65536 (default 1/1: all of them)\n"
    "  --swarm       swarm testing: each seed draws each fault kind's rate (zero included)\n"
    "                and a fault schedule; a safety phase with the faults, then a liveness\n"
    "                phase after they end. Only safety and liveness verdicts fail a run.\n"
    "  --jobs J      run J simulations at a time, 1 .. 256 (default 1)\n"
    "  --determinism-sample N  every N-th run runs twice and compares the traces; a\n"
    "                mismatch is an \"error\" verdict with the first differing line\n"
    "                (default 50; 0 = never)\n"
    "  --help        this text\n";

static const char cli_help_crashpoints[] =
    "usage: evc-sim crashpoints FILE [--seed N]\n"
    "\n"
    "Runs the scenario once and counts the durable writes (SQLite syncs, sign-state and\n"
    "other file replaces) of the recovering node (the node of the timeline's last start)\n"
    "from that start to its first produced block. Then re-runs it once per write K,\n"
    "cutting the power right after write K and restarting the node 500 ms later; every run\n"
    "must keep the safety and liveness invariants (expectations are reported only).\n"
    "\n"
    "  --seed N  the seed of every run (default 1)\n"
    "  --help    this text\n";

static const char cli_help_shrink[] =
    "usage: evc-sim shrink FILE --seed N [--swarm] [--out FILE]\n"
    "\n"
    "Minimises a failing run: drops faults of its schedule, shortens their durations and\n"
    "removes nodes while the same invariant (safety or liveness) still fails, then writes\n"
    "the smallest scenario found. With --swarm the schedule is the one the seed draws in a\n"
    "swarm sweep; else FILE's own \"schedule\" fault step (if any) is shrunk.\n"
    "\n"
    "  --seed N    the failing seed (required)\n"
    "  --swarm     start from the seed's swarm schedule\n"
    "  --out FILE  where to write the result (default: NAME.seedN.min.json in the\n"
    "              current directory, NAME being FILE's base name without .json)\n"
    "  --help      this text\n";

static const char cli_help_summarize[] =
    "usage: evc-sim summarize FILE...\n"
    "\n"
    "Merges sweep outputs (JSON lines, e.g. one file per shard) into one table: runs and\n"
    "verdicts per scenario, then every failing run with its replay command.\n"
    "\n"
    "  --help  this text\n";

enum cli_flag_id {
  CLI_FLAG_SEED = 0,
  CLI_FLAG_TRACE,
  CLI_FLAG_CHECK_DETERMINISM,
  CLI_FLAG_SEEDS,
  CLI_FLAG_SHARD,
  CLI_FLAG_SWARM,
  CLI_FLAG_JOBS,
  CLI_FLAG_DETERMINISM_SAMPLE,
  CLI_FLAG_OUT,
};

struct cli_flag {
  const char *name;
  enum cli_flag_id id;
  bool takes_value;
};

static const struct cli_flag cli_run_flags[] = {
    {"--seed", CLI_FLAG_SEED, true},
    {"--trace", CLI_FLAG_TRACE, true},
    {"--check-determinism", CLI_FLAG_CHECK_DETERMINISM, false},
};

static const struct cli_flag cli_sweep_flags[] = {
    {"--seeds", CLI_FLAG_SEEDS, true},
    {"--shard", CLI_FLAG_SHARD, true},
    {"--swarm", CLI_FLAG_SWARM, false},
    {"--jobs", CLI_FLAG_JOBS, true},
    {"--determinism-sample", CLI_FLAG_DETERMINISM_SAMPLE, true},
};

static const struct cli_flag cli_crashpoints_flags[] = {
    {"--seed", CLI_FLAG_SEED, true},
};

static const struct cli_flag cli_shrink_flags[] = {
    {"--seed", CLI_FLAG_SEED, true},
    {"--swarm", CLI_FLAG_SWARM, false},
    {"--out", CLI_FLAG_OUT, true},
};

struct cli_command_spec {
  const char *name;
  enum evc_sim_cli_command command;
  const struct cli_flag *flags;
  size_t flags_count;
  bool one_file;
  const char *help;
};

struct cli_state {
  const char *prefix; /* "evc-sim run" */
  char *err;
  size_t err_size;
  uint32_t seen; /* bit per cli_flag_id */
};

__attribute__((format(printf, 2, 3))) static int cli_fail(struct cli_state *st,
                                                          const char *fmt, ...) {
  EVC_ASSERT(fmt != NULL);
  if (st->err != NULL && st->err_size > 0) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(st->err, st->err_size, "%s: %s", st->prefix, msg);
  }
  return EVC_EINVAL;
}

/* Decimal digits only (no sign, no spaces, no hex), value <= max. */
static bool cli_parse_u64(const char *text, size_t len, uint64_t max, uint64_t *out) {
  if (len == 0 || len > 20) {
    return false;
  }
  uint64_t value = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
    uint64_t digit = (uint64_t)(text[i] - '0');
    if (value > (max - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  *out = value;
  return true;
}

static int cli_seeds(struct cli_state *st, const char *value, struct evc_sim_cli_args *out) {
  const char *dots = strstr(value, "..");
  bool ok = dots != NULL &&
            cli_parse_u64(value, (size_t)(dots - value), UINT64_MAX, &out->seed_first) &&
            cli_parse_u64(dots + 2, strlen(dots + 2), UINT64_MAX, &out->seed_last);
  if (!ok) {
    return cli_fail(st, "--seeds: expected A..B with decimal numbers, got \"%.*s\"",
                    CLI_ARG_SHOWN_MAX, value);
  }
  if (out->seed_first > out->seed_last) {
    return cli_fail(st, "--seeds %.*s: A is larger than B", CLI_ARG_SHOWN_MAX, value);
  }
  return 0;
}

static int cli_shard(struct cli_state *st, const char *value, struct evc_sim_cli_args *out) {
  const char *slash = strchr(value, '/');
  uint64_t index = 0;
  uint64_t count = 0;
  bool ok = slash != NULL &&
            cli_parse_u64(value, (size_t)(slash - value), UINT32_MAX, &index) &&
            cli_parse_u64(slash + 1, strlen(slash + 1), UINT32_MAX, &count);
  if (!ok) {
    return cli_fail(st, "--shard: expected I/N with decimal numbers, got \"%.*s\"",
                    CLI_ARG_SHOWN_MAX, value);
  }
  if (count < 1 || count > EVC_SIM_CLI_SHARDS_MAX) {
    return cli_fail(st, "--shard %.*s: N must be from 1 to %u", CLI_ARG_SHOWN_MAX, value,
                    EVC_SIM_CLI_SHARDS_MAX);
  }
  if (index < 1 || index > count) {
    return cli_fail(st, "--shard %.*s: I must be from 1 to N (%u)", CLI_ARG_SHOWN_MAX, value,
                    (unsigned)count);
  }
  out->shard_index = (uint32_t)index;
  out->shard_count = (uint32_t)count;
  return 0;
}

static int cli_apply_flag(struct cli_state *st, const struct cli_flag *flag, const char *value,
                          struct evc_sim_cli_args *out) {
  uint64_t number = 0;
  switch (flag->id) {
  case CLI_FLAG_SEED:
    if (!cli_parse_u64(value, strlen(value), UINT64_MAX, &out->seed)) {
      return cli_fail(st, "--seed: expected a decimal number from 0 to 2^64-1, got \"%.*s\"",
                      CLI_ARG_SHOWN_MAX, value);
    }
    out->seed_set = true;
    return 0;
  case CLI_FLAG_TRACE:
    if (value[0] == '\0') {
      return cli_fail(st, "--trace: expected a file name");
    }
    out->trace_path = value;
    return 0;
  case CLI_FLAG_CHECK_DETERMINISM:
    out->check_determinism = true;
    return 0;
  case CLI_FLAG_SEEDS:
    return cli_seeds(st, value, out);
  case CLI_FLAG_SHARD:
    return cli_shard(st, value, out);
  case CLI_FLAG_SWARM:
    out->swarm = true;
    return 0;
  case CLI_FLAG_JOBS:
    if (!cli_parse_u64(value, strlen(value), UINT64_MAX, &number) || number < 1 ||
        number > EVC_SIM_CLI_JOBS_MAX) {
      return cli_fail(st, "--jobs: expected a number from 1 to %u, got \"%.*s\"",
                      EVC_SIM_CLI_JOBS_MAX, CLI_ARG_SHOWN_MAX, value);
    }
    out->jobs = (uint32_t)number;
    return 0;
  case CLI_FLAG_DETERMINISM_SAMPLE:
    if (!cli_parse_u64(value, strlen(value), UINT32_MAX, &number)) {
      return cli_fail(st, "--determinism-sample: expected a number from 0 to 4294967295, got "
                      "\"%.*s\"", CLI_ARG_SHOWN_MAX, value);
    }
    out->determinism_sample = (uint32_t)number;
    return 0;
  case CLI_FLAG_OUT:
    if (value[0] == '\0') {
      return cli_fail(st, "--out: expected a file name");
    }
    out->out_path = value;
    return 0;
  }
  EVC_UNREACHABLE();
}

/* argv[*i] starts with "--": finds the flag, takes its value ("--f=v" or the next argument)
 * and applies it. Advances *i past a separate value. */
static int cli_flag(struct cli_state *st, const struct cli_flag *flags, size_t flags_count,
                    int argc, char *const argv[], int *i, struct evc_sim_cli_args *out) {
  const char *arg = argv[*i];
  const char *eq = strchr(arg, '=');
  size_t name_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
  const struct cli_flag *flag = NULL;
  for (size_t k = 0; k < flags_count; k++) {
    if (strlen(flags[k].name) == name_len && strncmp(arg, flags[k].name, name_len) == 0) {
      flag = &flags[k];
    }
  }
  if (flag == NULL) {
    return cli_fail(st, "unknown flag \"%.*s\" (see --help)", (int)name_len, arg);
  }
  if ((st->seen & (UINT32_C(1) << flag->id)) != 0) {
    return cli_fail(st, "%s is given twice", flag->name);
  }
  st->seen |= UINT32_C(1) << flag->id;
  const char *value = "";
  if (!flag->takes_value && eq != NULL) {
    return cli_fail(st, "%s takes no value", flag->name);
  }
  if (flag->takes_value && eq != NULL) {
    value = eq + 1;
  } else if (flag->takes_value) {
    if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0) {
      return cli_fail(st, "%s needs a value", flag->name);
    }
    *i += 1;
    value = argv[*i];
  }
  return cli_apply_flag(st, flag, value, out);
}

static int cli_positional(struct cli_state *st, const char *arg, struct evc_sim_cli_args *out) {
  if (arg[0] == '\0') {
    return cli_fail(st, "empty FILE argument");
  }
  if (out->command != EVC_SIM_CLI_SWEEP && out->command != EVC_SIM_CLI_SUMMARIZE) {
    if (out->file != NULL) {
      return cli_fail(st, "unexpected argument \"%.*s\" (this command takes one FILE)",
                      CLI_ARG_SHOWN_MAX, arg);
    }
    out->file = arg;
    return 0;
  }
  if (out->files_count >= EVC_SIM_CLI_FILES_MAX) {
    return cli_fail(st, "more than %u files", EVC_SIM_CLI_FILES_MAX);
  }
  out->files[out->files_count++] = arg;
  return 0;
}

static bool cli_is_help(const char *arg) {
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

static const struct cli_command_spec cli_commands[] = {
    {"run", EVC_SIM_CLI_RUN, cli_run_flags, sizeof cli_run_flags / sizeof cli_run_flags[0], true,
     cli_help_run},
    {"sweep", EVC_SIM_CLI_SWEEP, cli_sweep_flags,
     sizeof cli_sweep_flags / sizeof cli_sweep_flags[0], false, cli_help_sweep},
    {"crashpoints", EVC_SIM_CLI_CRASHPOINTS, cli_crashpoints_flags,
     sizeof cli_crashpoints_flags / sizeof cli_crashpoints_flags[0], true, cli_help_crashpoints},
    {"shrink", EVC_SIM_CLI_SHRINK, cli_shrink_flags,
     sizeof cli_shrink_flags / sizeof cli_shrink_flags[0], true, cli_help_shrink},
    {"summarize", EVC_SIM_CLI_SUMMARIZE, NULL, 0, false, cli_help_summarize},
};

static const struct cli_command_spec *cli_spec_of(enum evc_sim_cli_command command) {
  for (size_t i = 0; i < sizeof cli_commands / sizeof cli_commands[0]; i++) {
    if (cli_commands[i].command == command) {
      return &cli_commands[i];
    }
  }
  return NULL;
}

static const struct cli_command_spec *cli_spec_named(const char *name) {
  for (size_t i = 0; i < sizeof cli_commands / sizeof cli_commands[0]; i++) {
    if (strcmp(cli_commands[i].name, name) == 0) {
      return &cli_commands[i];
    }
  }
  return NULL;
}

static int cli_required(struct cli_state *st, const struct cli_command_spec *spec,
                        const struct evc_sim_cli_args *out) {
  if (spec->one_file && out->file == NULL) {
    return cli_fail(st, "missing FILE (see --help)");
  }
  if (!spec->one_file && out->files_count == 0) {
    return cli_fail(st, "missing FILE... (see --help)");
  }
  if (spec->command == EVC_SIM_CLI_SWEEP && (st->seen & (UINT32_C(1) << CLI_FLAG_SEEDS)) == 0) {
    return cli_fail(st, "--seeds A..B is required");
  }
  if (spec->command == EVC_SIM_CLI_SHRINK && !out->seed_set) {
    return cli_fail(st, "--seed N is required (the failing seed)");
  }
  return 0;
}

static int cli_command_args(struct cli_state *st, int argc, char *const argv[],
                            struct evc_sim_cli_args *out) {
  const struct cli_command_spec *spec = cli_spec_of(out->command);
  EVC_ASSERT(spec != NULL);
  for (int i = 2; i < argc; i++) { /* --help wins over any other mistake */
    if (strcmp(argv[i], "--") == 0) {
      break;
    }
    if (cli_is_help(argv[i])) {
      out->help = true;
      return 0;
    }
  }
  bool flags_done = false;
  int rc = 0;
  for (int i = 2; rc == 0 && i < argc; i++) {
    const char *arg = argv[i];
    EVC_ASSERT(arg != NULL);
    if (!flags_done && strcmp(arg, "--") == 0) {
      flags_done = true;
    } else if (!flags_done && strncmp(arg, "--", 2) == 0) {
      rc = cli_flag(st, spec->flags, spec->flags_count, argc, argv, &i, out);
    } else if (!flags_done && arg[0] == '-' && arg[1] != '\0') {
      rc = cli_fail(st, "unknown flag \"%.*s\" (see --help)", CLI_ARG_SHOWN_MAX, arg);
    } else {
      rc = cli_positional(st, arg, out);
    }
  }
  return rc == 0 ? cli_required(st, spec, out) : rc;
}

int evc_sim_cli_parse(int argc, char *const argv[], struct evc_sim_cli_args *out, char *err,
                      size_t err_size) {
  EVC_ASSERT(argc >= 0);
  EVC_ASSERT(argv != NULL || argc == 0);
  EVC_ASSERT(out != NULL);
  EVC_ASSERT(err != NULL || err_size == 0);
  memset(out, 0, sizeof *out);
  out->seed = EVC_SIM_CLI_SEED_DEFAULT;
  out->shard_index = 1;
  out->shard_count = 1;
  out->jobs = 1;
  if (err_size > 0) {
    err[0] = '\0';
  }
  struct cli_state st = {"evc-sim", err, err_size, 0};
  out->determinism_sample = EVC_SIM_CLI_DETERMINISM_SAMPLE_DEFAULT;
  if (argc < 2) {
    return cli_fail(&st, "missing command (run, sweep, crashpoints, shrink or summarize); "
                    "see evc-sim --help");
  }
  const char *command = argv[1];
  if (cli_is_help(command) || strcmp(command, "help") == 0) {
    out->command = EVC_SIM_CLI_HELP;
    if (strcmp(command, "help") == 0 && argc >= 3) { /* evc-sim help run */
      const struct cli_command_spec *topic = cli_spec_named(argv[2]);
      if (topic == NULL) {
        return cli_fail(&st, "help: unknown command \"%.*s\"", CLI_ARG_SHOWN_MAX, argv[2]);
      }
      out->command = topic->command;
      out->help = true;
    }
    return 0;
  }
  const struct cli_command_spec *spec = cli_spec_named(command);
  if (spec == NULL) {
    return cli_fail(&st, "unknown command \"%.*s\" (run, sweep, crashpoints, shrink or "
                    "summarize)", CLI_ARG_SHOWN_MAX, command);
  }
  out->command = spec->command;
  char prefix[32];
  snprintf(prefix, sizeof prefix, "evc-sim %s", spec->name);
  st.prefix = prefix;
  return cli_command_args(&st, argc, argv, out);
}

const char *evc_sim_cli_usage(void) {
  return cli_usage;
}

const char *evc_sim_cli_help(enum evc_sim_cli_command command) {
  const struct cli_command_spec *spec = cli_spec_of(command);
  return spec == NULL ? cli_usage : spec->help;
}
