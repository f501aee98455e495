/* The block store over SQLite: schema and migrations, open-time checks, prepared statements
 * reused on the hot path, and the chain state cached in memory. It must never decode the
 * bytes it stores, never trust a length read back from disk, and never repair silently. */
#include "node/store/store.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/exec/exec.h"

#define STORE_APP_NAME "evc"
#define STORE_HEIGHT_MAX ((uint64_t)INT64_MAX) /* heights are SQLite INTEGERs */

_Static_assert(EVC_DATA_SIZE_MAX < (uint64_t)INT32_MAX, "blob sizes fit SQLite's int");
_Static_assert(EVC_SIGNED_HEADER_SIZE_MAX < 1024, "headers are small");

/* One list of SQL per schema version; version v's steps turn a v-1 database into a v one.
 * The meta rows (app, genesis_hash, initial_height) and the chain_state row are written by
 * create_fresh; schema_version is written after the last step, in the same transaction. */
static const char *const migration_v1[] = {
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE blocks(height INTEGER PRIMARY KEY, hash BLOB NOT NULL, header BLOB NOT NULL,"
    " data BLOB NOT NULL, da_height INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX blocks_by_hash ON blocks(hash)",
    "CREATE TABLE chain_state(id INTEGER PRIMARY KEY CHECK (id = 1), height INTEGER NOT NULL,"
    " last_hash BLOB NOT NULL, app_hash BLOB NOT NULL, da_included_height INTEGER NOT NULL)",
    NULL,
};

static const char *const *const migrations[EVC_STORE_SCHEMA_VERSION + 1] = {
    NULL, /* version 0: the empty database */
    migration_v1,
};

enum store_stmt {
  ST_BEGIN,
  ST_COMMIT,
  ST_ROLLBACK,
  ST_PUT_BLOCK,
  ST_SET_STATE,
  ST_GET_BLOCK,
  ST_GET_HASH,
  ST_FIND,
  ST_MARK,
  ST_NEXT_SOFT,
  ST_FINAL_ABOVE,
  ST_DELETE_ABOVE,
  ST_SAVEPOINT,
  ST_RELEASE,
  ST_ROLLBACK_TO,
  ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PUT_BLOCK] = "INSERT INTO blocks(height, hash, header, data, da_height)"
                     " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_SET_STATE] = "UPDATE chain_state SET height = ?1, last_hash = ?2, app_hash = ?3,"
                     " da_included_height = ?4 WHERE id = 1",
    [ST_GET_BLOCK] = "SELECT hash, header, data, da_height FROM blocks WHERE height = ?1",
    [ST_GET_HASH] = "SELECT hash, da_height FROM blocks WHERE height = ?1",
    [ST_FIND] = "SELECT height FROM blocks WHERE hash = ?1",
    [ST_MARK] = "UPDATE blocks SET da_height = ?2 WHERE height = ?1 AND da_height = 0",
    [ST_NEXT_SOFT] = "SELECT height FROM blocks WHERE height > ?1 AND da_height = 0"
                     " ORDER BY height LIMIT 1",
    [ST_FINAL_ABOVE] = "SELECT height FROM blocks WHERE height > ?1 AND da_height != 0 LIMIT 1",
    [ST_DELETE_ABOVE] = "DELETE FROM blocks WHERE height > ?1",
    [ST_SAVEPOINT] = "SAVEPOINT evc_unit",
    [ST_RELEASE] = "RELEASE evc_unit",
    [ST_ROLLBACK_TO] = "ROLLBACK TO evc_unit",
};

struct evc_store {
  sqlite3 *db;
  char *path;
  uint64_t initial_height;
  struct evc_chain_state state; /* committed */
  struct evc_chain_state tx_state; /* inside the open transaction */
  bool in_tx;
  /* A batch: one SQLite transaction around many units (begin..commit become savepoints),
   * committed by evc_store_batch_commit. batch_base is the state on disk before it. */
  bool batch_open;
  bool batch_durable; /* a unit inside asked for durability: the batch commit syncs */
  uint32_t batch_units; /* units committed into the open batch */
  uint64_t unit_marked_height; /* the open unit marked this height DA-included (0: none) */
  struct evc_chain_state batch_base;
  bool failed; /* a commit or rollback failed: what is on disk is unknown until a reopen */
  bool sync_full; /* PRAGMA synchronous is FULL (else NORMAL) */
  sqlite3_stmt *stmts[ST_COUNT];
  char errmsg[EVC_STORE_ERRMSG_SIZE];
};

__attribute__((format(printf, 3, 4))) static int store_fail(struct evc_store *s, int code,
                                                            const char *fmt, ...) {
  EVC_ASSERT(code < 0);
  int n = snprintf(s->errmsg, sizeof s->errmsg, "store '%s': ", s->path);
  if (n < 0 || (size_t)n >= sizeof s->errmsg) return code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->errmsg + n, sizeof s->errmsg - (size_t)n, fmt, ap);
  va_end(ap);
  return code;
}

static int code_of_sqlite(int rc) {
  switch (rc & 0xff) {
    case SQLITE_NOMEM: return EVC_ENOMEM;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return EVC_ECORRUPT;
    case SQLITE_CONSTRAINT: return EVC_EEXIST;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return EVC_EAGAIN;
    default: return EVC_EIO;
  }
}

/* Records SQLite's error for rc while doing what and returns the matching EVC code. */
static int store_sql_fail(struct evc_store *s, int rc, const char *what) {
  const char *hint = "";
  if ((rc & 0xff) == SQLITE_BUSY) hint = " (is another evc process using this store?)";
  return store_fail(s, code_of_sqlite(rc), "%s: %s (sqlite %d)%s", what,
                    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), rc, hint);
}

static void bind_u64(sqlite3_stmt *st, int index, uint64_t v) {
  EVC_ASSERT(v <= STORE_HEIGHT_MAX);
  int rc = sqlite3_bind_int64(st, index, (sqlite3_int64)v);
  EVC_ASSERT(rc == SQLITE_OK);
}

static void bind_blob(sqlite3_stmt *st, int index, const void *bytes, size_t size) {
  EVC_ASSERT(size <= EVC_DATA_SIZE_MAX);
  /* A zero-length blob must stay a blob, not NULL: give SQLite a non-NULL pointer. */
  static const uint8_t empty[1];
  int rc = sqlite3_bind_blob(st, index, size ? bytes : empty, (int)size, SQLITE_STATIC);
  EVC_ASSERT(rc == SQLITE_OK);
}

/* Runs a prepared statement that returns no row; resets it. */
static int run_done(struct evc_store *s, enum store_stmt which, const char *what) {
  sqlite3_stmt *st = s->stmts[which];
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return store_sql_fail(s, rc, what);
  return 0;
}

/* Runs one SQL text without results (schema, pragmas). */
static int exec_sql(struct evc_store *s, const char *sql, const char *what) {
  char *msg = NULL;
  int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
  if (rc == SQLITE_OK) return 0;
  int code = store_fail(s, code_of_sqlite(rc), "%s: %s (sqlite %d)", what,
                        msg ? msg : sqlite3_errstr(rc), rc);
  sqlite3_free(msg);
  return code;
}

/* Reads column col as a uint64 stored as a non-negative INTEGER; false when it is not one. */
static bool column_u64(sqlite3_stmt *st, int col, uint64_t *out) {
  if (sqlite3_column_type(st, col) != SQLITE_INTEGER) return false;
  sqlite3_int64 v = sqlite3_column_int64(st, col);
  if (v < 0) return false;
  *out = (uint64_t)v;
  return true;
}

/* Copies column col into out when it is a blob of exactly EVC_HASH_SIZE bytes. */
static bool column_hash(sqlite3_stmt *st, int col, uint8_t out[EVC_HASH_SIZE]) {
  if (sqlite3_column_type(st, col) != SQLITE_BLOB) return false;
  const void *p = sqlite3_column_blob(st, col);
  if (p == NULL || sqlite3_column_bytes(st, col) != EVC_HASH_SIZE) return false;
  memcpy(out, p, EVC_HASH_SIZE);
  return true;
}

/* Copies column col (a blob of min..max bytes) into a fresh allocation. */
static int column_blob_copy(sqlite3_stmt *st, int col, size_t size_min, size_t size_max,
                            uint8_t **out, size_t *size_out) {
  if (sqlite3_column_type(st, col) != SQLITE_BLOB) return EVC_ECORRUPT;
  const void *p = sqlite3_column_blob(st, col);
  int n = sqlite3_column_bytes(st, col);
  if (n < 0 || (size_t)n < size_min || (size_t)n > size_max) return EVC_ECORRUPT;
  if (n > 0 && p == NULL) return EVC_ENOMEM;
  uint8_t *copy = malloc(n > 0 ? (size_t)n : 1);
  if (copy == NULL) return EVC_ENOMEM;
  if (n > 0) memcpy(copy, p, (size_t)n);
  *out = copy;
  *size_out = (size_t)n;
  return 0;
}

static bool hash_is_zero(const uint8_t h[EVC_HASH_SIZE]) {
  uint8_t acc = 0;
  for (size_t i = 0; i < EVC_HASH_SIZE; i++) acc |= h[i];
  return acc == 0;
}

/* Reads the hash and DA height of the block at height: 0, EVC_ENOTFOUND or an error. */
static int block_hash_at(struct evc_store *s, uint64_t height, uint8_t hash_out[EVC_HASH_SIZE],
                         uint64_t *da_height_out) {
  sqlite3_stmt *st = s->stmts[ST_GET_HASH];
  bind_u64(st, 1, height);
  int rc = sqlite3_step(st);
  int code = 0;
  if (rc == SQLITE_ROW) {
    if (!column_hash(st, 0, hash_out) || !column_u64(st, 1, da_height_out)) {
      code = store_fail(s, EVC_ECORRUPT, "block %" PRIu64 " has a malformed hash or da height",
                        height);
    }
  } else if (rc == SQLITE_DONE) {
    code = EVC_ENOTFOUND;
  } else {
    code = store_sql_fail(s, rc, "read block hash");
  }
  sqlite3_reset(st);
  return code;
}

/* ---- open: probe, classify, migrate, check, load ---- */

/* Runs a query returning one row and calls nothing else: the first column as text. */
static int query_text(struct evc_store *s, const char *sql, char *out, size_t out_size) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) return store_sql_fail(s, rc, sql);
  rc = sqlite3_step(st);
  int code = 0;
  if (rc == SQLITE_ROW) {
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, out_size, "%s", t ? (const char *)t : "");
  } else if (rc == SQLITE_DONE) {
    out[0] = '\0';
  } else {
    code = store_sql_fail(s, rc, sql);
  }
  sqlite3_finalize(st);
  return code;
}

/* Opens the connection, proves the file is an intact SQLite database and enters WAL mode. */
static int open_connection(struct evc_store *s, const char *vfs_name) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(s->path, &s->db, flags, vfs_name);
  if (rc != SQLITE_OK) {
    int code = store_sql_fail(s, rc, "cannot open");
    return code == EVC_ECORRUPT ? code : EVC_EIO;
  }
  sqlite3_extended_result_codes(s->db, 1);
  sqlite3_busy_timeout(s->db, 0);
  /* One process owns a store: exclusive locking also keeps the WAL index in heap memory,
   * so no shared-memory file is needed (the simulator's VFS has none to offer). */
  int code = exec_sql(s, "PRAGMA locking_mode = EXCLUSIVE", "set locking mode");
  if (code != 0) return code;
  char text[64];
  code = query_text(s, "PRAGMA quick_check", text, sizeof text);
  if (code == EVC_ECORRUPT) return store_fail(s, code, "not an intact SQLite database (%s)",
                                              sqlite3_errmsg(s->db));
  if (code != 0) return code;
  if (strcmp(text, "ok") != 0) {
    return store_fail(s, EVC_ECORRUPT, "quick_check failed: %s; restore from a backup or "
                      "wipe data/ and resync", text);
  }
  code = query_text(s, "PRAGMA journal_mode = WAL", text, sizeof text);
  if (code != 0) return code;
  if (strcmp(text, "wal") != 0) {
    return store_fail(s, EVC_EIO, "cannot enter WAL mode (journal mode is '%s')", text);
  }
  s->sync_full = true;
  /* A batch's units are savepoints: their sub-journals stay in memory (no temp files, which
   * a VFS such as the simulator's need not offer). */
  code = exec_sql(s, "PRAGMA temp_store = MEMORY", "set temp store");
  if (code != 0) return code;
  /* Checkpoints are where a follower waits for the disk (each one syncs the WAL and the
   * database); fewer, larger ones write a page rewritten by many batches once. The WAL grows
   * to about 512 MiB between checkpoints (131,072 pages of 4 KiB) and is cut back to 64 MiB
   * when one resets it. The page cache is 16 MiB: the blocks_by_hash index and the kv table
   * are read at random. Both bound memory and disk by configuration, never by chain length
   * (docs/performance.md). */
  code = exec_sql(s, "PRAGMA wal_autocheckpoint = 131072", "set checkpoint interval");
  if (code == 0) code = exec_sql(s, "PRAGMA journal_size_limit = 67108864", "set WAL size limit");
  if (code == 0) code = exec_sql(s, "PRAGMA cache_size = -16384", "set cache size");
  if (code != 0) return code;
  return exec_sql(s, "PRAGMA synchronous = FULL", "set synchronous");
}

/* Counts the tables in the database and tells whether one named meta exists. */
static int count_tables(struct evc_store *s, int *count_out, bool *has_meta_out) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1,
                              &st, NULL);
  if (rc != SQLITE_OK) return store_sql_fail(s, rc, "list tables");
  *count_out = 0;
  *has_meta_out = false;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char *name = sqlite3_column_text(st, 0);
    (*count_out)++;
    if (name != NULL && strcmp((const char *)name, "meta") == 0) *has_meta_out = true;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return store_sql_fail(s, rc, "list tables");
  return 0;
}

/* Reads meta[key] into a prepared row: returns the statement positioned on the row (caller
 * finalizes), or NULL with *code set (EVC_ENOTFOUND when absent). */
static sqlite3_stmt *meta_row(struct evc_store *s, const char *key, int *code) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL);
  if (rc != SQLITE_OK) {
    *code = store_fail(s, EVC_EFOREIGN, "table meta is not evc's: %s", sqlite3_errmsg(s->db));
    return NULL;
  }
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return st;
  *code = rc == SQLITE_DONE ? EVC_ENOTFOUND : store_sql_fail(s, rc, "read meta");
  sqlite3_finalize(st);
  return NULL;
}

/* Writes meta[key]: text when text != NULL, else a blob when blob != NULL, else number. */
static int meta_put(struct evc_store *s, const char *key, const char *text, const void *blob,
                    uint64_t number) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
                              -1, &st, NULL);
  if (rc != SQLITE_OK) return store_sql_fail(s, rc, "write meta");
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  if (text != NULL) {
    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
  } else if (blob != NULL) {
    bind_blob(st, 2, blob, EVC_HASH_SIZE);
  } else {
    bind_u64(st, 2, number);
  }
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return store_sql_fail(s, rc, "write meta");
  return 0;
}

/* Applies the steps of versions from+1..EVC_STORE_SCHEMA_VERSION (the caller's transaction). */
static int apply_migrations(struct evc_store *s, uint64_t from) {
  EVC_ASSERT(from < EVC_STORE_SCHEMA_VERSION);
  for (uint64_t v = from + 1; v <= EVC_STORE_SCHEMA_VERSION; v++) {
    for (const char *const *step = migrations[v]; *step != NULL; step++) {
      int code = exec_sql(s, *step, "migrate schema");
      if (code != 0) return code;
    }
  }
  return meta_put(s, "schema_version", NULL, NULL, EVC_STORE_SCHEMA_VERSION);
}

static int insert_first_chain_state(struct evc_store *s,
                                    const uint8_t initial_app_hash[EVC_HASH_SIZE]) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, "INSERT INTO chain_state(id, height, last_hash, app_hash,"
                              " da_included_height) VALUES (1, ?1, zeroblob(32), ?2, ?1)", -1,
                              &st, NULL);
  if (rc != SQLITE_OK) return store_sql_fail(s, rc, "write first chain state");
  bind_u64(st, 1, s->initial_height - 1);
  bind_blob(st, 2, initial_app_hash, EVC_HASH_SIZE);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return store_sql_fail(s, rc, "write first chain state");
  return 0;
}

/* Creates every table and the first chain state in one transaction. */
static int create_fresh(struct evc_store *s, const uint8_t genesis_hash[EVC_HASH_SIZE],
                        const uint8_t initial_app_hash[EVC_HASH_SIZE]) {
  int code = exec_sql(s, "BEGIN IMMEDIATE", "begin schema creation");
  if (code != 0) return code;
  code = apply_migrations(s, 0);
  if (code == 0) code = meta_put(s, "app", STORE_APP_NAME, NULL, 0);
  if (code == 0) code = meta_put(s, "genesis_hash", NULL, genesis_hash, 0);
  if (code == 0) code = meta_put(s, "initial_height", NULL, NULL, s->initial_height);
  if (code == 0) code = insert_first_chain_state(s, initial_app_hash);
  if (code == 0) return exec_sql(s, "COMMIT", "commit schema creation");
  sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  return code;
}

/* Checks that meta says app = "evc"; EVC_EFOREIGN otherwise. */
static int check_app(struct evc_store *s) {
  int code = 0;
  sqlite3_stmt *st = meta_row(s, "app", &code);
  if (st == NULL) {
    if (code == EVC_ENOTFOUND) return store_fail(s, EVC_EFOREIGN, "not an evc database (no app)");
    return code;
  }
  const unsigned char *t = sqlite3_column_text(st, 0);
  bool ours = t != NULL && strcmp((const char *)t, STORE_APP_NAME) == 0;
  sqlite3_finalize(st);
  if (!ours) return store_fail(s, EVC_EFOREIGN, "not an evc database (app is not evc)");
  return 0;
}

/* Reads schema_version; EVC_ESCHEMA when newer than this code, EVC_ECORRUPT when malformed. */
static int read_schema_version(struct evc_store *s, uint64_t *version_out) {
  int code = 0;
  sqlite3_stmt *st = meta_row(s, "schema_version", &code);
  if (st == NULL) {
    if (code == EVC_ENOTFOUND) return store_fail(s, EVC_ECORRUPT, "schema_version is missing");
    return code;
  }
  bool ok = column_u64(st, 0, version_out);
  sqlite3_finalize(st);
  if (!ok || *version_out == 0) return store_fail(s, EVC_ECORRUPT, "schema_version is malformed");
  if (*version_out > EVC_STORE_SCHEMA_VERSION) {
    return store_fail(s, EVC_ESCHEMA, "schema version %" PRIu64 " is newer than this evc "
                      "supports (%d): run a newer evc", *version_out, EVC_STORE_SCHEMA_VERSION);
  }
  return 0;
}

/* Checks that the store belongs to this chain: genesis hash and initial height. */
static int check_chain(struct evc_store *s, const uint8_t genesis_hash[EVC_HASH_SIZE]) {
  int code = 0;
  sqlite3_stmt *st = meta_row(s, "genesis_hash", &code);
  if (st == NULL) {
    return code == EVC_ENOTFOUND ? store_fail(s, EVC_ECORRUPT, "genesis_hash is missing") : code;
  }
  uint8_t stored[EVC_HASH_SIZE];
  bool ok = column_hash(st, 0, stored);
  sqlite3_finalize(st);
  if (!ok) return store_fail(s, EVC_ECORRUPT, "genesis_hash is malformed");
  if (memcmp(stored, genesis_hash, EVC_HASH_SIZE) != 0) {
    return store_fail(s, EVC_EFOREIGN, "belongs to another chain (genesis hash differs)");
  }
  st = meta_row(s, "initial_height", &code);
  if (st == NULL) {
    return code == EVC_ENOTFOUND ? store_fail(s, EVC_ECORRUPT, "initial_height is missing")
                                 : code;
  }
  uint64_t initial = 0;
  ok = column_u64(st, 0, &initial);
  sqlite3_finalize(st);
  if (!ok) return store_fail(s, EVC_ECORRUPT, "initial_height is malformed");
  if (initial != s->initial_height) {
    return store_fail(s, EVC_EFOREIGN, "initial height %" PRIu64 " differs from %" PRIu64,
                      initial, s->initial_height);
  }
  return 0;
}

/* Creates a fresh store or brings an existing one up to the current schema. */
static int prepare_schema(struct evc_store *s, const uint8_t genesis_hash[EVC_HASH_SIZE],
                          const uint8_t initial_app_hash[EVC_HASH_SIZE]) {
  int table_count = 0;
  bool has_meta = false;
  int code = count_tables(s, &table_count, &has_meta);
  if (code != 0) return code;
  if (table_count == 0) return create_fresh(s, genesis_hash, initial_app_hash);
  if (!has_meta) return store_fail(s, EVC_EFOREIGN, "not an evc database (no meta table)");
  code = check_app(s);
  if (code != 0) return code;
  uint64_t version = 0;
  code = read_schema_version(s, &version);
  if (code != 0) return code;
  code = check_chain(s, genesis_hash);
  if (code != 0 || version == EVC_STORE_SCHEMA_VERSION) return code;
  code = exec_sql(s, "BEGIN IMMEDIATE", "begin migration");
  if (code != 0) return code;
  code = apply_migrations(s, version);
  if (code == 0) return exec_sql(s, "COMMIT", "commit migration");
  sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  return code;
}

static int prepare_statements(struct evc_store *s) {
  for (int i = 0; i < ST_COUNT; i++) {
    EVC_ASSERT(stmt_sql[i] != NULL);
    int rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &s->stmts[i], NULL);
    if (rc != SQLITE_OK) return store_sql_fail(s, rc, "prepare statement");
  }
  return 0;
}

/* Reads the chain state row, validating every field. */
static int read_chain_state(struct evc_store *s, struct evc_chain_state *cs) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, "SELECT height, last_hash, app_hash, da_included_height "
                              "FROM chain_state WHERE id = 1", -1, &st, NULL);
  if (rc != SQLITE_OK) return store_sql_fail(s, rc, "read chain state");
  rc = sqlite3_step(st);
  int code = 0;
  if (rc != SQLITE_ROW) {
    code = rc == SQLITE_DONE ? store_fail(s, EVC_ECORRUPT, "chain state row is missing")
                             : store_sql_fail(s, rc, "read chain state");
  } else if (!column_u64(st, 0, &cs->height) || !column_hash(st, 1, cs->last_hash) ||
             !column_hash(st, 2, cs->app_hash) || !column_u64(st, 3, &cs->da_included_height)) {
    code = store_fail(s, EVC_ECORRUPT, "chain state row is malformed");
  }
  sqlite3_finalize(st);
  return code;
}

/* Loads the chain state and checks it against the blocks: the top block is the chain's. */
static int load_chain_state(struct evc_store *s) {
  struct evc_chain_state cs;
  memset(&cs, 0, sizeof cs);
  int code = read_chain_state(s, &cs);
  if (code != 0) return code;
  if (cs.height + 1 < s->initial_height || cs.da_included_height > cs.height ||
      cs.da_included_height + 1 < s->initial_height || cs.height > STORE_HEIGHT_MAX) {
    return store_fail(s, EVC_ECORRUPT, "chain state heights are inconsistent (height %" PRIu64
                      ", da included %" PRIu64 ")", cs.height, cs.da_included_height);
  }
  char top[32];
  code = query_text(s, "SELECT coalesce(max(height), 0) FROM blocks", top, sizeof top);
  if (code != 0) return code;
  uint64_t top_height = strtoull(top, NULL, 10);
  bool empty_chain = cs.height + 1 == s->initial_height;
  if (empty_chain ? top_height != 0 || !hash_is_zero(cs.last_hash) : top_height != cs.height) {
    return store_fail(s, EVC_ECORRUPT, "highest block %" PRIu64 " disagrees with chain height %"
                      PRIu64, top_height, cs.height);
  }
  if (!empty_chain) {
    uint8_t hash[EVC_HASH_SIZE];
    uint64_t da_height = 0;
    code = block_hash_at(s, cs.height, hash, &da_height);
    if (code == EVC_ENOTFOUND) code = store_fail(s, EVC_ECORRUPT, "top block is missing");
    if (code != 0) return code;
    if (memcmp(hash, cs.last_hash, EVC_HASH_SIZE) != 0) {
      return store_fail(s, EVC_ECORRUPT, "chain state hash differs from the top block's");
    }
  }
  s->state = cs;
  s->tx_state = cs;
  return 0;
}

static int store_open_steps(struct evc_store *s, const char *vfs_name,
                            const uint8_t genesis_hash[EVC_HASH_SIZE],
                            const uint8_t initial_app_hash[EVC_HASH_SIZE]) {
  int code = open_connection(s, vfs_name);
  if (code == 0) code = prepare_schema(s, genesis_hash, initial_app_hash);
  if (code == 0) code = prepare_statements(s);
  if (code == 0) code = load_chain_state(s);
  return code;
}

/* One thread per process uses SQLite (the node's loop; the simulator; evc-da's loop): its
 * mutexes and memory statistics only cost time. These settings can be made only before
 * SQLite initialises; when the host initialised it first (the simulator does), SQLite says
 * SQLITE_MISUSE and keeps its defaults, which are correct too. */
static void configure_sqlite(void) {
  static bool configured;
  if (configured) return;
  configured = true;
  int rc = sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
  EVC_ASSERT(rc == SQLITE_OK || rc == SQLITE_MISUSE);
  rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  EVC_ASSERT(rc == SQLITE_OK || rc == SQLITE_MISUSE);
}

int evc_store_open(const char *path, const char *vfs_name,
                   const uint8_t genesis_hash[EVC_HASH_SIZE], uint64_t initial_height,
                   const uint8_t initial_app_hash[EVC_HASH_SIZE], struct evc_store **out,
                   char *err, size_t err_size) {
  EVC_ASSERT(path != NULL);
  EVC_ASSERT(genesis_hash != NULL);
  EVC_ASSERT(initial_app_hash != NULL);
  EVC_ASSERT(out != NULL);
  EVC_ASSERT(initial_height >= 1);
  EVC_ASSERT(initial_height < STORE_HEIGHT_MAX / 2);
  configure_sqlite();
  *out = NULL;
  if (err != NULL && err_size > 0) err[0] = '\0';
  struct evc_store *s = calloc(1, sizeof *s);
  char *path_copy = strdup(path);
  if (s == NULL || path_copy == NULL) {
    free(s);
    free(path_copy);
    if (err != NULL && err_size > 0) snprintf(err, err_size, "store '%s': out of memory", path);
    return EVC_ENOMEM;
  }
  s->path = path_copy;
  s->initial_height = initial_height;
  int code = store_open_steps(s, vfs_name, genesis_hash, initial_app_hash);
  if (code != 0) {
    EVC_ASSERT(s->errmsg[0] != '\0');
    if (err != NULL && err_size > 0) snprintf(err, err_size, "%s", s->errmsg);
    evc_store_close(s);
    return code;
  }
  s->errmsg[0] = '\0';
  *out = s;
  return 0;
}

void evc_store_close(struct evc_store *s) {
  if (s == NULL) return;
  if (s->in_tx) evc_store_abort(s);
  if (s->batch_open && !sqlite3_get_autocommit(s->db)) run_done(s, ST_ROLLBACK, "rollback batch");
  for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->stmts[i]);
  /* A connection on a dead (crashed) simulated disk may fail to close cleanly; v2 still
   * frees it once its statements are gone, which they are. */
  sqlite3_close_v2(s->db);
  free(s->path);
  free(s);
}

const char *evc_store_errmsg(const struct evc_store *s) { return s->errmsg; }

sqlite3 *evc_store_db(struct evc_store *s) { return s->db; }

uint64_t evc_store_initial_height(const struct evc_store *s) { return s->initial_height; }

void evc_store_chain_state(const struct evc_store *s, struct evc_chain_state *out) {
  *out = s->state;
}

bool evc_store_in_transaction(const struct evc_store *s) { return s->in_tx; }

bool evc_store_unit_marked_final(const struct evc_store *s, uint64_t height) {
  return s->in_tx && height != 0 && s->unit_marked_height == height;
}

/* ---- transactions ---- */

int evc_store_begin(struct evc_store *s) {
  EVC_ASSERT(!s->in_tx);
  if (s->failed) {
    return store_fail(s, EVC_EIO, "an earlier commit or rollback failed: reopen the store "
                      "to learn what reached the disk");
  }
  EVC_ASSERT(sqlite3_get_autocommit(s->db) == !s->batch_open);
  int code = run_done(s, s->batch_open ? ST_SAVEPOINT : ST_BEGIN, "begin transaction");
  if (code != 0) return code;
  s->in_tx = true;
  s->unit_marked_height = 0;
  s->tx_state = s->state;
  return 0;
}

/* Inside a batch, a failed statement may have made SQLite roll back the whole transaction
 * (I/O errors, a full disk): every unit of the batch is gone. The cached state returns to
 * what is on disk and the store refuses further work until reopened. */
static bool batch_lost(struct evc_store *s) {
  if (!s->batch_open || !sqlite3_get_autocommit(s->db)) return false;
  s->batch_open = false;
  s->in_tx = false;
  s->failed = true;
  s->state = s->batch_base;
  s->tx_state = s->state;
  return true;
}

int evc_store_batch_begin(struct evc_store *s) {
  EVC_ASSERT(!s->in_tx);
  EVC_ASSERT(!s->batch_open);
  if (s->failed) {
    return store_fail(s, EVC_EIO, "an earlier commit or rollback failed: reopen the store "
                      "to learn what reached the disk");
  }
  int code = run_done(s, ST_BEGIN, "begin batch");
  if (code != 0) return code;
  s->batch_open = true;
  s->batch_durable = false;
  s->batch_units = 0;
  s->batch_base = s->state;
  return 0;
}

bool evc_store_batch_is_open(const struct evc_store *s) { return s->batch_open; }

uint32_t evc_store_batch_units(const struct evc_store *s) {
  return s->batch_open ? s->batch_units : 0;
}

/* After a commit: make it (and every earlier one) durable and set the pragma for the next
 * transactions. PRAGMA synchronous cannot change inside a transaction, so a durable commit
 * made under NORMAL is forced to disk by a checkpoint, which syncs the WAL first. */
static int switch_durability(struct evc_store *s, bool durable) {
  if (durable == s->sync_full) return 0;
  if (durable) {
    int log_frames = 0;
    int done_frames = 0;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                       &done_frames);
    if (rc != SQLITE_OK) return store_sql_fail(s, rc, "sync commit (checkpoint)");
    if (done_frames != log_frames) {
      return store_fail(s, EVC_EIO, "sync commit: checkpoint left %d of %d frames",
                        log_frames - done_frames, log_frames);
    }
  }
  int code = exec_sql(s, durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                      "set synchronous");
  if (code != 0) return code;
  s->sync_full = durable;
  return 0;
}

/* Ends a unit inside a batch: its changes join the batch; durability waits for the batch. */
static int unit_release(struct evc_store *s, bool durable) {
  int code = run_done(s, ST_RELEASE, "release unit");
  if (code != 0) {
    if (!batch_lost(s)) evc_store_abort(s);
    s->failed = true;
    return code;
  }
  s->in_tx = false;
  s->state = s->tx_state;
  s->batch_durable |= durable;
  s->batch_units++;
  return 0;
}

int evc_store_commit(struct evc_store *s, bool durable) {
  EVC_ASSERT(s->in_tx);
  EVC_ASSERT(s->tx_state.da_included_height <= s->tx_state.height);
  if (s->batch_open) return unit_release(s, durable);
  int code = run_done(s, ST_COMMIT, "commit");
  if (code != 0) {
    /* Some errors leave the transaction open, others roll it back: end it either way. A
     * failed COMMIT may still have reached the disk (SQLite syncs the commit frame before
     * it writes the WAL's padding), so the store refuses further work until reopened. */
    char keep[EVC_STORE_ERRMSG_SIZE];
    memcpy(keep, s->errmsg, sizeof keep);
    if (!sqlite3_get_autocommit(s->db)) run_done(s, ST_ROLLBACK, "rollback after commit error");
    memcpy(s->errmsg, keep, sizeof keep);
    s->failed = true;
    s->in_tx = false;
    s->tx_state = s->state;
    return code;
  }
  s->in_tx = false;
  s->state = s->tx_state;
  code = switch_durability(s, durable);
  if (code != 0) s->failed = true;
  return code;
}

int evc_store_batch_commit(struct evc_store *s, bool durable) {
  EVC_ASSERT(s->batch_open);
  EVC_ASSERT(!s->in_tx);
  if (batch_lost(s)) return store_fail(s, EVC_EIO, "a batch was rolled back by an error");
  s->batch_open = false;
  durable |= s->batch_durable;
  int code = run_done(s, ST_COMMIT, "commit batch");
  if (code != 0) {
    /* As in evc_store_commit: what reached the disk is unknown until a reopen. */
    char keep[EVC_STORE_ERRMSG_SIZE];
    memcpy(keep, s->errmsg, sizeof keep);
    if (!sqlite3_get_autocommit(s->db)) run_done(s, ST_ROLLBACK, "rollback after commit error");
    memcpy(s->errmsg, keep, sizeof keep);
    s->failed = true;
    s->state = s->batch_base;
    s->tx_state = s->state;
    return code;
  }
  code = switch_durability(s, durable);
  if (code != 0) s->failed = true;
  return code;
}

void evc_store_abort(struct evc_store *s) {
  if (!s->in_tx) return;
  char keep[EVC_STORE_ERRMSG_SIZE];
  memcpy(keep, s->errmsg, sizeof keep); /* the caller wants the error that made it abort */
  if (s->batch_open && !batch_lost(s)) {
    /* Undo this unit only; the batch's earlier units stay. */
    if (run_done(s, ST_ROLLBACK_TO, "roll back unit") != 0 ||
        run_done(s, ST_RELEASE, "release unit") != 0) {
      s->failed = true;
    }
  } else if (!s->batch_open && !sqlite3_get_autocommit(s->db)) {
    /* A failed statement may already have rolled SQLite's transaction back. */
    if (run_done(s, ST_ROLLBACK, "rollback") != 0) s->failed = true;
  }
  memcpy(s->errmsg, keep, sizeof keep);
  s->in_tx = false;
  s->tx_state = s->state;
}

/* ---- blocks and chain state ---- */

static int put_block(struct evc_store *s, uint64_t height, const uint8_t hash[EVC_HASH_SIZE],
                     const uint8_t *header, size_t header_size, const uint8_t *data,
                     size_t data_size, uint64_t da_height) {
  EVC_ASSERT(s->in_tx);
  EVC_ASSERT(da_height <= STORE_HEIGHT_MAX);
  EVC_ASSERT(header != NULL);
  EVC_ASSERT(header_size >= 1 && header_size <= EVC_SIGNED_HEADER_SIZE_MAX);
  EVC_ASSERT(data != NULL || data_size == 0);
  EVC_ASSERT(data_size <= EVC_DATA_SIZE_MAX);
  if (height != s->tx_state.height + 1) {
    return store_fail(s, EVC_ECHAIN, "block %" PRIu64 " does not extend chain height %" PRIu64,
                      height, s->tx_state.height);
  }
  sqlite3_stmt *st = s->stmts[ST_PUT_BLOCK];
  bind_u64(st, 1, height);
  bind_blob(st, 2, hash, EVC_HASH_SIZE);
  bind_blob(st, 3, header, header_size);
  bind_blob(st, 4, data, data_size);
  bind_u64(st, 5, da_height);
  int code = run_done(s, ST_PUT_BLOCK, "put block");
  if (code == 0 && da_height != 0) s->unit_marked_height = height;
  return code;
}

int evc_store_put_block(struct evc_store *s, uint64_t height, const uint8_t hash[EVC_HASH_SIZE],
                        const uint8_t *header, size_t header_size, const uint8_t *data,
                        size_t data_size) {
  return put_block(s, height, hash, header, header_size, data, data_size, 0);
}

int evc_store_put_final_block(struct evc_store *s, uint64_t height,
                              const uint8_t hash[EVC_HASH_SIZE], const uint8_t *header,
                              size_t header_size, const uint8_t *data, size_t data_size,
                              uint64_t da_height) {
  EVC_ASSERT(da_height >= 1);
  return put_block(s, height, hash, header, header_size, data, data_size, da_height);
}

static int write_tx_state(struct evc_store *s, const struct evc_chain_state *cs) {
  EVC_ASSERT(cs->da_included_height <= cs->height);
  sqlite3_stmt *st = s->stmts[ST_SET_STATE];
  bind_u64(st, 1, cs->height);
  bind_blob(st, 2, cs->last_hash, EVC_HASH_SIZE);
  bind_blob(st, 3, cs->app_hash, EVC_HASH_SIZE);
  bind_u64(st, 4, cs->da_included_height);
  int code = run_done(s, ST_SET_STATE, "write chain state");
  if (code != 0) return code;
  EVC_ASSERT(sqlite3_changes(s->db) == 1);
  s->tx_state = *cs;
  return 0;
}

int evc_store_set_chain_state(struct evc_store *s, const struct evc_chain_state *cs) {
  EVC_ASSERT(s->in_tx);
  EVC_ASSERT(cs->height <= STORE_HEIGHT_MAX);
  if (cs->height != s->tx_state.height && cs->height != s->tx_state.height + 1) {
    return store_fail(s, EVC_ECHAIN, "chain state height %" PRIu64 " is not %" PRIu64 " or next",
                      cs->height, s->tx_state.height);
  }
  if (cs->height + 1 == s->initial_height) {
    if (!hash_is_zero(cs->last_hash)) {
      return store_fail(s, EVC_ECHAIN, "chain state before the first block has a last hash");
    }
  } else {
    uint8_t hash[EVC_HASH_SIZE];
    uint64_t da_height = 0;
    int code = block_hash_at(s, cs->height, hash, &da_height);
    if (code == EVC_ENOTFOUND) {
      return store_fail(s, EVC_ECHAIN, "chain state names block %" PRIu64 ", not stored",
                        cs->height);
    }
    if (code != 0) return code;
    if (memcmp(hash, cs->last_hash, EVC_HASH_SIZE) != 0) {
      return store_fail(s, EVC_ECHAIN, "chain state hash differs from block %" PRIu64 "'s",
                        cs->height);
    }
  }
  struct evc_chain_state next = *cs;
  next.da_included_height = s->tx_state.da_included_height;
  /* Moving onto a block put already DA-included (put_final_block) right above the included
   * prefix extends the prefix by it: the block below it is included by then, or it would be
   * the prefix's end, so this is what advance_da_included would find, without its reads. */
  if (cs->height == s->tx_state.height + 1 && s->unit_marked_height == cs->height &&
      next.da_included_height + 1 == cs->height) {
    next.da_included_height = cs->height;
  }
  return write_tx_state(s, &next);
}

int evc_store_get_block(struct evc_store *s, uint64_t height, struct evc_block_record *out) {
  memset(out, 0, sizeof *out);
  if (height > STORE_HEIGHT_MAX) return EVC_ENOTFOUND;
  sqlite3_stmt *st = s->stmts[ST_GET_BLOCK];
  bind_u64(st, 1, height);
  int rc = sqlite3_step(st);
  int code = 0;
  if (rc == SQLITE_DONE) {
    code = EVC_ENOTFOUND;
  } else if (rc != SQLITE_ROW) {
    code = store_sql_fail(s, rc, "read block");
  } else if (!column_hash(st, 0, out->hash) || !column_u64(st, 3, &out->da_height)) {
    code = store_fail(s, EVC_ECORRUPT, "block %" PRIu64 " has a malformed hash or da height",
                      height);
  } else {
    code = column_blob_copy(st, 1, 1, EVC_SIGNED_HEADER_SIZE_MAX, &out->header,
                            &out->header_size);
    if (code == 0) {
      code = column_blob_copy(st, 2, 0, EVC_DATA_SIZE_MAX, &out->data, &out->data_size);
    }
    if (code != 0) code = store_fail(s, code, "block %" PRIu64 ": header or data out of bounds",
                                     height);
  }
  sqlite3_reset(st);
  if (code != 0) {
    evc_block_record_release(out);
    return code;
  }
  out->height = height;
  return 0;
}

void evc_block_record_release(struct evc_block_record *r) {
  free(r->header);
  free(r->data);
  memset(r, 0, sizeof *r);
}

/* Runs a bound query that answers one height: EVC_ENOTFOUND when it has no row. */
static int query_height(struct evc_store *s, sqlite3_stmt *st, const char *what,
                        uint64_t *height_out) {
  int rc = sqlite3_step(st);
  int code = 0;
  if (rc == SQLITE_DONE) {
    code = EVC_ENOTFOUND;
  } else if (rc != SQLITE_ROW) {
    code = store_sql_fail(s, rc, what);
  } else if (!column_u64(st, 0, height_out)) {
    code = store_fail(s, EVC_ECORRUPT, "block height is malformed");
  }
  sqlite3_reset(st);
  return code;
}

int evc_store_find_height(struct evc_store *s, const uint8_t hash[EVC_HASH_SIZE],
                          uint64_t *height_out) {
  sqlite3_stmt *st = s->stmts[ST_FIND];
  bind_blob(st, 1, hash, EVC_HASH_SIZE);
  return query_height(s, st, "find block by hash", height_out);
}

/* Advances the transaction's da_included_height over contiguous DA-included blocks. */
static int advance_da_included(struct evc_store *s) {
  struct evc_chain_state next = s->tx_state;
  while (next.da_included_height < next.height) {
    uint8_t hash[EVC_HASH_SIZE];
    uint64_t da_height = 0;
    int code = block_hash_at(s, next.da_included_height + 1, hash, &da_height);
    if (code == EVC_ENOTFOUND) {
      return store_fail(s, EVC_ECORRUPT, "block %" PRIu64 " below the chain height is missing",
                        next.da_included_height + 1);
    }
    if (code != 0) return code;
    if (da_height == 0) break;
    next.da_included_height++;
  }
  if (next.da_included_height == s->tx_state.da_included_height) return 0;
  return write_tx_state(s, &next);
}

int evc_store_mark_da_included(struct evc_store *s, uint64_t height, uint64_t da_height) {
  EVC_ASSERT(s->in_tx);
  EVC_ASSERT(da_height >= 1 && da_height <= STORE_HEIGHT_MAX);
  if (height > STORE_HEIGHT_MAX) return EVC_ENOTFOUND;
  sqlite3_stmt *st = s->stmts[ST_MARK];
  bind_u64(st, 1, height);
  bind_u64(st, 2, da_height);
  int code = run_done(s, ST_MARK, "mark block DA-included");
  if (code != 0) return code;
  s->unit_marked_height = height;
  if (sqlite3_changes(s->db) == 0) {
    uint8_t hash[EVC_HASH_SIZE];
    uint64_t stored_da = 0;
    code = block_hash_at(s, height, hash, &stored_da); /* absent, or marked already */
    if (code != 0) return code;
    EVC_ASSERT(stored_da != 0);
  }
  return advance_da_included(s);
}

int evc_store_next_soft(struct evc_store *s, uint64_t after_height, uint64_t *height_out) {
  if (after_height >= STORE_HEIGHT_MAX) return EVC_ENOTFOUND;
  sqlite3_stmt *st = s->stmts[ST_NEXT_SOFT];
  bind_u64(st, 1, after_height);
  return query_height(s, st, "find soft block", height_out);
}

/* ---- rollback ---- */

/* EVC_ESTATE when a block above height was seen on DA. */
static int check_no_final_above(struct evc_store *s, uint64_t height) {
  sqlite3_stmt *st = s->stmts[ST_FINAL_ABOVE];
  bind_u64(st, 1, height);
  int rc = sqlite3_step(st);
  uint64_t final_height = 0;
  if (rc == SQLITE_ROW) column_u64(st, 0, &final_height);
  sqlite3_reset(st);
  if (rc == SQLITE_ROW) {
    return store_fail(s, EVC_ESTATE, "cannot roll back to %" PRIu64 ": block %" PRIu64
                      " is final (seen on DA)", height, final_height);
  }
  if (rc != SQLITE_DONE) return store_sql_fail(s, rc, "check final blocks");
  return 0;
}

/* The body of rollback_to, inside the open transaction. */
static int rollback_in_tx(struct evc_store *s, uint64_t height, const struct evc_exec *exec) {
  struct evc_chain_state next = s->tx_state;
  next.height = height;
  int code = exec->ops->rollback_to(exec->impl, height, next.app_hash);
  if (code != 0) {
    return store_fail(s, code, "executor cannot roll back to %" PRIu64 ": %s", height,
                      evc_strerror(code));
  }
  sqlite3_stmt *st = s->stmts[ST_DELETE_ABOVE];
  bind_u64(st, 1, height);
  code = run_done(s, ST_DELETE_ABOVE, "delete blocks");
  if (code != 0) return code;
  if (height + 1 == s->initial_height) {
    memset(next.last_hash, 0, EVC_HASH_SIZE);
  } else {
    uint64_t da_height = 0;
    code = block_hash_at(s, height, next.last_hash, &da_height);
    if (code == EVC_ENOTFOUND) code = store_fail(s, EVC_ECORRUPT, "block %" PRIu64 " is "
                                                 "missing below the chain height", height);
    if (code != 0) return code;
  }
  EVC_ASSERT(next.da_included_height <= height); /* no final block above height */
  return write_tx_state(s, &next);
}

int evc_store_rollback_to(struct evc_store *s, uint64_t height, const struct evc_exec *exec) {
  EVC_ASSERT(!s->in_tx);
  EVC_ASSERT(exec != NULL && exec->ops != NULL && exec->ops->rollback_to != NULL);
  if (height > s->state.height || height + 1 < s->initial_height) {
    return store_fail(s, EVC_ERANGE, "cannot roll back to %" PRIu64 ": chain spans %" PRIu64
                      "..%" PRIu64, height, s->initial_height - 1, s->state.height);
  }
  int code = check_no_final_above(s, height);
  if (code != 0) return code;
  code = evc_store_begin(s);
  if (code != 0) return code;
  code = rollback_in_tx(s, height, exec);
  if (code != 0) {
    evc_store_abort(s);
    return code;
  }
  return evc_store_commit(s, true);
}
