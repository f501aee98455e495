/* State shared by the catalogue's files (faults.c: lifetime, deferred actions, heal;
 * kinds.c: the injectors; swarm.c: schedules). Not for use outside faults/. */
#ifndef EVC_FAULTS_FAULTS_INTERNAL_H
#define EVC_FAULTS_FAULTS_INTERNAL_H

#include "faults/faults.h"
#include "faults/params.h"

#define EVC_FAULTS_MS 1000000ull
#define EVC_FAULTS_DRIFT_TICK_NS (100ull * EVC_FAULTS_MS)

enum evc_fault_action_kind {
  EVC_FA_NET_KNOB = 1, /* knob back to its base */
  EVC_FA_LATENCY_RESET,
  EVC_FA_HEAL_PARTITION,
  EVC_FA_UNBLOCK,
  EVC_FA_DISK_DISARM,
  EVC_FA_RESTART,
  EVC_FA_WATCH_CRASH,
  EVC_FA_SCHEDULED,
  EVC_FA_HEAL_ALL,
  EVC_FA_DRIFT,
  EVC_FA_CRASH,        /* crash_random's moment, and stale_store's restore */
  EVC_FA_STALE_RESTORE,
};

struct evc_fault_action {
  struct evc_faults *f;
  enum evc_fault_action_kind kind;
  struct evc_sim_node *node;
  struct evc_sim_node *peer;  /* links */
  uint32_t knob;              /* 0 drop, 1 duplicate, 2 reorder, 3 dial_fail */
  uint64_t partition_epoch;   /* a heal ends only the partition it started */
  uint64_t delay_ns;          /* down time before a restart */
  uint64_t deadline_ns;
  uint64_t crashes_before;
  int64_t step_ns;
  char snapshot[32];
  char *name;                 /* EVC_FA_SCHEDULED: owned */
  char *params;               /* owned */
};

struct evc_faults {
  struct evc_sim *sim;
  struct evc_fault_host host;
  uint32_t base_knob[4];
  uint64_t knob_epoch[4];     /* a period's end restores a knob only if no later one set it */
  uint64_t partition_epoch;
  struct evc_fault_action **actions;
  size_t action_count;
  bool down_by_fault[EVC_SIM_NODES_MAX];
  bool healed;
  uint64_t heal_at_ns;
  uint64_t da_delay_max_ns;
  uint64_t snapshot_counter;
  int error;
  char error_message[600];
};

struct evc_fault_kind {
  const char *name;
  int (*apply)(struct evc_faults *f, struct evc_fault_params *p);
};

const struct evc_fault_kind *evc_faults_kind_find(const char *name);
/* Queues an action at at_ns (>= now); *out (optional) is the action. */
int evc_faults_defer(struct evc_faults *f, uint64_t at_ns, enum evc_fault_action_kind kind,
                     struct evc_sim_node *node, struct evc_fault_action **out);
/* Marks the node as taken down by a fault and starts it after delay_ns once it is down. */
int evc_faults_restart_later(struct evc_faults *f, struct evc_sim_node *node, uint64_t delay_ns);
/* The end of a period action (kinds.c). */
void evc_faults_end_period(struct evc_fault_action *a);
void evc_faults_set_error(struct evc_faults *f, int code, const char *message);
/* Checks that every key was read, then writes the fault's trace note; false on a problem. */
bool evc_faults_ready(struct evc_faults *f, struct evc_fault_params *p);

#endif
