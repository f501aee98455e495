/* evc-da's blocks and blobs in one SQLite database under HOME/data, so a restarted evc-da
 * serves the same heights. Appends one block per transaction; never rewrites a height. */
#ifndef EVC_DA_SERVER_DA_STORE_H
#define EVC_DA_SERVER_DA_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "node/live/da_json.h"

struct evc_da_store {
  sqlite3 *db;
  struct evc_da_json_header head; /* height 0: no block yet */
  uint8_t head_hash[EVC_HASH_SIZE];
};

/* Opens or creates the database at path. EVC_EIO, EVC_EFOREIGN (not an evc-da database),
 * EVC_ESCHEMA (a newer schema), EVC_ECORRUPT. */
int evc_da_store_open(struct evc_da_store *s, const char *path);
void evc_da_store_close(struct evc_da_store *s);
/* Appends block head+1 at time_ns with blobs (indexes already assigned, in DA order), fills
 * the header's hashes and advances head. EVC_EIO; on error nothing changed. */
int evc_da_store_append(struct evc_da_store *s, uint64_t time_ns, const struct evc_da_blob *blobs,
                        size_t count);
/* The header of height (1..head). EVC_ENOTFOUND otherwise; EVC_EIO. */
int evc_da_store_header(struct evc_da_store *s, uint64_t height, struct evc_da_json_header *out);
/* The blobs at height in the given namespaces, in index order; blobs_out freed with
 * evc_da_json_blobs_free. EVC_EIO, EVC_ENOMEM. */
int evc_da_store_get_all(struct evc_da_store *s, uint64_t height,
                         const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE], size_t namespace_count,
                         struct evc_da_json_blobs *blobs_out);

#endif
