/* The block store: blocks, chain state and DA inclusion in one SQLite database (WAL mode),
 * opened through a caller-chosen VFS so the simulator can crash it. It stores opaque bytes:
 * it never decodes a header or data, and it never repairs a database silently. */
#ifndef EVC_STORE_STORE_H
#define EVC_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "node/types/types.h"

#define EVC_STORE_SCHEMA_VERSION 1
#define EVC_STORE_ERRMSG_SIZE 512

struct evc_store;
struct evc_exec; /* node/exec/exec.h */

struct evc_chain_state {
  uint64_t height; /* last applied block; initial_height - 1 before the first block */
  uint8_t last_hash[EVC_HASH_SIZE]; /* that block's hash; zero before the first block */
  uint8_t app_hash[EVC_HASH_SIZE]; /* state after that block */
  uint64_t da_included_height; /* every block up to here is on DA (final); <= height */
};

struct evc_block_record {
  uint64_t height;
  uint8_t hash[EVC_HASH_SIZE];
  uint8_t *header; /* owned: signed header bytes, 1..EVC_SIGNED_HEADER_SIZE_MAX */
  size_t header_size;
  uint8_t *data; /* owned: data bytes, 0..EVC_DATA_SIZE_MAX */
  size_t data_size;
  uint64_t da_height; /* DA height the block was found at; 0 = soft (not yet seen on DA) */
};

/* Opens or creates the store at path through vfs_name (NULL = SQLite's default VFS). A new
 * store starts at height initial_height - 1 with app hash initial_app_hash and a zero last
 * hash. Errors: EVC_ECORRUPT (not SQLite, or quick_check fails), EVC_EFOREIGN (another
 * program's database, or another chain's genesis), EVC_ESCHEMA (written by a newer evc),
 * EVC_EIO, EVC_ENOMEM. On error *out is NULL and err (err_size bytes, may be NULL) names the
 * path and the cause. */
int evc_store_open(const char *path, const char *vfs_name,
                   const uint8_t genesis_hash[EVC_HASH_SIZE], uint64_t initial_height,
                   const uint8_t initial_app_hash[EVC_HASH_SIZE], struct evc_store **out,
                   char *err, size_t err_size);
/* Closes the store; an open transaction is rolled back. NULL is a no-op. */
void evc_store_close(struct evc_store *s);
/* The text of the last error (names the path and SQLite's message); "" when none. */
const char *evc_store_errmsg(const struct evc_store *s);
/* The connection, for the executor: same connection, same transaction. */
sqlite3 *evc_store_db(struct evc_store *s);
/* The first height of the chain, as given at open. */
uint64_t evc_store_initial_height(const struct evc_store *s);
/* The last committed chain state (cached; unchanged by an open transaction until commit). */
void evc_store_chain_state(const struct evc_store *s, struct evc_chain_state *out);
/* True while a transaction is open. */
bool evc_store_in_transaction(const struct evc_store *s);
/* True when the open transaction has marked the block at height DA-included (final): such a
 * block can never be rolled back (rollback_to refuses), so the executor keeps no undo
 * records for it. */
bool evc_store_unit_marked_final(const struct evc_store *s, uint64_t height);

/* Starts a write transaction (BEGIN IMMEDIATE); none may be open. EVC_EIO on failure or
 * after a failed commit or rollback (reopen the store). */
int evc_store_begin(struct evc_store *s);
/* Adds a block inside the transaction. EVC_ECHAIN unless height is the transaction's chain
 * height + 1 (a put does not advance it: set_chain_state does); EVC_EEXIST when the height
 * or the hash is already stored. */
int evc_store_put_block(struct evc_store *s, uint64_t height, const uint8_t hash[EVC_HASH_SIZE],
                        const uint8_t *header, size_t header_size, const uint8_t *data,
                        size_t data_size);
/* The same for a block found on DA at da_height (>= 1): stored already marked DA-included,
 * as put_block followed by mark_da_included would leave it, in one statement. */
int evc_store_put_final_block(struct evc_store *s, uint64_t height,
                              const uint8_t hash[EVC_HASH_SIZE], const uint8_t *header,
                              size_t header_size, const uint8_t *data, size_t data_size,
                              uint64_t da_height);
/* Sets height, last_hash and app_hash inside the transaction; cs->da_included_height is
 * ignored (the store owns it: mark_da_included, rollback_to, and a move onto a block put by
 * put_final_block right above the included prefix, which extends the prefix). cs->height must be the
 * transaction's chain height or that + 1, and the block at cs->height must be stored with
 * hash cs->last_hash (before the first block: a zero hash); EVC_ECHAIN otherwise. Going
 * down is rollback_to's job. */
int evc_store_set_chain_state(struct evc_store *s, const struct evc_chain_state *cs);
/* Commits. durable: the commit is on stable storage before this returns (and later commits
 * are synced too until one asks for durable = false). When COMMIT fails the cached chain
 * state is unchanged, but the transaction may or may not have reached the disk (SQLite can
 * report an error after syncing the commit): the store then refuses to begin again
 * (EVC_EIO) until it is closed and reopened, which tells the truth. The same holds when the
 * commit succeeded but its durability sync failed (the cached chain state is then the new
 * one). */
int evc_store_commit(struct evc_store *s, bool durable);
/* Rolls back the open transaction (no-op when none); the cached chain state is unchanged.
 * Inside a batch only this unit is rolled back, unless SQLite already rolled back the whole
 * batch (an I/O error): then the cached state returns to the last batch on disk and the
 * store refuses further work until reopened. */
void evc_store_abort(struct evc_store *s);

/* Batches: a follower applying many blocks commits them in one SQLite transaction. Between
 * batch_begin and batch_commit, evc_store_begin/commit/abort work on savepoints: a unit that
 * fails rolls back alone, a unit that commits is visible at once (chain state included) and
 * reaches the disk with the batch. A unit committed with durable = true makes the batch
 * commit durable. A crash before the batch commit loses every unit in it, like any
 * non-durable commit. No transaction may be open at batch_begin; EVC_EIO after a failure. */
int evc_store_batch_begin(struct evc_store *s);
/* Commits the batch (no unit may be open); durable as for evc_store_commit, and also when a
 * unit asked for it. On failure the cached state is the one before the batch and the store
 * refuses further work until reopened. */
int evc_store_batch_commit(struct evc_store *s, bool durable);
/* True between batch_begin and batch_commit. */
bool evc_store_batch_is_open(const struct evc_store *s);
/* Units committed into the open batch (0 when none is open): callers bound a batch's size. */
uint32_t evc_store_batch_units(const struct evc_store *s);

/* Reads the block at height into out (owned buffers: release with evc_block_record_release).
 * EVC_ENOTFOUND, EVC_ECORRUPT (a stored length or value out of bounds), EVC_ENOMEM, EVC_EIO. */
int evc_store_get_block(struct evc_store *s, uint64_t height, struct evc_block_record *out);
void evc_block_record_release(struct evc_block_record *r);
/* Finds the height of the block with this hash. EVC_ENOTFOUND, EVC_ECORRUPT, EVC_EIO. */
int evc_store_find_height(struct evc_store *s, const uint8_t hash[EVC_HASH_SIZE],
                          uint64_t *height_out);
/* Inside a transaction: records that the block at height was found on DA at da_height (the
 * first record wins; later ones are ignored), then advances the chain's da_included_height
 * over the contiguous prefix of included blocks. EVC_ENOTFOUND when the block is not stored. */
int evc_store_mark_da_included(struct evc_store *s, uint64_t height, uint64_t da_height);
/* Sets *height_out to the lowest stored height above after_height whose block is not yet
 * seen on DA; EVC_ENOTFOUND when there is none (for the submitter after a restart). */
int evc_store_next_soft(struct evc_store *s, uint64_t after_height, uint64_t *height_out);
/* In one durable transaction (none may be open; inside a batch: one unit, and the batch
 * commit is durable): rolls the executor back to height, deletes
 * every block above it and sets the chain state to that block's hash and the executor's app
 * hash. EVC_ESTATE when a block above height was seen on DA (final blocks never change);
 * EVC_ERANGE when height is above the chain height or below initial_height - 1. */
int evc_store_rollback_to(struct evc_store *s, uint64_t height, const struct evc_exec *exec);

#endif
