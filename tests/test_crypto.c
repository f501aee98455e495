/* Tests for node/crypto/keys.c: RFC 8032 ed25519 known answers, SHA-256 known answers,
 * seed round trip, and that verification rejects any change to key, message or signature. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/crypto/crypto.h"
#include "node/types/verify.h"

struct ed25519_vector {
  const char *seed_hex;
  const char *pubkey_hex;
  const char *msg_hex;
  const char *sig_hex;
};

/* RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte 0x72). */
static const struct ed25519_vector rfc8032_vectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e"
     "39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f"
     "3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

static void from_hex(const char *hex, uint8_t *out, size_t size) {
  assert_int_equal(strlen(hex), 2 * size);
  assert_int_equal(evc_hex_decode(hex, strlen(hex), out, size), 0);
}

static int setup(void **state) {
  (void)state;
  return evc_crypto_init();
}

static void check_vector(const struct ed25519_vector *v) {
  uint8_t seed[EVC_SEED_SIZE], pubkey[EVC_PUBKEY_SIZE], sig[EVC_SIG_SIZE];
  uint8_t msg[8];
  size_t msg_size = strlen(v->msg_hex) / 2;
  from_hex(v->seed_hex, seed, sizeof seed);
  from_hex(v->pubkey_hex, pubkey, sizeof pubkey);
  from_hex(v->sig_hex, sig, sizeof sig);
  from_hex(v->msg_hex, msg, msg_size);

  struct evc_keypair kp;
  evc_keypair_from_seed(seed, &kp);
  assert_memory_equal(kp.pubkey, pubkey, sizeof pubkey);

  uint8_t got[EVC_SIG_SIZE];
  evc_sign(&kp, msg, msg_size, got);
  assert_memory_equal(got, sig, sizeof sig);
  assert_int_equal(evc_verify(pubkey, msg, msg_size, sig), 0);
}

static void test_rfc8032_vector_1_empty_message(void **state) {
  (void)state;
  check_vector(&rfc8032_vectors[0]);
}

static void test_rfc8032_vector_2_one_byte_message(void **state) {
  (void)state;
  check_vector(&rfc8032_vectors[1]);
}

static void check_sha256(const char *text, const char *want_hex) {
  uint8_t want[EVC_HASH_SIZE], got[EVC_HASH_SIZE];
  from_hex(want_hex, want, sizeof want);
  evc_sha256(text, strlen(text), got);
  assert_memory_equal(got, want, sizeof want);
}

static void test_sha256_known_answers(void **state) {
  (void)state;
  check_sha256("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  check_sha256("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  uint8_t got[EVC_HASH_SIZE], want[EVC_HASH_SIZE];
  from_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want,
           sizeof want);
  evc_sha256(NULL, 0, got);
  assert_memory_equal(got, want, sizeof want);
}

static void test_seed_round_trips_through_keypair(void **state) {
  (void)state;
  uint8_t seed[EVC_SEED_SIZE], back[EVC_SEED_SIZE];
  from_hex(rfc8032_vectors[1].seed_hex, seed, sizeof seed);
  struct evc_keypair kp, again;
  evc_keypair_from_seed(seed, &kp);
  evc_keypair_seed(&kp, back);
  assert_memory_equal(seed, back, sizeof seed);
  evc_keypair_from_seed(back, &again);
  assert_memory_equal(&kp, &again, sizeof kp);
}

static void test_generate_gives_distinct_usable_keys(void **state) {
  (void)state;
  struct evc_keypair a, b, derived;
  assert_int_equal(evc_keypair_generate(&a), 0);
  assert_int_equal(evc_keypair_generate(&b), 0);
  assert_memory_not_equal(a.pubkey, b.pubkey, sizeof a.pubkey);
  uint8_t seed[EVC_SEED_SIZE];
  evc_keypair_seed(&a, seed);
  evc_keypair_from_seed(seed, &derived);
  assert_memory_equal(&a, &derived, sizeof a);
  const uint8_t msg[] = "block";
  uint8_t sig[EVC_SIG_SIZE];
  evc_sign(&a, msg, sizeof msg, sig);
  assert_int_equal(evc_verify(a.pubkey, msg, sizeof msg, sig), 0);
  assert_int_equal(evc_verify(b.pubkey, msg, sizeof msg, sig), EVC_ESIG);
}

static void test_verify_rejects_any_flipped_bit(void **state) {
  (void)state;
  uint8_t seed[EVC_SEED_SIZE];
  from_hex(rfc8032_vectors[0].seed_hex, seed, sizeof seed);
  struct evc_keypair kp;
  evc_keypair_from_seed(seed, &kp);
  uint8_t msg[16] = "sign this block";
  uint8_t sig[EVC_SIG_SIZE];
  evc_sign(&kp, msg, sizeof msg, sig);
  assert_int_equal(evc_verify(kp.pubkey, msg, sizeof msg, sig), 0);
  for (size_t i = 0; i < sizeof msg * 8; i++) {
    msg[i / 8] ^= (uint8_t)(1u << (i % 8));
    assert_int_equal(evc_verify(kp.pubkey, msg, sizeof msg, sig), EVC_ESIG);
    msg[i / 8] ^= (uint8_t)(1u << (i % 8));
  }
  for (size_t i = 0; i < sizeof sig * 8; i++) {
    sig[i / 8] ^= (uint8_t)(1u << (i % 8));
    assert_int_equal(evc_verify(kp.pubkey, msg, sizeof msg, sig), EVC_ESIG);
    sig[i / 8] ^= (uint8_t)(1u << (i % 8));
  }
  for (size_t i = 0; i < sizeof kp.pubkey; i++) {
    uint8_t pub[EVC_PUBKEY_SIZE];
    memcpy(pub, kp.pubkey, sizeof pub);
    pub[i] ^= 0x01;
    assert_int_equal(evc_verify(pub, msg, sizeof msg, sig), EVC_ESIG);
  }
  assert_int_equal(evc_verify(kp.pubkey, msg, sizeof msg - 1, sig), EVC_ESIG);
}

static void test_wipe_zeroes_the_keypair(void **state) {
  (void)state;
  struct evc_keypair kp, zero;
  memset(&zero, 0, sizeof zero);
  assert_int_equal(evc_keypair_generate(&kp), 0);
  evc_keypair_wipe(&kp);
  assert_memory_equal(&kp, &zero, sizeof kp);
}

/* The simulator's memo answers a repeated question from memory and never changes an
 * answer: a tampered signature or another message is a new question, refused as before. */
static void test_verify_memo_changes_no_result(void **state) {
  (void)state;
  uint8_t seed[32];
  memset(seed, 7, sizeof seed);
  struct evc_keypair kp;
  evc_keypair_from_seed(seed, &kp);
  const uint8_t msg[] = "a header's canonical bytes";
  uint8_t sig[EVC_SIG_SIZE];
  evc_sign(&kp, msg, sizeof msg, sig);
  struct evc_verify_memo *m = NULL;
  assert_int_equal(evc_verify_memo_new(&m), 0);
  evc_verify_memo_install(m);
  uint64_t hits = 0, misses = 0;
  for (int round = 0; round < 2; round++) {
    assert_int_equal(evc_verify(kp.pubkey, msg, sizeof msg, sig), 0);
    uint8_t bad[EVC_SIG_SIZE];
    memcpy(bad, sig, sizeof bad);
    bad[5] ^= 1;
    assert_int_equal(evc_verify(kp.pubkey, msg, sizeof msg, bad), EVC_ESIG);
    assert_int_equal(evc_verify(kp.pubkey, msg, sizeof msg - 1, sig), EVC_ESIG);
    assert_int_equal(evc_verify(kp.pubkey, NULL, 0, sig), EVC_ESIG);
  }
  evc_verify_memo_stats(m, &hits, &misses);
  assert_int_equal(misses, 4);
  assert_int_equal(hits, 4);
  evc_verify_memo_install(NULL);
  evc_verify_memo_free(m);
  evc_keypair_wipe(&kp);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc8032_vector_1_empty_message),
      cmocka_unit_test(test_rfc8032_vector_2_one_byte_message),
      cmocka_unit_test(test_sha256_known_answers),
      cmocka_unit_test(test_seed_round_trips_through_keypair),
      cmocka_unit_test(test_generate_gives_distinct_usable_keys),
      cmocka_unit_test(test_verify_rejects_any_flipped_bit),
      cmocka_unit_test(test_wipe_zeroes_the_keypair),
      cmocka_unit_test(test_verify_memo_changes_no_result),
  };
  return cmocka_run_group_tests_name("crypto", tests, setup, NULL);
}
