/* The deterministic simulator kernel: one event queue ordered by (virtual time, insertion
 * sequence), seeded named random streams, a simulated network and DA layer, and one
 * struct evc_env per simulated node. A run is a pure function of (config, seed, node code):
 * nothing here reads a clock, sleeps, uses floating point or iterates in pointer order.
 *
 * Threading and re-entrancy: everything runs on the caller's thread. Node code runs only
 * inside evc_sim_step (and inside evc_sim_node_start/stop, which call create/stop). The
 * lifecycle and fault functions below must not be called from inside node code or from an
 * observer callback (asserted); defer them with evc_sim_schedule(sim, evc_sim_now(sim), ..).
 *
 * Times are virtual nanoseconds since the start of the run (time 0). */
#ifndef EVC_SIM_SIM_H
#define EVC_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "node/core/env.h"
#include "node/crypto/crypto.h"
#include "node/types/types.h"

#define EVC_SIM_NODES_MAX 32
#define EVC_SIM_NODE_NAME_MAX 31         /* [A-Za-z0-9_-], 1..31 chars */
#define EVC_SIM_EVENTS_MAX (1u << 20)    /* queued events; beyond it the run fails */
#define EVC_SIM_PEERS_MAX 16             /* --p2p.peers entries per node */
#define EVC_SIM_OBSERVERS_MAX 8
#define EVC_SIM_COUNTERS_MAX 64          /* named counters per node */
#define EVC_SIM_COUNTER_NAME_MAX 47
#define EVC_SIM_MODE_TEXT_MAX 31
#define EVC_SIM_SNAPSHOTS_MAX 64
#define EVC_SIM_DA_NAMESPACES_MAX 16     /* namespaces per da_get call */
#define EVC_SIM_DA_CALL_BLOBS_MAX 1024   /* blobs per da_submit call (more: EVC_ETOOBIG) */
#define EVC_SIM_CONNECT_TIMEOUT_NS (1000000000ull) /* a dial across a partition fails after */
#define EVC_SIM_UNSET UINT64_MAX         /* a start option the node class should default */

/* Files the kernel writes on every node's disk when the node is added (JSON:
 * {"type":"ed25519","seed":"<hex>","pubkey":"<hex>"}); lose_machine keeps exactly these. */
#define EVC_SIM_SIGNER_KEY_FILE "keys/signer.json" /* aggregators and key_of twins only */
#define EVC_SIM_NODE_KEY_FILE "keys/node_key.json"
#define EVC_SIM_SIGN_STATE_FILE "keys/sign_state"  /* what crash_after_next_sign watches */
#define EVC_SIM_STORE_PATH "data/store.db"
#define EVC_SIM_CHAIN_ID "evc-sim"
#define EVC_SIM_HEADER_NAMESPACE_TEXT "evc-sim-headers"
#define EVC_SIM_DATA_NAMESPACE_TEXT "evc-sim-data"

struct evc_sim;
struct evc_sim_node;
struct evc_simdisk;

struct evc_sim_config {
  uint64_t seed;
  /* chain */
  uint64_t block_time_ns;
  uint32_t txs_per_block;
  uint64_t genesis_time_ns;       /* unix ns of virtual time 0: the wall clock's origin */
  /* network */
  uint64_t net_latency_min_ns;    /* each message/dial draws its latency in [min, max] */
  uint64_t net_latency_max_ns;
  uint32_t net_drop_ppm;
  uint32_t net_duplicate_ppm;
  uint32_t net_reorder_ppm;       /* a message may overtake earlier ones on its connection */
  uint32_t net_dial_fail_ppm;     /* a dial fails (EVC_ECLOSED) after one latency */
  uint32_t net_queue_messages_max; /* in flight per connection direction: EVC_EFULL beyond */
  /* DA */
  uint64_t da_block_time_ns;      /* DA block h is produced at time h * da_block_time_ns */
  uint64_t da_mempool_ttl_blocks; /* L: submitted at head d, included at <= d + L or dropped */
  uint64_t da_inclusion_delay_min_ns;
  uint64_t da_inclusion_delay_max_ns;
  uint64_t da_rpc_latency_min_ns; /* every DA reply arrives after a latency in [min, max] */
  uint64_t da_rpc_latency_max_ns;
  size_t da_blob_size_max;        /* per blob; over it the submit callback gets EVC_ETOOBIG */
  size_t da_call_size_max;        /* per submit call (sum of blob sizes) */
  /* trace */
  FILE *trace_out;                /* NULL: no text copy of the trace */
};

/* Fills c with defaults: seed 1, block 100 ms, 2 txs, latency [2, 40] ms, DA block 1 s,
 * TTL 10, inclusion delay [0, 1500] ms, DA RPC latency [1, 5] ms, blob max 5 MiB, call max
 * 8 MiB, queue 4096 messages, genesis time 2024-01-01T00:00:00Z, every ppm 0. */
void evc_sim_config_default(struct evc_sim_config *c);

/* Creates a simulation (copies config) and queues DA block 1. Seeds SQLite's PRNG from the
 * seed (SQLITE_TESTCTRL_PRNG_SEED) and resets it: process-global, so simulations must run
 * one after another, not interleaved. EVC_ECONFIG (a range with min > max, a zero block
 * time, DA block time, TTL, queue or size limit), EVC_ENOMEM, EVC_EIO (libsodium/SQLite). */
int evc_sim_new(const struct evc_sim_config *config, struct evc_sim **sim_out);
/* Destroys every node object (no I/O beyond what their destroy does), disk and VFS. */
void evc_sim_free(struct evc_sim *sim);

/* ---- run loop ---- */

/* Runs the next event. EVC_ENOTFOUND: the queue is empty (never with DA running: DA blocks
 * are events); the run's failure code (EVC_EFULL: event cap) once it failed. */
int evc_sim_step(struct evc_sim *sim);
/* Runs every event at or before time_ns, then sets the clock to time_ns (>= now). */
int evc_sim_run_until(struct evc_sim *sim, uint64_t time_ns);
typedef bool (*evc_sim_predicate)(void *arg);
/* Runs events until pred(arg) holds (checked first and after every event; *held_out =
 * true, the clock stays at that event's time) or no event is left at or before
 * deadline_ns (*held_out = false, the clock moves to deadline_ns). */
int evc_sim_run_until_predicate(struct evc_sim *sim, uint64_t deadline_ns,
                                evc_sim_predicate pred, void *arg, bool *held_out);
uint64_t evc_sim_now(const struct evc_sim *sim);
/* Events run so far and events queued now (cancelled timers included until popped). */
uint64_t evc_sim_events_run(const struct evc_sim *sim);
size_t evc_sim_events_queued(const struct evc_sim *sim);
/* The first failure of the run (0 while none) and its message. */
int evc_sim_failure(const struct evc_sim *sim, const char **message_out);

typedef void (*evc_sim_event_function)(void *arg);
/* Runs fn(arg) as an event at at_ns (>= now; same time: after events queued earlier). It
 * may call the lifecycle and fault functions. EVC_ERANGE for a past time; EVC_EFULL. */
int evc_sim_schedule(struct evc_sim *sim, uint64_t at_ns, evc_sim_event_function fn, void *arg);

/* ---- trace ---- */

/* SHA-256 over every trace line so far (events only, never the seed). */
void evc_sim_trace_hash(const struct evc_sim *sim, uint8_t out[EVC_HASH_SIZE]);
/* Also hands every trace line (with its '\n', valid during the call) to sink. */
void evc_sim_set_trace_sink(struct evc_sim *sim, void (*sink)(void *arg, const char *line,
                                                              size_t size), void *arg);
uint64_t evc_sim_trace_lines(const struct evc_sim *sim);
/* Appends a line "node=<node or -> <text>" (for the runner's own steps and verdicts). */
void evc_sim_trace_note(struct evc_sim *sim, const char *node, const char *text);

/* ---- randomness ---- */

/* Draws 64 bits from the run's "faults" stream (for fault injectors and the runner). */
uint64_t evc_sim_fault_random(struct evc_sim *sim);

/* ---- nodes ---- */

struct evc_sim_start_options {
  uint64_t catchup_p2p_timeout_ms; /* EVC_SIM_UNSET: the node's default */
  uint64_t inbound_grace_ms;       /* EVC_SIM_UNSET: the node's default */
  uint64_t catchup_peek_timeout_ms;
  uint64_t shutdown_timeout_ms;
  bool da_only;
  const void *extra;               /* class-specific, borrowed for the create call only */
};
/* Every option unset, da_only false, extra NULL. */
void evc_sim_start_options_default(struct evc_sim_start_options *o);

/* What a node class's create receives. Borrowed for the create call: copy what you keep. */
struct evc_sim_node_spec {
  const char *name;
  const char *role;                  /* "aggregator", "full", or a class-defined role */
  bool has_signer;                   /* aggregators and key_of twins */
  struct evc_keypair signer;         /* "keys/<name or key_of>/signer" stream */
  struct evc_keypair node_key;       /* "keys/<name>/node" stream: its P2P identity */
  const char *const *peers;          /* node names: its --p2p.peers */
  size_t peer_count;
  struct evc_sim_start_options start;
  struct evc_genesis genesis;
  uint64_t block_time_ns;
  uint32_t txs_per_block;
  uint64_t da_block_time_ns;
  uint64_t da_mempool_ttl_blocks;
  const void *class_arg;             /* from evc_sim_node_params, borrowed */
};

struct evc_sim_node_class {
  const char *name;
  /* Builds a node on env (valid until destroy returns) and starts it. It may call env
   * functions; callbacks arrive later from the loop. Non-zero: the start failed. */
  int (*create)(struct evc_env *env, const struct evc_sim_node_spec *spec, void **node_out);
  /* Frees everything. After a crash its disk handles are dead and env calls are no-ops. */
  void (*destroy)(void *node);
  const struct evc_node_entry *entry;
};

struct evc_sim_node_params {
  const char *name;
  const char *role;
  const struct evc_sim_node_class *node_class;
  const char *key_of;                /* NULL, or share this node's signer key (a twin) */
  const char *const *peers;          /* copied */
  size_t peer_count;
  const void *class_arg;             /* borrowed for the sim's life */
};

/* Adds a node (not started): creates its disk and VFS, derives its keys, writes its key
 * files. The first "aggregator" added names the genesis proposer. EVC_EEXIST (name taken),
 * EVC_EINVAL (bad name, unknown peer is allowed: dials to it fail), EVC_EFULL (too many). */
int evc_sim_add_node(struct evc_sim *sim, const struct evc_sim_node_params *params,
                     struct evc_sim_node **node_out);
struct evc_sim_node *evc_sim_node_find(struct evc_sim *sim, const char *name);
size_t evc_sim_node_count(const struct evc_sim *sim);
struct evc_sim_node *evc_sim_node_at(struct evc_sim *sim, size_t index); /* add order */
/* The chain genesis the kernel built (chain id evc-sim, initial height 1). */
const struct evc_genesis *evc_sim_genesis(const struct evc_sim *sim);

/* ---- lifecycle (never from inside node code) ----
 * start, wipe, lose_machine and restore first finish a pending exit (a node EXITING is
 * destroyed at once), so a runner may stop and restart a node at the same instant. */

/* Creates a new node object on the node's disk; options NULL = defaults. EVC_ESTATE when
 * it is not down; the create's error when that fails (the node stays down). */
int evc_sim_node_start(struct evc_sim_node *node, const struct evc_sim_start_options *options);
/* Graceful: calls entry.stop; the node finishes and calls env->request_stop, then it is
 * destroyed at the next event. EVC_ESTATE when not running (or already stopping). */
int evc_sim_node_stop(struct evc_sim_node *node);
/* Power cut: evc_simdisk_crash on its disk, then destroy (its env calls are no-ops from
 * then on). Open connections drop (peers notice after one latency). EVC_ESTATE when down. */
int evc_sim_node_crash(struct evc_sim_node *node);
/* Arms a crash at the first successful file_replace of keys/sign_state from now on (this
 * or a later life): the write is durable, file_replace returns 0, and at that instant the
 * disk is power-cut and the node is dead: every later env call of that node (until its
 * call returns) is a no-op or fails (EVC_ESTOPPED; file_replace EVC_EIO; log and observe
 * dropped), so no message, dial or DA call made after the write leaves it. Messages sent
 * before it and still in flight are dropped with its connections; DA submissions accepted
 * before it stay accepted (they may land later). The object is destroyed at the next
 * event (or by the next lifecycle call on it). */
void evc_sim_node_crash_after_next_sign(struct evc_sim_node *node);
/* data/ is removed (keys, sign state, peer book survive). EVC_ESTATE unless down. */
int evc_sim_node_wipe(struct evc_sim_node *node);
/* Everything is removed except EVC_SIM_SIGNER_KEY_FILE and EVC_SIM_NODE_KEY_FILE (the sign
 * state and peer book go too). EVC_ESTATE unless down. */
int evc_sim_node_lose_machine(struct evc_sim_node *node);
/* Copies the durable images of data/ (scope "data" or NULL) or of the whole HOME (scope
 * "home") under snapshot_name (1..31 chars [A-Za-z0-9_-]; replaces one of that name for
 * this node). Allowed while running. EVC_EINVAL, EVC_EFULL, EVC_ENOMEM. */
int evc_sim_node_snapshot(struct evc_sim_node *node, const char *snapshot_name,
                          const char *scope);
/* Puts a snapshot back (its scope's files are replaced). EVC_ENOTFOUND; down only. */
int evc_sim_node_restore(struct evc_sim_node *node, const char *snapshot_name);

/* ---- per-node view (what the runner's conditions read) ---- */

enum evc_sim_node_state {
  EVC_SIM_NODE_DOWN,     /* never started, stopped, crashed, or start failed */
  EVC_SIM_NODE_RUNNING,
  EVC_SIM_NODE_STOPPING, /* entry.stop was called; it still runs until request_stop */
  EVC_SIM_NODE_EXITING,  /* request_stop or a sign crash: destroyed at the next event */
};

struct evc_sim_node_view {
  const char *name;
  const char *role;
  enum evc_sim_node_state state;
  bool running;                 /* RUNNING or STOPPING */
  const char *mode;             /* last EVC_OBS_MODE text of this life ("" since start) */
  uint64_t stored_height;       /* last EVC_OBS_BLOCK_STORED/ROLLED_BACK height (kept) */
  uint64_t da_included_height;  /* last EVC_OBS_DA_INCLUDED height (kept across lives) */
  uint64_t produced_since_start; /* EVC_OBS_BLOCK_PRODUCED since the last start */
  uint64_t sync_count;          /* durable writes of its disk so far */
  uint64_t starts;
  uint64_t crashes;             /* crash and crash_after_next_sign */
  int exit_code;                /* of the last request_stop (0 before any) */
  const char *exit_reason;      /* "" before any */
};

void evc_sim_node_get_view(const struct evc_sim_node *node, struct evc_sim_node_view *view);
const char *evc_sim_node_name(const struct evc_sim_node *node);
/* A named counter (sum of EVC_OBS_COUNTER counts) or gauge (last EVC_OBS_GAUGE count),
 * kept across lives; 0 when never seen. Counters and gauges share one namespace. */
uint64_t evc_sim_node_counter(const struct evc_sim_node *node, const char *counter_name);
/* Counters in name order: false past the end. */
bool evc_sim_node_counter_at(const struct evc_sim_node *node, size_t index,
                             const char **name_out, uint64_t *value_out);
/* The node object of the current life (NULL when down): for tests of a node class. */
void *evc_sim_node_object(const struct evc_sim_node *node);
/* The node's disk, for fault injection and for files a runner writes before a start. */
struct evc_simdisk *evc_sim_node_disk(struct evc_sim_node *node);
const struct evc_keypair *evc_sim_node_key(const struct evc_sim_node *node);
/* The signer keypair, or NULL for a node without one. */
const struct evc_keypair *evc_sim_node_signer(const struct evc_sim_node *node);
/* Adds offset_ns to this node's wall clock from now on (a skewed clock; may be negative). */
void evc_sim_node_set_wall_offset(struct evc_sim_node *node, int64_t offset_ns);

/* Called for every observation of every node, after the node's view is updated. It must
 * not call lifecycle functions (defer them with evc_sim_schedule). */
typedef void (*evc_sim_observer)(void *arg, struct evc_sim_node *node,
                                 const struct evc_observation *observation);
int evc_sim_add_observer(struct evc_sim *sim, evc_sim_observer fn, void *arg); /* EVC_EFULL */

/* ---- network ---- */

struct evc_sim_group {
  const char *const *names;
  size_t count;
};
/* Cuts every link between nodes of different groups (replacing any earlier partition).
 * Nodes named in no group form one more group together. Open and connecting connections
 * across groups drop (both sides see peer_disconnected after one latency; a pending dial
 * fails with EVC_ETIMEDOUT at its 1 s connect timeout); new dials across fail the same
 * way. EVC_ENOTFOUND (unknown name), EVC_EINVAL (a name in two groups). */
int evc_sim_partition(struct evc_sim *sim, const struct evc_sim_group *groups,
                      size_t group_count);
/* Restores every link. */
void evc_sim_heal(struct evc_sim *sim);
/* Overrides the latency range of the link between two nodes (both directions). */
int evc_sim_link_latency(struct evc_sim *sim, const char *a, const char *b, uint64_t min_ns,
                         uint64_t max_ns);
/* Sets the network's fault knobs (ppm) from now on. */
void evc_sim_net_faults(struct evc_sim *sim, uint32_t drop_ppm, uint32_t duplicate_ppm,
                        uint32_t reorder_ppm, uint32_t dial_fail_ppm);
/* True while a connection between the two nodes is open (both sides told). */
bool evc_sim_connected(const struct evc_sim *sim, const char *a, const char *b);

/* ---- DA ----
 * DA block h (h >= 1) is produced at virtual time h * da_block_time_ns; the head is the
 * number of DA blocks produced so far (0 before the first). Node calls:
 * - da_submit: refused (callback after one RPC latency) with EVC_ETOOBIG over a size limit
 *   or EVC_EDA during an outage. Else the call is accepted at once with an inclusion delay
 *   d drawn from the "da" stream ([min, max] of the config, or of da_slow while active):
 *   its blobs land together, after blobs accepted earlier, in the first block produced at
 *   or after now + d (never one already produced). If that block is above head + L (head
 *   at submit), the blobs are dropped and the callback gets EVC_ETIMEDOUT when block
 *   head + L is produced; else status 0 and the height when that block is produced. Both
 *   after one RPC latency.
 * - da_get / da_head: answered after one RPC latency with the DA state at the answer
 *   (EVC_EFUTURE above the head; EVC_EDA when the call was made during an outage).
 * Accepted submissions still land when their node crashes (its callback is dropped). */
uint64_t evc_sim_da_head(const struct evc_sim *sim);
/* The blobs at height (1..head) in DA order (index 0, 1, ...), every namespace; valid
 * until the next event or DA change. EVC_ERANGE outside 1..head. */
int evc_sim_da_blobs_at(const struct evc_sim *sim, uint64_t height,
                        const struct evc_da_blob **blobs_out, size_t *count_out);
/* Injects raw blobs (copied) to land together at DA height at_height (> head; 0 = the next
 * block), after the blobs already queued for it. EVC_ERANGE, EVC_ENOMEM. */
int evc_sim_da_inject(struct evc_sim *sim, const struct evc_da_blob *blobs, size_t count,
                      uint64_t at_height);
/* From now for duration_ns, every DA call fails with EVC_EDA after the RPC latency and
 * nothing submitted is accepted. Overlapping outages extend each other. */
void evc_sim_da_outage(struct evc_sim *sim, uint64_t duration_ns);
/* From now for duration_ns, submissions draw their inclusion delay from [min, max]. */
void evc_sim_da_slow(struct evc_sim *sim, uint64_t duration_ns, uint64_t delay_min_ns,
                     uint64_t delay_max_ns);
/* Submissions accepted but not yet included or dropped. */
size_t evc_sim_da_pending(const struct evc_sim *sim);

/* ---- fault hooks (the fault catalogue in faults/ drives these) ---- */

/* The configuration the simulation was created with. */
const struct evc_sim_config *evc_sim_config_of(const struct evc_sim *sim);
/* The network's current fault knobs (ppm). */
void evc_sim_net_faults_get(const struct evc_sim *sim, uint32_t *drop_ppm_out,
                            uint32_t *duplicate_ppm_out, uint32_t *reorder_ppm_out,
                            uint32_t *dial_fail_ppm_out);
/* Puts the link back on the configured latency range. EVC_ENOTFOUND, EVC_EINVAL. */
int evc_sim_link_latency_reset(struct evc_sim *sim, const char *a, const char *b);
/* Clogs the link between a and b until until_ns: a message sent on it before then is held
 * and delivered at until_ns plus its latency, in order (a stalled TCP stream that
 * resumes). until_ns <= now unclogs. EVC_ENOTFOUND, EVC_EINVAL. */
int evc_sim_link_clog(struct evc_sim *sim, const char *a, const char *b, uint64_t until_ns);
/* One-way loss: while blocked, every message from `from` to `to` is silently lost (the
 * connection stays open; the other direction works). EVC_ENOTFOUND, EVC_EINVAL. */
int evc_sim_link_block(struct evc_sim *sim, const char *from, const char *to, bool blocked);
/* Unclogs and unblocks every link and puts every link on the configured latency. */
void evc_sim_links_reset(struct evc_sim *sim);

/* From now for duration_ns DA calls hang: get/head answers and submit replies wait until
 * the hang ends (then one RPC latency), and a submission made during it is accepted only
 * then (its inclusion delay counts from the end, but it lands at head + L at the latest:
 * a hang delays, it never makes DA drop a blob). Overlapping hangs extend each other. */
void evc_sim_da_hang(struct evc_sim *sim, uint64_t duration_ns);
/* From now for duration_ns, the blobs of each produced DA block are shuffled (blobs
 * included out of submission order within a block). */
void evc_sim_da_shuffle(struct evc_sim *sim, uint64_t duration_ns);
/* From now for duration_ns, da_head answers report head - blocks (not below 0): a head
 * that briefly goes backwards. */
void evc_sim_da_head_lag(struct evc_sim *sim, uint64_t duration_ns, uint64_t blocks);
/* From now for duration_ns, a submission whose blobs total more than call_max bytes is
 * refused with EVC_ETOOBIG (a DA whose size limit shrank: a submitter must split). */
void evc_sim_da_too_large(struct evc_sim *sim, uint64_t duration_ns, size_t call_max);
/* Ends every DA outage, hang, slow period, shuffle, head lag and too-large period now. */
void evc_sim_da_faults_clear(struct evc_sim *sim);
/* The latest end time of any DA fault period (0 when none was ever set). */
uint64_t evc_sim_da_faults_until(const struct evc_sim *sim);

/* Arms a power cut at the n-th durable write of this node's disk from now on (n >= 1; 0
 * disarms), counted only while the node runs: the write is durable, and at that instant
 * the node dies exactly as with crash_after_next_sign. */
void evc_sim_node_crash_at_sync(struct evc_sim_node *node, uint64_t n);
/* Freezes the node's process from now for duration_ns (a long GC pause, SIGSTOP): its
 * timers, messages, dial results and DA replies wait until the pause ends, then run in
 * their original order. Its clocks keep running. */
void evc_sim_node_pause(struct evc_sim_node *node, uint64_t duration_ns);
/* The node's wall clock offset (evc_sim_node_set_wall_offset). */
int64_t evc_sim_node_wall_offset(const struct evc_sim_node *node);

#endif
