/* Tests for node/os/fsutil.c and node/os/keyfile.c in a fresh mkdtemp directory: atomic
 * replace and create, bounded reads, key file mode and validation, and a sign state that
 * survives a round trip through the disk while a torn one is caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/common/error.h"
#include "node/crypto/crypto.h"
#include "node/crypto/sign_state.h"
#include "node/os/fsutil.h"
#include "node/os/keyfile.h"

#define PATH_SIZE 512
#define CHAIN_ID "evc-fs-test"

struct fixture {
  char dir[PATH_SIZE];
};

static int setup(void **state) {
  if (evc_crypto_init() != 0) return -1;
  struct fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  strcpy(f->dir, "/tmp/evc-test-fsutil-XXXXXX");
  if (mkdtemp(f->dir) == NULL) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  int rc = evc_fs_remove_tree(f->dir);
  struct stat st;
  int gone = lstat(f->dir, &st) != 0;
  free(f);
  return rc == 0 && gone ? 0 : -1;
}

static void path_in(const struct fixture *f, const char *name, char out[PATH_SIZE]) {
  int len = snprintf(out, PATH_SIZE, "%s/%s", f->dir, name);
  assert_true(len > 0 && len < PATH_SIZE);
}

static void assert_file_is(const char *path, const char *text) {
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_fs_read_file(path, 1024, &bytes, &size), 0);
  assert_int_equal(size, strlen(text));
  assert_memory_equal(bytes, text, size);
  free(bytes);
}

/* Number of entries in dir other than "." and "..". */
static size_t entries_in(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t count = 0;
  for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) count++;
  }
  closedir(d);
  return count;
}

static void test_replace_atomic_writes_then_replaces(void **state) {
  struct fixture *f = *state;
  char path[PATH_SIZE];
  path_in(f, "replace", path);
  assert_int_equal(evc_fs_replace_atomic(path, (const uint8_t *)"first", 5, 0600), 0);
  assert_file_is(path, "first");
  assert_int_equal(evc_fs_replace_atomic(path, (const uint8_t *)"second!", 7, 0640), 0);
  assert_file_is(path, "second!");
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0640);
  assert_int_equal(evc_fs_replace_atomic(path, NULL, 0, 0600), 0);
  assert_file_is(path, "");
  assert_int_equal(entries_in(f->dir), 1); /* no temp file left behind */
}

static void test_failed_replace_leaves_nothing_behind(void **state) {
  struct fixture *f = *state;
  char path[PATH_SIZE], missing_dir[PATH_SIZE];
  path_in(f, "missing", missing_dir);
  path_in(f, "missing/file", path);
  size_t before = entries_in(f->dir);
  assert_int_equal(evc_fs_replace_atomic(path, (const uint8_t *)"x", 1, 0600), EVC_EIO);
  assert_int_equal(entries_in(f->dir), before);
  struct stat st;
  assert_int_not_equal(lstat(missing_dir, &st), 0);

  /* A target that cannot be replaced (a non-empty directory): temp removed, target intact. */
  char target[PATH_SIZE], inner[PATH_SIZE];
  path_in(f, "occupied", target);
  path_in(f, "occupied/keep", inner);
  assert_int_equal(evc_fs_mkdir_p(target, 0700), 0);
  assert_int_equal(evc_fs_replace_atomic(inner, (const uint8_t *)"old", 3, 0600), 0);
  before = entries_in(f->dir);
  assert_int_equal(evc_fs_replace_atomic(target, (const uint8_t *)"new", 3, 0600), EVC_EIO);
  assert_int_equal(entries_in(f->dir), before);
  assert_file_is(inner, "old");
  assert_int_equal(evc_fs_remove_tree(target), 0);
}

static void test_read_missing_file_is_not_found(void **state) {
  struct fixture *f = *state;
  char path[PATH_SIZE];
  path_in(f, "absent", path);
  uint8_t *bytes = (uint8_t *)path;
  size_t size = 99;
  assert_int_equal(evc_fs_read_file(path, 1024, &bytes, &size), EVC_ENOTFOUND);
  assert_null(bytes);
  assert_int_equal(size, 0);
}

static void test_read_enforces_size_max(void **state) {
  struct fixture *f = *state;
  char path[PATH_SIZE];
  path_in(f, "sized", path);
  uint8_t content[100];
  memset(content, 'q', sizeof content);
  assert_int_equal(evc_fs_replace_atomic(path, content, sizeof content, 0600), 0);
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_fs_read_file(path, 99, &bytes, &size), EVC_ETOOBIG);
  assert_null(bytes);
  assert_int_equal(evc_fs_read_file(path, 100, &bytes, &size), 0);
  assert_int_equal(size, 100);
  assert_memory_equal(bytes, content, sizeof content);
  free(bytes);
  assert_int_equal(evc_fs_read_file(f->dir, 100, &bytes, &size), EVC_EIO); /* a directory */
}

static void test_mkdir_p_and_remove_tree(void **state) {
  struct fixture *f = *state;
  char deep[PATH_SIZE], top[PATH_SIZE], file[PATH_SIZE];
  path_in(f, "a/b//c/", deep);
  path_in(f, "a", top);
  path_in(f, "a/b/c/file", file);
  assert_int_equal(evc_fs_mkdir_p(deep, 0700), 0);
  assert_int_equal(evc_fs_mkdir_p(deep, 0700), 0); /* already there */
  assert_int_equal(evc_fs_replace_atomic(file, (const uint8_t *)"z", 1, 0600), 0);
  assert_int_equal(evc_fs_mkdir_p(file, 0700), EVC_EIO); /* a file is in the way */
  assert_int_equal(evc_fs_remove_tree(top), 0);
  struct stat st;
  assert_int_not_equal(lstat(top, &st), 0);
  assert_int_equal(evc_fs_remove_tree(top), 0); /* absent is fine */
  assert_int_equal(evc_fs_remove_tree(""), EVC_EINVAL);
  assert_int_equal(evc_fs_remove_tree("/"), EVC_EINVAL);
  assert_int_equal(evc_fs_remove_tree("."), EVC_EINVAL);
  assert_int_equal(evc_fs_remove_tree("x/.."), EVC_EINVAL);
}

static void test_create_atomic_never_overwrites(void **state) {
  struct fixture *f = *state;
  char path[PATH_SIZE];
  path_in(f, "once", path);
  size_t before = entries_in(f->dir);
  assert_int_equal(evc_fs_create_atomic(path, (const uint8_t *)"one", 3, 0600), 0);
  assert_int_equal(evc_fs_create_atomic(path, (const uint8_t *)"two", 3, 0600), EVC_EEXIST);
  assert_file_is(path, "one");
  assert_int_equal(entries_in(f->dir), before + 1);
  assert_int_equal(unlink(path), 0);
}

static void keypair_from_byte(uint8_t fill, struct evc_keypair *kp) {
  uint8_t seed[EVC_SEED_SIZE];
  memset(seed, fill, sizeof seed);
  evc_keypair_from_seed(seed, kp);
}

static void test_keyfile_round_trips_with_mode_0600(void **state) {
  struct fixture *f = *state;
  char path[PATH_SIZE];
  path_in(f, "key.json", path);
  mode_t old_umask = umask(0277); /* the file mode must not depend on the umask */
  struct evc_keypair kp, back;
  assert_int_equal(evc_keypair_generate(&kp), 0);
  int rc = evc_keyfile_write(path, &kp);
  umask(old_umask);
  assert_int_equal(rc, 0);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  char err[256];
  assert_int_equal(evc_keyfile_read(path, &back, err, sizeof err), 0);
  assert_memory_equal(&back, &kp, sizeof kp);
  assert_int_equal(unlink(path), 0);
}

static void test_keyfile_overwrite_is_refused(void **state) {
  struct fixture *f = *state;
  char path[PATH_SIZE];
  path_in(f, "key-once.json", path);
  struct evc_keypair a, b, back;
  keypair_from_byte(1, &a);
  keypair_from_byte(2, &b);
  assert_int_equal(evc_keyfile_write(path, &a), 0);
  assert_int_equal(evc_keyfile_write(path, &b), EVC_EEXIST);
  assert_int_equal(evc_keyfile_read(path, &back, NULL, 0), 0);
  assert_memory_equal(&back, &a, sizeof a);
  assert_int_equal(unlink(path), 0);
}

/* Writes text as a 0600 key file (bypassing evc_keyfile_write) and reads it back. */
static int read_key_text(const struct fixture *f, const char *text, char *err, size_t err_size) {
  char path[PATH_SIZE];
  path_in(f, "crafted.json", path);
  assert_int_equal(evc_fs_replace_atomic(path, (const uint8_t *)text, strlen(text), 0600), 0);
  struct evc_keypair kp;
  int rc = evc_keyfile_read(path, &kp, err, err_size);
  assert_int_equal(unlink(path), 0);
  return rc;
}

static void test_keyfile_tampered_public_key_is_corrupt(void **state) {
  struct fixture *f = *state;
  char path[PATH_SIZE];
  path_in(f, "tamper.json", path);
  struct evc_keypair kp, out;
  keypair_from_byte(3, &kp);
  assert_int_equal(evc_keyfile_write(path, &kp), 0);
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_fs_read_file(path, 4096, &bytes, &size), 0);
  char *text = calloc(1, size + 1);
  assert_non_null(text);
  memcpy(text, bytes, size);
  free(bytes);
  char *pub = strstr(text, "\"public_key\":\"");
  assert_non_null(pub);
  pub += strlen("\"public_key\":\"");
  pub[0] = pub[0] == '0' ? '1' : '0';
  assert_int_equal(unlink(path), 0);
  assert_int_equal(evc_fs_create_atomic(path, (const uint8_t *)text, size, 0600), 0);
  char err[256] = "";
  assert_int_equal(evc_keyfile_read(path, &out, err, sizeof err), EVC_ECORRUPT);
  assert_non_null(strstr(err, "does not match"));
  struct evc_keypair zero;
  memset(&zero, 0, sizeof zero);
  assert_memory_equal(&out, &zero, sizeof out);
  free(text);
  assert_int_equal(unlink(path), 0);
}

static void test_keyfile_malformed_content_is_corrupt(void **state) {
  struct fixture *f = *state;
  const char *pub = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  const char *seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
  char text[512], err[256];
  snprintf(text, sizeof text, "{\"type\":\"ed25519\",\"public_key\":\"%s\",\"seed\":\"%s\"}\n",
           pub, seed);
  assert_int_equal(read_key_text(f, text, err, sizeof err), 0); /* RFC 8032 TEST 1 */
  snprintf(text, sizeof text, "{\"type\":\"rsa\",\"public_key\":\"%s\",\"seed\":\"%s\"}", pub,
           seed);
  assert_int_equal(read_key_text(f, text, err, sizeof err), EVC_ECORRUPT);
  snprintf(text, sizeof text, "{\"type\":\"ed25519\",\"public_key\":\"%s\",\"seed\":\"%.62s\"}",
           pub, seed);
  assert_int_equal(read_key_text(f, text, err, sizeof err), EVC_ECORRUPT);
  assert_non_null(strstr(err, "seed"));
  snprintf(text, sizeof text, "{\"type\":\"ed25519\",\"public_key\":\"%s\"}", pub);
  assert_int_equal(read_key_text(f, text, err, sizeof err), EVC_ECORRUPT);
  snprintf(text, sizeof text,
           "{\"type\":\"ed25519\",\"public_key\":\"%s\",\"seed\":\"%s\",\"extra\":1}", pub, seed);
  assert_int_equal(read_key_text(f, text, err, sizeof err), EVC_ECORRUPT);
  assert_non_null(strstr(err, "extra"));
  snprintf(text, sizeof text, "{\"type\":\"ed25519\",\"public_key\":\"%s\",\"seed\":\"%s\"} x",
           pub, seed);
  assert_int_equal(read_key_text(f, text, err, sizeof err), EVC_ECORRUPT);
  assert_int_equal(read_key_text(f, "[]", err, sizeof err), EVC_ECORRUPT);
  assert_int_equal(read_key_text(f, "", err, sizeof err), EVC_ECORRUPT);
}

static void test_keyfile_readable_by_others_is_refused(void **state) {
  struct fixture *f = *state;
  char path[PATH_SIZE];
  path_in(f, "open-key.json", path);
  struct evc_keypair kp, out;
  keypair_from_byte(4, &kp);
  assert_int_equal(evc_keyfile_write(path, &kp), 0);
  assert_int_equal(chmod(path, 0644), 0);
  char err[512] = "";
  assert_int_equal(evc_keyfile_read(path, &out, err, sizeof err), EVC_EPERM);
  assert_non_null(strstr(err, "chmod 600"));
  assert_int_equal(chmod(path, 0620), 0);
  assert_int_equal(evc_keyfile_read(path, &out, err, sizeof err), EVC_EPERM);
  assert_int_equal(chmod(path, 0600), 0);
  assert_int_equal(evc_keyfile_read(path, &out, err, sizeof err), 0);
  assert_memory_equal(&out, &kp, sizeof kp);
  char missing[PATH_SIZE];
  path_in(f, "no-key.json", missing);
  assert_int_equal(evc_keyfile_read(missing, &out, err, sizeof err), EVC_ENOTFOUND);
  assert_int_equal(unlink(path), 0);
}

/* Encodes a sign state for a real signed block at height 3 of the test chain. */
static void block_sign_state(const struct evc_keypair *kp, struct evc_genesis *genesis_out,
                             uint8_t **bytes_out, size_t *size_out) {
  memset(genesis_out, 0, sizeof *genesis_out);
  assert_int_equal(evc_chain_id_set(&genesis_out->chain_id, CHAIN_ID, strlen(CHAIN_ID)), 0);
  genesis_out->initial_height = 1;
  genesis_out->da_start_height = 1;
  memcpy(genesis_out->proposer_pubkey, kp->pubkey, EVC_PUBKEY_SIZE);

  uint8_t tx[] = {'k', '=', 'v'};
  struct evc_tx txs[1] = {{tx, sizeof tx}};
  struct evc_data data = {.chain_id = genesis_out->chain_id, .height = 3, .tx_count = 1,
                          .txs = txs};
  uint8_t data_bytes[128], header_bytes[EVC_SIGNED_HEADER_SIZE_MAX];
  size_t data_size = 0, header_size = 0;
  assert_int_equal(evc_data_encode(&data, data_bytes, sizeof data_bytes, &data_size), 0);
  struct evc_signed_header sh;
  memset(&sh, 0, sizeof sh);
  sh.header.version = EVC_HEADER_VERSION;
  sh.header.chain_id = genesis_out->chain_id;
  sh.header.height = 3;
  sh.header.time_ns = 1700000000000000003ull;
  assert_int_equal(evc_data_hash(&data, sh.header.data_hash), 0);
  evc_address_from_pubkey(kp->pubkey, sh.header.proposer);
  assert_int_equal(evc_signed_header_sign(&sh, kp->seckey), 0);
  assert_int_equal(
      evc_signed_header_encode(&sh, header_bytes, sizeof header_bytes, &header_size), 0);
  struct evc_sign_state s;
  assert_int_equal(
      evc_sign_state_init_block(header_bytes, header_size, data_bytes, data_size, &s), 0);
  assert_int_equal(evc_sign_state_encode(&s, bytes_out, size_out), 0);
  evc_sign_state_release(&s);
}

static void test_sign_state_survives_disk_and_torn_file_is_caught(void **state) {
  struct fixture *f = *state;
  char keys[PATH_SIZE], path[PATH_SIZE];
  path_in(f, "home/keys", keys);
  path_in(f, "home/" EVC_SIGN_STATE_FILE, path);
  assert_int_equal(evc_fs_mkdir_p(keys, 0700), 0);
  struct evc_keypair kp;
  keypair_from_byte(5, &kp);
  struct evc_genesis genesis;
  uint8_t *bytes = NULL, *read_back = NULL;
  size_t size = 0, read_size = 0;
  block_sign_state(&kp, &genesis, &bytes, &size);
  assert_int_equal(evc_fs_replace_atomic(path, bytes, size, 0600), 0);
  assert_int_equal(evc_fs_read_file(path, EVC_SIGN_STATE_SIZE_MAX, &read_back, &read_size), 0);
  struct evc_sign_state s;
  assert_int_equal(evc_sign_state_decode(read_back, read_size, &genesis, &s), 0);
  assert_int_equal(s.height, 3);
  assert_true(s.has_block);
  evc_sign_state_release(&s);
  free(read_back);

  /* A torn write: only a prefix reached the disk. */
  assert_int_equal(truncate(path, (off_t)(size - 10)), 0);
  assert_int_equal(evc_fs_read_file(path, EVC_SIGN_STATE_SIZE_MAX, &read_back, &read_size), 0);
  assert_int_equal(read_size, size - 10);
  assert_int_equal(evc_sign_state_decode(read_back, read_size, &genesis, &s), EVC_ECORRUPT);
  free(read_back);
  free(bytes);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_replace_atomic_writes_then_replaces),
      cmocka_unit_test(test_failed_replace_leaves_nothing_behind),
      cmocka_unit_test(test_read_missing_file_is_not_found),
      cmocka_unit_test(test_read_enforces_size_max),
      cmocka_unit_test(test_mkdir_p_and_remove_tree),
      cmocka_unit_test(test_create_atomic_never_overwrites),
      cmocka_unit_test(test_keyfile_round_trips_with_mode_0600),
      cmocka_unit_test(test_keyfile_overwrite_is_refused),
      cmocka_unit_test(test_keyfile_tampered_public_key_is_corrupt),
      cmocka_unit_test(test_keyfile_malformed_content_is_corrupt),
      cmocka_unit_test(test_keyfile_readable_by_others_is_refused),
      cmocka_unit_test(test_sign_state_survives_disk_and_torn_file_is_caught),
  };
  return cmocka_run_group_tests_name("fsutil", tests, setup, teardown);
}
