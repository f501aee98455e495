/* Internal state of the simulator kernel, shared by kernel.c (queue and loop), net.c,
 * da.c, env_sim.c and node.c. Not for use outside sim/: the public surface is sim/sim.h.
 * Every table is indexed by node index or slot number, never iterated in pointer order. */
#ifndef EVC_SIM_SIM_INTERNAL_H
#define EVC_SIM_SIM_INTERNAL_H

#include <string.h>

#include "node/core/log.h"
#include "sim/rng.h"
#include "sim/sim.h"
#include "sim/trace.h"

#define EVC_SIMK_PAIRS (EVC_SIM_NODES_MAX * EVC_SIM_NODES_MAX)
#define EVC_SIMK_SLOT_BITS 21
_Static_assert(EVC_SIM_EVENTS_MAX < (1u << EVC_SIMK_SLOT_BITS), "slot fits in a timer id");

enum evc_simk_event_kind {
  EVC_SIMK_EV_USER = 1,
  EVC_SIMK_EV_TIMER,
  EVC_SIMK_EV_WORK,
  EVC_SIMK_EV_CONNECT,
  EVC_SIMK_EV_PEER_DOWN,
  EVC_SIMK_EV_DIAL_FAILED,
  EVC_SIMK_EV_DELIVER,
  EVC_SIMK_EV_DA_BLOCK,
  EVC_SIMK_EV_DA_SUBMIT_REPLY,
  EVC_SIMK_EV_DA_GET,
  EVC_SIMK_EV_DA_HEAD,
  EVC_SIMK_EV_TEARDOWN,
};

struct evc_simk_event {
  uint32_t kind;
  uint32_t generation; /* of the slot: timer ids carry it */
  bool cancelled;
  uint32_t node;       /* the node the event is for (kinds that target a node) */
  uint64_t incarnation;
  union {
    struct { evc_sim_event_function fn; void *arg; } user;
    struct { evc_timer_callback cb; void *arg; } timer;
    struct { evc_work_function fn; void *work_arg; evc_work_done_callback done; void *arg; } work;
    struct { uint32_t pair; uint64_t epoch; } connect;
    struct { uint32_t peer; uint32_t pair; uint64_t epoch; } peer_down;
    struct { char *address; int status; } dial_failed; /* address owned */
    struct { uint32_t pair; uint64_t epoch; uint32_t from; uint8_t *bytes; size_t size; } deliver;
    struct { evc_da_submit_callback cb; void *arg; int status; uint64_t height; } submit;
    struct {
      evc_da_get_callback cb;
      void *arg;
      uint64_t height;
      bool fail;
      uint8_t (*namespaces)[EVC_NAMESPACE_SIZE];
      size_t namespace_count;
    } get;
    struct { evc_da_head_callback cb; void *arg; bool fail; } head;
  } u;
};

struct evc_simk_heap_entry {
  uint64_t time_ns;
  uint64_t seq;
  uint32_t slot;
};

enum evc_simk_conn_state { EVC_SIMK_CONN_NONE, EVC_SIMK_CONN_CONNECTING, EVC_SIMK_CONN_OPEN };

/* The link between nodes a < b (index a * EVC_SIM_NODES_MAX + b); side 0 is a, side 1 is b. */
struct evc_simk_pair {
  enum evc_simk_conn_state state;
  uint64_t epoch;            /* bumped by every dial: stale events carry an older one */
  uint32_t dialer;
  char dial_address[EVC_ADDRESS_TEXT_MAX + 1];
  uint64_t dial_time_ns;
  bool up[2];                /* side told peer_connected in this epoch */
  uint32_t inflight[2];      /* messages in flight sent by side */
  uint64_t last_deliver_ns[2];
  uint64_t quiet_until_ns;   /* no connect completes before pending disconnect notices */
  bool latency_override;
  uint64_t latency_min_ns;
  uint64_t latency_max_ns;
  uint64_t clog_until_ns;    /* messages sent before it are held until it */
  bool blocked[2];           /* messages sent by side are lost (one-way partition) */
};

struct evc_simk_counter {
  char name[EVC_SIM_COUNTER_NAME_MAX + 1];
  uint64_t value;
};

struct evc_sim_node {
  struct evc_sim *sim;
  uint32_t index;
  char name[EVC_SIM_NODE_NAME_MAX + 1];
  char role[EVC_SIM_NODE_NAME_MAX + 1];
  const struct evc_sim_node_class *node_class;
  const void *class_arg;
  char peers[EVC_SIM_PEERS_MAX][EVC_SIM_NODE_NAME_MAX + 1];
  const char *peer_ptrs[EVC_SIM_PEERS_MAX];
  size_t peer_count;
  bool has_signer;
  struct evc_keypair signer;
  struct evc_keypair node_key;
  struct evc_simdisk *disk;
  char vfs_name[64];
  bool vfs_registered;
  struct evc_sim_rng rng_node; /* env random_bytes */
  struct evc_sim_rng rng_disk; /* simdisk rand */
  struct evc_env env;
  enum evc_sim_node_state state;
  bool dead;                   /* crashed after sign: env calls are no-ops until teardown */
  uint64_t incarnation;        /* bumped by every start */
  void *object;
  bool crash_after_sign;
  uint64_t crash_at_sync;      /* durable writes left before a power cut (0 = off) */
  uint64_t paused_until_ns;
  int64_t wall_offset_ns;
  /* view */
  char mode[EVC_SIM_MODE_TEXT_MAX + 1];
  uint64_t stored_height;
  uint64_t da_included_height;
  uint64_t produced_since_start;
  uint64_t starts;
  uint64_t crashes;
  int exit_code;
  char exit_reason[128];
  struct evc_simk_counter counters[EVC_SIM_COUNTERS_MAX]; /* sorted by name */
  size_t counter_count;
};

struct evc_simk_da_submission {
  uint64_t land_height;     /* included at this height ... */
  uint64_t timeout_height;  /* ... or, when non-zero, dropped: EVC_ETIMEDOUT at this head */
  struct evc_da_blob *blobs; /* owned copies (bytes malloc'd) */
  size_t count;
  bool has_callback;
  uint32_t node;
  uint64_t incarnation;
  evc_da_submit_callback cb;
  void *arg;
};

struct evc_simk_da_height {
  struct evc_da_blob *blobs; /* owned: bytes malloc'd */
  size_t count;
};

struct evc_simk_da {
  uint64_t head;
  struct evc_simk_da_height *heights; /* [h - 1] for h in 1..head */
  size_t heights_capacity;
  struct evc_simk_da_submission *pending; /* in submission order */
  size_t pending_count;
  size_t pending_capacity;
  uint64_t outage_until_ns;
  uint64_t slow_until_ns;
  uint64_t slow_min_ns;
  uint64_t slow_max_ns;
  uint64_t hang_until_ns;
  uint64_t shuffle_until_ns;
  uint64_t head_lag_until_ns;
  uint64_t head_lag_blocks;
  uint64_t too_large_until_ns;
  size_t too_large_call_max;
  uint64_t faults_until_ns;  /* latest end of any fault period */
};

struct evc_simk_snapshot {
  uint32_t node;
  char name[EVC_SIM_NODE_NAME_MAX + 1];
  bool home;
  struct evc_simdisk *disk;
};

struct evc_simk_observer {
  evc_sim_observer fn;
  void *arg;
};

struct evc_sim {
  struct evc_sim_config config;
  uint64_t now_ns;
  uint64_t next_seq;
  uint64_t events_run;
  int failure;
  char failure_message[256];
  /* event pool and heap */
  struct evc_simk_event *events;
  uint32_t *free_slots;
  size_t free_count;
  size_t events_capacity;
  struct evc_simk_heap_entry *heap;
  size_t heap_count;
  /* streams */
  struct evc_sim_rng rng_network;
  struct evc_sim_rng rng_da;
  struct evc_sim_rng rng_faults;
  struct evc_sim_trace trace;
  int node_call_depth; /* > 0 while node code or an observer runs */
  struct evc_sim_node *nodes[EVC_SIM_NODES_MAX];
  size_t node_count;
  struct evc_genesis genesis;
  bool genesis_has_proposer;
  /* network */
  struct evc_simk_pair pairs[EVC_SIMK_PAIRS];
  uint32_t group_of[EVC_SIM_NODES_MAX];
  uint32_t drop_ppm;
  uint32_t duplicate_ppm;
  uint32_t reorder_ppm;
  uint32_t dial_fail_ppm;
  struct evc_simk_da da;
  struct evc_simk_observer observers[EVC_SIM_OBSERVERS_MAX];
  size_t observer_count;
  struct evc_simk_snapshot snapshots[EVC_SIM_SNAPSHOTS_MAX];
  size_t snapshot_count;
};

/* An event of `kind` for the current life of `node` (stale once the node restarts). */
static inline void evc_simk_node_event(const struct evc_sim_node *node,
                                       enum evc_simk_event_kind kind, struct evc_simk_event *ev) {
  memset(ev, 0, sizeof *ev);
  ev->kind = (uint32_t)kind;
  ev->node = node->index;
  ev->incarnation = node->incarnation;
}

/* kernel.c */
/* Queues a copy of ev at at_ns; *id_out (optional) identifies it for evc_simk_cancel.
 * EVC_EFULL at the event cap (the run is marked failed). */
int evc_simk_push(struct evc_sim *sim, uint64_t at_ns, const struct evc_simk_event *ev,
                  uint64_t *id_out);
/* Marks a queued event cancelled when id names one of kind for node; else no-op. */
void evc_simk_cancel(struct evc_sim *sim, uint64_t id, uint32_t kind, uint32_t node);
void evc_simk_fail(struct evc_sim *sim, int code, const char *message);
void evc_simk_trace(struct evc_sim *sim, const char *who, const char *fmt, ...)
    EVC_PRINTF(3, 4);
void evc_simk_event_release(struct evc_simk_event *ev);

/* node.c */
/* True when events for (node, incarnation) must still be delivered. */
bool evc_simk_node_live(const struct evc_sim *sim, uint32_t node, uint64_t incarnation);
void evc_simk_enter(struct evc_sim *sim);
void evc_simk_leave(struct evc_sim *sim);
void evc_simk_teardown(struct evc_sim *sim, const struct evc_simk_event *ev);
/* The crash instant of crash_after_next_sign (called from file_replace). */
void evc_simk_node_die_now(struct evc_sim_node *node);
void evc_simk_node_observed(struct evc_sim_node *node, const struct evc_observation *obs);
int evc_simk_node_index(const struct evc_sim *sim, const char *name);
void evc_simk_nodes_free(struct evc_sim *sim);

/* env_sim.c */
void evc_simk_env_init(struct evc_sim_node *node);
/* True when the node may act (not dead, has an object or is being created). */
bool evc_simk_node_may_act(const struct evc_sim_node *node);

/* net.c */
uint32_t evc_simk_pair_index(uint32_t a, uint32_t b);
int evc_simk_net_dial(struct evc_sim_node *node, const char *address);
int evc_simk_net_send(struct evc_sim_node *node, const struct evc_peer_id *peer,
                      const uint8_t *bytes, size_t size);
void evc_simk_net_disconnect(struct evc_sim_node *node, const struct evc_peer_id *peer);
/* Drops every connection of node (it stopped or crashed): peers notice after one latency. */
void evc_simk_net_node_down(struct evc_sim_node *node);
void evc_simk_net_dispatch(struct evc_sim *sim, struct evc_simk_event *ev);

/* da.c */
void evc_simk_da_start(struct evc_sim *sim);
void evc_simk_da_free(struct evc_sim *sim);
int evc_simk_da_submit(struct evc_sim_node *node, const struct evc_da_blob *blobs, size_t count,
                       evc_da_submit_callback cb, void *arg);
int evc_simk_da_get(struct evc_sim_node *node, uint64_t height,
                    const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE], size_t namespace_count,
                    evc_da_get_callback cb, void *arg);
int evc_simk_da_head_call(struct evc_sim_node *node, evc_da_head_callback cb, void *arg);
void evc_simk_da_dispatch(struct evc_sim *sim, struct evc_simk_event *ev);

#endif
