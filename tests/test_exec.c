/* Tests for node/exec/kv.c: the tx rules, the app hash (known answers, order independence,
 * determinism across stores), update semantics, skipped bad txs, undo and rollback, and that
 * execution shares the store's transaction (abort drops both, a crash keeps them together). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "node/common/error.h"
#include "node/exec/exec.h"
#include "node/store/store.h"
#include "sim/simdisk.h"

#define TEST_VFS "evc-test-exec"
#define TXS_MAX 16

struct node {
  struct evc_store *store;
  struct evc_exec exec;
};

struct rig {
  struct evc_simdisk *disk;
  struct node a;
  struct node b;
};

static void block_hash(uint64_t height, uint8_t out[EVC_HASH_SIZE]) {
  for (size_t i = 0; i < EVC_HASH_SIZE; i++) out[i] = (uint8_t)(height * 29u + i + 3u);
}

static int node_open(struct node *n, const char *path) {
  uint8_t genesis[EVC_HASH_SIZE];
  uint8_t app_hash[EVC_HASH_SIZE];
  memset(genesis, 0x42, sizeof genesis);
  evc_kv_empty_app_hash(app_hash);
  int code = evc_store_open(path, TEST_VFS, genesis, 1, app_hash, &n->store, NULL, 0);
  if (code != 0) return code;
  code = evc_kv_exec_init(n->store, &n->exec);
  if (code != 0) evc_store_close(n->store);
  return code;
}

static void node_close(struct node *n) {
  evc_kv_exec_close(&n->exec);
  evc_store_close(n->store);
  memset(n, 0, sizeof *n);
}

static int setup(void **state) {
  static struct rig rig;
  memset(&rig, 0, sizeof rig);
  if (evc_simdisk_new(&rig.disk) != 0) return -1;
  if (evc_simvfs_register(TEST_VFS, rig.disk) != 0) return -1;
  if (node_open(&rig.a, "a/store.db") != 0) return -1;
  if (node_open(&rig.b, "b/store.db") != 0) return -1;
  *state = &rig;
  return 0;
}

static int teardown(void **state) {
  struct rig *rig = *state;
  if (rig->a.store != NULL) node_close(&rig->a);
  if (rig->b.store != NULL) node_close(&rig->b);
  evc_simvfs_unregister(TEST_VFS);
  evc_simdisk_free(rig->disk);
  return 0;
}

/* Fills txs from NUL-terminated strings. */
static uint32_t make_txs(const char *const *texts, uint32_t count, struct evc_tx *txs) {
  assert_true(count <= TXS_MAX);
  for (uint32_t i = 0; i < count; i++) {
    txs[i].bytes = (const uint8_t *)texts[i];
    txs[i].size = (uint32_t)strlen(texts[i]);
  }
  return count;
}

/* Applies a block of txs as the core does: block, execution and chain state in one commit. */
static int apply_block(struct node *n, const char *const *texts, uint32_t count,
                       uint8_t app_hash_out[EVC_HASH_SIZE]) {
  struct evc_tx txs[TXS_MAX];
  make_txs(texts, count, txs);
  struct evc_chain_state cs;
  evc_store_chain_state(n->store, &cs);
  uint64_t height = cs.height + 1;
  uint8_t hash[EVC_HASH_SIZE];
  block_hash(height, hash);
  const uint8_t header[4] = {'h', 'd', 'r', (uint8_t)height};
  int code = evc_store_begin(n->store);
  if (code != 0) return code;
  code = evc_store_put_block(n->store, height, hash, header, sizeof header, NULL, 0);
  if (code == 0) code = n->exec.ops->execute(n->exec.impl, height, txs, count, cs.app_hash);
  if (code == 0) {
    cs.height = height;
    memcpy(cs.last_hash, hash, EVC_HASH_SIZE);
    code = evc_store_set_chain_state(n->store, &cs);
  }
  if (code != 0) {
    evc_store_abort(n->store);
    return code;
  }
  memcpy(app_hash_out, cs.app_hash, EVC_HASH_SIZE);
  return evc_store_commit(n->store, false);
}

static void assert_value(struct node *n, const char *key, const char *expect) {
  uint8_t value[EVC_KV_VALUE_SIZE_MAX];
  size_t size = 0;
  int code = evc_kv_get(&n->exec, (const uint8_t *)key, strlen(key), value, &size);
  if (expect == NULL) {
    assert_int_equal(code, EVC_ENOTFOUND);
    return;
  }
  assert_int_equal(code, 0);
  assert_int_equal(size, strlen(expect));
  assert_memory_equal(value, expect, size);
}

/* ---- tx rules ---- */

static void test_check_tx_accepts_exactly_the_documented_format(void **state) {
  (void)state;
  char key64[70];
  memset(key64, 'k', 64);
  snprintf(key64 + 64, sizeof key64 - 64, "=v");
  char value1024[1100];
  value1024[0] = 'k';
  value1024[1] = '=';
  memset(value1024 + 2, '~', 1024);
  value1024[1026] = '\0';
  const char *const good[] = {"a=b", "a=", "A.z_0-9=x", "k=a value = with spaces!", key64,
                              value1024};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    assert_int_equal(evc_kv_check_tx((const uint8_t *)good[i], strlen(good[i])), 0);
  }
  char key65[72];
  memset(key65, 'k', 65);
  snprintf(key65 + 65, sizeof key65 - 65, "=v");
  char value1025[1100];
  memcpy(value1025, value1024, 1026);
  value1025[1026] = '~';
  value1025[1027] = '\0';
  const char *const bad[] = {"", "=", "=v", "novalue", "k y=1", "k/y=1", "k=\n", "k=\x7f",
                             "k=\x80", "k\x01=1", " k=1", key65, value1025};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(evc_kv_check_tx((const uint8_t *)bad[i], strlen(bad[i])), EVC_EINVAL);
  }
  const uint8_t nul_in_value[] = {'k', '=', 'a', 0, 'b'};
  assert_int_equal(evc_kv_check_tx(nul_in_value, sizeof nul_in_value), EVC_EINVAL);
  assert_int_equal(evc_kv_check_tx(NULL, 0), EVC_EINVAL);
}

/* ---- the app hash ---- */

static void test_app_hash_matches_the_documented_formula(void **state) {
  struct rig *rig = *state;
  uint8_t expect[EVC_HASH_SIZE];
  uint8_t got[EVC_HASH_SIZE];
  /* Empty state: SHA-256("evc-kv-state-v1" || 32 zero bytes || u64 0). */
  uint8_t empty_input[15 + 32 + 8];
  memset(empty_input, 0, sizeof empty_input);
  memcpy(empty_input, "evc-kv-state-v1", 15);
  crypto_hash_sha256(expect, empty_input, sizeof empty_input);
  evc_kv_empty_app_hash(got);
  assert_memory_equal(got, expect, EVC_HASH_SIZE);
  assert_int_equal(rig->a.exec.ops->init_chain(rig->a.exec.impl, got), 0);
  assert_memory_equal(got, expect, EVC_HASH_SIZE);
  /* One entry "ab" -> "xyz": the accumulator is that entry's hash, the count is 1. */
  const uint8_t entry[] = {'e', 'v', 'c', '-', 'k', 'v', '-', 'e', 'n', 't', 'r', 'y',
                           0,   0,   0,   2,   'a', 'b', 0,   0,   0,   3,   'x', 'y', 'z'};
  uint8_t state_input[15 + 32 + 8];
  memcpy(state_input, "evc-kv-state-v1", 15);
  crypto_hash_sha256(state_input + 15, entry, sizeof entry);
  memset(state_input + 47, 0, 8);
  state_input[54] = 1;
  crypto_hash_sha256(expect, state_input, sizeof state_input);
  const char *const txs[] = {"ab=xyz"};
  assert_int_equal(apply_block(&rig->a, txs, 1, got), 0);
  assert_memory_equal(got, expect, EVC_HASH_SIZE);
}

static void test_same_txs_give_same_app_hash_on_two_stores(void **state) {
  struct rig *rig = *state;
  const char *const block1[] = {"alice=10", "bob=20", "carol="};
  const char *const block2[] = {"alice=11", "dave=4 = four"};
  uint8_t ha[EVC_HASH_SIZE], hb[EVC_HASH_SIZE];
  assert_int_equal(apply_block(&rig->a, block1, 3, ha), 0);
  assert_int_equal(apply_block(&rig->b, block1, 3, hb), 0);
  assert_memory_equal(ha, hb, EVC_HASH_SIZE);
  uint8_t empty[EVC_HASH_SIZE];
  evc_kv_empty_app_hash(empty);
  assert_memory_not_equal(ha, empty, EVC_HASH_SIZE);
  assert_int_equal(apply_block(&rig->a, block2, 2, ha), 0);
  assert_int_equal(apply_block(&rig->b, block2, 2, hb), 0);
  assert_memory_equal(ha, hb, EVC_HASH_SIZE);
  assert_value(&rig->a, "alice", "11");
  assert_value(&rig->a, "dave", "4 = four");
}

static void test_same_final_state_in_any_order_gives_same_hash(void **state) {
  struct rig *rig = *state;
  const char *const one_block[] = {"x=1", "y=2", "z=3"};
  const char *const first[] = {"z=0", "y=2"};
  const char *const second[] = {"x=7", "z=3"};
  const char *const third[] = {"x=1"};
  uint8_t ha[EVC_HASH_SIZE], hb[EVC_HASH_SIZE];
  assert_int_equal(apply_block(&rig->a, one_block, 3, ha), 0);
  assert_int_equal(apply_block(&rig->b, first, 2, hb), 0);
  assert_memory_not_equal(ha, hb, EVC_HASH_SIZE);
  assert_int_equal(apply_block(&rig->b, second, 2, hb), 0);
  assert_memory_not_equal(ha, hb, EVC_HASH_SIZE); /* x differs */
  assert_int_equal(apply_block(&rig->b, third, 1, hb), 0);
  assert_memory_equal(ha, hb, EVC_HASH_SIZE);
}

static void test_update_replaces_and_empty_value_is_a_value(void **state) {
  struct rig *rig = *state;
  uint8_t h0[EVC_HASH_SIZE], h1[EVC_HASH_SIZE], h2[EVC_HASH_SIZE], h3[EVC_HASH_SIZE];
  const char *const set_empty[] = {"k="};
  const char *const set_one[] = {"k=1"};
  const char *const set_one_again[] = {"k=1", "k=1"};
  evc_kv_empty_app_hash(h0);
  assert_int_equal(apply_block(&rig->a, set_empty, 1, h1), 0);
  assert_memory_not_equal(h0, h1, EVC_HASH_SIZE); /* "" is a value: the key exists */
  assert_value(&rig->a, "k", "");
  assert_int_equal(apply_block(&rig->a, set_one, 1, h2), 0);
  assert_value(&rig->a, "k", "1");
  assert_memory_not_equal(h1, h2, EVC_HASH_SIZE);
  assert_int_equal(apply_block(&rig->a, set_one_again, 2, h3), 0);
  assert_memory_equal(h2, h3, EVC_HASH_SIZE); /* the same value again changes nothing */
  /* A fresh store holding only k=1 has the same hash: updates leave no trace. */
  uint8_t hb[EVC_HASH_SIZE];
  assert_int_equal(apply_block(&rig->b, set_one, 1, hb), 0);
  assert_memory_equal(h2, hb, EVC_HASH_SIZE);
  assert_value(&rig->a, "missing", NULL);
}

static void test_invalid_txs_are_skipped_and_leave_hash_unchanged(void **state) {
  struct rig *rig = *state;
  const char *const mixed[] = {"=v", "good=1", "k y=1", "k=\t", "novalue", "", "also.good=2"};
  const char *const clean[] = {"good=1", "also.good=2"};
  uint8_t ha[EVC_HASH_SIZE], hb[EVC_HASH_SIZE];
  uint64_t skipped_before = evc_kv_skipped_tx_count(&rig->a.exec);
  assert_int_equal(apply_block(&rig->a, mixed, 7, ha), 0);
  assert_int_equal(evc_kv_skipped_tx_count(&rig->a.exec) - skipped_before, 5);
  assert_int_equal(apply_block(&rig->b, clean, 2, hb), 0);
  assert_memory_equal(ha, hb, EVC_HASH_SIZE);
  /* A block of nothing but junk leaves the hash where it was. */
  const char *const junk[] = {"=", "x"};
  assert_int_equal(apply_block(&rig->a, junk, 2, hb), 0);
  assert_memory_equal(ha, hb, EVC_HASH_SIZE);
  assert_value(&rig->a, "k y", NULL);
}

/* ---- rollback ---- */

static void test_rollback_restores_exact_previous_hash_and_values(void **state) {
  struct rig *rig = *state;
  struct node *n = &rig->a;
  const char *const b1[] = {"a=1", "b=2"};
  const char *const b2[] = {"a=10", "c=", "c=3"};
  const char *const b3[] = {"b=20", "d=4", "a=1"};
  const char *const b4[] = {"e=5", "a=100"};
  uint8_t h[5][EVC_HASH_SIZE];
  evc_kv_empty_app_hash(h[0]);
  assert_int_equal(apply_block(n, b1, 2, h[1]), 0);
  assert_int_equal(apply_block(n, b2, 3, h[2]), 0);
  assert_int_equal(apply_block(n, b3, 3, h[3]), 0);
  assert_int_equal(apply_block(n, b4, 2, h[4]), 0);

  uint8_t got[EVC_HASH_SIZE];
  assert_int_equal(evc_store_begin(n->store), 0);
  assert_int_equal(n->exec.ops->rollback_to(n->exec.impl, 4, got), 0); /* nothing to undo */
  assert_memory_equal(got, h[4], EVC_HASH_SIZE);
  assert_int_equal(n->exec.ops->rollback_to(n->exec.impl, 2, got), 0);
  assert_memory_equal(got, h[2], EVC_HASH_SIZE);
  assert_value(n, "a", "10");
  assert_value(n, "b", "2");
  assert_value(n, "c", "3");
  assert_value(n, "d", NULL);
  assert_value(n, "e", NULL);
  assert_int_equal(n->exec.ops->rollback_to(n->exec.impl, 0, got), 0);
  assert_memory_equal(got, h[0], EVC_HASH_SIZE);
  assert_value(n, "a", NULL);
  evc_store_abort(n->store);

  /* The abort undid the rollback too; now through the store, in its own transaction. */
  assert_value(n, "e", "5");
  assert_int_equal(evc_store_rollback_to(n->store, 1, &n->exec), 0);
  struct evc_chain_state cs;
  evc_store_chain_state(n->store, &cs);
  assert_int_equal(cs.height, 1);
  assert_memory_equal(cs.app_hash, h[1], EVC_HASH_SIZE);
  assert_value(n, "a", "1");
  assert_value(n, "c", NULL);
  /* Re-executing the same blocks reproduces the same hashes. */
  assert_int_equal(apply_block(n, b2, 3, got), 0);
  assert_memory_equal(got, h[2], EVC_HASH_SIZE);
  assert_int_equal(apply_block(n, b3, 3, got), 0);
  assert_memory_equal(got, h[3], EVC_HASH_SIZE);
}

static void test_pruned_undo_forbids_rollback_below_it(void **state) {
  struct rig *rig = *state;
  struct node *n = &rig->a;
  const char *const b[] = {"a=1"};
  const char *const b2[] = {"a=2"};
  const char *const b3[] = {"a=3"};
  uint8_t h1[EVC_HASH_SIZE], h2[EVC_HASH_SIZE], h3[EVC_HASH_SIZE], got[EVC_HASH_SIZE];
  assert_int_equal(apply_block(n, b, 1, h1), 0);
  assert_int_equal(apply_block(n, b2, 1, h2), 0);
  assert_int_equal(apply_block(n, b3, 1, h3), 0);
  assert_int_equal(evc_store_begin(n->store), 0);
  assert_int_equal(n->exec.ops->prune_undo(n->exec.impl, 2), 0);
  assert_int_equal(evc_store_commit(n->store, false), 0);
  assert_int_equal(evc_store_begin(n->store), 0);
  assert_int_equal(n->exec.ops->rollback_to(n->exec.impl, 1, got), EVC_ESTATE);
  assert_int_equal(n->exec.ops->rollback_to(n->exec.impl, 2, got), 0);
  assert_memory_equal(got, h2, EVC_HASH_SIZE);
  evc_store_abort(n->store);
}

static void test_execute_refuses_a_height_already_executed(void **state) {
  struct rig *rig = *state;
  struct node *n = &rig->a;
  const char *const b[] = {"a=1"};
  uint8_t h[EVC_HASH_SIZE];
  assert_int_equal(apply_block(n, b, 1, h), 0);
  struct evc_tx txs[1];
  make_txs(b, 1, txs);
  assert_int_equal(evc_store_begin(n->store), 0);
  assert_int_equal(n->exec.ops->execute(n->exec.impl, 1, txs, 1, h), EVC_ESTATE);
  evc_store_abort(n->store);
}

/* ---- one transaction with the store ---- */

static void test_abort_drops_block_and_execution_together(void **state) {
  struct rig *rig = *state;
  struct node *n = &rig->a;
  const char *const b1[] = {"a=1"};
  uint8_t h1[EVC_HASH_SIZE];
  assert_int_equal(apply_block(n, b1, 1, h1), 0);
  const char *const b2[] = {"a=2", "new=yes"};
  struct evc_tx txs[2];
  make_txs(b2, 2, txs);
  uint8_t hash[EVC_HASH_SIZE], app_hash[EVC_HASH_SIZE];
  block_hash(2, hash);
  const uint8_t header[1] = {2};
  assert_int_equal(evc_store_begin(n->store), 0);
  assert_int_equal(evc_store_put_block(n->store, 2, hash, header, 1, NULL, 0), 0);
  assert_int_equal(n->exec.ops->execute(n->exec.impl, 2, txs, 2, app_hash), 0);
  assert_value(n, "new", "yes"); /* visible inside the transaction */
  evc_store_abort(n->store);
  assert_value(n, "a", "1");
  assert_value(n, "new", NULL);
  struct evc_block_record r;
  assert_int_equal(evc_store_get_block(n->store, 2, &r), EVC_ENOTFOUND);
  /* The same block applies cleanly afterwards and gives the same hash. */
  uint8_t again[EVC_HASH_SIZE];
  assert_int_equal(apply_block(n, b2, 2, again), 0);
  assert_memory_equal(again, app_hash, EVC_HASH_SIZE);
}

static void test_state_survives_reopen_and_matches_chain_state(void **state) {
  struct rig *rig = *state;
  const char *const b1[] = {"a=1", "b=2"};
  uint8_t h1[EVC_HASH_SIZE];
  assert_int_equal(apply_block(&rig->a, b1, 2, h1), 0);
  node_close(&rig->a);
  assert_int_equal(node_open(&rig->a, "a/store.db"), 0);
  assert_value(&rig->a, "b", "2");
  struct evc_chain_state cs;
  evc_store_chain_state(rig->a.store, &cs);
  assert_memory_equal(cs.app_hash, h1, EVC_HASH_SIZE);
  /* A store whose executor state disagrees with its chain state is refused. */
  evc_kv_exec_close(&rig->a.exec);
  sqlite3 *db = evc_store_db(rig->a.store);
  assert_int_equal(sqlite3_exec(db, "UPDATE kv_meta SET entry_count = 3", NULL, NULL,
                                NULL),
                   SQLITE_OK);
  assert_int_equal(evc_kv_exec_init(rig->a.store, &rig->a.exec), EVC_EAPPHASH);
  assert_null(rig->a.exec.impl);
  assert_int_equal(sqlite3_exec(db, "UPDATE kv_meta SET entry_count = 2", NULL, NULL,
                                NULL),
                   SQLITE_OK);
  assert_int_equal(evc_kv_exec_init(rig->a.store, &rig->a.exec), 0);
}

static void test_crash_keeps_block_and_state_together(void **state) {
  struct rig *rig = *state;
  const char *const b1[] = {"a=1"};
  const char *const b2[] = {"a=2", "b=2"};
  uint8_t h[3][EVC_HASH_SIZE];
  assert_int_equal(apply_block(&rig->a, b1, 1, h[1]), 0);
  assert_int_equal(apply_block(&rig->a, b2, 2, h[2]), 0);
  for (uint64_t k = 1; k < 1000; k++) {
    struct evc_simdisk_faults faults;
    memset(&faults, 0, sizeof faults);
    faults.path_prefix = "b/";
    faults.fail_write_countdown = k;
    faults.persistent = true;
    evc_simdisk_set_faults(rig->disk, &faults);
    uint64_t fired_before = evc_simdisk_faults_fired(rig->disk);
    uint8_t got[EVC_HASH_SIZE];
    int code = apply_block(&rig->b, b1, 1, got);
    if (code == 0) code = apply_block(&rig->b, b2, 2, got);
    bool fired = evc_simdisk_faults_fired(rig->disk) != fired_before;
    memset(&faults, 0, sizeof faults);
    evc_simdisk_set_faults(rig->disk, &faults);
    evc_simdisk_crash(rig->disk);
    node_close(&rig->b);
    assert_int_equal(node_open(&rig->b, "b/store.db"), 0); /* EVC_EAPPHASH if torn apart */
    struct evc_chain_state cs;
    evc_store_chain_state(rig->b.store, &cs);
    assert_in_range(cs.height, 0, 2);
    if (cs.height > 0) assert_memory_equal(cs.app_hash, h[cs.height], EVC_HASH_SIZE);
    node_close(&rig->b);
    evc_simdisk_remove_prefix(rig->disk, "b/");
    assert_int_equal(node_open(&rig->b, "b/store.db"), 0);
    if (!fired) {
      assert_int_equal(code, 0);
      assert_true(k > 2);
      break;
    }
  }
  /* The crash loses a's unsynced commits too; what remains is consistent. */
  node_close(&rig->a);
  assert_int_equal(node_open(&rig->a, "a/store.db"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_check_tx_accepts_exactly_the_documented_format),
      cmocka_unit_test_setup_teardown(test_app_hash_matches_the_documented_formula, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_same_txs_give_same_app_hash_on_two_stores, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_same_final_state_in_any_order_gives_same_hash, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_update_replaces_and_empty_value_is_a_value, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_invalid_txs_are_skipped_and_leave_hash_unchanged,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_rollback_restores_exact_previous_hash_and_values,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_pruned_undo_forbids_rollback_below_it, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_execute_refuses_a_height_already_executed, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_abort_drops_block_and_execution_together, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_state_survives_reopen_and_matches_chain_state, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_crash_keeps_block_and_state_together, setup,
                                      teardown),
  };
  return cmocka_run_group_tests_name("exec", tests, NULL, NULL);
}
