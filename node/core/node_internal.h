/* The node's internal state, shared by the files of node/core (node.c, chain.c, da_sync.c,
 * submitter.c, producer.c). Not a public interface: runtimes use node.h only. */
#ifndef EVC_CORE_NODE_INTERNAL_H
#define EVC_CORE_NODE_INTERNAL_H

#include "node/core/node.h"
#include "node/crypto/crypto.h"
#include "node/crypto/sign_state.h"
#include "node/exec/exec.h"
#include "node/store/store.h"

#define EVC_DA_WINDOW_MAX 32u             /* read-ahead slots */
#define EVC_DA_HEIGHT_BYTES_MAX (32u << 20) /* blob bytes kept per DA height; beyond: dropped */
#define EVC_DA_HEIGHT_BLOBS_MAX 4096u      /* blobs considered per DA height */
#define EVC_DA_HEIGHT_HEADERS_MAX 1024u    /* signature checks per DA height (junk cap) */
#define EVC_DA_PENDING_MAX 4096u           /* headers awaiting data, data awaiting headers */
#define EVC_DA_CANDIDATES_MAX 8192u        /* complete blocks not yet applicable */
#define EVC_DA_RETRY_MIN_NS 100000000ull   /* 100 ms */
#define EVC_VERIFY_BATCH_MAX EVC_DA_HEIGHT_HEADERS_MAX
#define EVC_SUBMIT_BACKOFF_MIN_NS 100000000ull

_Static_assert(EVC_VERIFY_BATCH_MAX >= EVC_DA_HEIGHT_HEADERS_MAX, "a batch holds a DA height");
_Static_assert(EVC_DA_WINDOW_MAX >= 2, "the window needs a probe slot and a working slot");

/* A complete block: signed header and data bytes (owned) and what was decoded from them. */
struct evc_block {
  uint8_t *header_bytes;
  size_t header_size;
  uint8_t *data_bytes;
  size_t data_size;
  struct evc_signed_header sh;
  uint8_t hash[EVC_HASH_SIZE];
  bool data_hash_checked; /* SHA-256 of the data is known to equal sh.header.data_hash */
};

struct evc_node;

enum evc_da_slot_state { EVC_SLOT_EMPTY, EVC_SLOT_REQUESTED, EVC_SLOT_FETCHED, EVC_SLOT_VERIFYING,
                         EVC_SLOT_VERIFIED };

struct evc_da_item { /* one blob of a fetched DA height */
  bool is_header;
  uint32_t index;
  size_t offset; /* into the slot's bytes */
  size_t size;
  bool decoded;  /* header: decodes, right chain and proposer; data: decodes */
  bool verified; /* header: signature checked ok */
  struct evc_signed_header sh;
  uint8_t hash[EVC_HASH_SIZE]; /* header hash or data hash */
};

struct evc_da_slot {
  struct evc_node *node;
  enum evc_da_slot_state state;
  uint64_t da_height;
  uint8_t *bytes;
  size_t size;
  struct evc_da_item *items;
  uint32_t item_count;
};

struct evc_da_pending { /* a header waiting for its data, or data waiting for a header */
  uint64_t da_height;
  uint32_t index;
  uint8_t hash[EVC_HASH_SIZE]; /* data hash (for data: its own; for a header: the one it names) */
  uint8_t *bytes;
  size_t size;
  struct evc_signed_header sh; /* headers only */
  uint8_t block_hash[EVC_HASH_SIZE]; /* headers only: the header's own hash */
};

struct evc_da_candidate { /* a complete block found on DA, not applicable yet */
  struct evc_block block;
  uint64_t da_height; /* DA position: the later of its header's and its data's */
  uint32_t da_index;
};

struct evc_verify_job {
  struct evc_node *node;
  bool busy;
  uint8_t pubkey[EVC_PUBKEY_SIZE];
  uint32_t count;
  const uint8_t *messages[EVC_VERIFY_BATCH_MAX]; /* header encodings */
  size_t sizes[EVC_VERIFY_BATCH_MAX];
  const uint8_t *signatures[EVC_VERIFY_BATCH_MAX];
  struct evc_da_item *items[EVC_VERIFY_BATCH_MAX];
  bool ok[EVC_VERIFY_BATCH_MAX];
  uint64_t first_da_height; /* the slots covered: [first, last] */
  uint64_t last_da_height;
};

struct evc_da_sync {
  uint64_t rejected_junk;     /* blobs ignored since the last da_blobs_rejected warning */
  uint64_t rejected_bad_sig;
  uint64_t rejected_warn_ns;  /* monotonic time of that warning; 0: none yet */
  uint64_t next_process;  /* lowest DA height not yet processed */
  uint64_t next_request;  /* next DA height to ask for */
  uint64_t head;          /* highest DA head observed */
  uint64_t future_at;     /* a get for this height answered "from the future" */
  uint64_t head_reads[2]; /* [1]: the last head answer, for d0 */
  uint32_t head_read_count;
  uint64_t d0_candidate;  /* highest DA height seen while d0 is being fixed */
  uint64_t d0_window_start_ns;
  bool head_inflight;
  uint64_t head_timer;
  uint64_t poll_timer;
  uint32_t error_streak;
  struct evc_da_slot slots[EVC_DA_WINDOW_MAX];
  uint32_t window;
  struct evc_verify_job verify;
  struct evc_da_pending *headers; /* awaiting data, in DA order */
  uint32_t header_count;
  struct evc_da_pending *datas;   /* awaiting a header, in DA order */
  uint32_t data_count;
  struct evc_da_candidate *candidates; /* sorted by (height, da_height, da_index) */
  uint32_t candidate_count;
};

/* A call starts at most every quarter DA block and stays in flight until its blobs land,
 * which the mempool TTL bounds to L DA blocks (then it expires and is posted again). So
 * 4 L + 4 calls in flight never make a block wait for a free call (submitter.c);
 * the array holds that many for L up to 31. */
#define EVC_SUBMIT_INFLIGHT_MAX 128u

struct evc_submit_call { /* one Submit call in flight: heights [from, to] */
  struct evc_node *node;
  bool busy;
  uint64_t from;
  uint64_t to;
};

struct evc_submitter {
  bool running;
  uint64_t next_height;    /* lowest height no Submit call has carried (or to post again) */
  uint32_t batch_limit;    /* blocks per call; halved on "too big" */
  uint64_t backoff_ns;
  uint64_t retry_timer;    /* armed after a failure, or to space calls out */
  uint64_t last_call_ns;   /* monotonic time of the last call started */
  struct evc_submit_call calls[EVC_SUBMIT_INFLIGHT_MAX];
  uint32_t inflight;
  uint64_t submits_started;
  uint64_t submits_ok;
};

#define EVC_PEERS_CONNECTED_MAX 32u
#define EVC_KNOWN_PEERS_MAX 64u
#define EVC_PEER_BOOK_FILE "peers.json"
#define EVC_PEER_BOOK_SIZE_MAX (64u << 10)
#define EVC_REDIAL_MIN_NS 100000000ull     /* 100 ms */
#define EVC_REDIAL_MAX_NS 2000000000ull    /* DESIGN.md: redial backoff capped at 2 s */
#define EVC_P2P_REQUEST_TIMEOUT_NS 5000000000ull
#define EVC_P2P_TICK_NS 1000000000ull

struct evc_peer { /* a connected peer */
  bool used;
  struct evc_peer_id id;
  char address[EVC_ADDRESS_TEXT_MAX];
  bool inbound;
  bool answered;       /* sent a status since it connected */
  uint64_t head;       /* height proven by a header signed by the genesis key (0: none) */
  bool requesting;     /* a GET_BLOCKS is outstanding */
  uint64_t request_from;
  uint32_t request_count;
  uint64_t request_at_ns;
  int32_t known;       /* index in known[], or -1 */
};

struct evc_known_peer { /* --p2p.peers and the peer book: dialled and redialled */
  struct evc_node *node;
  char address[EVC_ADDRESS_TEXT_MAX];
  bool has_id;
  struct evc_peer_id id;
  bool connected;
  bool dialing;
  bool answered;       /* answered at least once since this start */
  uint64_t backoff_ns;
  uint64_t redial_timer;
};

struct evc_mempool {
  uint8_t **txs;
  uint32_t *sizes;
  uint32_t head;
  uint32_t count;
  uint32_t capacity;
  uint64_t bytes;
};

struct evc_node {
  struct evc_env *env;
  struct evc_node_config cfg;
  enum evc_mode mode;
  const char *failure;
  const char *waiting_for;
  const char *waiting_logged[2];     /* the last two reasons logged, [0] the latest */
  uint64_t waiting_logged_ns;        /* when the last reason was logged */
  bool started;
  bool stop_requested;
  bool stop_reported;
  struct evc_keypair signer;
  uint8_t proposer[EVC_ADDRESS_SIZE];
  uint8_t genesis_hash[EVC_HASH_SIZE];
  uint8_t da_namespaces[2][EVC_NAMESPACE_SIZE]; /* header, data */
  struct evc_store *store;
  struct evc_exec exec;
  bool exec_open;
  struct evc_chain_state chain;
  uint64_t last_time_ns; /* the last stored header's time */

  /* catchup */
  struct evc_catchup_facts facts;
  struct evc_sign_state sign;
  bool sign_loaded;
  bool override_equivocation; /* --catchup.da-only overrode a fail-closed */
  uint64_t override_ceiling;  /* the sign state's S then: conflicts up to it are expected */
  uint64_t d0;
  bool d0_set;
  uint64_t catchup_timer_p2p;
  uint64_t catchup_timer_grace;
  uint64_t stop_timer;

  struct evc_da_sync da;
  struct evc_submitter sub;
  struct evc_mempool mempool;
  uint64_t produce_timer;

  /* P2P */
  struct evc_peer peers[EVC_PEERS_CONNECTED_MAX];
  struct evc_known_peer known[EVC_KNOWN_PEERS_MAX];
  uint32_t known_count;
  uint32_t known_at_start;  /* known peers when catchup began: the ones it waits for */
  uint64_t peer_proven_max;
  bool peek_expired;
  uint64_t peek_timer;
  uint64_t p2p_tick_timer;

  /* counters */
  uint64_t blocks_applied;
  uint64_t blocks_produced;
  uint64_t equivocations;
};

/* node.c */
void evc_node_enter_mode(struct evc_node *n, enum evc_mode mode, const char *reason);
void evc_node_fail(struct evc_node *n, int code, const char *reason);
void evc_node_observe(struct evc_node *n, enum evc_observation_kind kind, uint64_t height,
                      const uint8_t *hash, uint64_t count, const char *text);
void evc_node_counter(struct evc_node *n, const char *name, uint64_t amount);
void evc_node_reevaluate(struct evc_node *n);
void evc_node_after_apply(struct evc_node *n);
bool evc_node_is_running(const struct evc_node *n);

/* chain.c */
void evc_block_release(struct evc_block *b);
/* Copies and decodes header + data bytes into a block (hash computed; signature not checked). */
int evc_block_from_bytes(const uint8_t *header, size_t header_size, const uint8_t *data,
                         size_t data_size, struct evc_block *out);
/* The same from a header the caller decoded and hashed already and data it paired with the
 * header by data_hash (the DA syncer does both when blobs arrive): copies the bytes only. */
int evc_block_from_decoded(const struct evc_signed_header *sh, const uint8_t hash[EVC_HASH_SIZE],
                           const uint8_t *header, size_t header_size, const uint8_t *data,
                           size_t data_size, struct evc_block *out);
/* Checks b extends the chain: chain id, height, proposer, last hash, time, data hash. */
int evc_chain_check_next(const struct evc_node *n, const struct evc_block *b);
/* Executes and stores b in one transaction (app hash checked); da_height 0 = soft. */
int evc_chain_apply(struct evc_node *n, const struct evc_block *b, uint64_t da_height,
                    bool durable);
int evc_chain_mark_included(struct evc_node *n, uint64_t from, uint64_t to, uint64_t da_height);
int evc_chain_load_block(struct evc_node *n, uint64_t height, struct evc_block *out,
                         uint64_t *da_height_out);

/* da_sync.c */
int evc_da_sync_init(struct evc_node *n);
void evc_da_sync_free(struct evc_node *n);
int evc_da_sync_start(struct evc_node *n);
bool evc_da_sync_caught_up(const struct evc_node *n);
uint64_t evc_da_sync_highest_candidate(const struct evc_node *n);

/* submitter.c */
int evc_submitter_start(struct evc_node *n);
void evc_submitter_stop(struct evc_node *n);
void evc_submitter_notify(struct evc_node *n);
void evc_submitter_publish(struct evc_node *n);
bool evc_submitter_drained(const struct evc_node *n);
uint64_t evc_submitter_pending(const struct evc_node *n);

/* p2p.c */
int evc_p2p_start(struct evc_node *n);
void evc_p2p_stop(struct evc_node *n);
void evc_p2p_announce(struct evc_node *n, const struct evc_block *b);
void evc_p2p_update_facts(struct evc_node *n);
void evc_p2p_peer_connected(struct evc_node *n, const struct evc_peer_id *peer,
                            const char *address, bool inbound);
void evc_p2p_peer_disconnected(struct evc_node *n, const struct evc_peer_id *peer);
void evc_p2p_dial_failed(struct evc_node *n, const char *address, int status);
void evc_p2p_message(struct evc_node *n, const struct evc_peer_id *peer, const uint8_t *bytes,
                     size_t size);
/* Rolls back soft blocks above height (DA showed a different block): bounded depth. */
int evc_chain_rollback_soft(struct evc_node *n, uint64_t height);

/* producer.c */
int evc_mempool_init(struct evc_mempool *m, uint32_t capacity);
void evc_mempool_free(struct evc_mempool *m);
int evc_producer_start(struct evc_node *n);
void evc_producer_stop(struct evc_node *n);
/* Writes the sign state naming block b (bytes given) durably; EVC_ESIGNSTATE/EVC_EIO. */
int evc_signer_record(struct evc_node *n, const struct evc_block *b);

#endif
