/* The benchmark programs' shared parts: a generated chain stored in a file (one record per DA
 * height, read back with pread so the chain never sits in the syncing process's memory) and
 * a minimal struct evc_env for a full node syncing it. Benchmarks only: never linked into
 * the node, and nothing here may weaken a check the core makes. */
#ifndef EVC_BENCH_BENCH_H
#define EVC_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/core/env.h"
#include "node/core/node.h"
#include "node/types/types.h"

#define BENCH_CHAIN_MAGIC "EVCBENCH"
#define BENCH_BLOCKS_MAX 10000000ull
#define BENCH_PER_DA_MAX 256u /* blocks per DA height */
#define BENCH_TXS_MAX 64u     /* txs per block */
#define BENCH_KEYSPACE 4096u  /* distinct keys the txs write: updates as well as inserts */
#define BENCH_DA_RECORD_MAX (BENCH_PER_DA_MAX * (8u + EVC_SIGNED_HEADER_SIZE_MAX + 4096u))

struct bench_chain_params {
  uint64_t blocks;
  uint32_t per_da;  /* blocks per DA height (one submitter batch) */
  uint32_t txs;     /* txs per block */
  uint8_t seed[32]; /* the sequencer's signing seed */
};

/* The chain file: a fixed header, then per DA height a u64 offset index, then the records.
 * A record is, per block: u32 header size, signed header, u32 data size, data. */
struct bench_chain {
  int fd;
  struct bench_chain_params params;
  uint64_t da_heights;
  uint64_t index_at; /* file offset of the index */
  struct evc_genesis genesis;
};

#define BENCH_TIME_STEP_NS 1000000000ull /* block time step of a chain file: 1 s */

/* Fills the genesis every bench chain file uses (chain id "bench", DA start height 1). */
void bench_genesis(const uint8_t seed[32], struct evc_genesis *out);
/* Receives one DA height's record (the chain file's format, below) while a chain is built. */
typedef int (*bench_emit_fn)(void *arg, uint64_t da_height, const uint8_t *record, size_t size);
/* Builds the chain of p on genesis g, signed with p->seed (the genesis proposer's seed): block
 * h at g->genesis_time_ns + h * time_step_ns, per_da blocks per DA height; emit gets DA
 * heights 1, 2, ... in order (the record is only valid during the call). Stops at the first
 * non-zero return of emit and returns it; EVC_EINVAL for bad params, EVC_ENOMEM. */
int bench_chain_build(const struct evc_genesis *g, const struct bench_chain_params *p,
                      uint64_t time_step_ns, bench_emit_fn emit, void *arg);
/* Points blobs (2 * per_da entries) at a record's header and data blobs, in g's namespaces,
 * indexes 0, 1, ... EVC_EDECODE for a malformed record. */
int bench_record_blobs(const struct evc_genesis *g, uint32_t per_da, const uint8_t *record,
                       size_t size, struct evc_da_blob *blobs, size_t *count_out);
/* Writes a signed, executable chain to path. 0, or a negative EVC_E* code. */
int bench_chain_generate(const char *path, const struct bench_chain_params *p);
/* Opens a chain file written by bench_chain_generate. EVC_EIO, EVC_EDECODE. */
int bench_chain_open(const char *path, struct bench_chain *out);
void bench_chain_close(struct bench_chain *c);
/* Reads DA height da_height (1-based) into buf (BENCH_DA_RECORD_MAX bytes) and points
 * blobs (2 * per_da entries) into it. EVC_EFUTURE past the last height. */
int bench_chain_read(const struct bench_chain *c, uint64_t da_height, uint8_t *buf,
                     struct evc_da_blob *blobs, size_t *count_out);

/* The benchmark runtime: an event loop driving one full node over a chain file. */
struct bench_env;

struct bench_run_result {
  uint64_t height;
  double seconds;
  uint64_t verify_batches;   /* work items the node submitted */
  double wait_seconds;       /* threaded: the loop idle while the worker checked signatures */
  int exit_code;             /* 0 unless the node stopped itself (FAILED) */
  char reason[160];
};

/* threaded: work_submit runs on a second thread; else inline on the loop's thread. */
int bench_env_new(const struct bench_chain *chain, const char *store_path, bool threaded,
                  struct bench_env **out);
struct evc_env *bench_env_env(struct bench_env *b);
/* Runs node until its height reaches target_height or it stops; fills result. */
int bench_env_run(struct bench_env *b, struct evc_node *node, uint64_t target_height,
                  struct bench_run_result *result);
void bench_env_free(struct bench_env *b);

/* Monotonic seconds (for the bench's own timings). */
double bench_now(void);

/* gen-da (bench_da.c): the chain of p written straight into an evc-da store for an evc-node
 * HOME made by `evc-node init --aggregator`: its genesis and signer key (p->seed is ignored),
 * blocks 1..p->blocks at DA heights 1, 2, ..., and HOME/keys/sign_state naming the last block.
 * The store must be new or empty and HOME/data empty: a recovery with the store lost and the
 * sign state intact. On error writes a one-line reason into err. */
int bench_gen_da(const char *home, const char *da_store, const struct bench_chain_params *p,
                 uint64_t *da_heights_out, char *err, size_t err_size);

#endif
