/* The built-in key/value executor: "key=value" txs applied to tables in the store's SQLite
 * database inside the store's transaction, an order-independent app hash kept incrementally,
 * and an undo log per height for rollback. It must never fail a block for a bad tx (bad txs
 * are skipped the same way on every node) and never keep state outside the database. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/exec/exec.h"
#include "node/types/sha256.h"

#define KV_SCHEMA_VERSION 1
#define KV_HEIGHT_MAX ((uint64_t)INT64_MAX)

_Static_assert(EVC_KV_KEY_SIZE_MAX + 1 + EVC_KV_VALUE_SIZE_MAX <= EVC_TX_SIZE_MAX,
               "a valid kv tx fits a tx");

/* The executor's tables, created at init if absent (its own schema, versioned in kv_meta). */
static const char kv_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS kv(key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS kv_undo(height INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " key BLOB NOT NULL, had_value INTEGER NOT NULL, old_value BLOB,"
    " PRIMARY KEY (height, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS kv_meta(id INTEGER PRIMARY KEY CHECK (id = 1),"
    " version INTEGER NOT NULL, accumulator BLOB NOT NULL, entry_count INTEGER NOT NULL,"
    " height INTEGER NOT NULL, pruned_height INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO kv_meta VALUES (1, 1, zeroblob(32), 0, 0, 0);";

enum kv_stmt {
  KV_GET,
  KV_PUT,
  KV_DEL,
  KV_UNDO_PUT,
  KV_UNDO_ABOVE,
  KV_UNDO_DEL_ABOVE,
  KV_UNDO_PRUNE,
  KV_META_GET,
  KV_META_SET,
  KV_STMT_COUNT,
};

static const char *const kv_stmt_sql[KV_STMT_COUNT] = {
    [KV_GET] = "SELECT value FROM kv WHERE key = ?1",
    [KV_PUT] = "INSERT OR REPLACE INTO kv(key, value) VALUES (?1, ?2)",
    [KV_DEL] = "DELETE FROM kv WHERE key = ?1",
    [KV_UNDO_PUT] = "INSERT INTO kv_undo(height, seq, key, had_value, old_value)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
    [KV_UNDO_ABOVE] = "SELECT key, had_value, old_value FROM kv_undo WHERE height > ?1"
                      " ORDER BY height DESC, seq DESC",
    [KV_UNDO_DEL_ABOVE] = "DELETE FROM kv_undo WHERE height > ?1",
    [KV_UNDO_PRUNE] = "DELETE FROM kv_undo WHERE height <= ?1",
    [KV_META_GET] = "SELECT version, accumulator, entry_count, height, pruned_height"
                    " FROM kv_meta WHERE id = 1",
    [KV_META_SET] = "UPDATE kv_meta SET accumulator = ?1, entry_count = ?2, height = ?3,"
                    " pruned_height = ?4 WHERE id = 1",
};

struct kv_impl {
  struct evc_store *store;
  sqlite3 *db;
  sqlite3_stmt *stmts[KV_STMT_COUNT];
  uint64_t skipped_tx_count;
};

/* The state summary kept in kv_meta; read at the start of every operation so an aborted
 * transaction can never leave a stale copy in memory. */
struct kv_meta {
  uint8_t accumulator[EVC_HASH_SIZE];
  uint64_t entry_count;
  uint64_t height; /* highest executed height not rolled back; 0 before the first */
  uint64_t pruned_height; /* undo records at or below it are gone */
};

struct kv_entry {
  const uint8_t *key;
  size_t key_size;
  const uint8_t *value;
  size_t value_size;
};

/* ---- pure parts: tx rules and hashing ---- */

static bool key_char_ok(uint8_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

/* Splits tx into key and value when it follows the rules; false otherwise. */
static bool parse_tx(const uint8_t *tx, size_t size, struct kv_entry *out) {
  if (tx == NULL || size < 2 || size > EVC_KV_KEY_SIZE_MAX + 1 + EVC_KV_VALUE_SIZE_MAX) {
    return false;
  }
  size_t key_size = 0;
  while (key_size < size && key_char_ok(tx[key_size])) key_size++;
  if (key_size == 0 || key_size > EVC_KV_KEY_SIZE_MAX) return false;
  if (key_size == size || tx[key_size] != '=') return false;
  size_t value_size = size - key_size - 1;
  if (value_size > EVC_KV_VALUE_SIZE_MAX) return false;
  for (size_t i = key_size + 1; i < size; i++) {
    if (tx[i] < 0x20 || tx[i] > 0x7e) return false;
  }
  out->key = tx;
  out->key_size = key_size;
  out->value = tx + key_size + 1;
  out->value_size = value_size;
  return true;
}

static void u32_be(uint32_t v, uint8_t out[4]) {
  out[0] = (uint8_t)(v >> 24);
  out[1] = (uint8_t)(v >> 16);
  out[2] = (uint8_t)(v >> 8);
  out[3] = (uint8_t)v;
}

static void entry_hash(const uint8_t *key, size_t key_size, const uint8_t *value,
                       size_t value_size, uint8_t out[EVC_HASH_SIZE]) {
  EVC_ASSERT(key_size >= 1 && key_size <= EVC_KV_KEY_SIZE_MAX);
  EVC_ASSERT(value_size <= EVC_KV_VALUE_SIZE_MAX);
  static const char domain[] = "evc-kv-entry";
  uint8_t len[4];
  struct evc_sha256 st;
  evc_sha256_init(&st);
  evc_sha256_update(&st, (const uint8_t *)domain, sizeof domain - 1);
  u32_be((uint32_t)key_size, len);
  evc_sha256_update(&st, len, sizeof len);
  evc_sha256_update(&st, key, key_size);
  u32_be((uint32_t)value_size, len);
  evc_sha256_update(&st, len, sizeof len);
  if (value_size > 0) evc_sha256_update(&st, value, value_size);
  evc_sha256_final(&st, out);
}

/* acc += x mod 2^256, both big-endian. */
static void acc_add(uint8_t acc[EVC_HASH_SIZE], const uint8_t x[EVC_HASH_SIZE]) {
  unsigned carry = 0;
  for (int i = EVC_HASH_SIZE - 1; i >= 0; i--) {
    unsigned sum = (unsigned)acc[i] + x[i] + carry;
    acc[i] = (uint8_t)sum;
    carry = sum >> 8;
  }
}

/* acc -= x mod 2^256, both big-endian. */
static void acc_sub(uint8_t acc[EVC_HASH_SIZE], const uint8_t x[EVC_HASH_SIZE]) {
  unsigned borrow = 0;
  for (int i = EVC_HASH_SIZE - 1; i >= 0; i--) {
    unsigned need = (unsigned)x[i] + borrow;
    borrow = acc[i] < need;
    acc[i] = (uint8_t)((unsigned)acc[i] + (borrow ? 256u : 0u) - need);
  }
}

static void state_hash(const struct kv_meta *m, uint8_t out[EVC_HASH_SIZE]) {
  static const char domain[] = "evc-kv-state-v1";
  uint8_t count[8];
  for (int i = 0; i < 8; i++) count[i] = (uint8_t)(m->entry_count >> (56 - 8 * i));
  struct evc_sha256 st;
  evc_sha256_init(&st);
  evc_sha256_update(&st, (const uint8_t *)domain, sizeof domain - 1);
  evc_sha256_update(&st, m->accumulator, EVC_HASH_SIZE);
  evc_sha256_update(&st, count, sizeof count);
  evc_sha256_final(&st, out);
}

int evc_kv_check_tx(const uint8_t *tx, size_t size) {
  struct kv_entry e;
  return parse_tx(tx, size, &e) ? 0 : EVC_EINVAL;
}

void evc_kv_empty_app_hash(uint8_t out[EVC_HASH_SIZE]) {
  struct kv_meta m;
  memset(&m, 0, sizeof m);
  state_hash(&m, out);
}

/* ---- database helpers ---- */

static int code_of_sqlite(int rc) {
  switch (rc & 0xff) {
    case SQLITE_NOMEM: return EVC_ENOMEM;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return EVC_ECORRUPT;
    case SQLITE_CONSTRAINT: return EVC_ESTATE; /* e.g. a height executed twice */
    default: return EVC_EIO;
  }
}

static void bind_u64(sqlite3_stmt *st, int index, uint64_t v) {
  EVC_ASSERT(v <= KV_HEIGHT_MAX);
  int rc = sqlite3_bind_int64(st, index, (sqlite3_int64)v);
  EVC_ASSERT(rc == SQLITE_OK);
}

static void bind_blob(sqlite3_stmt *st, int index, const void *bytes, size_t size) {
  EVC_ASSERT(size <= EVC_KV_VALUE_SIZE_MAX || size == EVC_HASH_SIZE);
  static const uint8_t empty[1]; /* keeps a zero-length value a blob, not NULL */
  int rc = sqlite3_bind_blob(st, index, size ? bytes : empty, (int)size, SQLITE_STATIC);
  EVC_ASSERT(rc == SQLITE_OK);
}

static int step_done(struct kv_impl *kv, enum kv_stmt which) {
  sqlite3_stmt *st = kv->stmts[which];
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : code_of_sqlite(rc);
}

static bool column_u64(sqlite3_stmt *st, int col, uint64_t *out) {
  if (sqlite3_column_type(st, col) != SQLITE_INTEGER) return false;
  sqlite3_int64 v = sqlite3_column_int64(st, col);
  if (v < 0) return false;
  *out = (uint64_t)v;
  return true;
}

/* Points *bytes at column col when it is a blob of min..max bytes (valid until the next
 * step or reset of st); false otherwise. */
static bool column_blob(sqlite3_stmt *st, int col, size_t size_min, size_t size_max,
                        const uint8_t **bytes, size_t *size_out) {
  if (sqlite3_column_type(st, col) != SQLITE_BLOB) return false;
  const void *p = sqlite3_column_blob(st, col);
  int n = sqlite3_column_bytes(st, col);
  if (n < 0 || (size_t)n < size_min || (size_t)n > size_max || (n > 0 && p == NULL)) {
    return false;
  }
  static const uint8_t empty[1];
  *bytes = n > 0 ? p : empty;
  *size_out = (size_t)n;
  return true;
}

static int meta_load(struct kv_impl *kv, struct kv_meta *m) {
  sqlite3_stmt *st = kv->stmts[KV_META_GET];
  int rc = sqlite3_step(st);
  int code = 0;
  uint64_t version = 0;
  const uint8_t *acc = NULL;
  size_t acc_size = 0;
  if (rc != SQLITE_ROW) {
    code = rc == SQLITE_DONE ? EVC_ECORRUPT : code_of_sqlite(rc);
  } else if (!column_u64(st, 0, &version) ||
             !column_blob(st, 1, EVC_HASH_SIZE, EVC_HASH_SIZE, &acc, &acc_size) ||
             !column_u64(st, 2, &m->entry_count) || !column_u64(st, 3, &m->height) ||
             !column_u64(st, 4, &m->pruned_height) || m->pruned_height > m->height) {
    code = EVC_ECORRUPT;
  } else if (version != KV_SCHEMA_VERSION) {
    code = EVC_ESCHEMA;
  } else {
    memcpy(m->accumulator, acc, EVC_HASH_SIZE);
  }
  sqlite3_reset(st);
  return code;
}

static int meta_save(struct kv_impl *kv, const struct kv_meta *m) {
  EVC_ASSERT(m->pruned_height <= m->height);
  sqlite3_stmt *st = kv->stmts[KV_META_SET];
  bind_blob(st, 1, m->accumulator, EVC_HASH_SIZE);
  bind_u64(st, 2, m->entry_count);
  bind_u64(st, 3, m->height);
  bind_u64(st, 4, m->pruned_height);
  return step_done(kv, KV_META_SET);
}

/* Copies the current value of key into value (EVC_KV_VALUE_SIZE_MAX bytes); *found says
 * whether the key exists. */
static int value_get(struct kv_impl *kv, const uint8_t *key, size_t key_size, bool *found,
                     uint8_t *value, size_t *value_size) {
  sqlite3_stmt *st = kv->stmts[KV_GET];
  bind_blob(st, 1, key, key_size);
  int rc = sqlite3_step(st);
  int code = 0;
  *found = false;
  if (rc == SQLITE_ROW) {
    const uint8_t *bytes = NULL;
    if (column_blob(st, 0, 0, EVC_KV_VALUE_SIZE_MAX, &bytes, value_size)) {
      memcpy(value, bytes, *value_size);
      *found = true;
    } else {
      code = EVC_ECORRUPT;
    }
  } else if (rc != SQLITE_DONE) {
    code = code_of_sqlite(rc);
  }
  sqlite3_reset(st);
  return code;
}

static int value_put(struct kv_impl *kv, const uint8_t *key, size_t key_size,
                     const uint8_t *value, size_t value_size) {
  sqlite3_stmt *st = kv->stmts[KV_PUT];
  bind_blob(st, 1, key, key_size);
  bind_blob(st, 2, value, value_size);
  return step_done(kv, KV_PUT);
}

static int value_delete(struct kv_impl *kv, const uint8_t *key, size_t key_size) {
  sqlite3_stmt *st = kv->stmts[KV_DEL];
  bind_blob(st, 1, key, key_size);
  return step_done(kv, KV_DEL);
}

static void assert_in_transaction(const struct kv_impl *kv) {
  EVC_ASSERT(evc_store_in_transaction(kv->store));
  EVC_ASSERT(!sqlite3_get_autocommit(kv->db));
}

/* ---- operations ---- */

static int kv_init_chain(void *impl, uint8_t app_hash_out[EVC_HASH_SIZE]) {
  (void)impl;
  evc_kv_empty_app_hash(app_hash_out);
  return 0;
}

/* Applies one valid entry at (height, seq): undo record first (unless the block is final:
 * seq is NULL then), then the new value. */
static int apply_entry(struct kv_impl *kv, struct kv_meta *m, uint64_t height, uint32_t *seq,
                       const struct kv_entry *e) {
  uint8_t old[EVC_KV_VALUE_SIZE_MAX];
  size_t old_size = 0;
  bool found = false;
  int code = value_get(kv, e->key, e->key_size, &found, old, &old_size);
  if (code != 0) return code;
  if (found && old_size == e->value_size && memcmp(old, e->value, old_size) == 0) return 0;
  uint8_t h[EVC_HASH_SIZE];
  if (found) {
    entry_hash(e->key, e->key_size, old, old_size, h);
    acc_sub(m->accumulator, h);
  } else {
    m->entry_count++;
  }
  entry_hash(e->key, e->key_size, e->value, e->value_size, h);
  acc_add(m->accumulator, h);
  if (seq == NULL) return value_put(kv, e->key, e->key_size, e->value, e->value_size);
  sqlite3_stmt *st = kv->stmts[KV_UNDO_PUT];
  bind_u64(st, 1, height);
  bind_u64(st, 2, *seq);
  bind_blob(st, 3, e->key, e->key_size);
  bind_u64(st, 4, found ? 1 : 0);
  if (found) {
    bind_blob(st, 5, old, old_size);
  } else {
    sqlite3_bind_null(st, 5);
  }
  code = step_done(kv, KV_UNDO_PUT);
  if (code != 0) return code;
  (*seq)++;
  return value_put(kv, e->key, e->key_size, e->value, e->value_size);
}

static int kv_execute(void *impl, uint64_t height, const struct evc_tx *txs, uint32_t tx_count,
                      uint8_t app_hash_out[EVC_HASH_SIZE]) {
  struct kv_impl *kv = impl;
  assert_in_transaction(kv);
  EVC_ASSERT(tx_count <= EVC_TXS_PER_BLOCK_MAX);
  EVC_ASSERT(txs != NULL || tx_count == 0);
  EVC_ASSERT(height >= 1 && height <= KV_HEIGHT_MAX);
  struct kv_meta m;
  int code = meta_load(kv, &m);
  if (code != 0) return code;
  if (height <= m.height) return EVC_ESTATE;
  /* A final block is never rolled back (the store refuses), so it needs no undo records;
   * pruned_height moves up to it so a rollback below it is refused here too. */
  bool final = evc_store_unit_marked_final(kv->store, height);
  uint32_t seq = 0;
  for (uint32_t i = 0; i < tx_count; i++) {
    struct kv_entry e;
    if (!parse_tx(txs[i].bytes, txs[i].size, &e)) {
      kv->skipped_tx_count++;
      continue;
    }
    code = apply_entry(kv, &m, height, final ? NULL : &seq, &e);
    if (code != 0) return code;
  }
  m.height = height;
  if (final) m.pruned_height = height;
  code = meta_save(kv, &m);
  if (code != 0) return code;
  state_hash(&m, app_hash_out);
  return 0;
}

/* Undoes one record: the key's current entry leaves the accumulator, the old one returns. */
static int undo_record(struct kv_impl *kv, struct kv_meta *m, sqlite3_stmt *st) {
  const uint8_t *key = NULL;
  size_t key_size = 0;
  uint64_t had_value = 0;
  if (!column_blob(st, 0, 1, EVC_KV_KEY_SIZE_MAX, &key, &key_size) ||
      !column_u64(st, 1, &had_value) || had_value > 1) {
    return EVC_ECORRUPT;
  }
  uint8_t current[EVC_KV_VALUE_SIZE_MAX];
  size_t current_size = 0;
  bool found = false;
  int code = value_get(kv, key, key_size, &found, current, &current_size);
  if (code != 0) return code;
  if (!found) return EVC_ECORRUPT;
  uint8_t h[EVC_HASH_SIZE];
  entry_hash(key, key_size, current, current_size, h);
  acc_sub(m->accumulator, h);
  if (had_value == 0) {
    if (m->entry_count == 0) return EVC_ECORRUPT;
    m->entry_count--;
    return value_delete(kv, key, key_size);
  }
  const uint8_t *old = NULL;
  size_t old_size = 0;
  if (!column_blob(st, 2, 0, EVC_KV_VALUE_SIZE_MAX, &old, &old_size)) return EVC_ECORRUPT;
  entry_hash(key, key_size, old, old_size, h);
  acc_add(m->accumulator, h);
  return value_put(kv, key, key_size, old, old_size);
}

static int kv_rollback_to(void *impl, uint64_t height, uint8_t app_hash_out[EVC_HASH_SIZE]) {
  struct kv_impl *kv = impl;
  assert_in_transaction(kv);
  EVC_ASSERT(height <= KV_HEIGHT_MAX);
  struct kv_meta m;
  int code = meta_load(kv, &m);
  if (code != 0) return code;
  if (height < m.pruned_height) return EVC_ESTATE;
  sqlite3_stmt *st = kv->stmts[KV_UNDO_ABOVE];
  bind_u64(st, 1, height);
  int rc = SQLITE_DONE;
  while (code == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) code = undo_record(kv, &m, st);
  if (code == 0 && rc != SQLITE_DONE) code = code_of_sqlite(rc);
  sqlite3_reset(st);
  if (code != 0) return code;
  bind_u64(kv->stmts[KV_UNDO_DEL_ABOVE], 1, height);
  code = step_done(kv, KV_UNDO_DEL_ABOVE);
  if (code != 0) return code;
  if (height < m.height) m.height = height;
  code = meta_save(kv, &m);
  if (code != 0) return code;
  state_hash(&m, app_hash_out);
  return 0;
}

static int kv_prune_undo(void *impl, uint64_t final_height) {
  struct kv_impl *kv = impl;
  assert_in_transaction(kv);
  struct kv_meta m;
  int code = meta_load(kv, &m);
  if (code != 0) return code;
  if (final_height > m.height) final_height = m.height; /* never prune what is not executed */
  if (final_height <= m.pruned_height) return 0;
  bind_u64(kv->stmts[KV_UNDO_PRUNE], 1, final_height);
  code = step_done(kv, KV_UNDO_PRUNE);
  if (code != 0) return code;
  m.pruned_height = final_height;
  return meta_save(kv, &m);
}

static const struct evc_exec_ops kv_ops = {
    .init_chain = kv_init_chain,
    .execute = kv_execute,
    .rollback_to = kv_rollback_to,
    .prune_undo = kv_prune_undo,
};

/* ---- lifetime ---- */

static int create_schema(struct kv_impl *kv) {
  int code = evc_store_begin(kv->store);
  if (code != 0) return code;
  int rc = sqlite3_exec(kv->db, kv_schema_sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK) {
    evc_store_abort(kv->store);
    return code_of_sqlite(rc);
  }
  return evc_store_commit(kv->store, true);
}

/* With blocks stored, the executor's state must be the one the chain state names. */
static int check_against_chain(struct kv_impl *kv) {
  struct kv_meta m;
  int code = meta_load(kv, &m);
  if (code != 0) return code;
  struct evc_chain_state cs;
  evc_store_chain_state(kv->store, &cs);
  if (cs.height < evc_store_initial_height(kv->store)) return 0;
  uint8_t app_hash[EVC_HASH_SIZE];
  state_hash(&m, app_hash);
  return memcmp(app_hash, cs.app_hash, EVC_HASH_SIZE) == 0 ? 0 : EVC_EAPPHASH;
}

static void kv_free(struct kv_impl *kv) {
  for (int i = 0; i < KV_STMT_COUNT; i++) sqlite3_finalize(kv->stmts[i]);
  free(kv);
}

int evc_kv_exec_init(struct evc_store *store, struct evc_exec *out) {
  EVC_ASSERT(store != NULL);
  EVC_ASSERT(out != NULL);
  EVC_ASSERT(!evc_store_in_transaction(store));
  out->ops = NULL;
  out->impl = NULL;
  if (sodium_init() < 0) return EVC_EIO;
  struct kv_impl *kv = calloc(1, sizeof *kv);
  if (kv == NULL) return EVC_ENOMEM;
  kv->store = store;
  kv->db = evc_store_db(store);
  int code = create_schema(kv);
  for (int i = 0; code == 0 && i < KV_STMT_COUNT; i++) {
    int rc = sqlite3_prepare_v3(kv->db, kv_stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &kv->stmts[i], NULL);
    if (rc != SQLITE_OK) code = code_of_sqlite(rc);
  }
  if (code == 0) code = check_against_chain(kv);
  if (code != 0) {
    kv_free(kv);
    return code;
  }
  out->ops = &kv_ops;
  out->impl = kv;
  return 0;
}

void evc_kv_exec_close(struct evc_exec *e) {
  if (e == NULL || e->impl == NULL) return;
  EVC_ASSERT(e->ops == &kv_ops);
  kv_free(e->impl);
  e->impl = NULL;
  e->ops = NULL;
}

uint64_t evc_kv_skipped_tx_count(const struct evc_exec *e) {
  EVC_ASSERT(e->ops == &kv_ops);
  const struct kv_impl *kv = e->impl;
  return kv->skipped_tx_count;
}

int evc_kv_get(const struct evc_exec *e, const uint8_t *key, size_t key_size, uint8_t *value,
               size_t *value_size_out) {
  EVC_ASSERT(e->ops == &kv_ops);
  if (key_size == 0 || key_size > EVC_KV_KEY_SIZE_MAX) return EVC_ENOTFOUND;
  bool found = false;
  int code = value_get(e->impl, key, key_size, &found, value, value_size_out);
  if (code != 0) return code;
  return found ? 0 : EVC_ENOTFOUND;
}
