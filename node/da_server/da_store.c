/* evc-da's SQLite state: blocks(height, time, hashes) and blobs(height, idx, namespace, data,
 * commitment). One transaction per block; a foreign or newer database is refused, never
 * changed. Runs on evc-da's loop thread only. */
#include "node/da_server/da_store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"

#define DA_APPLICATION_ID 0x65766364 /* "evcd" */
#define DA_SCHEMA_VERSION 1

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS blocks(height INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL,"
    " data_hash BLOB NOT NULL, last_hash BLOB NOT NULL, hash BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS blobs(height INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " namespace BLOB NOT NULL, data BLOB NOT NULL, commitment BLOB NOT NULL,"
    " PRIMARY KEY(height, idx));";

static int pragma_int(sqlite3 *db, const char *sql, int *out) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return EVC_EIO;
  int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : EVC_EIO;
  if (rc == 0) *out = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return rc;
}

static int check_identity(sqlite3 *db) {
  int app = 0;
  int version = 0;
  if (pragma_int(db, "PRAGMA application_id", &app) != 0) return EVC_ECORRUPT;
  if (pragma_int(db, "PRAGMA user_version", &version) != 0) return EVC_EIO;
  if (app == 0 && version == 0) {
    int tables = 0;
    if (pragma_int(db, "SELECT count(*) FROM sqlite_master", &tables) != 0) return EVC_EIO;
    if (tables != 0) return EVC_EFOREIGN;
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d;",
             DA_APPLICATION_ID, DA_SCHEMA_VERSION);
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : EVC_EIO;
  }
  if (app != DA_APPLICATION_ID) return EVC_EFOREIGN;
  return version == DA_SCHEMA_VERSION ? 0 : EVC_ESCHEMA;
}

static int load_head(struct evc_da_store *s) {
  sqlite3_stmt *st = NULL;
  const char *sql = "SELECT height FROM blocks ORDER BY height DESC LIMIT 1";
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return EVC_EIO;
  int step = sqlite3_step(st);
  int64_t height = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  if (step != SQLITE_ROW && step != SQLITE_DONE) return EVC_EIO;
  memset(&s->head, 0, sizeof s->head);
  memset(s->head_hash, 0, sizeof s->head_hash);
  if (height <= 0) return 0;
  int rc = evc_da_store_header(s, (uint64_t)height, &s->head);
  if (rc != 0) return rc == EVC_ENOTFOUND ? EVC_ECORRUPT : rc;
  st = NULL;
  if (sqlite3_prepare_v2(s->db, "SELECT hash FROM blocks WHERE height=?", -1, &st, NULL) !=
      SQLITE_OK) {
    return EVC_EIO;
  }
  sqlite3_bind_int64(st, 1, height);
  rc = EVC_ECORRUPT;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == EVC_HASH_SIZE) {
    memcpy(s->head_hash, sqlite3_column_blob(st, 0), EVC_HASH_SIZE);
    rc = 0;
  }
  sqlite3_finalize(st);
  return rc;
}

int evc_da_store_open(struct evc_da_store *s, const char *path) {
  memset(s, 0, sizeof *s);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
    evc_da_store_close(s);
    return EVC_EIO;
  }
  sqlite3_busy_timeout(s->db, 0);
  int rc = check_identity(s->db);
  if (rc == 0 && sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                              " PRAGMA locking_mode=EXCLUSIVE;", NULL, NULL, NULL) != SQLITE_OK) {
    rc = EVC_EIO;
  }
  if (rc == 0 && sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK) rc = EVC_EIO;
  if (rc == 0) rc = load_head(s);
  if (rc != 0) evc_da_store_close(s);
  return rc;
}

void evc_da_store_close(struct evc_da_store *s) {
  if (s->db != NULL) sqlite3_close(s->db);
  s->db = NULL;
}

static void header_hash(const struct evc_da_json_header *h, uint8_t out[EVC_HASH_SIZE]) {
  uint8_t fixed[16];
  for (int i = 0; i < 8; i++) {
    fixed[i] = (uint8_t)(h->height >> (56 - 8 * i));
    fixed[8 + i] = (uint8_t)(h->time_ns >> (56 - 8 * i));
  }
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, fixed, sizeof fixed);
  crypto_hash_sha256_update(&st, h->data_hash, EVC_HASH_SIZE);
  crypto_hash_sha256_update(&st, h->last_hash, EVC_HASH_SIZE);
  crypto_hash_sha256_final(&st, out);
}

static int insert_blobs(sqlite3 *db, uint64_t height, const struct evc_da_blob *blobs,
                        size_t count, crypto_hash_sha256_state *data_hash) {
  sqlite3_stmt *st = NULL;
  const char *sql = "INSERT INTO blobs(height, idx, namespace, data, commitment) "
                    "VALUES(?,?,?,?,?)";
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return EVC_EIO;
  int rc = 0;
  for (size_t i = 0; i < count && rc == 0; i++) {
    uint8_t commitment[EVC_DA_COMMITMENT_SIZE];
    evc_da_commitment(blobs[i].namespace_id, blobs[i].bytes, blobs[i].size, commitment);
    crypto_hash_sha256_update(data_hash, commitment, sizeof commitment);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
    sqlite3_bind_int64(st, 2, blobs[i].index);
    sqlite3_bind_blob(st, 3, blobs[i].namespace_id, EVC_NAMESPACE_SIZE, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, blobs[i].size ? (const void *)blobs[i].bytes : "",
                      (int)blobs[i].size, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, commitment, sizeof commitment, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = EVC_EIO;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
  sqlite3_finalize(st);
  return rc;
}

static int insert_block(sqlite3 *db, const struct evc_da_json_header *h,
                        const uint8_t hash[EVC_HASH_SIZE]) {
  sqlite3_stmt *st = NULL;
  const char *sql = "INSERT INTO blocks(height, time_ns, data_hash, last_hash, hash) "
                    "VALUES(?,?,?,?,?)";
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return EVC_EIO;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)h->height);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)h->time_ns);
  sqlite3_bind_blob(st, 3, h->data_hash, EVC_HASH_SIZE, SQLITE_STATIC);
  sqlite3_bind_blob(st, 4, h->last_hash, EVC_HASH_SIZE, SQLITE_STATIC);
  sqlite3_bind_blob(st, 5, hash, EVC_HASH_SIZE, SQLITE_STATIC);
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : EVC_EIO;
  sqlite3_finalize(st);
  return rc;
}

int evc_da_store_append(struct evc_da_store *s, uint64_t time_ns, const struct evc_da_blob *blobs,
                        size_t count) {
  EVC_ASSERT(s->db != NULL);
  EVC_ASSERT(count == 0 || blobs != NULL);
  struct evc_da_json_header h = {.height = s->head.height + 1, .time_ns = time_ns};
  memcpy(h.last_hash, s->head_hash, EVC_HASH_SIZE);
  if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return EVC_EIO;
  crypto_hash_sha256_state data_hash;
  crypto_hash_sha256_init(&data_hash);
  int rc = insert_blobs(s->db, h.height, blobs, count, &data_hash);
  crypto_hash_sha256_final(&data_hash, h.data_hash);
  uint8_t hash[EVC_HASH_SIZE];
  header_hash(&h, hash);
  if (rc == 0) rc = insert_block(s->db, &h, hash);
  if (rc == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = EVC_EIO;
  if (rc != 0) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
  }
  s->head = h;
  memcpy(s->head_hash, hash, EVC_HASH_SIZE);
  return 0;
}

int evc_da_store_header(struct evc_da_store *s, uint64_t height, struct evc_da_json_header *out) {
  if (height == 0 || height > INT64_MAX) return EVC_ENOTFOUND;
  sqlite3_stmt *st = NULL;
  const char *sql = "SELECT time_ns, data_hash, last_hash FROM blocks WHERE height=?";
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return EVC_EIO;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
  int step = sqlite3_step(st);
  int rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? EVC_ENOTFOUND : EVC_EIO;
  if (rc == 0 && (sqlite3_column_bytes(st, 1) != EVC_HASH_SIZE ||
                  sqlite3_column_bytes(st, 2) != EVC_HASH_SIZE)) {
    rc = EVC_ECORRUPT;
  }
  if (rc == 0) {
    out->height = height;
    out->time_ns = (uint64_t)sqlite3_column_int64(st, 0);
    memcpy(out->data_hash, sqlite3_column_blob(st, 1), EVC_HASH_SIZE);
    memcpy(out->last_hash, sqlite3_column_blob(st, 2), EVC_HASH_SIZE);
  }
  sqlite3_finalize(st);
  return rc;
}

static bool wanted(const uint8_t *ns, const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE],
                   size_t count) {
  for (size_t i = 0; i < count; i++) {
    if (memcmp(ns, namespaces[i], EVC_NAMESPACE_SIZE) == 0) return true;
  }
  return false;
}

/* Runs the height's query and calls back per wanted row; a second pass copies what the
 * first one measured, so the result is one allocation of known size. */
static int scan(struct evc_da_store *s, uint64_t height,
                const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE], size_t namespace_count,
                struct evc_da_json_blobs *out, size_t *count, size_t *bytes) {
  sqlite3_stmt *st = NULL;
  const char *sql = "SELECT idx, namespace, data FROM blobs WHERE height=? ORDER BY idx";
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return EVC_EIO;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
  int step;
  int rc = 0;
  size_t used = 0;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (sqlite3_column_bytes(st, 1) != EVC_NAMESPACE_SIZE) {
      rc = EVC_ECORRUPT;
      break;
    }
    const uint8_t *ns = sqlite3_column_blob(st, 1);
    if (!wanted(ns, namespaces, namespace_count)) continue;
    size_t size = (size_t)sqlite3_column_bytes(st, 2);
    if (out == NULL) {
      (*count)++;
      *bytes += size;
      continue;
    }
    if (out->count == *count || size > *bytes - used) {
      rc = EVC_ECORRUPT; /* changed between passes: cannot happen on one thread */
      break;
    }
    struct evc_da_blob *b = &out->blobs[out->count++];
    b->index = (uint32_t)sqlite3_column_int64(st, 0);
    memcpy(b->namespace_id, ns, EVC_NAMESPACE_SIZE);
    if (size > 0) memcpy(out->storage + used, sqlite3_column_blob(st, 2), size);
    b->bytes = out->storage + used;
    b->size = size;
    used += size;
  }
  if (rc == 0 && step != SQLITE_DONE) rc = EVC_EIO;
  sqlite3_finalize(st);
  return rc;
}

int evc_da_store_get_all(struct evc_da_store *s, uint64_t height,
                         const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE], size_t namespace_count,
                         struct evc_da_json_blobs *blobs_out) {
  memset(blobs_out, 0, sizeof *blobs_out);
  if (height > INT64_MAX) return EVC_ENOTFOUND;
  size_t count = 0;
  size_t bytes = 0;
  int rc = scan(s, height, namespaces, namespace_count, NULL, &count, &bytes);
  if (rc != 0 || count == 0) return rc;
  blobs_out->blobs = calloc(count, sizeof *blobs_out->blobs);
  blobs_out->storage = malloc(bytes == 0 ? 1 : bytes);
  if (blobs_out->blobs == NULL || blobs_out->storage == NULL) {
    evc_da_json_blobs_free(blobs_out);
    return EVC_ENOMEM;
  }
  rc = scan(s, height, namespaces, namespace_count, blobs_out, &count, &bytes);
  if (rc != 0) evc_da_json_blobs_free(blobs_out);
  return rc;
}
