/* Tests for node/store: schema checks at open (foreign, corrupt, newer, other chain), blocks
 * and chain state in transactions, DA inclusion, rollback, bounds on what is read back, and
 * the crash test over the simulated disk: a crash at any write or sync is all-or-nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "node/common/error.h"
#include "node/exec/exec.h"
#include "node/store/store.h"
#include "sim/simdisk.h"

#define TEST_BLOCK_DATA_SIZE_MAX 40000u

struct fixture {
  char dir[64];
  char path[128];
  uint8_t genesis[EVC_HASH_SIZE];
  uint8_t initial_app_hash[EVC_HASH_SIZE];
};

/* ---- deterministic test blocks ---- */

static void block_hash(uint64_t height, uint8_t out[EVC_HASH_SIZE]) {
  for (size_t i = 0; i < EVC_HASH_SIZE; i++) out[i] = (uint8_t)(height * 31u + i * 7u + 1u);
}

static void app_hash_for(uint64_t height, uint8_t out[EVC_HASH_SIZE]) {
  for (size_t i = 0; i < EVC_HASH_SIZE; i++) out[i] = (uint8_t)(height * 13u + i + 0x80u);
}

static size_t header_size_for(uint64_t height) { return 40u + (size_t)(height % 50u); }

/* Large enough that some blocks span several database pages. */
static size_t data_size_for(uint64_t height) {
  return (size_t)((height * 7919u) % (TEST_BLOCK_DATA_SIZE_MAX - 1000u)) + 1u;
}

static void fill_bytes(uint64_t height, uint8_t tag, uint8_t *out, size_t size) {
  for (size_t i = 0; i < size; i++) out[i] = (uint8_t)(height ^ (i * 131u) ^ tag);
}

/* Puts block height with its chain state, inside the open transaction. */
static int put_test_block(struct evc_store *s, uint64_t height) {
  static uint8_t header[EVC_SIGNED_HEADER_SIZE_MAX];
  static uint8_t data[TEST_BLOCK_DATA_SIZE_MAX];
  uint8_t hash[EVC_HASH_SIZE];
  block_hash(height, hash);
  fill_bytes(height, 0x11, header, header_size_for(height));
  fill_bytes(height, 0x22, data, data_size_for(height));
  int code = evc_store_put_block(s, height, hash, header, header_size_for(height), data,
                                 data_size_for(height));
  if (code != 0) return code;
  struct evc_chain_state cs;
  memset(&cs, 0, sizeof cs);
  cs.height = height;
  memcpy(cs.last_hash, hash, EVC_HASH_SIZE);
  app_hash_for(height, cs.app_hash);
  return evc_store_set_chain_state(s, &cs);
}

static int commit_test_block(struct evc_store *s, uint64_t height, bool durable) {
  int code = evc_store_begin(s);
  if (code != 0) return code;
  code = put_test_block(s, height);
  if (code != 0) {
    evc_store_abort(s);
    return code;
  }
  return evc_store_commit(s, durable);
}

/* Checks that block height reads back exactly as put_test_block wrote it. */
static void assert_test_block(struct evc_store *s, uint64_t height) {
  static uint8_t expect[TEST_BLOCK_DATA_SIZE_MAX];
  struct evc_block_record r;
  assert_int_equal(evc_store_get_block(s, height, &r), 0);
  assert_int_equal(r.height, height);
  uint8_t hash[EVC_HASH_SIZE];
  block_hash(height, hash);
  assert_memory_equal(r.hash, hash, EVC_HASH_SIZE);
  assert_int_equal(r.header_size, header_size_for(height));
  fill_bytes(height, 0x11, expect, r.header_size);
  assert_memory_equal(r.header, expect, r.header_size);
  assert_int_equal(r.data_size, data_size_for(height));
  fill_bytes(height, 0x22, expect, r.data_size);
  assert_memory_equal(r.data, expect, r.data_size);
  evc_block_record_release(&r);
}

/* The store holds exactly blocks first..height, intact, with a matching chain state. */
static void assert_consistent_chain(struct evc_store *s, uint64_t first) {
  struct evc_chain_state cs;
  evc_store_chain_state(s, &cs);
  for (uint64_t h = first; h <= cs.height; h++) assert_test_block(s, h);
  struct evc_block_record r;
  assert_int_equal(evc_store_get_block(s, cs.height + 1, &r), EVC_ENOTFOUND);
  uint8_t hash[EVC_HASH_SIZE];
  if (cs.height >= first) {
    block_hash(cs.height, hash);
    assert_memory_equal(cs.last_hash, hash, EVC_HASH_SIZE);
    app_hash_for(cs.height, hash);
    assert_memory_equal(cs.app_hash, hash, EVC_HASH_SIZE);
  }
}

/* ---- fixture: a fresh directory per test ---- */

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/evc-test-store-XXXXXX");
  if (mkdtemp(f->dir) == NULL) return -1;
  snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
  memset(f->genesis, 0xab, sizeof f->genesis);
  memset(f->initial_app_hash, 0x5a, sizeof f->initial_app_hash);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
    char p[160];
    snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
    unlink(p);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

static int open_fixture(struct fixture *f, uint64_t initial_height, struct evc_store **out) {
  char err[EVC_STORE_ERRMSG_SIZE];
  return evc_store_open(f->path, NULL, f->genesis, initial_height, f->initial_app_hash, out, err,
                        sizeof err);
}

static void run_sql(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) fail_msg("sql failed: %s", msg ? msg : "?");
  sqlite3_close(db);
}

/* ---- open ---- */

static void test_new_store_starts_before_initial_height(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 100, &s), 0);
  struct evc_chain_state cs;
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.height, 99);
  assert_int_equal(cs.da_included_height, 99);
  uint8_t zero[EVC_HASH_SIZE] = {0};
  assert_memory_equal(cs.last_hash, zero, EVC_HASH_SIZE);
  assert_memory_equal(cs.app_hash, f->initial_app_hash, EVC_HASH_SIZE);
  assert_int_equal(evc_store_initial_height(s), 100);
  assert_string_equal(evc_store_errmsg(s), "");
  struct evc_block_record r;
  assert_int_equal(evc_store_get_block(s, 99, &r), EVC_ENOTFOUND);
  evc_store_close(s);
}

static void test_committed_block_reads_back_by_height_and_hash(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  for (uint64_t h = 1; h <= 3; h++) assert_int_equal(commit_test_block(s, h, h % 2 == 0), 0);
  for (uint64_t h = 1; h <= 3; h++) {
    assert_test_block(s, h);
    uint8_t hash[EVC_HASH_SIZE];
    block_hash(h, hash);
    uint64_t found = 0;
    assert_int_equal(evc_store_find_height(s, hash, &found), 0);
    assert_int_equal(found, h);
  }
  uint8_t unknown[EVC_HASH_SIZE];
  memset(unknown, 0xee, sizeof unknown);
  uint64_t found = 0;
  assert_int_equal(evc_store_find_height(s, unknown, &found), EVC_ENOTFOUND);
  struct evc_chain_state cs;
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.height, 3);
  assert_int_equal(cs.da_included_height, 0);
  assert_consistent_chain(s, 1);
  evc_store_close(s);
}

static void test_empty_data_is_stored_as_empty(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  uint8_t hash[EVC_HASH_SIZE];
  block_hash(1, hash);
  const uint8_t header[3] = {1, 2, 3};
  assert_int_equal(evc_store_begin(s), 0);
  assert_int_equal(evc_store_put_block(s, 1, hash, header, sizeof header, NULL, 0), 0);
  assert_int_equal(evc_store_commit(s, false), 0);
  struct evc_block_record r;
  assert_int_equal(evc_store_get_block(s, 1, &r), 0);
  assert_int_equal(r.data_size, 0);
  assert_int_equal(r.header_size, 3);
  evc_block_record_release(&r);
  evc_store_close(s);
}

static void test_block_that_does_not_extend_chain_is_echain(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  assert_int_equal(evc_store_begin(s), 0);
  assert_int_equal(put_test_block(s, 2), EVC_ECHAIN); /* gap */
  assert_non_null(strstr(evc_store_errmsg(s), f->path));
  assert_int_equal(put_test_block(s, 1), 0);
  assert_int_equal(put_test_block(s, 1), EVC_ECHAIN); /* already there */
  assert_int_equal(put_test_block(s, 3), EVC_ECHAIN);
  assert_int_equal(evc_store_commit(s, false), 0);
  struct evc_chain_state cs;
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.height, 1);
  evc_store_close(s);
}

static void test_chain_state_must_name_a_stored_block(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  assert_int_equal(evc_store_begin(s), 0);
  struct evc_chain_state cs;
  memset(&cs, 0, sizeof cs);
  cs.height = 1;
  block_hash(1, cs.last_hash);
  assert_int_equal(evc_store_set_chain_state(s, &cs), EVC_ECHAIN); /* block 1 not put */
  assert_int_equal(put_test_block(s, 1), 0);
  cs.last_hash[0] ^= 1;
  assert_int_equal(evc_store_set_chain_state(s, &cs), EVC_ECHAIN); /* wrong hash */
  cs.height = 5;
  block_hash(5, cs.last_hash);
  assert_int_equal(evc_store_set_chain_state(s, &cs), EVC_ECHAIN); /* skips heights */
  evc_store_abort(s);
  evc_store_close(s);
}

static void test_abort_leaves_nothing(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  assert_int_equal(commit_test_block(s, 1, true), 0);
  assert_int_equal(evc_store_begin(s), 0);
  assert_int_equal(put_test_block(s, 2), 0);
  evc_store_abort(s);
  assert_false(evc_store_in_transaction(s));
  struct evc_chain_state cs;
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.height, 1);
  struct evc_block_record r;
  assert_int_equal(evc_store_get_block(s, 2, &r), EVC_ENOTFOUND);
  uint8_t hash[EVC_HASH_SIZE];
  block_hash(2, hash);
  uint64_t found = 0;
  assert_int_equal(evc_store_find_height(s, hash, &found), EVC_ENOTFOUND);
  /* The aborted block can be put again: nothing of it was left behind. */
  assert_int_equal(commit_test_block(s, 2, false), 0);
  assert_consistent_chain(s, 1);
  evc_store_close(s);
}

static void test_reopen_keeps_blocks_and_chain_state(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 7, &s), 0);
  for (uint64_t h = 7; h <= 11; h++) assert_int_equal(commit_test_block(s, h, false), 0);
  assert_int_equal(evc_store_begin(s), 0);
  assert_int_equal(evc_store_mark_da_included(s, 7, 3), 0);
  assert_int_equal(evc_store_commit(s, true), 0);
  evc_store_close(s);
  assert_int_equal(open_fixture(f, 7, &s), 0);
  struct evc_chain_state cs;
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.height, 11);
  assert_int_equal(cs.da_included_height, 7);
  assert_consistent_chain(s, 7);
  evc_store_close(s);
}

static void test_foreign_sqlite_database_is_eforeign(void **state) {
  struct fixture *f = *state;
  run_sql(f->path, "CREATE TABLE accounts(id INTEGER PRIMARY KEY, name TEXT)");
  struct evc_store *s = NULL;
  char err[EVC_STORE_ERRMSG_SIZE];
  assert_int_equal(evc_store_open(f->path, NULL, f->genesis, 1, f->initial_app_hash, &s, err,
                                  sizeof err),
                   EVC_EFOREIGN);
  assert_null(s);
  assert_non_null(strstr(err, f->path));
}

static void test_meta_of_another_app_is_eforeign(void **state) {
  struct fixture *f = *state;
  run_sql(f->path, "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);"
                   "INSERT INTO meta VALUES ('app', 'other'), ('schema_version', 1)");
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), EVC_EFOREIGN);
  assert_null(s);
}

static void test_garbage_file_is_ecorrupt(void **state) {
  struct fixture *f = *state;
  FILE *fp = fopen(f->path, "wb");
  assert_non_null(fp);
  for (int i = 0; i < 8192; i++) fputc((i * 37) & 0xff, fp);
  fclose(fp);
  struct evc_store *s = NULL;
  char err[EVC_STORE_ERRMSG_SIZE];
  assert_int_equal(evc_store_open(f->path, NULL, f->genesis, 1, f->initial_app_hash, &s, err,
                                  sizeof err),
                   EVC_ECORRUPT);
  assert_null(s);
  assert_non_null(strstr(err, f->path));
}

static void test_damaged_page_is_ecorrupt(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  for (uint64_t h = 1; h <= 8; h++) assert_int_equal(commit_test_block(s, h, true), 0);
  evc_store_close(s); /* checkpoints the WAL into the database file */
  FILE *fp = fopen(f->path, "r+b");
  assert_non_null(fp);
  assert_int_equal(fseek(fp, 4096 * 2, SEEK_SET), 0); /* page 3: a b-tree page */
  for (int i = 0; i < 64; i++) fputc(0xff, fp);
  fclose(fp);
  assert_int_equal(open_fixture(f, 1, &s), EVC_ECORRUPT);
  assert_null(s);
}

static void test_other_genesis_is_eforeign(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  evc_store_close(s);
  f->genesis[31] ^= 1;
  char err[EVC_STORE_ERRMSG_SIZE];
  assert_int_equal(evc_store_open(f->path, NULL, f->genesis, 1, f->initial_app_hash, &s, err,
                                  sizeof err),
                   EVC_EFOREIGN);
  assert_non_null(strstr(err, "genesis"));
  f->genesis[31] ^= 1;
  assert_int_equal(open_fixture(f, 2, &s), EVC_EFOREIGN); /* other initial height */
  assert_int_equal(open_fixture(f, 1, &s), 0);
  evc_store_close(s);
}

static void test_newer_schema_version_is_eschema(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  evc_store_close(s);
  run_sql(f->path, "UPDATE meta SET value = 99 WHERE key = 'schema_version'");
  char err[EVC_STORE_ERRMSG_SIZE];
  assert_int_equal(evc_store_open(f->path, NULL, f->genesis, 1, f->initial_app_hash, &s, err,
                                  sizeof err),
                   EVC_ESCHEMA);
  assert_null(s);
  assert_non_null(strstr(err, "99"));
}

static void test_second_open_of_a_store_in_use_fails(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  struct evc_store *other = NULL;
  assert_int_equal(open_fixture(f, 1, &other), EVC_EAGAIN);
  assert_null(other);
  evc_store_close(s);
}

/* ---- bounds on what is read back ---- */

static void test_out_of_bounds_lengths_read_back_are_ecorrupt(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  for (uint64_t h = 1; h <= 4; h++) assert_int_equal(commit_test_block(s, h, false), 0);
  evc_store_close(s);
  char sql[256];
  snprintf(sql, sizeof sql, "UPDATE blocks SET header = zeroblob(%u) WHERE height = 1;"
           "UPDATE blocks SET hash = zeroblob(31) WHERE height = 2;"
           "UPDATE blocks SET data = zeroblob(%u) WHERE height = 3;",
           (unsigned)EVC_SIGNED_HEADER_SIZE_MAX + 1, (unsigned)EVC_DATA_SIZE_MAX + 1);
  run_sql(f->path, sql);
  assert_int_equal(open_fixture(f, 1, &s), 0);
  struct evc_block_record r;
  for (uint64_t h = 1; h <= 3; h++) {
    assert_int_equal(evc_store_get_block(s, h, &r), EVC_ECORRUPT);
    assert_null(r.header);
    assert_null(r.data);
  }
  assert_test_block(s, 4);
  evc_store_close(s);
}

static void test_chain_state_disagreeing_with_blocks_is_ecorrupt(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  for (uint64_t h = 1; h <= 3; h++) assert_int_equal(commit_test_block(s, h, false), 0);
  evc_store_close(s);
  run_sql(f->path, "DELETE FROM blocks WHERE height = 3");
  assert_int_equal(open_fixture(f, 1, &s), EVC_ECORRUPT);
}

/* ---- DA inclusion ---- */

static void test_da_included_height_advances_over_contiguous_prefix_only(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  for (uint64_t h = 1; h <= 5; h++) assert_int_equal(commit_test_block(s, h, false), 0);
  struct evc_chain_state cs;
  assert_int_equal(evc_store_begin(s), 0);
  assert_int_equal(evc_store_mark_da_included(s, 2, 10), 0);
  assert_int_equal(evc_store_mark_da_included(s, 3, 10), 0);
  assert_int_equal(evc_store_commit(s, false), 0);
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.da_included_height, 0); /* block 1 is still soft */
  uint64_t soft = 0;
  assert_int_equal(evc_store_next_soft(s, 0, &soft), 0);
  assert_int_equal(soft, 1);
  assert_int_equal(evc_store_next_soft(s, 1, &soft), 0);
  assert_int_equal(soft, 4);

  assert_int_equal(evc_store_begin(s), 0);
  assert_int_equal(evc_store_mark_da_included(s, 5, 12), 0);
  assert_int_equal(evc_store_mark_da_included(s, 1, 11), 0);
  assert_int_equal(evc_store_mark_da_included(s, 9, 11), EVC_ENOTFOUND);
  assert_int_equal(evc_store_commit(s, false), 0);
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.da_included_height, 3); /* 4 is soft, so 5 does not count yet */

  assert_int_equal(evc_store_begin(s), 0);
  assert_int_equal(evc_store_mark_da_included(s, 2, 99), 0); /* the first record wins */
  assert_int_equal(evc_store_mark_da_included(s, 4, 13), 0);
  assert_int_equal(evc_store_commit(s, false), 0);
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.da_included_height, 5);
  assert_int_equal(evc_store_next_soft(s, 0, &soft), EVC_ENOTFOUND);
  struct evc_block_record r;
  assert_int_equal(evc_store_get_block(s, 2, &r), 0);
  assert_int_equal(r.da_height, 10);
  evc_block_record_release(&r);
  evc_store_close(s);
}

/* Puts block height already DA-included at da_height, with its chain state, in its own unit. */
static int commit_final_test_block(struct evc_store *s, uint64_t height, uint64_t da_height) {
  static uint8_t header[EVC_SIGNED_HEADER_SIZE_MAX];
  uint8_t hash[EVC_HASH_SIZE];
  block_hash(height, hash);
  fill_bytes(height, 0x11, header, header_size_for(height));
  int code = evc_store_begin(s);
  if (code != 0) return code;
  code = evc_store_put_final_block(s, height, hash, header, header_size_for(height), NULL, 0,
                                   da_height);
  assert_true(code != 0 || evc_store_unit_marked_final(s, height));
  struct evc_chain_state cs;
  memset(&cs, 0, sizeof cs);
  cs.height = height;
  memcpy(cs.last_hash, hash, EVC_HASH_SIZE);
  app_hash_for(height, cs.app_hash);
  if (code == 0) code = evc_store_set_chain_state(s, &cs);
  if (code != 0) {
    evc_store_abort(s);
    return code;
  }
  return evc_store_commit(s, false);
}

/* put_final_block stores the block marked, and moving onto it extends the included prefix
 * only when it sits right above that prefix, exactly as put + mark_da_included would. */
static void test_final_block_put_extends_the_included_prefix_like_a_mark(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  struct evc_chain_state cs;
  assert_int_equal(commit_final_test_block(s, 1, 4), 0);
  assert_int_equal(commit_final_test_block(s, 2, 4), 0);
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.height, 2);
  assert_int_equal(cs.da_included_height, 2);
  assert_int_equal(commit_test_block(s, 3, false), 0); /* soft */
  assert_int_equal(commit_final_test_block(s, 4, 5), 0);
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.da_included_height, 2); /* 3 is soft: 4 does not count yet */
  struct evc_block_record r;
  assert_int_equal(evc_store_get_block(s, 4, &r), 0);
  assert_int_equal(r.da_height, 5);
  evc_block_record_release(&r);
  assert_int_equal(evc_store_begin(s), 0);
  assert_int_equal(evc_store_mark_da_included(s, 3, 6), 0);
  assert_int_equal(evc_store_commit(s, false), 0);
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.da_included_height, 4);
  /* The same rules as put_block: it must extend the chain. */
  assert_int_equal(commit_final_test_block(s, 9, 7), EVC_ECHAIN);
  evc_store_close(s);
  /* And it survives a reopen. */
  assert_int_equal(open_fixture(f, 1, &s), 0);
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.da_included_height, 4);
  evc_store_close(s);
}

static void test_aborted_da_marks_change_nothing(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  assert_int_equal(commit_test_block(s, 1, false), 0);
  assert_int_equal(evc_store_begin(s), 0);
  assert_int_equal(evc_store_mark_da_included(s, 1, 4), 0);
  evc_store_abort(s);
  struct evc_chain_state cs;
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.da_included_height, 0);
  struct evc_block_record r;
  assert_int_equal(evc_store_get_block(s, 1, &r), 0);
  assert_int_equal(r.da_height, 0);
  evc_block_record_release(&r);
  evc_store_close(s);
}

/* ---- rollback ---- */

struct fake_exec {
  uint64_t rolled_back_to;
  int calls;
  int fail_with;
};

static int fake_rollback_to(void *impl, uint64_t height, uint8_t app_hash_out[EVC_HASH_SIZE]) {
  struct fake_exec *fx = impl;
  fx->calls++;
  fx->rolled_back_to = height;
  app_hash_for(height, app_hash_out);
  return fx->fail_with;
}

static const struct evc_exec_ops fake_ops = {.rollback_to = fake_rollback_to};

static void test_rollback_removes_blocks_and_restores_chain_state(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  for (uint64_t h = 1; h <= 6; h++) assert_int_equal(commit_test_block(s, h, false), 0);
  struct fake_exec fx = {0};
  struct evc_exec exec = {&fake_ops, &fx};
  assert_int_equal(evc_store_rollback_to(s, 3, &exec), 0);
  assert_int_equal(fx.calls, 1);
  assert_int_equal(fx.rolled_back_to, 3);
  struct evc_chain_state cs;
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.height, 3);
  assert_consistent_chain(s, 1);
  uint8_t hash[EVC_HASH_SIZE];
  block_hash(5, hash);
  uint64_t found = 0;
  assert_int_equal(evc_store_find_height(s, hash, &found), EVC_ENOTFOUND);
  /* The chain continues from the rollback point; the state survives a reopen. */
  assert_int_equal(commit_test_block(s, 4, false), 0);
  evc_store_close(s);
  assert_int_equal(open_fixture(f, 1, &s), 0);
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.height, 4);
  assert_consistent_chain(s, 1);
  /* All the way back to before the first block. */
  assert_int_equal(evc_store_rollback_to(s, 0, &exec), 0);
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.height, 0);
  uint8_t zero[EVC_HASH_SIZE] = {0};
  assert_memory_equal(cs.last_hash, zero, EVC_HASH_SIZE);
  struct evc_block_record r;
  assert_int_equal(evc_store_get_block(s, 1, &r), EVC_ENOTFOUND);
  assert_int_equal(evc_store_rollback_to(s, 1, &exec), EVC_ERANGE);
  evc_store_close(s);
}

static void test_rollback_refuses_to_remove_a_final_block(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  for (uint64_t h = 1; h <= 6; h++) assert_int_equal(commit_test_block(s, h, false), 0);
  assert_int_equal(evc_store_begin(s), 0);
  assert_int_equal(evc_store_mark_da_included(s, 5, 20), 0); /* final, though 1..4 are not */
  assert_int_equal(evc_store_commit(s, false), 0);
  struct fake_exec fx = {0};
  struct evc_exec exec = {&fake_ops, &fx};
  assert_int_equal(evc_store_rollback_to(s, 4, &exec), EVC_ESTATE);
  assert_non_null(strstr(evc_store_errmsg(s), "final"));
  assert_int_equal(fx.calls, 0);
  struct evc_chain_state cs;
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.height, 6);
  assert_int_equal(evc_store_rollback_to(s, 5, &exec), 0);
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.height, 5);
  assert_consistent_chain(s, 1);
  evc_store_close(s);
}

static void test_failed_executor_rollback_changes_nothing(void **state) {
  struct fixture *f = *state;
  struct evc_store *s = NULL;
  assert_int_equal(open_fixture(f, 1, &s), 0);
  for (uint64_t h = 1; h <= 3; h++) assert_int_equal(commit_test_block(s, h, false), 0);
  struct fake_exec fx = {.fail_with = EVC_ESTATE};
  struct evc_exec exec = {&fake_ops, &fx};
  assert_int_equal(evc_store_rollback_to(s, 1, &exec), EVC_ESTATE);
  assert_false(evc_store_in_transaction(s));
  struct evc_chain_state cs;
  evc_store_chain_state(s, &cs);
  assert_int_equal(cs.height, 3);
  assert_consistent_chain(s, 1);
  evc_store_close(s);
}

/* ---- crash tests over the simulated disk ---- */

#define CRASH_VFS "evc-test-store-crash"
#define CRASH_PATH "data/store.db"
#define CRASH_PREFIX_BLOCKS 5u

struct crash_rig {
  struct evc_simdisk *disk;
  uint64_t rand_state;
};

static uint64_t rig_rand(void *arg) {
  struct crash_rig *rig = arg;
  rig->rand_state = rig->rand_state * 6364136223846793005u + 1442695040888963407u;
  return (rig->rand_state >> 11) ^ (rig->rand_state << 7);
}

static void rig_start(struct crash_rig *rig, uint64_t seed) {
  rig->rand_state = seed;
  assert_int_equal(evc_simdisk_new(&rig->disk), 0);
  evc_simdisk_set_rand(rig->disk, rig_rand, rig);
  assert_int_equal(evc_simvfs_register(CRASH_VFS, rig->disk), 0);
}

static void rig_stop(struct crash_rig *rig) {
  evc_simvfs_unregister(CRASH_VFS);
  evc_simdisk_free(rig->disk);
  rig->disk = NULL;
}

static int rig_open(struct evc_store **out) {
  uint8_t genesis[EVC_HASH_SIZE];
  uint8_t app_hash[EVC_HASH_SIZE];
  memset(genesis, 0xab, sizeof genesis);
  app_hash_for(0, app_hash);
  char err[EVC_STORE_ERRMSG_SIZE];
  return evc_store_open(CRASH_PATH, CRASH_VFS, genesis, 1, app_hash, out, err, sizeof err);
}

/* Crashes the disk under an open store, closes it and reopens: returns the reopened store. */
static struct evc_store *crash_and_reopen(struct crash_rig *rig, struct evc_store *s) {
  struct evc_simdisk_faults none;
  memset(&none, 0, sizeof none);
  evc_simdisk_set_faults(rig->disk, &none);
  evc_simdisk_crash(rig->disk);
  evc_store_close(s);
  struct evc_store *reopened = NULL;
  assert_int_equal(rig_open(&reopened), 0);
  assert_consistent_chain(reopened, 1);
  return reopened;
}

static uint64_t chain_height(const struct evc_store *s) {
  struct evc_chain_state cs;
  evc_store_chain_state(s, &cs);
  return cs.height;
}

static void test_crash_loses_only_unsynced_commits(void **state) {
  (void)state;
  struct crash_rig rig;
  rig_start(&rig, 1);
  struct evc_store *s = NULL;
  assert_int_equal(rig_open(&s), 0);
  for (uint64_t h = 1; h <= 5; h++) assert_int_equal(commit_test_block(s, h, true), 0);
  /* Block 6 runs under the synchronous level block 5 asked for; 7 and 8 are not synced. */
  for (uint64_t h = 6; h <= 8; h++) assert_int_equal(commit_test_block(s, h, false), 0);
  s = crash_and_reopen(&rig, s);
  assert_in_range(chain_height(s), 5, 6);
  /* A durable commit after unsynced ones makes them all durable. */
  uint64_t next = chain_height(s) + 1;
  assert_int_equal(commit_test_block(s, next, false), 0);
  assert_int_equal(commit_test_block(s, next + 1, false), 0);
  assert_int_equal(commit_test_block(s, next + 2, true), 0);
  s = crash_and_reopen(&rig, s);
  assert_int_equal(chain_height(s), next + 2);
  evc_store_close(s);
  rig_stop(&rig);
}

/* The blocks committed under faults after the durable prefix, and whether each commit asks
 * for durability. MIXED ends with a durable commit after unsynced ones (the checkpoint path). */
#define CRASH_PHASE_BLOCKS 3u
static const bool crash_soft[CRASH_PHASE_BLOCKS] = {false, false, false};
static const bool crash_durable[CRASH_PHASE_BLOCKS] = {true, true, true};
static const bool crash_mixed[CRASH_PHASE_BLOCKS] = {false, false, true};

/* One crash run: blocks 1..5 durable, then blocks 6..8 under the given faults (stopping at
 * the first failed commit), then a crash and a reopen. The reopened store must hold a
 * consistent prefix: at least every block whose durable commit succeeded, nothing partial.
 * Returns false when no fault fired (every fault point has been covered). */
static bool crash_run(const struct evc_simdisk_faults *faults, const bool *durable,
                      uint64_t seed) {
  struct crash_rig rig;
  rig_start(&rig, seed);
  struct evc_store *s = NULL;
  assert_int_equal(rig_open(&s), 0);
  for (uint64_t h = 1; h <= CRASH_PREFIX_BLOCKS; h++) {
    assert_int_equal(commit_test_block(s, h, true), 0);
  }
  evc_simdisk_set_faults(rig.disk, faults);
  uint64_t attempted = CRASH_PREFIX_BLOCKS;
  uint64_t durable_ok = CRASH_PREFIX_BLOCKS; /* highest block a successful durable commit holds */
  int code = 0;
  for (uint32_t i = 0; i < CRASH_PHASE_BLOCKS && code == 0; i++) {
    attempted++;
    code = commit_test_block(s, attempted, durable[i]);
    if (code == 0 && durable[i]) durable_ok = attempted;
  }
  bool fired = evc_simdisk_faults_fired(rig.disk) != 0;
  if (!fired) assert_int_equal(code, 0);
  if (code != 0) assert_int_equal(evc_store_begin(s), EVC_EIO); /* refuses until reopened */
  s = crash_and_reopen(&rig, s);
  uint64_t height = chain_height(s);
  assert_in_range(height, CRASH_PREFIX_BLOCKS, attempted);
  if (faults->lost_fsync_ppm == 0) assert_true(height >= durable_ok);
  /* The store stays usable after the crash. */
  assert_int_equal(commit_test_block(s, height + 1, true), 0);
  evc_store_close(s);
  rig_stop(&rig);
  return fired;
}

/* Fails the k-th write (or sync) from the start of the faulted phase, and every one after
 * it, for k = 1, 2, ... until the phase completes without reaching the fault. */
static void crash_at_every_point(bool sync, const bool *durable) {
  uint64_t k = 1;
  for (; k < 10000; k++) {
    struct evc_simdisk_faults faults;
    memset(&faults, 0, sizeof faults);
    faults.path_prefix = "";
    if (sync) {
      faults.fail_sync_countdown = k;
    } else {
      faults.fail_write_countdown = k;
    }
    faults.persistent = true;
    if (!crash_run(&faults, durable, k)) break;
  }
  assert_true(k > 2); /* several fault points were exercised */
}

static void test_crash_at_every_write_is_all_or_nothing(void **state) {
  (void)state;
  crash_at_every_point(false, crash_soft);
  crash_at_every_point(false, crash_durable);
  crash_at_every_point(false, crash_mixed);
}

static void test_crash_at_every_sync_is_all_or_nothing(void **state) {
  (void)state;
  crash_at_every_point(true, crash_durable);
  crash_at_every_point(true, crash_mixed);
}

static void test_torn_writes_at_crash_never_leave_a_partial_block(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 60; seed++) {
    struct evc_simdisk_faults faults;
    memset(&faults, 0, sizeof faults);
    faults.path_prefix = "";
    faults.torn_write_ppm = 500000;
    faults.lost_fsync_ppm = seed % 3 == 0 ? 300000 : 0;
    crash_run(&faults, seed % 2 == 0 ? crash_soft : crash_mixed, seed);
  }
}

static void test_crash_while_creating_the_store_leaves_none_or_all(void **state) {
  (void)state;
  for (uint64_t k = 1; k < 10000; k++) {
    struct crash_rig rig;
    rig_start(&rig, k);
    struct evc_simdisk_faults faults;
    memset(&faults, 0, sizeof faults);
    faults.path_prefix = "";
    faults.fail_write_countdown = k;
    faults.persistent = true;
    evc_simdisk_set_faults(rig.disk, &faults);
    struct evc_store *s = NULL;
    int code = rig_open(&s);
    bool fired = evc_simdisk_faults_fired(rig.disk) != 0;
    if (code == 0) {
      s = crash_and_reopen(&rig, s);
    } else {
      evc_simdisk_crash(rig.disk);
      memset(&faults, 0, sizeof faults);
      evc_simdisk_set_faults(rig.disk, &faults);
      assert_int_equal(rig_open(&s), 0); /* a half-created store would fail here */
    }
    assert_int_equal(chain_height(s), 0);
    assert_int_equal(commit_test_block(s, 1, true), 0);
    evc_store_close(s);
    rig_stop(&rig);
    if (!fired) break;
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_new_store_starts_before_initial_height, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_committed_block_reads_back_by_height_and_hash, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_empty_data_is_stored_as_empty, setup, teardown),
      cmocka_unit_test_setup_teardown(test_block_that_does_not_extend_chain_is_echain, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_chain_state_must_name_a_stored_block, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reopen_keeps_blocks_and_chain_state, setup, teardown),
      cmocka_unit_test_setup_teardown(test_foreign_sqlite_database_is_eforeign, setup, teardown),
      cmocka_unit_test_setup_teardown(test_meta_of_another_app_is_eforeign, setup, teardown),
      cmocka_unit_test_setup_teardown(test_garbage_file_is_ecorrupt, setup, teardown),
      cmocka_unit_test_setup_teardown(test_damaged_page_is_ecorrupt, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_genesis_is_eforeign, setup, teardown),
      cmocka_unit_test_setup_teardown(test_newer_schema_version_is_eschema, setup, teardown),
      cmocka_unit_test_setup_teardown(test_second_open_of_a_store_in_use_fails, setup, teardown),
      cmocka_unit_test_setup_teardown(test_out_of_bounds_lengths_read_back_are_ecorrupt, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_chain_state_disagreeing_with_blocks_is_ecorrupt,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_da_included_height_advances_over_contiguous_prefix_only,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_final_block_put_extends_the_included_prefix_like_a_mark,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_aborted_da_marks_change_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rollback_removes_blocks_and_restores_chain_state,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_rollback_refuses_to_remove_a_final_block, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_failed_executor_rollback_changes_nothing, setup,
                                      teardown),
      cmocka_unit_test(test_crash_loses_only_unsynced_commits),
      cmocka_unit_test(test_crash_at_every_write_is_all_or_nothing),
      cmocka_unit_test(test_crash_at_every_sync_is_all_or_nothing),
      cmocka_unit_test(test_torn_writes_at_crash_never_leave_a_partial_block),
      cmocka_unit_test(test_crash_while_creating_the_store_leaves_none_or_all),
  };
  return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
