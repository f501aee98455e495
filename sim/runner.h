/* Runs one scenario file for one seed: builds the simulation, plays the timeline, checks the
 * invariants after every event and the expectations at the end, and returns a verdict with
 * the trace hash. It exits nothing and prints nothing except through its trace and result. */
#ifndef EVC_SIM_RUNNER_H
#define EVC_SIM_RUNNER_H

#include <stdint.h>
#include <stdio.h>

#include "sim/scenario.h"
#include "sim/sim.h"

enum evc_verdict {
  EVC_VERDICT_PASS,
  EVC_VERDICT_SAFETY,
  EVC_VERDICT_LIVENESS,
  EVC_VERDICT_EXPECTATION,
  EVC_VERDICT_ERROR,
};

const char *evc_verdict_name(enum evc_verdict verdict);

typedef const struct evc_sim_node_class *(*evc_class_resolver)(const char *role);

struct evc_run_options {
  uint64_t seed;
  /* Swarm: a fault schedule drawn from the seed (evc_faults_swarm_schedule) runs beside the
   * timeline, then the two phases (safety with faults, liveness after the heal). */
  bool swarm;

  FILE *trace_out;               /* NULL: no trace text */
  evc_class_resolver class_for_role;
  void (*trace_sink)(void *arg, const char *line, size_t size); /* optional */
  void *trace_sink_arg;
};

struct evc_run_result {
  enum evc_verdict verdict;
  char message[1024];       /* the first failure, or a summary on pass */
  bool two_phase;           /* the run had a liveness phase after a heal (swarm, schedule) */
  char *faults_json;        /* swarm: the schedule's params (malloc'd; free it), or NULL */
  uint64_t heal_ms;         /* two-phase: when the faults ended */
  /* Durable writes of the recovering node from just before its last start (timeline) to
   * its first produced block after it (or to the end of the run when it produced none). */
  uint64_t recovery_syncs;
  bool recovery_produced;   /* it produced a block after that start */
  uint8_t trace_hash[EVC_HASH_SIZE];
  uint64_t end_ms;          /* virtual time at the end */
  uint64_t events;
  uint64_t trace_lines;
};

/* Virtual time the liveness phase gives a healed run to converge. */
#define EVC_RUN_LIVENESS_WINDOW_MS 60000u

/* Runs sc with opt->seed. Returns 0 with a verdict in out (which may be a failure), or a
 * negative code when the run could not be set up (out->verdict is then ERROR). */
int evc_run_scenario(const struct evc_scenario *sc, const struct evc_run_options *opt,
                     struct evc_run_result *out);

#endif
