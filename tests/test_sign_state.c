/* Tests for node/crypto/sign_state.c: round trips, and that no torn, flipped, foreign or
 * inconsistent sign state file ever decodes as valid (the sequencer trusts it to not fork). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/common/error.h"
#include "node/crypto/crypto.h"
#include "node/crypto/sign_state.h"

#define CHAIN_ID "evc-test-1"
#define BLOCK_HEIGHT 7u

struct fixture {
  struct evc_keypair kp;
  struct evc_genesis genesis;
  uint8_t header_bytes[EVC_SIGNED_HEADER_SIZE_MAX];
  size_t header_size;
  uint8_t data_bytes[256];
  size_t data_size;
};

static void seed_keypair(uint8_t fill, struct evc_keypair *kp) {
  uint8_t seed[EVC_SEED_SIZE];
  memset(seed, fill, sizeof seed);
  evc_keypair_from_seed(seed, kp);
}

/* Encodes data for height with two txs; the first tx byte is tx_byte. */
static void make_data(const char *chain_id, uint64_t height, uint8_t tx_byte, uint8_t *out,
                      size_t capacity, size_t *size_out, uint8_t hash_out[EVC_HASH_SIZE]) {
  uint8_t tx0[] = {tx_byte, '=', '1'};
  uint8_t tx1[] = {'b', '=', '2'};
  struct evc_tx txs[2] = {{tx0, sizeof tx0}, {tx1, sizeof tx1}};
  struct evc_data data;
  memset(&data, 0, sizeof data);
  assert_int_equal(evc_chain_id_set(&data.chain_id, chain_id, strlen(chain_id)), 0);
  data.height = height;
  data.tx_count = 2;
  data.txs = txs;
  assert_int_equal(evc_data_encode(&data, out, capacity, size_out), 0);
  assert_int_equal(evc_data_hash(&data, hash_out), 0);
}

/* Builds a signed header over data_hash at height, signed by kp, and encodes it. */
static void make_header(const struct evc_keypair *kp, const char *chain_id, uint64_t height,
                        const uint8_t data_hash[EVC_HASH_SIZE], uint8_t *out, size_t capacity,
                        size_t *size_out) {
  struct evc_signed_header sh;
  memset(&sh, 0, sizeof sh);
  sh.header.version = EVC_HEADER_VERSION;
  assert_int_equal(evc_chain_id_set(&sh.header.chain_id, chain_id, strlen(chain_id)), 0);
  sh.header.height = height;
  sh.header.time_ns = 1700000000000000000ull + height;
  memset(sh.header.last_header_hash, 0x11, EVC_HASH_SIZE);
  memcpy(sh.header.data_hash, data_hash, EVC_HASH_SIZE);
  memset(sh.header.app_hash, 0x22, EVC_HASH_SIZE);
  evc_address_from_pubkey(kp->pubkey, sh.header.proposer);
  assert_int_equal(evc_signed_header_sign(&sh, kp->seckey), 0);
  assert_int_equal(evc_signed_header_encode(&sh, out, capacity, size_out), 0);
}

static int setup(void **state) {
  if (evc_crypto_init() != 0) return -1;
  struct fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  seed_keypair(0x42, &f->kp);
  struct evc_genesis *g = &f->genesis;
  if (evc_chain_id_set(&g->chain_id, CHAIN_ID, strlen(CHAIN_ID)) != 0) return -1;
  g->initial_height = 1;
  g->genesis_time_ns = 1700000000000000000ull;
  memcpy(g->proposer_pubkey, f->kp.pubkey, EVC_PUBKEY_SIZE);
  g->da_start_height = 1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  free(*state);
  return 0;
}

static struct fixture *block_fixture(void **state) {
  struct fixture *f = *state;
  uint8_t data_hash[EVC_HASH_SIZE];
  make_data(CHAIN_ID, BLOCK_HEIGHT, 'a', f->data_bytes, sizeof f->data_bytes, &f->data_size,
            data_hash);
  make_header(&f->kp, CHAIN_ID, BLOCK_HEIGHT, data_hash, f->header_bytes,
              sizeof f->header_bytes, &f->header_size);
  return f;
}

/* Encodes a sign state holding the fixture's block. */
static void encode_block_state(struct fixture *f, uint8_t **bytes, size_t *size) {
  struct evc_sign_state s;
  assert_int_equal(evc_sign_state_init_block(f->header_bytes, f->header_size, f->data_bytes,
                                             f->data_size, &s),
                   0);
  assert_int_equal(evc_sign_state_encode(&s, bytes, size), 0);
  evc_sign_state_release(&s);
}

/* Recomputes the trailing checksum so a test reaches the checks behind it. */
static void rechecksum(uint8_t *bytes, size_t size) {
  assert_true(size >= EVC_SIGN_STATE_FIXED_SIZE);
  evc_sha256(bytes, size - EVC_HASH_SIZE, bytes + size - EVC_HASH_SIZE);
}

static void test_empty_state_round_trips(void **state) {
  struct fixture *f = *state;
  struct evc_sign_state s, back;
  assert_int_equal(evc_sign_state_init_empty(0, &s), 0);
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_sign_state_encode(&s, &bytes, &size), 0);
  assert_int_equal(size, EVC_SIGN_STATE_FIXED_SIZE);
  assert_memory_equal(bytes, "EVCSIGN\0", 8);
  assert_int_equal(evc_sign_state_decode(bytes, size, &f->genesis, &back), 0);
  assert_int_equal(back.height, 0);
  assert_false(back.has_block);
  assert_null(back.header_bytes);
  assert_null(back.data_bytes);
  evc_sign_state_release(&back);
  free(bytes);
}

static void test_block_state_round_trips(void **state) {
  struct fixture *f = block_fixture(state);
  struct evc_sign_state s, back;
  assert_int_equal(evc_sign_state_init_block(f->header_bytes, f->header_size, f->data_bytes,
                                             f->data_size, &s),
                   0);
  assert_int_equal(s.height, BLOCK_HEIGHT);
  assert_true(s.has_block);
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_sign_state_encode(&s, &bytes, &size), 0);
  assert_int_equal(size, EVC_SIGN_STATE_FIXED_SIZE + f->header_size + f->data_size);
  assert_int_equal(evc_sign_state_decode(bytes, size, &f->genesis, &back), 0);
  assert_int_equal(back.height, BLOCK_HEIGHT);
  assert_true(back.has_block);
  assert_int_equal(back.header_size, f->header_size);
  assert_memory_equal(back.header_bytes, f->header_bytes, f->header_size);
  assert_int_equal(back.data_size, f->data_size);
  assert_memory_equal(back.data_bytes, f->data_bytes, f->data_size);
  assert_int_equal(back.signed_header.header.height, BLOCK_HEIGHT);
  uint8_t hash[EVC_HASH_SIZE];
  assert_int_equal(evc_header_hash(&back.signed_header.header, hash), 0);
  assert_memory_equal(back.block_hash, hash, EVC_HASH_SIZE);
  assert_memory_equal(back.block_hash, s.block_hash, EVC_HASH_SIZE);
  uint8_t *again = NULL;
  size_t again_size = 0;
  assert_int_equal(evc_sign_state_encode(&back, &again, &again_size), 0);
  assert_int_equal(again_size, size);
  assert_memory_equal(again, bytes, size);
  free(again);
  evc_sign_state_release(&back);
  evc_sign_state_release(&s);
  free(bytes);
}

static void check_every_truncation(const uint8_t *bytes, size_t size,
                                   const struct evc_genesis *genesis) {
  for (size_t cut = 0; cut < size; cut++) {
    struct evc_sign_state s;
    uint8_t *copy = malloc(cut + 1); /* exact-size copy so ASan sees any over-read */
    assert_non_null(copy);
    memcpy(copy, bytes, cut);
    assert_int_equal(evc_sign_state_decode(copy, cut, genesis, &s), EVC_ECORRUPT);
    free(copy);
  }
}

static void test_every_truncation_is_corrupt(void **state) {
  struct fixture *f = block_fixture(state);
  uint8_t *bytes = NULL;
  size_t size = 0;
  encode_block_state(f, &bytes, &size);
  check_every_truncation(bytes, size, &f->genesis);
  free(bytes);
  struct evc_sign_state empty;
  assert_int_equal(evc_sign_state_init_empty(3, &empty), 0);
  assert_int_equal(evc_sign_state_encode(&empty, &bytes, &size), 0);
  check_every_truncation(bytes, size, &f->genesis);
  free(bytes);
}

static void test_trailing_bytes_are_corrupt(void **state) {
  struct fixture *f = block_fixture(state);
  uint8_t *bytes = NULL;
  size_t size = 0;
  encode_block_state(f, &bytes, &size);
  uint8_t *longer = malloc(size + 1);
  assert_non_null(longer);
  memcpy(longer, bytes, size);
  longer[size] = 0;
  struct evc_sign_state s;
  assert_int_equal(evc_sign_state_decode(longer, size + 1, &f->genesis, &s), EVC_ECORRUPT);
  /* Even with a checksum that covers the extra byte, the layout is still wrong. */
  longer[size] = bytes[size - EVC_HASH_SIZE];
  memmove(longer + size - EVC_HASH_SIZE + 1, longer + size - EVC_HASH_SIZE, EVC_HASH_SIZE);
  rechecksum(longer, size + 1);
  assert_int_equal(evc_sign_state_decode(longer, size + 1, &f->genesis, &s), EVC_ECORRUPT);
  free(longer);
  free(bytes);
}

static void test_every_byte_flip_is_detected(void **state) {
  struct fixture *f = block_fixture(state);
  uint8_t *bytes = NULL;
  size_t size = 0;
  encode_block_state(f, &bytes, &size);
  for (size_t i = 0; i < size; i++) {
    for (unsigned bit = 0; bit < 8; bit++) {
      struct evc_sign_state s;
      bytes[i] ^= (uint8_t)(1u << bit);
      int rc = evc_sign_state_decode(bytes, size, &f->genesis, &s);
      assert_int_equal(rc, EVC_ECORRUPT);
      bytes[i] ^= (uint8_t)(1u << bit);
    }
  }
  struct evc_sign_state s;
  assert_int_equal(evc_sign_state_decode(bytes, size, &f->genesis, &s), 0);
  evc_sign_state_release(&s);
  free(bytes);
}

/* A flip behind a recomputed checksum (a buggy writer, not a torn disk) is still refused. */
static void test_every_rechecksummed_byte_flip_is_refused(void **state) {
  struct fixture *f = block_fixture(state);
  uint8_t *bytes = NULL;
  size_t size = 0;
  encode_block_state(f, &bytes, &size);
  for (size_t i = 0; i < size - EVC_HASH_SIZE; i++) {
    struct evc_sign_state s;
    bytes[i] ^= 0x01;
    rechecksum(bytes, size);
    int rc = evc_sign_state_decode(bytes, size, &f->genesis, &s);
    if (i >= 8 && i < 12) {
      assert_int_equal(rc, EVC_EVERSION);
    } else if (rc != EVC_ECORRUPT && rc != EVC_EVALIDATE) {
      fail_msg("flip at offset %zu gave %s", i, evc_errname(rc));
    }
    bytes[i] ^= 0x01;
  }
  free(bytes);
}

static void test_unknown_version_is_eversion(void **state) {
  struct fixture *f = *state;
  struct evc_sign_state s;
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_sign_state_init_empty(0, &s), 0);
  assert_int_equal(evc_sign_state_encode(&s, &bytes, &size), 0);
  bytes[11] = 2; /* version 2, big-endian at offset 8 */
  rechecksum(bytes, size);
  assert_int_equal(evc_sign_state_decode(bytes, size, &f->genesis, &s), EVC_EVERSION);
  free(bytes);
}

static void test_block_signed_by_other_key_is_invalid(void **state) {
  struct fixture *f = block_fixture(state);
  uint8_t *bytes = NULL;
  size_t size = 0;
  encode_block_state(f, &bytes, &size);
  struct evc_genesis other = f->genesis;
  struct evc_keypair other_kp;
  seed_keypair(0x43, &other_kp);
  memcpy(other.proposer_pubkey, other_kp.pubkey, EVC_PUBKEY_SIZE);
  struct evc_sign_state s;
  assert_int_equal(evc_sign_state_decode(bytes, size, &other, &s), EVC_EVALIDATE);
  free(bytes);

  /* Signed by another key but naming the genesis proposer address: the signature decides. */
  uint8_t data_hash[EVC_HASH_SIZE];
  make_data(CHAIN_ID, BLOCK_HEIGHT, 'a', f->data_bytes, sizeof f->data_bytes, &f->data_size,
            data_hash);
  struct evc_signed_header sh;
  assert_int_equal(evc_signed_header_decode(f->header_bytes, f->header_size, &sh), 0);
  assert_int_equal(evc_signed_header_sign(&sh, other_kp.seckey), 0);
  assert_int_equal(evc_signed_header_encode(&sh, f->header_bytes, sizeof f->header_bytes,
                                            &f->header_size),
                   0);
  encode_block_state(f, &bytes, &size);
  assert_int_equal(evc_sign_state_decode(bytes, size, &f->genesis, &s), EVC_EVALIDATE);
  free(bytes);
}

static void test_other_chain_is_invalid(void **state) {
  struct fixture *f = block_fixture(state);
  uint8_t *bytes = NULL;
  size_t size = 0;
  encode_block_state(f, &bytes, &size);
  struct evc_genesis other = f->genesis;
  assert_int_equal(evc_chain_id_set(&other.chain_id, "evc-test-2", 10), 0);
  struct evc_sign_state s;
  assert_int_equal(evc_sign_state_decode(bytes, size, &other, &s), EVC_EVALIDATE);
  free(bytes);
}

/* Replaces the data part of an encoded block state with other data of the same size. */
static void swap_data(uint8_t *bytes, size_t size, const struct fixture *f,
                      const uint8_t *data, size_t data_size) {
  assert_int_equal(data_size, f->data_size);
  size_t offset = 25 + f->header_size + 4;
  assert_memory_equal(bytes + offset, f->data_bytes, f->data_size);
  memcpy(bytes + offset, data, data_size);
  rechecksum(bytes, size);
}

static void test_data_with_wrong_hash_is_invalid(void **state) {
  struct fixture *f = block_fixture(state);
  uint8_t *bytes = NULL;
  size_t size = 0;
  encode_block_state(f, &bytes, &size);
  uint8_t other[256], hash[EVC_HASH_SIZE];
  size_t other_size = 0;
  make_data(CHAIN_ID, BLOCK_HEIGHT, 'z', other, sizeof other, &other_size, hash);
  swap_data(bytes, size, f, other, other_size);
  struct evc_sign_state s;
  assert_int_equal(evc_sign_state_decode(bytes, size, &f->genesis, &s), EVC_EVALIDATE);
  free(bytes);
}

static void test_height_mismatch_is_invalid(void **state) {
  struct fixture *f = block_fixture(state);
  uint8_t *bytes = NULL;
  size_t size = 0;
  encode_block_state(f, &bytes, &size);
  struct evc_sign_state s;
  bytes[19] ^= 0x01; /* S = 6 while the header says 7 */
  rechecksum(bytes, size);
  assert_int_equal(evc_sign_state_decode(bytes, size, &f->genesis, &s), EVC_EVALIDATE);
  free(bytes);

  /* Data for another height, correctly hashed and signed into the header: still refused. */
  uint8_t data_hash[EVC_HASH_SIZE];
  make_data(CHAIN_ID, BLOCK_HEIGHT + 1, 'a', f->data_bytes, sizeof f->data_bytes,
            &f->data_size, data_hash);
  make_header(&f->kp, CHAIN_ID, BLOCK_HEIGHT, data_hash, f->header_bytes,
              sizeof f->header_bytes, &f->header_size);
  assert_int_equal(evc_sign_state_init_block(f->header_bytes, f->header_size, f->data_bytes,
                                             f->data_size, &s),
                   EVC_EVALIDATE);
}

static void test_empty_state_below_initial_height_is_invalid(void **state) {
  struct fixture *f = *state;
  struct evc_genesis g = f->genesis;
  g.initial_height = 10;
  struct evc_sign_state s;
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_sign_state_init_empty(9, &s), 0);
  assert_int_equal(evc_sign_state_encode(&s, &bytes, &size), 0);
  assert_int_equal(evc_sign_state_decode(bytes, size, &g, &s), 0);
  assert_int_equal(s.height, 9);
  free(bytes);
  assert_int_equal(evc_sign_state_init_empty(8, &s), 0);
  assert_int_equal(evc_sign_state_encode(&s, &bytes, &size), 0);
  assert_int_equal(evc_sign_state_decode(bytes, size, &g, &s), EVC_EVALIDATE);
  free(bytes);
}

static void test_has_block_must_be_canonical(void **state) {
  struct fixture *f = *state;
  struct evc_sign_state s;
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_sign_state_init_empty(0, &s), 0);
  assert_int_equal(evc_sign_state_encode(&s, &bytes, &size), 0);
  bytes[20] = 2;
  rechecksum(bytes, size);
  assert_int_equal(evc_sign_state_decode(bytes, size, &f->genesis, &s), EVC_ECORRUPT);
  bytes[20] = 1; /* claims a block but carries none */
  rechecksum(bytes, size);
  assert_int_equal(evc_sign_state_decode(bytes, size, &f->genesis, &s), EVC_ECORRUPT);
  free(bytes);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_state_round_trips),
      cmocka_unit_test(test_block_state_round_trips),
      cmocka_unit_test(test_every_truncation_is_corrupt),
      cmocka_unit_test(test_trailing_bytes_are_corrupt),
      cmocka_unit_test(test_every_byte_flip_is_detected),
      cmocka_unit_test(test_every_rechecksummed_byte_flip_is_refused),
      cmocka_unit_test(test_unknown_version_is_eversion),
      cmocka_unit_test(test_block_signed_by_other_key_is_invalid),
      cmocka_unit_test(test_other_chain_is_invalid),
      cmocka_unit_test(test_data_with_wrong_hash_is_invalid),
      cmocka_unit_test(test_height_mismatch_is_invalid),
      cmocka_unit_test(test_empty_state_below_initial_height_is_invalid),
      cmocka_unit_test(test_has_block_must_be_canonical),
  };
  return cmocka_run_group_tests_name("sign_state", tests, setup, teardown);
}
