/* evc-sim's harness commands beyond run and sweep: crash-point enumeration, shrinking of a
 * failing fault schedule, and the summary of sweep outputs. Each prints its own report on
 * stdout and returns the process exit status (0 ok, 1 a failure found, 2 usage or I/O). */
#ifndef EVC_SIM_TOOLS_H
#define EVC_SIM_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include "sim/runner.h"
#include "sim/scenario.h"

/* Counts the recovering node's durable writes from its last start to its first produced
 * block, then re-runs crashing at each one (restart 500 ms later); every run must keep the
 * safety and liveness invariants. */
int evc_sim_crashpoints(const char *file, uint64_t seed);
/* Minimises a failing run (see `evc-sim shrink --help`) and writes the scenario found. */
int evc_sim_shrink(const char *file, uint64_t seed, bool swarm, const char *out_path);
/* Merges sweep outputs (JSON lines) into one table on stdout. */
int evc_sim_summarize(const char *const *files, size_t count);

/* Runs a scenario given as JSON text: 0 and a result, or a negative code (parse errors are
 * written to err). The caller frees res->faults_json. */
int evc_sim_run_json(const char *json, const char *label, const struct evc_run_options *opt,
                     struct evc_run_result *res, char *err, size_t err_size);

#endif
