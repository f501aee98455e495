/* The fault catalogue: named injectors with JSON parameters that act on a running
 * simulation (network, DA, process, disk, clock), plus the swarm schedule generator.
 * It drives the kernel only through sim/sim.h and the runner's lifecycle host; it never
 * reads node internals and never draws randomness outside the simulation's seed. */
#ifndef EVC_FAULTS_FAULTS_H
#define EVC_FAULTS_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim.h"

#define EVC_FAULTS_ACTIONS_MAX 4096u /* deferred actions (ends of periods, restarts) per run */
#define EVC_FAULTS_SCHEDULE_MAX 256u /* entries of one "schedule" fault */
#define EVC_FAULTS_POLL_NS (50ull * 1000000ull) /* how often a restart waits for "down" */
#define EVC_FAULTS_WAIT_DOWN_NS (120ull * 1000000000ull) /* and for how long at most */

/* The runner's lifecycle calls, which also tell its invariant checker. Each returns 0 or
 * a negative EVC_E* code; a node that is in the wrong state is EVC_ESTATE. */
struct evc_fault_host {
  void *arg;
  int (*crash)(void *arg, struct evc_sim_node *node);
  int (*stop)(void *arg, struct evc_sim_node *node);
  int (*start)(void *arg, struct evc_sim_node *node); /* with the node's last options */
  int (*wipe)(void *arg, struct evc_sim_node *node);  /* node down */
  int (*snapshot)(void *arg, struct evc_sim_node *node, const char *name);
  int (*restore)(void *arg, struct evc_sim_node *node, const char *name); /* node down */
};

struct evc_faults;

/* A catalogue bound to one simulation (borrowed; it must outlive the catalogue). It reads
 * the network's fault knobs now as the base that fault periods return to. EVC_ENOMEM. */
int evc_faults_new(struct evc_sim *sim, const struct evc_fault_host *host,
                   struct evc_faults **out);
void evc_faults_free(struct evc_faults *f);

/* Injects fault `name` now with params (a JSON object; NULL or "" = {}). Unknown names,
 * unknown or missing keys and out-of-range values are EVC_EINVAL with a message naming the
 * fault and the key in err. Periods end by themselves (queued events). */
int evc_faults_apply(struct evc_faults *f, const char *name, const char *params_json, char *err,
                     size_t err_size);

/* Ends every fault now and stops later ones from acting: network knobs back to the base,
 * partitions healed, links reset, DA faults cleared, disk faults disarmed, crash points
 * disarmed, clock drift stopped (offsets stay), and every node a fault took down and that
 * is down now is started again. */
void evc_faults_heal(struct evc_faults *f);
/* The time a "schedule" fault asked for the heal (0: none asked), and whether it ran. */
uint64_t evc_faults_heal_at_ns(const struct evc_faults *f);
bool evc_faults_healed(const struct evc_faults *f);
/* The largest DA inclusion delay a fault asked for (da_slow, da_hang), in ns. */
uint64_t evc_faults_da_delay_max_ns(const struct evc_faults *f);
/* The first deferred action that failed (0 while none) and its message. */
int evc_faults_error(const struct evc_faults *f, const char **message_out);

/* The catalogue's fault names, in order (for docs and --help). */
size_t evc_faults_count(void);
const char *evc_faults_name(size_t index);

/* ---- swarm ---- */

struct evc_swarm_node {
  const char *name;
  bool aggregator; /* signs blocks (keys/ faults target these) */
};

/* What a swarm schedule needs of a scenario. */
struct evc_swarm_scope {
  const char *name; /* the scenario's: each scenario draws its own mix for a seed */
  const struct evc_swarm_node *nodes;
  size_t node_count;
  uint64_t within_ms;
  uint64_t da_block_time_ms;
  uint64_t da_ttl_blocks;
  uint64_t inclusion_delay_max_ms;
};

/* Draws a fault schedule from seed: each fault kind's probability is itself drawn (zero
 * included), then each kind fires that often over the safety phase, with parameters drawn
 * in its documented ranges. Writes a malloc'd JSON object, the params of one "schedule"
 * fault ({"heal_at_ms":T,"faults":[{"at_ms":..,"name":..,"params":{..}},..]}).
 * EVC_ENOMEM. */
int evc_faults_swarm_schedule(uint64_t seed, const struct evc_swarm_scope *scope,
                              char **json_out);

#endif
