/* Tests for sim/simdisk.c and sim/simvfs.c: real SQLite in WAL mode over the simulated disk,
 * crashes that drop or tear unsynced writes, fault countdowns, lost fsyncs, dead handles,
 * small atomic files, snapshots, the sync hook, and byte-identical replays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "node/common/error.h"
#include "sim/simdisk.h"

#define DB_PATH "data/store.db"
#define WAL_PATH "data/store.db-wal"

/* ---- helpers ---- */

struct test_rand {
  uint64_t state;
};

static uint64_t test_rand_next(void *arg) {
  struct test_rand *rand_state = arg;
  uint64_t x = (rand_state->state += UINT64_C(0x9e3779b97f4a7c15));
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

/* One simulated node: a disk, its VFS, a seeded rand stream. */
struct node {
  struct evc_simdisk *disk;
  char vfs_name[32];
  struct test_rand rand_state;
};

static void node_init(struct node *node, const char *vfs_name, uint64_t seed) {
  memset(node, 0, sizeof(*node));
  assert_int_equal(evc_simdisk_new(&node->disk), 0);
  snprintf(node->vfs_name, sizeof(node->vfs_name), "%s", vfs_name);
  node->rand_state.state = seed;
  evc_simdisk_set_rand(node->disk, test_rand_next, &node->rand_state);
  assert_int_equal(evc_simvfs_register(node->vfs_name, node->disk), 0);
}

static void node_free(struct node *node) {
  evc_simvfs_unregister(node->vfs_name);
  assert_null(sqlite3_vfs_find(node->vfs_name));
  evc_simdisk_free(node->disk);
  node->disk = NULL;
}

static void arm(struct node *node, const struct evc_simdisk_faults *faults) {
  evc_simdisk_set_faults(node->disk, faults);
}

static void disarm(struct node *node) {
  struct evc_simdisk_faults none = {0};
  evc_simdisk_set_faults(node->disk, &none);
}

static int exec_sql(sqlite3 *db, const char *sql) {
  return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static void exec_ok(sqlite3 *db, const char *sql) {
  int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK) fail_msg("'%s' failed: %s", sql, sqlite3_errmsg(db));
}

static sqlite3 *db_open(const struct node *node) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(DB_PATH, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                           node->vfs_name);
  if (rc != SQLITE_OK) fail_msg("open failed: %s", sqlite3_errmsg(db));
  return db;
}

static void db_close(sqlite3 *db) { assert_int_equal(sqlite3_close(db), SQLITE_OK); }

static int64_t query_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *stmt = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
  int64_t value = sqlite3_column_int64(stmt, 0);
  assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
  return value;
}

static void assert_integrity_ok(sqlite3 *db) {
  sqlite3_stmt *stmt = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "ok");
  assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
}

/* Opens the store in WAL mode with synchronous=FULL and a table t, all durable. */
static sqlite3 *db_open_setup(const struct node *node) {
  sqlite3 *db = db_open(node);
  exec_ok(db, "PRAGMA synchronous=FULL");
  sqlite3_stmt *stmt = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &stmt, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
  assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
  exec_ok(db, "PRAGMA wal_autocheckpoint=0");
  exec_ok(db, "CREATE TABLE IF NOT EXISTS t(i INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  return db;
}

static int insert_row(sqlite3 *db, int64_t i) {
  char sql[128];
  snprintf(sql, sizeof(sql), "INSERT INTO t(i, v) VALUES(%lld, 'value-%lld')", (long long)i,
           (long long)i);
  return exec_sql(db, sql);
}

static int64_t row_count(sqlite3 *db) { return query_int(db, "SELECT count(*) FROM t"); }

static bool row_present(sqlite3 *db, int64_t i) {
  char sql[96];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM t WHERE i = %lld", (long long)i);
  return query_int(db, sql) == 1;
}

static bool is_ioerr(int rc) { return (rc & 0xff) == SQLITE_IOERR; }

/* FNV-1a over (path, presence, size, bytes) of each file, read through the disk. */
static uint64_t digest_files(struct evc_simdisk *disk, const char *const *paths, size_t count) {
  uint64_t hash = UINT64_C(0xcbf29ce484222325);
  for (size_t i = 0; i < count; i++) {
    uint8_t *bytes = NULL;
    size_t size = 0;
    int rc = evc_simdisk_read(disk, paths[i], &bytes, &size);
    assert_true(rc == 0 || rc == EVC_ENOTFOUND);
    uint8_t header[9] = {rc == 0};
    for (int b = 0; b < 8; b++) header[1 + b] = (uint8_t)(size >> (8 * b));
    const uint8_t *parts[3] = {(const uint8_t *)paths[i], header, bytes};
    size_t sizes[3] = {strlen(paths[i]), sizeof(header), rc == 0 ? size : 0};
    for (int p = 0; p < 3; p++) {
      for (size_t k = 0; k < sizes[p]; k++) hash = (hash ^ parts[p][k]) * UINT64_C(0x100000001b3);
    }
    free(bytes);
  }
  return hash;
}

static void assert_file_equals(struct evc_simdisk *disk, const char *path, const char *text) {
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_simdisk_read(disk, path, &bytes, &size), 0);
  assert_int_equal(size, strlen(text));
  assert_memory_equal(bytes, text, size);
  free(bytes);
}

static void replace_text(struct evc_simdisk *disk, const char *path, const char *text) {
  assert_int_equal(evc_simdisk_replace(disk, path, (const uint8_t *)text, strlen(text)), 0);
}

/* ---- SQLite over the VFS ---- */

static void test_synced_commit_survives_crash(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-synced", 1);
  sqlite3 *db = db_open_setup(&node);
  assert_int_equal(insert_row(db, 1), SQLITE_OK);
  evc_simdisk_crash(node.disk);
  db_close(db);
  db = db_open(&node);
  assert_true(row_present(db, 1));
  assert_integrity_ok(db);
  db_close(db);
  node_free(&node);
}

static void test_unsynced_commit_is_lost_at_crash(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-unsynced", 2);
  sqlite3 *db = db_open_setup(&node);
  assert_int_equal(insert_row(db, 1), SQLITE_OK);
  exec_ok(db, "PRAGMA synchronous=OFF");
  assert_int_equal(insert_row(db, 2), SQLITE_OK);
  assert_true(row_present(db, 2)); /* visible before the crash */
  evc_simdisk_crash(node.disk);
  db_close(db);
  db = db_open(&node);
  assert_true(row_present(db, 1));
  assert_false(row_present(db, 2));
  assert_integrity_ok(db);
  db_close(db);
  node_free(&node);
}

static void test_torn_wal_writes_leave_a_committed_prefix(void **state) {
  (void)state;
  enum { synced = 10, commits = 30 };
  uint64_t torn_total = 0;
  for (uint64_t seed = 1; seed <= 8; seed++) {
    struct node node;
    node_init(&node, "sim-torn", seed);
    sqlite3 *db = db_open_setup(&node);
    for (int64_t i = 1; i <= synced; i++) assert_int_equal(insert_row(db, i), SQLITE_OK);
    exec_ok(db, "PRAGMA synchronous=OFF");
    for (int64_t i = synced + 1; i <= commits; i++) {
      assert_int_equal(insert_row(db, i), SQLITE_OK);
    }
    struct evc_simdisk_faults faults = {.path_prefix = "data/", .torn_write_ppm = 1000000};
    arm(&node, &faults);
    evc_simdisk_crash(node.disk);
    torn_total += evc_simdisk_faults_fired(node.disk);
    disarm(&node);
    db_close(db);
    db = db_open(&node);
    assert_integrity_ok(db);
    int64_t count = row_count(db);
    assert_true(count >= synced && count <= commits); /* synced commits are never torn */
    assert_int_equal(query_int(db, "SELECT min(i) FROM t"), 1); /* rows 1..count exactly */
    assert_int_equal(query_int(db, "SELECT max(i) FROM t"), count);
    db_close(db);
    node_free(&node);
  }
  assert_true(torn_total > 0); /* the tearing really happened */
}

static void test_write_fault_fails_the_insert_and_spares_other_paths(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-fault", 4);
  sqlite3 *db = db_open_setup(&node);
  assert_int_equal(insert_row(db, 1), SQLITE_OK);
  struct evc_simdisk_faults faults = {.path_prefix = "data/", .fail_write_countdown = 3};
  arm(&node, &faults);
  replace_text(node.disk, "keys/sign_state", "s1"); /* not under data/: not counted */
  int64_t committed = 1;
  int64_t failed = 0;
  for (int64_t i = 2; i < 12 && failed == 0; i++) {
    int rc = insert_row(db, i);
    if (rc == SQLITE_OK) committed++;
    else if (is_ioerr(rc)) failed = i;
    else fail_msg("unexpected rc %d", rc);
  }
  assert_true(failed > 0);
  assert_int_equal(evc_simdisk_faults_fired(node.disk), 1);
  replace_text(node.disk, "keys/sign_state", "s2");
  assert_file_equals(node.disk, "keys/sign_state", "s2");
  disarm(&node);
  assert_int_equal(insert_row(db, 100), SQLITE_OK);
  assert_int_equal(row_count(db), committed + 1);
  assert_false(row_present(db, failed));
  evc_simdisk_crash(node.disk);
  db_close(db);
  db = db_open(&node);
  assert_int_equal(row_count(db), committed + 1);
  assert_false(row_present(db, failed));
  assert_true(row_present(db, 100));
  assert_integrity_ok(db);
  db_close(db);
  assert_int_equal(evc_simdisk_faults_fired(node.disk), 1);
  node_free(&node);
}

static void test_lost_fsync_then_crash_loses_the_commit(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-lost", 5);
  sqlite3 *db = db_open_setup(&node);
  assert_int_equal(insert_row(db, 1), SQLITE_OK);
  struct evc_simdisk_faults faults = {.path_prefix = "data/", .lost_fsync_ppm = 1000000};
  arm(&node, &faults);
  uint64_t syncs = evc_simdisk_sync_count(node.disk);
  assert_int_equal(insert_row(db, 2), SQLITE_OK); /* the fsync "succeeded" */
  assert_true(evc_simdisk_sync_count(node.disk) > syncs);
  assert_true(evc_simdisk_faults_fired(node.disk) >= 1);
  evc_simdisk_crash(node.disk);
  disarm(&node);
  db_close(db);
  db = db_open(&node);
  assert_true(row_present(db, 1));
  assert_false(row_present(db, 2));
  assert_integrity_ok(db);
  db_close(db);
  node_free(&node);
}

static void test_two_connections_lock_correctly(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-two", 6);
  sqlite3 *a = db_open_setup(&node);
  sqlite3 *b = db_open(&node);
  exec_ok(a, "BEGIN IMMEDIATE");
  assert_int_equal(insert_row(a, 1), SQLITE_OK);
  assert_int_equal(exec_sql(b, "BEGIN IMMEDIATE"), SQLITE_BUSY);
  assert_int_equal(row_count(b), 0); /* a reader sees the last commit, not a's open txn */
  exec_ok(a, "COMMIT");
  exec_ok(b, "BEGIN IMMEDIATE");
  assert_int_equal(insert_row(b, 2), SQLITE_OK);
  exec_ok(b, "COMMIT");
  assert_int_equal(row_count(a), 2);
  db_close(a); /* b still reads: a must not checkpoint-and-delete the WAL */
  assert_true(evc_simdisk_exists(node.disk, WAL_PATH));
  assert_int_equal(row_count(b), 2);
  db_close(b); /* the last connection checkpoints and deletes the WAL */
  assert_false(evc_simdisk_exists(node.disk, WAL_PATH));
  evc_simdisk_crash(node.disk);
  sqlite3 *c = db_open(&node);
  assert_int_equal(row_count(c), 2);
  assert_integrity_ok(c);
  db_close(c);
  node_free(&node);
}

static void test_temp_files_work_in_memory(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-temp", 7);
  sqlite3 *db = db_open_setup(&node);
  exec_ok(db, "PRAGMA temp_store=FILE");
  exec_ok(db, "PRAGMA cache_size=8");
  exec_ok(db, "CREATE TEMP TABLE big(x BLOB)");
  exec_ok(db, "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 2000)"
              " INSERT INTO big SELECT zeroblob(512) || k FROM n");
  assert_int_equal(query_int(db, "SELECT count(*) FROM (SELECT x FROM big ORDER BY x DESC)"),
                   2000);
  exec_ok(db, "DROP TABLE big");
  db_close(db);
  node_free(&node);
}

/* ---- dead handles, sync hook, determinism ---- */

static const char *const store_paths[] = {DB_PATH, WAL_PATH, "data/store.db-journal"};

static void test_dead_connection_cannot_change_the_disk(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-dead", 8);
  sqlite3 *db = db_open_setup(&node);
  assert_int_equal(insert_row(db, 1), SQLITE_OK);
  evc_simdisk_crash(node.disk);
  uint64_t before = digest_files(node.disk, store_paths, 3);
  uint64_t syncs = evc_simdisk_sync_count(node.disk);
  assert_true(is_ioerr(insert_row(db, 2)));
  assert_true(is_ioerr(insert_row(db, 3)));
  db_close(db); /* must not write, checkpoint or delete anything */
  assert_int_equal(digest_files(node.disk, store_paths, 3), before);
  assert_int_equal(evc_simdisk_sync_count(node.disk), syncs);
  db = db_open(&node);
  assert_true(row_present(db, 1));
  assert_false(row_present(db, 2));
  assert_int_equal(insert_row(db, 4), SQLITE_OK);
  db_close(db);
  node_free(&node);
}

struct hook_record {
  uint64_t calls;
  char last_path[64];
  struct evc_simdisk *disk;
  uint64_t crash_at; /* crash the disk at this durable write (0 = never) */
};

static void record_sync(void *arg, const char *path) {
  struct hook_record *record = arg;
  record->calls++;
  snprintf(record->last_path, sizeof(record->last_path), "%s", path);
  if (record->crash_at != 0 && evc_simdisk_sync_count(record->disk) == record->crash_at) {
    evc_simdisk_crash(record->disk);
  }
}

static void test_sync_hook_counts_each_durable_write(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-hook", 9);
  struct hook_record record = {.disk = node.disk};
  evc_simdisk_set_sync_hook(node.disk, record_sync, &record);
  replace_text(node.disk, "keys/a", "1");
  assert_int_equal(record.calls, 1);
  assert_int_equal(evc_simdisk_sync_count(node.disk), 1);
  assert_string_equal(record.last_path, "keys/a");
  sqlite3 *db = db_open_setup(&node);
  uint64_t calls = record.calls;
  assert_int_equal(insert_row(db, 1), SQLITE_OK);
  assert_true(record.calls > calls);
  assert_string_equal(record.last_path, WAL_PATH);
  assert_int_equal(evc_simdisk_sync_count(node.disk), record.calls);
  struct evc_simdisk_faults faults = {.path_prefix = "data/", .fail_sync_countdown = 1};
  arm(&node, &faults);
  calls = record.calls;
  assert_true(is_ioerr(insert_row(db, 2)));
  assert_int_equal(record.calls, calls); /* a failed sync is not a durable write */
  assert_int_equal(evc_simdisk_sync_count(node.disk), calls);
  disarm(&node);
  db_close(db);
  node_free(&node);
}

static void test_crash_from_the_sync_hook_keeps_synced_commits(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-crashpoint", 10);
  sqlite3 *db = db_open_setup(&node);
  struct hook_record record = {.disk = node.disk};
  record.crash_at = evc_simdisk_sync_count(node.disk) + 4;
  evc_simdisk_set_sync_hook(node.disk, record_sync, &record);
  int64_t ok = 0;
  for (int64_t i = 1; i <= 10; i++) {
    if (insert_row(db, i) == SQLITE_OK) ok++;
  }
  assert_true(ok < 10); /* the crash happened part way */
  db_close(db);
  evc_simdisk_set_sync_hook(node.disk, NULL, NULL);
  db = db_open(&node);
  int64_t count = row_count(db);
  assert_true(count >= ok && count <= ok + 1);
  assert_int_equal(query_int(db, "SELECT coalesce(max(i), 0) FROM t"), count);
  assert_integrity_ok(db);
  db_close(db);
  node_free(&node);
}

/* One fixed run: durable setup, unsynced commits, a tearing crash; returns the digest. */
static uint64_t replay_digest(uint64_t seed) {
  sqlite3_test_control(SQLITE_TESTCTRL_PRNG_SEED, 12345, NULL); /* WAL salts */
  struct node node;
  node_init(&node, "sim-replay", seed);
  sqlite3 *db = db_open_setup(&node);
  for (int64_t i = 1; i <= 5; i++) assert_int_equal(insert_row(db, i), SQLITE_OK);
  exec_ok(db, "PRAGMA synchronous=OFF");
  for (int64_t i = 6; i <= 25; i++) assert_int_equal(insert_row(db, i), SQLITE_OK);
  struct evc_simdisk_faults faults = {.path_prefix = "data/", .torn_write_ppm = 500000};
  arm(&node, &faults);
  evc_simdisk_crash(node.disk);
  db_close(db);
  uint64_t digest = digest_files(node.disk, store_paths, 3);
  node_free(&node);
  sqlite3_test_control(SQLITE_TESTCTRL_PRNG_SEED, 0, NULL);
  return digest;
}

static void test_same_rand_gives_identical_images(void **state) {
  (void)state;
  uint64_t first = replay_digest(77);
  assert_int_equal(replay_digest(77), first);
  assert_int_not_equal(replay_digest(78), first); /* the tearing depends on the stream */
}

/* ---- small files, prefixes, snapshots ---- */

static void test_replace_is_atomic_and_durable(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-replace", 11);
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_simdisk_read(node.disk, "keys/missing", &bytes, &size), EVC_ENOTFOUND);
  replace_text(node.disk, "keys/sign_state", "v1");
  evc_simdisk_crash(node.disk);
  assert_file_equals(node.disk, "keys/sign_state", "v1");
  struct evc_simdisk_faults faults = {.path_prefix = "keys/", .fail_write_countdown = 1};
  arm(&node, &faults);
  assert_int_equal(evc_simdisk_replace(node.disk, "keys/sign_state", (const uint8_t *)"v2", 2),
                   EVC_EIO);
  assert_file_equals(node.disk, "keys/sign_state", "v1");
  struct evc_simdisk_faults sync_fault = {.path_prefix = "keys/", .fail_sync_countdown = 1};
  arm(&node, &sync_fault);
  assert_int_equal(evc_simdisk_replace(node.disk, "keys/sign_state", (const uint8_t *)"v3", 2),
                   EVC_EIO);
  assert_file_equals(node.disk, "keys/sign_state", "v1");
  assert_false(evc_simdisk_exists(node.disk, "keys/new"));
  assert_int_equal(evc_simdisk_replace(node.disk, "keys/new", (const uint8_t *)"n", 1), 0);
  struct evc_simdisk_faults read_fault = {.path_prefix = "keys/", .fail_read_countdown = 1};
  arm(&node, &read_fault);
  assert_int_equal(evc_simdisk_read(node.disk, "keys/sign_state", &bytes, &size), EVC_EIO);
  assert_int_equal(evc_simdisk_faults_fired(node.disk), 3);
  disarm(&node);
  assert_file_equals(node.disk, "keys/new", "n");
  evc_simdisk_crash(node.disk);
  assert_file_equals(node.disk, "keys/sign_state", "v1");
  assert_file_equals(node.disk, "keys/new", "n");
  node_free(&node);
}

static void test_persistent_fault_fails_every_later_op(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-persistent", 12);
  struct evc_simdisk_faults faults = {.fail_write_countdown = 2, .persistent = true};
  arm(&node, &faults);
  replace_text(node.disk, "a", "1");
  for (int i = 0; i < 3; i++) {
    assert_int_equal(evc_simdisk_replace(node.disk, "a", (const uint8_t *)"2", 1), EVC_EIO);
  }
  assert_int_equal(evc_simdisk_faults_fired(node.disk), 3);
  disarm(&node);
  replace_text(node.disk, "a", "3");
  assert_file_equals(node.disk, "a", "3");
  node_free(&node);
}

static void test_lost_fsync_replace_keeps_old_content_after_crash(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-lost-replace", 13);
  replace_text(node.disk, "data/x", "old");
  struct evc_simdisk_faults faults = {.path_prefix = "data/", .lost_fsync_ppm = 1000000};
  arm(&node, &faults);
  replace_text(node.disk, "data/x", "new");
  replace_text(node.disk, "data/fresh", "f");
  assert_file_equals(node.disk, "data/x", "new"); /* reads see the volatile image */
  evc_simdisk_crash(node.disk);
  assert_file_equals(node.disk, "data/x", "old");
  assert_false(evc_simdisk_exists(node.disk, "data/fresh"));
  node_free(&node);
}

static void test_remove_prefix_removes_only_that_prefix(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-remove", 14);
  replace_text(node.disk, "data/a", "a");
  replace_text(node.disk, "data/b", "b");
  replace_text(node.disk, "database", "d");
  replace_text(node.disk, "keys/k", "k");
  evc_simdisk_remove_prefix(node.disk, "data/");
  assert_false(evc_simdisk_exists(node.disk, "data/a"));
  assert_false(evc_simdisk_exists(node.disk, "data/b"));
  evc_simdisk_crash(node.disk);
  assert_false(evc_simdisk_exists(node.disk, "data/a"));
  assert_file_equals(node.disk, "database", "d");
  assert_file_equals(node.disk, "keys/k", "k");
  node_free(&node);
}

static void test_copy_prefix_snapshots_durable_images(void **state) {
  (void)state;
  struct node a;
  struct node b;
  node_init(&a, "sim-copy-a", 15);
  node_init(&b, "sim-copy-b", 16);
  sqlite3 *db = db_open_setup(&a);
  assert_int_equal(insert_row(db, 1), SQLITE_OK);
  exec_ok(db, "PRAGMA synchronous=OFF");
  assert_int_equal(insert_row(db, 2), SQLITE_OK); /* not durable: not in the snapshot */
  replace_text(a.disk, "data/x", "one");
  struct evc_simdisk_faults faults = {.path_prefix = "data/", .lost_fsync_ppm = 1000000};
  arm(&a, &faults);
  replace_text(a.disk, "data/x", "two");
  replace_text(a.disk, "data/never", "n");
  replace_text(b.disk, "data/old", "zz");
  replace_text(b.disk, "keys/k", "k");
  assert_int_equal(evc_simdisk_copy_prefix(b.disk, a.disk, "data/"), 0);
  assert_file_equals(b.disk, "data/x", "one");
  assert_false(evc_simdisk_exists(b.disk, "data/never"));
  assert_false(evc_simdisk_exists(b.disk, "data/old"));
  assert_file_equals(b.disk, "keys/k", "k");
  assert_file_equals(a.disk, "data/x", "two"); /* the source is untouched */
  sqlite3 *restored = db_open(&b);
  assert_true(row_present(restored, 1));
  assert_false(row_present(restored, 2));
  assert_integrity_ok(restored);
  db_close(restored);
  db_close(db);
  node_free(&a);
  node_free(&b);
}

/* ---- the VFS methods directly ---- */

static sqlite3_file *vfs_open(sqlite3_vfs *vfs, const char *name, int flags, int *rc) {
  sqlite3_file *file = calloc(1, (size_t)vfs->szOsFile);
  assert_non_null(file);
  *rc = vfs->xOpen(vfs, name, file, flags, NULL);
  if (*rc != SQLITE_OK) {
    assert_null(file->pMethods);
    free(file);
    return NULL;
  }
  return file;
}

static void vfs_close(sqlite3_file *file) {
  assert_int_equal(file->pMethods->xClose(file), SQLITE_OK);
  free(file);
}

#define RW_CREATE (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MAIN_DB)

static void test_vfs_short_read_zero_fills_and_temp_files_vanish(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-vfs", 17);
  sqlite3_vfs *vfs = sqlite3_vfs_find(node.vfs_name);
  assert_non_null(vfs);
  int rc = 0;
  assert_null(vfs_open(vfs, "data/none", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB, &rc));
  assert_int_equal(rc, SQLITE_CANTOPEN);
  sqlite3_file *anon = vfs_open(vfs, NULL, RW_CREATE | SQLITE_OPEN_DELETEONCLOSE, &rc);
  assert_non_null(anon);
  assert_int_equal(anon->pMethods->xWrite(anon, "abc", 3, 10), SQLITE_OK);
  char buf[8];
  memset(buf, 'x', sizeof(buf));
  assert_int_equal(anon->pMethods->xRead(anon, buf, 8, 8), SQLITE_IOERR_SHORT_READ);
  assert_memory_equal(buf, "\0\0abc\0\0\0", 8);
  vfs_close(anon);
  sqlite3_file *named = vfs_open(vfs, "tmp/j", RW_CREATE | SQLITE_OPEN_DELETEONCLOSE, &rc);
  assert_non_null(named);
  int exists = -1;
  assert_int_equal(vfs->xAccess(vfs, "tmp/j", SQLITE_ACCESS_EXISTS, &exists), SQLITE_OK);
  assert_int_equal(exists, 0); /* empty files do not "exist", as on unix */
  assert_int_equal(named->pMethods->xWrite(named, "z", 1, 0), SQLITE_OK);
  assert_int_equal(vfs->xAccess(vfs, "tmp/j", SQLITE_ACCESS_EXISTS, &exists), SQLITE_OK);
  assert_int_equal(exists, 1);
  vfs_close(named);
  assert_false(evc_simdisk_exists(node.disk, "tmp/j"));
  assert_int_equal(vfs->xDelete(vfs, "tmp/j", 0), SQLITE_IOERR_DELETE_NOENT);
  node_free(&node);
}

static void test_vfs_crash_drops_unsynced_writes_and_kills_handles(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-vfs-crash", 18);
  sqlite3_vfs *vfs = sqlite3_vfs_find(node.vfs_name);
  int rc = 0;
  sqlite3_file *kept = vfs_open(vfs, "data/kept", RW_CREATE, &rc);
  sqlite3_file *never = vfs_open(vfs, "data/never", RW_CREATE, &rc);
  assert_int_equal(kept->pMethods->xWrite(kept, "AAAA", 4, 0), SQLITE_OK);
  assert_int_equal(kept->pMethods->xSync(kept, SQLITE_SYNC_FULL), SQLITE_OK);
  assert_int_equal(kept->pMethods->xWrite(kept, "BB", 2, 0), SQLITE_OK);
  assert_int_equal(kept->pMethods->xTruncate(kept, 2), SQLITE_OK);
  assert_int_equal(never->pMethods->xWrite(never, "N", 1, 0), SQLITE_OK);
  evc_simdisk_crash(node.disk);
  assert_false(evc_simdisk_exists(node.disk, "data/never")); /* never synced: gone */
  assert_file_equals(node.disk, "data/kept", "AAAA");
  char buf[4];
  assert_int_equal(kept->pMethods->xWrite(kept, "CC", 2, 0), SQLITE_IOERR);
  assert_int_equal(kept->pMethods->xRead(kept, buf, 4, 0), SQLITE_IOERR);
  assert_int_equal(kept->pMethods->xSync(kept, 0), SQLITE_IOERR);
  assert_int_equal(kept->pMethods->xLock(kept, SQLITE_LOCK_SHARED) & 0xff, SQLITE_IOERR);
  vfs_close(kept);
  vfs_close(never);
  assert_file_equals(node.disk, "data/kept", "AAAA");
  sqlite3_file *again = vfs_open(vfs, "data/kept", SQLITE_OPEN_READWRITE, &rc);
  assert_non_null(again);
  assert_int_equal(again->pMethods->xRead(again, buf, 4, 0), SQLITE_OK);
  assert_memory_equal(buf, "AAAA", 4);
  vfs_close(again);
  node_free(&node);
}

/* With every unsynced write torn, each 512-byte sector holds all-new or all-old bytes. */
static void test_torn_writes_are_sector_aligned(void **state) {
  (void)state;
  enum { sectors = 8, size = sectors * 512 };
  static uint8_t zeros[size];
  static uint8_t ones[size];
  memset(ones, 0xab, sizeof(ones));
  int mixed = 0;
  for (uint64_t seed = 1; seed <= 16; seed++) {
    struct node node;
    node_init(&node, "sim-sectors", seed);
    sqlite3_vfs *vfs = sqlite3_vfs_find(node.vfs_name);
    int rc = 0;
    sqlite3_file *file = vfs_open(vfs, "data/f", RW_CREATE, &rc);
    assert_int_equal(file->pMethods->xWrite(file, zeros, size, 0), SQLITE_OK);
    assert_int_equal(file->pMethods->xSync(file, 0), SQLITE_OK);
    assert_int_equal(file->pMethods->xWrite(file, ones, size, 0), SQLITE_OK);
    struct evc_simdisk_faults faults = {.path_prefix = "data/", .torn_write_ppm = 1000000};
    arm(&node, &faults);
    evc_simdisk_crash(node.disk);
    vfs_close(file);
    uint8_t *bytes = NULL;
    size_t got = 0;
    assert_int_equal(evc_simdisk_read(node.disk, "data/f", &bytes, &got), 0);
    assert_int_equal(got, size);
    int new_sectors = 0;
    for (int s = 0; s < sectors; s++) {
      bool is_new = memcmp(bytes + s * 512, ones, 512) == 0;
      assert_true(is_new || memcmp(bytes + s * 512, zeros, 512) == 0);
      new_sectors += is_new;
    }
    mixed += new_sectors > 0 && new_sectors < sectors;
    free(bytes);
    node_free(&node);
  }
  assert_true(mixed > 0);
}

/* Past the pending-bytes limit the oldest unsynced writes reach the platter, oldest first,
 * like an OS writing back dirty pages: a crash then keeps exactly a prefix of them. */
static void test_write_back_keeps_an_oldest_prefix_of_unsynced_writes(void **state) {
  (void)state;
  enum { chunk = 1024 * 1024, chunk_count = 80 };
  struct node node;
  node_init(&node, "sim-write-back", 20);
  sqlite3_vfs *vfs = sqlite3_vfs_find(node.vfs_name);
  int rc = 0;
  sqlite3_file *file = vfs_open(vfs, "data/big", RW_CREATE, &rc);
  assert_int_equal(file->pMethods->xSync(file, 0), SQLITE_OK); /* created durably, empty */
  uint8_t *bytes = malloc(chunk);
  assert_non_null(bytes);
  for (int i = 0; i < chunk_count; i++) {
    memset(bytes, i + 1, chunk);
    assert_int_equal(file->pMethods->xWrite(file, bytes, chunk, (sqlite3_int64)i * chunk),
                     SQLITE_OK);
  }
  free(bytes);
  evc_simdisk_crash(node.disk);
  vfs_close(file);
  size_t size = 0;
  assert_int_equal(evc_simdisk_read(node.disk, "data/big", &bytes, &size), 0);
  assert_int_equal(size % chunk, 0);
  size_t kept = size / chunk;
  assert_true(kept > 0 && kept < chunk_count);
  for (size_t i = 0; i < kept; i++) {
    assert_int_equal(bytes[i * chunk], (uint8_t)(i + 1));
    assert_int_equal(bytes[i * chunk + chunk - 1], (uint8_t)(i + 1));
  }
  free(bytes);
  node_free(&node);
}

static uint64_t fixed_clock(void *arg) {
  (void)arg;
  return UINT64_C(1700000000123);
}

static void test_vfs_time_and_randomness_come_from_the_simulation(void **state) {
  (void)state;
  struct node node;
  node_init(&node, "sim-time", 19);
  assert_int_equal(evc_simvfs_register("sim-time", node.disk), EVC_EEXIST);
  evc_simdisk_set_clock(node.disk, fixed_clock, NULL);
  sqlite3_vfs *vfs = sqlite3_vfs_find(node.vfs_name);
  sqlite3_int64 now = 0;
  assert_int_equal(vfs->xCurrentTimeInt64(vfs, &now), SQLITE_OK);
  assert_int_equal(now, INT64_C(210866760000000) + INT64_C(1700000000123));
  char first[20];
  char second[20];
  assert_int_equal(vfs->xRandomness(vfs, sizeof(first), first), (int)sizeof(first));
  node.rand_state.state = 19;
  assert_int_equal(vfs->xRandomness(vfs, sizeof(second), second), (int)sizeof(second));
  assert_memory_equal(first, second, sizeof(first));
  assert_int_equal(vfs->xSleep(vfs, 1000000), 1000000);
  node_free(&node);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_synced_commit_survives_crash),
      cmocka_unit_test(test_unsynced_commit_is_lost_at_crash),
      cmocka_unit_test(test_torn_wal_writes_leave_a_committed_prefix),
      cmocka_unit_test(test_write_fault_fails_the_insert_and_spares_other_paths),
      cmocka_unit_test(test_lost_fsync_then_crash_loses_the_commit),
      cmocka_unit_test(test_two_connections_lock_correctly),
      cmocka_unit_test(test_temp_files_work_in_memory),
      cmocka_unit_test(test_dead_connection_cannot_change_the_disk),
      cmocka_unit_test(test_sync_hook_counts_each_durable_write),
      cmocka_unit_test(test_crash_from_the_sync_hook_keeps_synced_commits),
      cmocka_unit_test(test_same_rand_gives_identical_images),
      cmocka_unit_test(test_replace_is_atomic_and_durable),
      cmocka_unit_test(test_persistent_fault_fails_every_later_op),
      cmocka_unit_test(test_lost_fsync_replace_keeps_old_content_after_crash),
      cmocka_unit_test(test_remove_prefix_removes_only_that_prefix),
      cmocka_unit_test(test_copy_prefix_snapshots_durable_images),
      cmocka_unit_test(test_vfs_short_read_zero_fills_and_temp_files_vanish),
      cmocka_unit_test(test_vfs_crash_drops_unsynced_writes_and_kills_handles),
      cmocka_unit_test(test_torn_writes_are_sector_aligned),
      cmocka_unit_test(test_write_back_keeps_an_oldest_prefix_of_unsynced_writes),
      cmocka_unit_test(test_vfs_time_and_randomness_come_from_the_simulation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
