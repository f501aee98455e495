/* Scenario files (scenarios/NAME.json): the loader that turns one file into plain, bounded C
 * structs for the simulator runner, with errors naming the file, the step and the key.
 * It must never crash or read out of bounds on any input, and depends only on cJSON,
 * node/common and libc (no simulator kernel headers). Schema: docs/scenarios.md. */
#ifndef EVC_SIM_SCENARIO_H
#define EVC_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVC_SCENARIO_FILE_BYTES_MAX (1024u * 1024u) /* a larger file is EVC_ETOOBIG */
#define EVC_SCENARIO_DEPTH_MAX 32u          /* JSON nesting of arrays/objects, at most */
#define EVC_SCENARIO_NODES_MAX 16u
#define EVC_SCENARIO_STEPS_MAX 256u
#define EVC_SCENARIO_NAME_LEN_MAX 32u       /* node, snapshot, fault and scenario names */
#define EVC_SCENARIO_ROLE_LEN_MAX 31u
#define EVC_SCENARIO_DESCRIPTION_LEN_MAX 512u
#define EVC_SCENARIO_MS_MAX 1000000000ull   /* any time or duration field, in ms (~11.6 d) */
#define EVC_SCENARIO_COUNT_MAX 9007199254740992ull /* 2^53: heights and counters */
#define EVC_SCENARIO_PPM_MAX 1000000u
#define EVC_SCENARIO_TXS_PER_BLOCK_MAX 10000u
#define EVC_SCENARIO_TTL_BLOCKS_MAX 100000u
#define EVC_SCENARIO_FAULT_PARAMS_BYTES_MAX (64u * 1024u) /* serialized fault params */
#define EVC_SCENARIO_NODE_NONE UINT8_MAX    /* "no node" in a node index field */
#define EVC_SCENARIO_GROUP_NONE UINT8_MAX   /* a node named in no partition group */

/* Node modes as scenario files write them (lowercase, same order as the table in .c). */
enum evc_scenario_mode {
  EVC_SCENARIO_MODE_BOOT = 0,
  EVC_SCENARIO_MODE_CATCHING_UP,
  EVC_SCENARIO_MODE_DRAINING,
  EVC_SCENARIO_MODE_PRODUCING,
  EVC_SCENARIO_MODE_STOPPED,
  EVC_SCENARIO_MODE_FAILED,
  EVC_SCENARIO_MODE_SYNCING,
  EVC_SCENARIO_MODE_COUNT
};

/* Unsigned integer that may be absent. */
struct evc_scenario_opt_u64 {
  bool set;
  uint64_t value;
};

struct evc_scenario_opt_mode {
  bool set;
  enum evc_scenario_mode value;
};

struct evc_scenario_opt_bool {
  bool set;
  bool value;
};

struct evc_scenario_range_ms {
  uint64_t min_ms;
  uint64_t max_ms; /* min_ms <= max_ms */
};

struct evc_scenario_chain {
  uint64_t block_time_ms;         /* > 0, default 100 */
  uint64_t da_block_time_ms;      /* > 0, default 1000 */
  uint64_t txs_per_block;         /* default 2 */
  uint64_t da_mempool_ttl_blocks; /* L, > 0, default 10 */
};

struct evc_scenario_network {
  struct evc_scenario_range_ms latency; /* default [2, 40] */
  uint32_t drop_ppm;                    /* default 0 */
};

struct evc_scenario_da {
  struct evc_scenario_range_ms inclusion_delay; /* default [0, 1500]; max < L x DA time */
};

struct evc_scenario_node {
  char name[EVC_SCENARIO_NAME_LEN_MAX + 1];
  char role[EVC_SCENARIO_ROLE_LEN_MAX + 1]; /* one of evc_scenario_role_name(i) */
  uint8_t peers[EVC_SCENARIO_NODES_MAX];    /* node indices this node dials */
  uint8_t peers_count;
  uint8_t key_of; /* index of the aggregator whose signer key it shares, or NODE_NONE */
};

enum evc_scenario_trigger {
  EVC_SCENARIO_TRIGGER_AT = 1, /* at_ms: absolute virtual time */
  EVC_SCENARIO_TRIGGER_AFTER,  /* after_ms: after the previous step ran */
  EVC_SCENARIO_TRIGGER_WHEN,   /* when: a condition on one node */
};

enum evc_scenario_condition {
  EVC_SCENARIO_COND_HEIGHT_GTE = 1,
  EVC_SCENARIO_COND_DA_INCLUDED_GTE,
  EVC_SCENARIO_COND_DA_PENDING_EQ,
  EVC_SCENARIO_COND_DA_PENDING_GTE,
  EVC_SCENARIO_COND_DA_POSTED_UNINCLUDED_GTE,
  EVC_SCENARIO_COND_MODE,
};

struct evc_scenario_when {
  uint8_t node;
  enum evc_scenario_condition condition;
  uint64_t value;              /* the count, for every condition but MODE */
  enum evc_scenario_mode mode; /* for COND_MODE */
};

enum evc_scenario_action {
  EVC_SCENARIO_DO_START = 1,
  EVC_SCENARIO_DO_STOP,
  EVC_SCENARIO_DO_CRASH,
  EVC_SCENARIO_DO_WIPE,
  EVC_SCENARIO_DO_LOSE_MACHINE,
  EVC_SCENARIO_DO_SNAPSHOT,
  EVC_SCENARIO_DO_RESTORE,
  EVC_SCENARIO_DO_PARTITION,
  EVC_SCENARIO_DO_HEAL,
  EVC_SCENARIO_DO_DA_OUTAGE,
  EVC_SCENARIO_DO_DA_SLOW,
  EVC_SCENARIO_DO_FAULT,
};

enum evc_scenario_crash_point {
  EVC_SCENARIO_CRASH_NOW = 0,         /* no point: power cut when the step runs */
  EVC_SCENARIO_CRASH_AFTER_NEXT_SIGN, /* right after the next sign-state write */
};

enum evc_scenario_snapshot_scope {
  EVC_SCENARIO_SCOPE_DATA = 0, /* data/ only (default): a stale store */
  EVC_SCENARIO_SCOPE_HOME,     /* the whole HOME: a restored backup, sign state included */
};

struct evc_scenario_step {
  size_t index; /* position in the timeline, for messages */
  enum evc_scenario_trigger trigger;
  uint64_t trigger_ms;                 /* at_ms or after_ms */
  struct evc_scenario_when when;       /* trigger WHEN */
  struct evc_scenario_opt_u64 timeout; /* only with WHEN */
  enum evc_scenario_action action;
  uint8_t node; /* start stop crash wipe lose_machine snapshot restore; else NODE_NONE */
  /* start */
  struct evc_scenario_opt_u64 catchup_p2p_timeout_ms;
  struct evc_scenario_opt_u64 inbound_grace_ms;
  bool da_only; /* default false */
  /* crash */
  enum evc_scenario_crash_point crash_point;
  /* snapshot, restore (snapshot_name); fault (fault_name) */
  char snapshot_name[EVC_SCENARIO_NAME_LEN_MAX + 1];
  enum evc_scenario_snapshot_scope scope;
  /* partition: the group index of every node, GROUP_NONE = in no group (isolated) */
  uint8_t group_of[EVC_SCENARIO_NODES_MAX];
  uint8_t groups_count;
  /* da_outage, da_slow */
  uint64_t duration_ms;
  struct evc_scenario_range_ms inclusion_delay; /* da_slow */
  /* fault */
  char fault_name[EVC_SCENARIO_NAME_LEN_MAX + 1];
  char *fault_params_json; /* owned, NUL-terminated compact JSON object ("{}" default) */
};

struct evc_scenario_hazards {
  struct evc_scenario_opt_u64 p2p_only_blocks_at_crash_gte;
  struct evc_scenario_opt_mode crashed_in_mode;
  struct evc_scenario_opt_u64 late_blobs_landed_gte;
  struct evc_scenario_opt_u64 soft_blocks_rolled_back_gte;
  struct evc_scenario_opt_u64 blocks_from_peers_gte;
  struct evc_scenario_opt_bool republished_signed_block;
  struct evc_scenario_opt_u64 own_key_conflicts_detected_gte;
};

struct evc_scenario_expect {
  uint64_t within_ms; /* required, > 0 */
  /* per node, indexed like evc_scenario.nodes */
  struct evc_scenario_opt_u64 produced_after_recovery_gte[EVC_SCENARIO_NODES_MAX];
  struct evc_scenario_opt_u64 produced_after_recovery_lte[EVC_SCENARIO_NODES_MAX];
  struct evc_scenario_opt_mode mode[EVC_SCENARIO_NODES_MAX];
  struct evc_scenario_opt_bool equivocations_reported[EVC_SCENARIO_NODES_MAX];
  uint8_t same_chain[EVC_SCENARIO_NODES_MAX]; /* node indices, distinct */
  uint8_t same_chain_count;
  struct evc_scenario_hazards hazards;
};

struct evc_scenario {
  char name[EVC_SCENARIO_NAME_LEN_MAX * 2 + 1];
  char description[EVC_SCENARIO_DESCRIPTION_LEN_MAX + 1];
  struct evc_scenario_chain chain;
  struct evc_scenario_network network;
  struct evc_scenario_da da;
  struct evc_scenario_node nodes[EVC_SCENARIO_NODES_MAX];
  uint8_t nodes_count; /* >= 1 */
  struct evc_scenario_step steps[EVC_SCENARIO_STEPS_MAX];
  size_t steps_count;
  struct evc_scenario_expect expect;
};

/* Parses a scenario from size bytes of JSON (need not be NUL-terminated); file_label names
 * the source in messages. On failure writes "LABEL: PATH: what" to err and returns
 * EVC_ECONFIG (schema), EVC_EDECODE (JSON syntax) or EVC_ETOOBIG (size or nesting); out is
 * then left empty (safe to free). On success the caller owns out: evc_scenario_free it. */
int evc_scenario_parse(const char *json, size_t size, const char *file_label,
                       struct evc_scenario *out, char *err, size_t err_size);
/* Reads and parses a file (at most EVC_SCENARIO_FILE_BYTES_MAX bytes). Errors as for
 * evc_scenario_parse, plus EVC_ENOTFOUND (no such file) and EVC_EIO (read failed). */
int evc_scenario_load_file(const char *path, struct evc_scenario *out, char *err,
                           size_t err_size);
/* Frees what a successful parse allocated and empties s; safe on an empty scenario. */
void evc_scenario_free(struct evc_scenario *s);

/* Lowercase name of a mode ("catching_up"); "?" for a value out of range. */
const char *evc_scenario_mode_name(enum evc_scenario_mode mode);
/* Looks a mode up by its lowercase name: 0 and *mode_out, or EVC_ENOTFOUND. */
int evc_scenario_mode_from_name(const char *name, enum evc_scenario_mode *mode_out);
/* The known node roles, index 0 .. count-1 ("aggregator", "full", then the byzantine peers
 * "liar_height", "byz_bad_sig", "byz_slow", "byz_reorder", "byz_flood"). */
size_t evc_scenario_roles_count(void);
const char *evc_scenario_role_name(size_t index);
/* True when the node's role signs blocks (today: "aggregator"). */
bool evc_scenario_node_is_aggregator(const struct evc_scenario_node *node);
/* Index of the node with this name, or EVC_ENOTFOUND. */
int evc_scenario_node_index(const struct evc_scenario *s, const char *name, uint8_t *index_out);

#endif
