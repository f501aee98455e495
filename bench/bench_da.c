/* evc-bench gen-da: a chain written straight into an evc-da store for P2 (live recovery), with
 * the genesis and signer key of a HOME that `evc-node init --aggregator` made, and the sign
 * state of the last block, so `evc-node start` on that HOME with an empty store recovers the
 * whole chain from evc-da and then produces. Blocks come from bench_chain_build, so the node
 * recomputes every app hash with the real executor: a generator mistake fails the recovery. */
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "node/common/error.h"
#include "node/crypto/crypto.h"
#include "node/crypto/sign_state.h"
#include "node/da_server/da_store.h"
#include "node/os/fsutil.h"
#include "node/os/keyfile.h"

/* Block h at genesis + h us: the whole chain lies within milliseconds of `init`, so the
 * recovered node's first own block (at the wall clock) follows it without a gap to bridge. */
#define GEN_DA_TIME_STEP_NS 1000ull
#define GENESIS_FILE_SIZE_MAX (1024u * 1024u)

struct da_out {
  struct evc_da_store store;
  const struct evc_genesis *g;
  const struct bench_chain_params *p;
  struct evc_da_blob *blobs; /* 2 * per_da */
  uint8_t *last_header;      /* copies of the last block's blobs, for the sign state */
  size_t last_header_size;
  uint8_t *last_data;
  size_t last_data_size;
  uint64_t da_heights;
};

static int keep_copy(const struct evc_da_blob *b, uint8_t **out, size_t *size_out) {
  free(*out);
  *out = malloc(b->size == 0 ? 1 : b->size);
  if (*out == NULL) return EVC_ENOMEM;
  memcpy(*out, b->bytes, b->size);
  *size_out = b->size;
  return 0;
}

/* One DA block per record; its time is just after the last block it carries. */
static int emit_to_da(void *arg, uint64_t da_height, const uint8_t *record, size_t size) {
  struct da_out *o = arg;
  size_t count = 0;
  int rc = bench_record_blobs(o->g, o->p->per_da, record, size, o->blobs, &count);
  if (rc != 0) return rc;
  if (count < 2 || o->store.head.height + 1 != da_height) return EVC_EINVAL;
  uint64_t last_block = (da_height - 1) * o->p->per_da + count / 2;
  uint64_t time_ns = o->g->genesis_time_ns + last_block * GEN_DA_TIME_STEP_NS + 1;
  rc = evc_da_store_append(&o->store, time_ns, o->blobs, count);
  if (rc == 0 && last_block == o->p->blocks) {
    rc = keep_copy(&o->blobs[count - 2], &o->last_header, &o->last_header_size);
    if (rc == 0) rc = keep_copy(&o->blobs[count - 1], &o->last_data, &o->last_data_size);
  }
  o->da_heights = da_height;
  return rc;
}

static int read_genesis(const char *home, struct evc_genesis *g, char *err, size_t err_size) {
  char path[EVC_FS_PATH_SIZE_MAX + 1];
  snprintf(path, sizeof path, "%s/genesis.json", home);
  uint8_t *bytes = NULL;
  size_t size = 0;
  int rc = evc_fs_read_file(path, GENESIS_FILE_SIZE_MAX, &bytes, &size);
  if (rc != 0) {
    snprintf(err, err_size, "cannot read '%s': %s", path, evc_strerror(rc));
    return rc;
  }
  char why[256];
  rc = evc_genesis_parse_json((const char *)bytes, size, g, why, sizeof why);
  free(bytes);
  if (rc != 0) snprintf(err, err_size, "'%s': %s", path, why);
  return rc;
}

static int read_signer_seed(const char *home, const struct evc_genesis *g, uint8_t seed[32],
                            char *err, size_t err_size) {
  char path[EVC_FS_PATH_SIZE_MAX + 1];
  snprintf(path, sizeof path, "%s/keys/signer.json", home);
  struct evc_keypair kp;
  char why[256];
  int rc = evc_keyfile_read(path, &kp, why, sizeof why);
  if (rc != 0) {
    snprintf(err, err_size, "'%s': %s (make HOME with 'evc-node init --aggregator')", path, why);
    return rc;
  }
  if (memcmp(kp.pubkey, g->proposer_pubkey, EVC_PUBKEY_SIZE) != 0) {
    snprintf(err, err_size, "'%s' is not the genesis proposer's key", path);
    rc = EVC_ECONFIG;
  } else {
    evc_keypair_seed(&kp, seed);
  }
  evc_keypair_wipe(&kp);
  return rc;
}

/* HOME/data must hold nothing: P2 is the recovery of a lost store. */
static int check_data_empty(const char *home, char *err, size_t err_size) {
  char path[EVC_FS_PATH_SIZE_MAX + 1];
  snprintf(path, sizeof path, "%s/data", home);
  DIR *dir = opendir(path);
  if (dir == NULL) return errno == ENOENT ? 0 : EVC_EIO;
  struct dirent *e;
  bool empty = true;
  while ((e = readdir(dir)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = false;
  }
  closedir(dir);
  if (!empty) snprintf(err, err_size, "'%s' is not empty: P2 starts from an empty store", path);
  return empty ? 0 : EVC_EEXIST;
}

static int write_sign_state(const char *home, const struct da_out *o, char *err,
                            size_t err_size) {
  struct evc_sign_state s;
  memset(&s, 0, sizeof s);
  uint8_t *bytes = NULL;
  size_t size = 0;
  int rc = o->last_header != NULL ? 0 : EVC_EINVAL;
  if (rc == 0) {
    rc = evc_sign_state_init_block(o->last_header, o->last_header_size, o->last_data,
                                   o->last_data_size, &s);
  }
  if (rc == 0) rc = evc_sign_state_encode(&s, &bytes, &size);
  evc_sign_state_release(&s);
  char path[EVC_FS_PATH_SIZE_MAX + 1];
  snprintf(path, sizeof path, "%s/%s", home, EVC_SIGN_STATE_FILE);
  if (rc == 0) rc = evc_fs_replace_atomic(path, bytes, size, 0600);
  free(bytes);
  if (rc != 0) snprintf(err, err_size, "cannot write '%s': %s", path, evc_strerror(rc));
  return rc;
}

int bench_gen_da(const char *home, const char *da_store, const struct bench_chain_params *p,
                 uint64_t *da_heights_out, char *err, size_t err_size) {
  err[0] = '\0';
  *da_heights_out = 0;
  struct evc_genesis g;
  struct bench_chain_params params = *p;
  int rc = read_genesis(home, &g, err, err_size);
  if (rc == 0) rc = read_signer_seed(home, &g, params.seed, err, err_size);
  if (rc == 0) rc = check_data_empty(home, err, err_size);
  if (rc != 0) return rc;
  struct da_out o;
  memset(&o, 0, sizeof o);
  o.g = &g;
  o.p = &params;
  rc = evc_da_store_open(&o.store, da_store);
  if (rc != 0) {
    snprintf(err, err_size, "cannot open the evc-da store '%s': %s", da_store, evc_strerror(rc));
    return rc;
  }
  if (o.store.head.height != 0) {
    snprintf(err, err_size, "'%s' already has DA blocks: gen-da writes into a new store", da_store);
    rc = EVC_EEXIST;
  }
  /* The generator's own commits need not be durable: evc-da reopens the file afterwards
   * with its own settings. This only saves one fsync per DA height while generating. */
  if (rc == 0 && sqlite3_exec(o.store.db, "PRAGMA synchronous=OFF", NULL, NULL, NULL) !=
                     SQLITE_OK) {
    rc = EVC_EIO;
  }
  o.blobs = calloc(2u * (params.per_da == 0 ? 1 : params.per_da), sizeof *o.blobs);
  if (rc == 0 && o.blobs == NULL) rc = EVC_ENOMEM;
  if (rc == 0) {
    rc = bench_chain_build(&g, &params, GEN_DA_TIME_STEP_NS, emit_to_da, &o);
    if (rc != 0) snprintf(err, err_size, "cannot write the chain: %s", evc_strerror(rc));
  }
  evc_da_store_close(&o.store);
  if (rc == 0) rc = write_sign_state(home, &o, err, err_size);
  sodium_memzero(params.seed, sizeof params.seed);
  free(o.blobs);
  free(o.last_header);
  free(o.last_data);
  *da_heights_out = o.da_heights;
  return rc;
}
