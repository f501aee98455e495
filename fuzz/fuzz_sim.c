/* Sim harness: the input picks a recovery scenario (data[0] % 2: recovery_from_da,
 * recovery_from_p2p) and, through the first 8 bytes of SHA-256 of the whole input, the seed
 * of a swarm run (evc_faults_swarm_schedule draws the fault schedule from it), then runs it
 * through the deterministic simulator as `evc-sim sweep --swarm` does. A safety, liveness or
 * error verdict is a crash; an unmet expectation is a pass, as in the sweep (the faults may
 * legitimately change the ending). It never writes files and keeps only the two parsed
 * scenarios between inputs. Each input is a whole simulation: tens of ms, not microseconds. */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "sim/evc_nodes.h"
#include "sim/runner.h"
#include "sim/scenario.h"

#ifndef EVC_FUZZ_SOURCE_DIR
#error "EVC_FUZZ_SOURCE_DIR must name the source tree (fuzz/CMakeLists.txt sets it)"
#endif

#define SIM_SCENARIO_COUNT 2
#define SIM_PATH_SIZE 4096
#define SIM_ERR_SIZE 512

static const char *const sim_scenario_files[SIM_SCENARIO_COUNT] = {
    "scenarios/recovery_from_da.json",
    "scenarios/recovery_from_p2p.json",
};
static struct evc_scenario sim_scenarios[SIM_SCENARIO_COUNT];
static int sim_loaded;

/* Loads the scenarios once, from $EVC_SOURCE_DIR when set, else from the source tree this
 * binary was configured from. A missing file aborts: the harness would test nothing. */
static void sim_load_once(void) {
  if (sim_loaded) return;
  EVC_ASSERT(sodium_init() >= 0);
  const char *dir = getenv("EVC_SOURCE_DIR");
  if (dir == NULL || dir[0] == '\0') dir = EVC_FUZZ_SOURCE_DIR;
  for (size_t i = 0; i < SIM_SCENARIO_COUNT; i++) {
    char path[SIM_PATH_SIZE];
    int n = snprintf(path, sizeof path, "%s/%s", dir, sim_scenario_files[i]);
    EVC_ASSERT(n > 0 && (size_t)n < sizeof path);
    char err[SIM_ERR_SIZE];
    int rc = evc_scenario_load_file(path, &sim_scenarios[i], err, sizeof err);
    if (rc != 0) {
      fprintf(stderr, "fuzz sim: cannot load \"%s\": %s (set EVC_SOURCE_DIR to the evc "
              "source tree)\n", path, err);
      EVC_ASSERT(rc == 0);
    }
  }
  sim_loaded = 1;
}

static uint64_t sim_seed_of(const uint8_t *data, size_t size) {
  uint8_t hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, data, size);
  uint64_t seed = 0;
  for (size_t i = 0; i < sizeof seed; i++) seed = (seed << 8) | hash[i];
  return seed;
}

int evc_fuzz_sim(const uint8_t *data, size_t size) {
  sim_load_once();
  const struct evc_scenario *sc = &sim_scenarios[size > 0 ? data[0] % SIM_SCENARIO_COUNT : 0];
  struct evc_run_options opt = {.seed = sim_seed_of(data, size), .swarm = true,
                                .class_for_role = evc_sim_class_for_role};
  struct evc_run_result res;
  memset(&res, 0, sizeof res);
  int rc = evc_run_scenario(sc, &opt, &res);
  bool pass = rc == 0 &&
              (res.verdict == EVC_VERDICT_PASS || res.verdict == EVC_VERDICT_EXPECTATION);
  if (!pass) {
    fprintf(stderr, "fuzz sim: %s seed %llu: %s: %s (faults %s); replay: evc-sim sweep "
            "%s --seeds %llu..%llu --swarm\n", sc->name, (unsigned long long)opt.seed,
            evc_verdict_name(res.verdict), res.message,
            res.faults_json != NULL ? res.faults_json : "none",
            sim_scenario_files[size > 0 ? data[0] % SIM_SCENARIO_COUNT : 0],
            (unsigned long long)opt.seed, (unsigned long long)opt.seed);
  }
  free(res.faults_json);
  EVC_ASSERT(pass);
  return 0;
}
