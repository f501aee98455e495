/* Tests for node/types: the canonical codec (round trips, every truncation, every limit),
 * hashes and signatures with known answers computed outside evc, and genesis.json.
 * Inputs handed to decoders live in exact-size heap copies so that ASan catches over-reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/types/sha256.h"
#include "node/types/types.h"

/* Under ASan, an allocator hook records the largest allocation, so a test can prove that a
 * decoder did not size an allocation from a hostile count. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ALLOC_HOOK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ALLOC_HOOK 1
#endif
#endif

#ifdef TEST_ALLOC_HOOK
#include <sanitizer/allocator_interface.h>

static size_t largest_alloc_size;

static void record_alloc(const volatile void *ptr, size_t size) {
  (void)ptr;
  if (size > largest_alloc_size) largest_alloc_size = size;
}

static void record_free(const volatile void *ptr) { (void)ptr; }
#endif

/* ---- helpers ---- */

/* The fixed header behind the known answers (bytes and hash computed with printf/sha256sum). */
static const char kat_header_hex[] =
    "0100000001086576632d74657374000000000000000718867251edfa0000"
    "1111111111111111111111111111111111111111111111111111111111111111"
    "2222222222222222222222222222222222222222222222222222222222222222"
    "3333333333333333333333333333333333333333333333333333333333333333"
    "4444444444444444444444444444444444444444";
static const char kat_header_hash_hex[] =
    "3fc6ca5f348a18f6ef76979227f75786d01177a76a57b4e184368daff047bce5";
/* Data "evc-test" height 7 with txs "a=1" and "bb=22". */
static const char kat_data_hex[] =
    "03086576632d7465737400000000000000070000000200000003613d310000000562623d3232";
static const char kat_data_hash_hex[] =
    "c5ac91dbb25d7f6be4ecf92f50e177044594900e2c79e4e192e53a80183ab5ee";

static void make_header(struct evc_header *h) {
  memset(h, 0, sizeof *h);
  h->version = EVC_HEADER_VERSION;
  assert_int_equal(evc_chain_id_set(&h->chain_id, "evc-test", 8), 0);
  h->height = 7;
  h->time_ns = 1767225600000000000ull;
  memset(h->last_header_hash, 0x11, EVC_HASH_SIZE);
  memset(h->data_hash, 0x22, EVC_HASH_SIZE);
  memset(h->app_hash, 0x33, EVC_HASH_SIZE);
  memset(h->proposer, 0x44, EVC_ADDRESS_SIZE);
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t size) {
  assert_int_equal(evc_hex_decode(hex, strlen(hex), out, size), 0);
}

static void assert_hex(const uint8_t *bytes, size_t size, const char *expected) {
  char text[2 * 64 + 1];
  assert_true(size <= 64);
  evc_hex_encode(bytes, size, text);
  assert_string_equal(text, expected);
}

/* An exact-size heap copy: reading one byte past it is an ASan error. */
static uint8_t *dup_bytes(const uint8_t *bytes, size_t size) {
  uint8_t *copy = malloc(size > 0 ? size : 1);
  assert_non_null(copy);
  if (size > 0) memcpy(copy, bytes, size);
  return copy;
}

static bool all_zero(const void *p, size_t size) {
  const uint8_t *b = p;
  for (size_t i = 0; i < size; i++) {
    if (b[i] != 0) return false;
  }
  return true;
}

static int decode_header_copy(const uint8_t *bytes, size_t size, struct evc_header *out) {
  uint8_t *copy = dup_bytes(bytes, size);
  int rc = evc_header_decode(copy, size, out);
  free(copy);
  return rc;
}

static int decode_signed_copy(const uint8_t *bytes, size_t size, struct evc_signed_header *out) {
  uint8_t *copy = dup_bytes(bytes, size);
  int rc = evc_signed_header_decode(copy, size, out);
  free(copy);
  return rc;
}

/* Decodes a copy; on success the txs point into the copy, so only the result code is kept. */
static int decode_data_copy(const uint8_t *bytes, size_t size) {
  uint8_t *copy = dup_bytes(bytes, size);
  struct evc_data d;
  memset(&d, 0xa5, sizeof d);
  int rc = evc_data_decode(copy, size, &d);
  if (rc != 0) assert_true(all_zero(&d, sizeof d));
  evc_data_release(&d);
  free(copy);
  return rc;
}

static size_t encode_header(const struct evc_header *h, uint8_t *out) {
  size_t size = 0;
  assert_int_equal(evc_header_encode(h, out, EVC_HEADER_SIZE_MAX, &size), 0);
  return size;
}

static size_t encode_signed(const struct evc_signed_header *sh, uint8_t *out) {
  size_t size = 0;
  assert_int_equal(evc_signed_header_encode(sh, out, EVC_SIGNED_HEADER_SIZE_MAX, &size), 0);
  return size;
}

/* Encodes data into a malloc'd buffer. */
static uint8_t *encode_data(const struct evc_data *d, size_t *size_out) {
  size_t size = 0;
  assert_int_equal(evc_data_encode(d, NULL, 0, &size), 0);
  uint8_t *buf = malloc(size);
  assert_non_null(buf);
  size_t written = 0;
  assert_int_equal(evc_data_encode(d, buf, size, &written), 0);
  assert_int_equal(written, size);
  *size_out = size;
  return buf;
}

/* A data value whose txs point into storage[]: tx i is (i % 7) + 1 bytes of value i. */
static uint8_t tx_storage[EVC_TXS_PER_BLOCK_MAX][8];
static struct evc_tx tx_views[EVC_TXS_PER_BLOCK_MAX];

static void make_data(struct evc_data *d, uint32_t tx_count) {
  memset(d, 0, sizeof *d);
  assert_int_equal(evc_chain_id_set(&d->chain_id, "evc-test", 8), 0);
  d->height = 7;
  for (uint32_t i = 0; i < tx_count; i++) {
    memset(tx_storage[i], (int)(i & 0xff), sizeof tx_storage[i]);
    tx_views[i].bytes = tx_storage[i];
    tx_views[i].size = (i % 7) + 1;
  }
  d->tx_count = tx_count;
  d->txs = tx_count > 0 ? tx_views : NULL;
}

/* ---- header ---- */

static void header_encoding_and_hash_match_known_answer(void **state) {
  (void)state;
  struct evc_header h;
  make_header(&h);
  uint8_t buf[EVC_HEADER_SIZE_MAX];
  size_t size = encode_header(&h, buf);
  uint8_t expected[146];
  hex_to_bytes(kat_header_hex, expected, sizeof expected);
  assert_int_equal(size, sizeof expected);
  assert_memory_equal(buf, expected, sizeof expected);
  uint8_t hash[EVC_HASH_SIZE];
  assert_int_equal(evc_header_hash(&h, hash), 0);
  assert_hex(hash, EVC_HASH_SIZE, kat_header_hash_hex);
}

static void header_round_trip_is_byte_exact(void **state) {
  (void)state;
  struct evc_header h;
  make_header(&h);
  uint8_t buf[EVC_HEADER_SIZE_MAX];
  size_t size = encode_header(&h, buf);
  struct evc_header back;
  assert_int_equal(decode_header_copy(buf, size, &back), 0);
  assert_memory_equal(&back, &h, sizeof h);
  uint8_t again[EVC_HEADER_SIZE_MAX];
  assert_int_equal(encode_header(&back, again), size);
  assert_memory_equal(again, buf, size);
}

static void header_size_only_and_small_capacity(void **state) {
  (void)state;
  struct evc_header h;
  make_header(&h);
  size_t size = 0;
  assert_int_equal(evc_header_encode(&h, NULL, 0, &size), 0);
  assert_int_equal(size, 146);
  uint8_t buf[EVC_HEADER_SIZE_MAX];
  assert_int_equal(evc_header_encode(&h, buf, 145, &size), EVC_ETOOBIG);
  /* The longest chain id reaches exactly the declared maximum. */
  char id[EVC_CHAIN_ID_SIZE_MAX];
  memset(id, 'x', sizeof id);
  assert_int_equal(evc_chain_id_set(&h.chain_id, id, sizeof id), 0);
  assert_int_equal(evc_header_encode(&h, NULL, 0, &size), 0);
  assert_int_equal(size, EVC_HEADER_SIZE_MAX);
}

static void every_header_truncation_is_rejected(void **state) {
  (void)state;
  struct evc_header h;
  make_header(&h);
  uint8_t buf[EVC_HEADER_SIZE_MAX];
  size_t size = encode_header(&h, buf);
  for (size_t n = 0; n < size; n++) {
    struct evc_header out;
    memset(&out, 0xa5, sizeof out);
    assert_int_equal(decode_header_copy(buf, n, &out), EVC_ETRUNC);
    assert_true(all_zero(&out, sizeof out));
  }
}

static void header_trailing_byte_is_rejected(void **state) {
  (void)state;
  struct evc_header h;
  make_header(&h);
  uint8_t buf[EVC_HEADER_SIZE_MAX + 1];
  size_t size = encode_header(&h, buf);
  buf[size] = 0;
  struct evc_header out;
  assert_int_equal(decode_header_copy(buf, size + 1, &out), EVC_ETRAILING);
  assert_true(all_zero(&out, sizeof out));
}

static void header_wrong_tag_is_rejected(void **state) {
  (void)state;
  struct evc_header h;
  make_header(&h);
  uint8_t buf[EVC_HEADER_SIZE_MAX];
  size_t size = encode_header(&h, buf);
  const uint8_t tags[] = {0x00, EVC_TAG_SIGNED_HEADER, EVC_TAG_DATA, 0xff};
  for (size_t i = 0; i < sizeof tags; i++) {
    buf[0] = tags[i];
    struct evc_header out;
    assert_int_equal(decode_header_copy(buf, size, &out), EVC_EDECODE);
  }
}

static void header_unknown_version_is_rejected(void **state) {
  (void)state;
  struct evc_header h;
  make_header(&h);
  uint8_t buf[EVC_HEADER_SIZE_MAX];
  size_t size = encode_header(&h, buf);
  const uint8_t versions[] = {0, 2, 0xff};
  for (size_t i = 0; i < sizeof versions; i++) {
    buf[4] = versions[i];
    struct evc_header out;
    assert_int_equal(decode_header_copy(buf, size, &out), EVC_EVERSION);
  }
  buf[4] = 1;
  buf[1] = 1; /* version 0x01000001 */
  struct evc_header out;
  assert_int_equal(decode_header_copy(buf, size, &out), EVC_EVERSION);
  h.version = 2;
  assert_int_equal(evc_header_encode(&h, buf, sizeof buf, &size), EVC_EINVAL);
  uint8_t hash[EVC_HASH_SIZE];
  assert_int_equal(evc_header_hash(&h, hash), EVC_EINVAL);
}

static void header_height_zero_is_rejected(void **state) {
  (void)state;
  struct evc_header h;
  make_header(&h);
  uint8_t buf[EVC_HEADER_SIZE_MAX];
  size_t size = encode_header(&h, buf);
  size_t height_offset = 1 + 4 + 1 + 8;
  assert_int_equal(buf[height_offset + 7], 7);
  buf[height_offset + 7] = 0;
  struct evc_header out;
  assert_int_equal(decode_header_copy(buf, size, &out), EVC_EDECODE);
  h.height = 0;
  assert_int_equal(evc_header_encode(&h, NULL, 0, &size), EVC_EINVAL);
}

/* Builds tag, version, then the given chain id length byte and text, then the header tail. */
static size_t header_with_chain_id(uint8_t len, const char *text, size_t text_size,
                                   uint8_t *out) {
  static const uint8_t prefix[] = {EVC_TAG_HEADER, 0, 0, 0, 1};
  size_t n = 0;
  memcpy(out, prefix, sizeof prefix);
  n += sizeof prefix;
  out[n++] = len;
  memcpy(out + n, text, text_size);
  n += text_size;
  memset(out + n, 0, 8 + 8 + 3 * EVC_HASH_SIZE + EVC_ADDRESS_SIZE);
  out[n + 7] = 1; /* height 1 */
  return n + 8 + 8 + 3 * EVC_HASH_SIZE + EVC_ADDRESS_SIZE;
}

static void header_bad_chain_id_is_rejected(void **state) {
  (void)state;
  uint8_t buf[EVC_HEADER_SIZE_MAX + 64];
  struct evc_header out;
  size_t size = header_with_chain_id(3, "a.b", 3, buf);
  assert_int_equal(decode_header_copy(buf, size, &out), 0);
  const char *bad[] = {"a/b", "a b", "a\0b", "a\x80z", "a:b", "a+b"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size = header_with_chain_id(3, bad[i], 3, buf);
    assert_int_equal(decode_header_copy(buf, size, &out), EVC_EDECODE);
    assert_true(all_zero(&out, sizeof out));
  }
  size = header_with_chain_id(0, "", 0, buf);
  assert_int_equal(decode_header_copy(buf, size, &out), EVC_EDECODE);
  char long_id[EVC_CHAIN_ID_SIZE_MAX + 1];
  memset(long_id, 'a', sizeof long_id);
  size = header_with_chain_id(EVC_CHAIN_ID_SIZE_MAX + 1, long_id, sizeof long_id, buf);
  assert_int_equal(decode_header_copy(buf, size, &out), EVC_ETOOBIG);
  size = header_with_chain_id(EVC_CHAIN_ID_SIZE_MAX, long_id, EVC_CHAIN_ID_SIZE_MAX, buf);
  assert_int_equal(decode_header_copy(buf, size, &out), 0);
  assert_int_equal(out.chain_id.size, EVC_CHAIN_ID_SIZE_MAX);
}

static void chain_id_set_enforces_limits(void **state) {
  (void)state;
  struct evc_chain_id id;
  char long_id[EVC_CHAIN_ID_SIZE_MAX + 1];
  memset(long_id, 'a', sizeof long_id);
  assert_int_equal(evc_chain_id_set(&id, long_id, EVC_CHAIN_ID_SIZE_MAX), 0);
  assert_int_equal(evc_chain_id_set(&id, long_id, EVC_CHAIN_ID_SIZE_MAX + 1), EVC_EINVAL);
  assert_int_equal(evc_chain_id_set(&id, "", 0), EVC_EINVAL);
  assert_int_equal(evc_chain_id_set(&id, "a b", 3), EVC_EINVAL);
  assert_int_equal(evc_chain_id_set(&id, "ab\0", 3), EVC_EINVAL);
  assert_int_equal(evc_chain_id_set(&id, "Az09._-", 7), 0);
  assert_string_equal(id.text, "Az09._-");
  struct evc_chain_id other;
  assert_int_equal(evc_chain_id_set(&other, "Az09._-", 7), 0);
  assert_true(evc_chain_id_equal(&id, &other));
  assert_int_equal(evc_chain_id_set(&other, "Az09._", 6), 0);
  assert_false(evc_chain_id_equal(&id, &other));
  /* A struct edited by hand into a bad chain id cannot be encoded. */
  struct evc_header h;
  make_header(&h);
  h.chain_id.text[2] = '/';
  size_t size = 0;
  assert_int_equal(evc_header_encode(&h, NULL, 0, &size), EVC_EINVAL);
  make_header(&h);
  h.chain_id.size = 0;
  assert_int_equal(evc_header_encode(&h, NULL, 0, &size), EVC_EINVAL);
}

static void header_hash_changes_when_any_field_changes(void **state) {
  (void)state;
  struct evc_header base;
  make_header(&base);
  uint8_t base_hash[EVC_HASH_SIZE];
  assert_int_equal(evc_header_hash(&base, base_hash), 0);
  for (int field = 0; field < 7; field++) {
    struct evc_header h = base;
    switch (field) {
    case 0: assert_int_equal(evc_chain_id_set(&h.chain_id, "evc-tesu", 8), 0); break;
    case 1: h.height++; break;
    case 2: h.time_ns ^= 1; break;
    case 3: h.last_header_hash[31] ^= 1; break;
    case 4: h.data_hash[0] ^= 0x80; break;
    case 5: h.app_hash[16] ^= 4; break;
    default: h.proposer[19] ^= 1; break;
    }
    uint8_t hash[EVC_HASH_SIZE];
    assert_int_equal(evc_header_hash(&h, hash), 0);
    assert_memory_not_equal(hash, base_hash, EVC_HASH_SIZE);
  }
}

/* ---- signed header and signatures ---- */

static void make_keys(uint8_t seed_byte, uint8_t pk[EVC_PUBKEY_SIZE],
                      uint8_t sk[EVC_SECKEY_SIZE]) {
  uint8_t seed[crypto_sign_SEEDBYTES];
  memset(seed, seed_byte, sizeof seed);
  assert_true(sodium_init() >= 0);
  assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

static void make_signed(struct evc_signed_header *sh, uint8_t pk[EVC_PUBKEY_SIZE]) {
  uint8_t sk[EVC_SECKEY_SIZE];
  make_keys(7, pk, sk);
  make_header(&sh->header);
  evc_address_from_pubkey(pk, sh->header.proposer);
  assert_int_equal(evc_signed_header_sign(sh, sk), 0);
}

static void signed_header_round_trip_is_byte_exact(void **state) {
  (void)state;
  struct evc_signed_header sh;
  uint8_t pk[EVC_PUBKEY_SIZE];
  make_signed(&sh, pk);
  uint8_t buf[EVC_SIGNED_HEADER_SIZE_MAX];
  size_t size = encode_signed(&sh, buf);
  assert_int_equal(size, 1 + 146 + EVC_SIG_SIZE);
  assert_int_equal(buf[0], EVC_TAG_SIGNED_HEADER);
  assert_int_equal(buf[1], EVC_TAG_HEADER);
  struct evc_signed_header back;
  assert_int_equal(decode_signed_copy(buf, size, &back), 0);
  assert_memory_equal(&back, &sh, sizeof sh);
  uint8_t again[EVC_SIGNED_HEADER_SIZE_MAX];
  assert_int_equal(encode_signed(&back, again), size);
  assert_memory_equal(again, buf, size);
  assert_int_equal(evc_signed_header_verify(&back, pk), 0);
}

static void every_signed_header_truncation_is_rejected(void **state) {
  (void)state;
  struct evc_signed_header sh;
  uint8_t pk[EVC_PUBKEY_SIZE];
  make_signed(&sh, pk);
  uint8_t buf[EVC_SIGNED_HEADER_SIZE_MAX + 1];
  size_t size = encode_signed(&sh, buf);
  for (size_t n = 0; n < size; n++) {
    struct evc_signed_header out;
    memset(&out, 0xa5, sizeof out);
    assert_int_equal(decode_signed_copy(buf, n, &out), EVC_ETRUNC);
    assert_true(all_zero(&out, sizeof out));
  }
  buf[size] = 0x00;
  struct evc_signed_header out;
  assert_int_equal(decode_signed_copy(buf, size + 1, &out), EVC_ETRAILING);
  assert_true(all_zero(&out, sizeof out));
}

static void signed_header_wrong_tags_are_rejected(void **state) {
  (void)state;
  struct evc_signed_header sh;
  uint8_t pk[EVC_PUBKEY_SIZE];
  make_signed(&sh, pk);
  uint8_t buf[EVC_SIGNED_HEADER_SIZE_MAX];
  size_t size = encode_signed(&sh, buf);
  struct evc_signed_header out;
  buf[0] = EVC_TAG_HEADER;
  assert_int_equal(decode_signed_copy(buf, size, &out), EVC_EDECODE);
  buf[0] = EVC_TAG_SIGNED_HEADER;
  buf[1] = EVC_TAG_SIGNED_HEADER; /* the inner header must carry its own tag */
  assert_int_equal(decode_signed_copy(buf, size, &out), EVC_EDECODE);
  /* A bare header is not a signed header and vice versa. */
  assert_int_equal(decode_header_copy(buf, size, &(struct evc_header){0}), EVC_EDECODE);
}

static void signature_verifies_only_the_signed_header(void **state) {
  (void)state;
  struct evc_signed_header sh;
  uint8_t pk[EVC_PUBKEY_SIZE];
  make_signed(&sh, pk);
  assert_int_equal(evc_signed_header_verify(&sh, pk), 0);
  uint8_t buf[EVC_SIGNED_HEADER_SIZE_MAX];
  size_t size = encode_signed(&sh, buf);
  /* Every single-bit change anywhere (any header field or the signature) must either fail
   * to decode or fail to verify. */
  size_t decoded = 0;
  for (size_t bit = 0; bit < size * 8; bit++) {
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    struct evc_signed_header out;
    if (evc_signed_header_decode(buf, size, &out) == 0) {
      decoded++;
      assert_int_equal(evc_signed_header_verify(&out, pk), EVC_ESIG);
    }
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  /* Most flips decode (hashes, time, proposer, signature): the check did run. */
  assert_true(decoded > (size_t)(EVC_SIG_SIZE + 3 * EVC_HASH_SIZE) * 8);
  uint8_t other_pk[EVC_PUBKEY_SIZE];
  uint8_t other_sk[EVC_SECKEY_SIZE];
  make_keys(8, other_pk, other_sk);
  assert_int_equal(evc_signed_header_verify(&sh, other_pk), EVC_ESIG);
  /* Field changes made in the struct are caught too. */
  struct evc_signed_header changed = sh;
  changed.header.time_ns++;
  assert_int_equal(evc_signed_header_verify(&changed, pk), EVC_ESIG);
  changed = sh;
  changed.header.version = 2;
  assert_int_equal(evc_signed_header_verify(&changed, pk), EVC_ESIG);
  assert_int_equal(evc_signed_header_sign(&changed, other_sk), EVC_EINVAL);
}

static void address_and_namespaces_match_known_answers(void **state) {
  (void)state;
  uint8_t pk[EVC_PUBKEY_SIZE];
  for (size_t i = 0; i < sizeof pk; i++) pk[i] = (uint8_t)(i + 1);
  uint8_t address[EVC_ADDRESS_SIZE];
  evc_address_from_pubkey(pk, address);
  assert_hex(address, EVC_ADDRESS_SIZE, "ae216c2ef5247a3782c135efa279a3e4cdc61094");
  const char *names[] = {"rollkit-headers", "rollkit-data"};
  const char *b64[] = {"AAAAAAAAAAAAAAAAAAAAAAAAAPpQktRXn4P8kpY=",
                       "AAAAAAAAAAAAAAAAAAAAAAAAAIoEQ/AHIco4J0A="};
  for (size_t i = 0; i < 2; i++) {
    uint8_t expected[EVC_NAMESPACE_SIZE];
    size_t expected_size = 0;
    assert_int_equal(sodium_base642bin(expected, sizeof expected, b64[i], strlen(b64[i]), NULL,
                                       &expected_size, NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(expected_size, EVC_NAMESPACE_SIZE);
    uint8_t ns[EVC_NAMESPACE_SIZE];
    evc_namespace_from_string(names[i], ns);
    assert_memory_equal(ns, expected, EVC_NAMESPACE_SIZE);
    char text[sodium_base64_ENCODED_LEN(EVC_NAMESPACE_SIZE, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(text, sizeof text, ns, sizeof ns, sodium_base64_VARIANT_ORIGINAL);
    assert_string_equal(text, b64[i]);
  }
}

/* ---- data ---- */

static void data_encoding_and_hash_match_known_answer(void **state) {
  (void)state;
  struct evc_tx txs[2] = {{(const uint8_t *)"a=1", 3}, {(const uint8_t *)"bb=22", 5}};
  struct evc_data d = {.height = 7, .tx_count = 2, .txs = txs};
  assert_int_equal(evc_chain_id_set(&d.chain_id, "evc-test", 8), 0);
  size_t size = 0;
  uint8_t *buf = encode_data(&d, &size);
  uint8_t expected[38];
  hex_to_bytes(kat_data_hex, expected, sizeof expected);
  assert_int_equal(size, sizeof expected);
  assert_memory_equal(buf, expected, sizeof expected);
  uint8_t hash[EVC_HASH_SIZE];
  assert_int_equal(evc_data_hash(&d, hash), 0);
  assert_hex(hash, EVC_HASH_SIZE, kat_data_hash_hex);
  free(buf);
}

static void check_data_round_trip(uint32_t tx_count) {
  struct evc_data d;
  make_data(&d, tx_count);
  size_t size = 0;
  uint8_t *buf = encode_data(&d, &size);
  struct evc_data back;
  assert_int_equal(evc_data_decode(buf, size, &back), 0);
  assert_true(evc_chain_id_equal(&back.chain_id, &d.chain_id));
  assert_int_equal(back.height, d.height);
  assert_int_equal(back.tx_count, tx_count);
  for (uint32_t i = 0; i < tx_count; i++) {
    assert_int_equal(back.txs[i].size, d.txs[i].size);
    assert_memory_equal(back.txs[i].bytes, d.txs[i].bytes, d.txs[i].size);
    /* txs borrow from the input */
    assert_true(back.txs[i].bytes >= buf && back.txs[i].bytes < buf + size);
  }
  size_t again_size = 0;
  uint8_t *again = encode_data(&back, &again_size);
  assert_int_equal(again_size, size);
  assert_memory_equal(again, buf, size);
  uint8_t h1[EVC_HASH_SIZE], h2[EVC_HASH_SIZE], h3[EVC_HASH_SIZE];
  assert_int_equal(evc_data_hash(&d, h1), 0);
  assert_int_equal(evc_data_hash(&back, h2), 0);
  crypto_hash_sha256(h3, buf, size);
  assert_memory_equal(h1, h2, EVC_HASH_SIZE);
  assert_memory_equal(h1, h3, EVC_HASH_SIZE);
  evc_data_release(&back);
  assert_null(back.txs);
  assert_int_equal(back.tx_count, 0);
  free(again);
  free(buf);
}

static void data_round_trip_is_byte_exact(void **state) {
  (void)state;
  check_data_round_trip(0);
  check_data_round_trip(1);
  check_data_round_trip(100);
  check_data_round_trip(EVC_TXS_PER_BLOCK_MAX);
}

static void every_data_truncation_is_rejected(void **state) {
  (void)state;
  const uint32_t counts[] = {0, 1, 20};
  for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
    struct evc_data d;
    make_data(&d, counts[c]);
    size_t size = 0;
    uint8_t *buf = encode_data(&d, &size);
    for (size_t n = 0; n < size; n++) assert_int_equal(decode_data_copy(buf, n), EVC_ETRUNC);
    assert_int_equal(decode_data_copy(buf, size), 0);
    uint8_t *longer = malloc(size + 1);
    assert_non_null(longer);
    memcpy(longer, buf, size);
    longer[size] = 1;
    assert_int_equal(decode_data_copy(longer, size + 1), EVC_ETRAILING);
    free(longer);
    free(buf);
  }
}

/* Data prefix for chain "evc-test" height 7: tag(1) len(1) text(8) height(8). */
static size_t data_prefix(uint8_t *out) {
  static const uint8_t prefix[] = {EVC_TAG_DATA, 8, 'e', 'v', 'c', '-', 't', 'e', 's', 't',
                                   0, 0, 0, 0, 0, 0, 0, 7};
  memcpy(out, prefix, sizeof prefix);
  return sizeof prefix;
}

static size_t put_u32(uint8_t *out, uint32_t v) {
  out[0] = (uint8_t)(v >> 24);
  out[1] = (uint8_t)(v >> 16);
  out[2] = (uint8_t)(v >> 8);
  out[3] = (uint8_t)v;
  return 4;
}

static void data_wrong_tag_and_height_zero_are_rejected(void **state) {
  (void)state;
  uint8_t buf[64];
  size_t n = data_prefix(buf);
  n += put_u32(buf + n, 0);
  assert_int_equal(decode_data_copy(buf, n), 0);
  buf[0] = EVC_TAG_HEADER;
  assert_int_equal(decode_data_copy(buf, n), EVC_EDECODE);
  buf[0] = EVC_TAG_DATA;
  buf[17] = 0; /* height 0 */
  assert_int_equal(decode_data_copy(buf, n), EVC_EDECODE);
  buf[17] = 7;
  buf[4] = '/'; /* chain id char */
  assert_int_equal(decode_data_copy(buf, n), EVC_EDECODE);
}

static void data_tx_size_limits_are_enforced(void **state) {
  (void)state;
  static uint8_t buf[64 + EVC_TX_SIZE_MAX + 8];
  size_t n = data_prefix(buf);
  n += put_u32(buf + n, 1);
  size_t size_at = n;
  /* zero-size tx: non-canonical (an empty tx is never produced) */
  put_u32(buf + size_at, 0);
  memset(buf + size_at + 4, 'x', 4);
  assert_int_equal(decode_data_copy(buf, size_at + 8), EVC_ENONCANON);
  /* exactly the maximum is fine, one more is too big */
  put_u32(buf + size_at, EVC_TX_SIZE_MAX);
  memset(buf + size_at + 4, 'x', EVC_TX_SIZE_MAX + 1);
  assert_int_equal(decode_data_copy(buf, size_at + 4 + EVC_TX_SIZE_MAX), 0);
  put_u32(buf + size_at, EVC_TX_SIZE_MAX + 1);
  assert_int_equal(decode_data_copy(buf, size_at + 4 + EVC_TX_SIZE_MAX + 1), EVC_ETOOBIG);
  put_u32(buf + size_at, UINT32_MAX);
  assert_int_equal(decode_data_copy(buf, size_at + 8), EVC_ETOOBIG);
}

static void data_tx_count_limits_are_enforced(void **state) {
  (void)state;
  uint8_t buf[64];
  size_t n = data_prefix(buf);
  size_t count_at = n;
  n += 4;
  memcpy(buf + n, "\0\0\0\1x", 5); /* one real tx */
  n += 5;
  put_u32(buf + count_at, EVC_TXS_PER_BLOCK_MAX + 1);
  assert_int_equal(decode_data_copy(buf, n), EVC_ETOOBIG);
  put_u32(buf + count_at, UINT32_MAX);
  assert_int_equal(decode_data_copy(buf, n), EVC_ETOOBIG);
  /* A hostile count the remaining bytes cannot hold is refused before any allocation:
   * under ASan the allocation hook shows that nothing was allocated for it. */
  put_u32(buf + count_at, EVC_TXS_PER_BLOCK_MAX);
  struct evc_data d;
#ifdef TEST_ALLOC_HOOK
  largest_alloc_size = 0;
#endif
  assert_int_equal(evc_data_decode(buf, n, &d), EVC_ETRUNC);
#ifdef TEST_ALLOC_HOOK
  assert_true(largest_alloc_size < sizeof(struct evc_tx) * 2);
#endif
  assert_null(d.txs);
  assert_int_equal(d.tx_count, 0);
  put_u32(buf + count_at, 2); /* 5 bytes left: room for one tx only */
  assert_int_equal(decode_data_copy(buf, n), EVC_ETRUNC);
  put_u32(buf + count_at, 1);
  assert_int_equal(decode_data_copy(buf, n), 0);
}

static void data_size_limit_is_enforced(void **state) {
  (void)state;
  /* 1022 txs of 4096 bytes and one of 4078: exactly EVC_DATA_SIZE_MAX when encoded. */
  const uint32_t full = 1022;
  static uint8_t payload[EVC_TX_SIZE_MAX];
  memset(payload, 'p', sizeof payload);
  struct evc_tx *txs = calloc(full + 2, sizeof *txs);
  assert_non_null(txs);
  for (uint32_t i = 0; i < full + 2; i++) txs[i] = (struct evc_tx){payload, EVC_TX_SIZE_MAX};
  txs[full].size = 4078;
  struct evc_data d = {.height = 7, .tx_count = full + 1, .txs = txs};
  assert_int_equal(evc_chain_id_set(&d.chain_id, "evc-test", 8), 0);
  size_t size = 0;
  uint8_t *buf = encode_data(&d, &size);
  assert_int_equal(size, EVC_DATA_SIZE_MAX);
  assert_int_equal(decode_data_copy(buf, size), 0);
  /* One byte more, by growing the last tx: the encoder refuses, and so does the decoder. */
  txs[full].size = 4079;
  assert_int_equal(evc_data_encode(&d, NULL, 0, &size), EVC_EINVAL);
  uint8_t hash[EVC_HASH_SIZE];
  assert_int_equal(evc_data_hash(&d, hash), EVC_EINVAL);
  uint8_t *bigger = calloc(1, (size_t)EVC_DATA_SIZE_MAX + 1);
  assert_non_null(bigger);
  memcpy(bigger, buf, EVC_DATA_SIZE_MAX);
  size_t last_size_at = EVC_DATA_SIZE_MAX - 4078 - 4;
  put_u32(bigger + last_size_at, 4079);
  assert_int_equal(decode_data_copy(bigger, (size_t)EVC_DATA_SIZE_MAX + 1), EVC_ETOOBIG);
  free(bigger);
  free(buf);
  free(txs);
}

static void data_encoder_refuses_invalid_values(void **state) {
  (void)state;
  struct evc_data d;
  size_t size = 0;
  make_data(&d, 3);
  assert_int_equal(evc_data_encode(&d, NULL, 0, &size), 0);
  uint8_t small[8];
  assert_int_equal(evc_data_encode(&d, small, sizeof small, &size), EVC_ETOOBIG);
  tx_views[1].size = 0;
  assert_int_equal(evc_data_encode(&d, NULL, 0, &size), EVC_EINVAL);
  tx_views[1].size = EVC_TX_SIZE_MAX + 1;
  assert_int_equal(evc_data_encode(&d, NULL, 0, &size), EVC_EINVAL);
  make_data(&d, 3);
  d.txs = NULL;
  assert_int_equal(evc_data_encode(&d, NULL, 0, &size), EVC_EINVAL);
  make_data(&d, 3);
  d.tx_count = EVC_TXS_PER_BLOCK_MAX + 1;
  assert_int_equal(evc_data_encode(&d, NULL, 0, &size), EVC_EINVAL);
  make_data(&d, 3);
  d.height = 0;
  assert_int_equal(evc_data_encode(&d, NULL, 0, &size), EVC_EINVAL);
  make_data(&d, 3);
  d.chain_id.text[0] = ' ';
  assert_int_equal(evc_data_encode(&d, NULL, 0, &size), EVC_EINVAL);
}

static void data_hash_changes_when_any_field_changes(void **state) {
  (void)state;
  struct evc_tx one[1] = {{(const uint8_t *)"ab", 2}};
  struct evc_tx two[2] = {{(const uint8_t *)"a", 1}, {(const uint8_t *)"b", 1}};
  struct evc_data base = {.height = 7, .tx_count = 1, .txs = one};
  assert_int_equal(evc_chain_id_set(&base.chain_id, "evc-test", 8), 0);
  uint8_t base_hash[EVC_HASH_SIZE];
  assert_int_equal(evc_data_hash(&base, base_hash), 0);
  for (int field = 0; field < 5; field++) {
    struct evc_data d = base;
    struct evc_tx changed = {(const uint8_t *)"ac", 2};
    switch (field) {
    case 0: assert_int_equal(evc_chain_id_set(&d.chain_id, "evc-tesu", 8), 0); break;
    case 1: d.height = 8; break;
    case 2: d.txs = &changed; break;
    case 3: d.tx_count = 2; d.txs = two; break; /* same bytes, split differently */
    default: d.tx_count = 0; d.txs = NULL; break;
    }
    uint8_t hash[EVC_HASH_SIZE];
    assert_int_equal(evc_data_hash(&d, hash), 0);
    assert_memory_not_equal(hash, base_hash, EVC_HASH_SIZE);
  }
}

/* Random single-byte edits of valid encodings: whatever decodes re-encodes to the same bytes,
 * so no value has two encodings. A fixed LCG keeps the run reproducible. */
static void mutated_encodings_decode_only_canonically(void **state) {
  (void)state;
  struct evc_signed_header sh;
  uint8_t pk[EVC_PUBKEY_SIZE];
  make_signed(&sh, pk);
  uint8_t sbuf[EVC_SIGNED_HEADER_SIZE_MAX];
  size_t ssize = encode_signed(&sh, sbuf);
  struct evc_data d;
  make_data(&d, 6);
  size_t dsize = 0;
  uint8_t *dbuf = encode_data(&d, &dsize);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int round = 0; round < 20000; round++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    bool is_data = (x >> 63) != 0;
    uint8_t *buf = is_data ? dbuf : sbuf;
    size_t size = is_data ? dsize : ssize;
    size_t at = (size_t)(x >> 20) % size;
    uint8_t old = buf[at];
    buf[at] = (uint8_t)(x >> 8);
    uint8_t again[EVC_SIGNED_HEADER_SIZE_MAX + 512];
    size_t again_size = 0;
    if (is_data) {
      struct evc_data out;
      if (evc_data_decode(buf, size, &out) == 0) {
        assert_int_equal(evc_data_encode(&out, again, sizeof again, &again_size), 0);
        assert_int_equal(again_size, size);
        assert_memory_equal(again, buf, size);
        evc_data_release(&out);
      }
    } else {
      struct evc_signed_header out;
      if (evc_signed_header_decode(buf, size, &out) == 0) {
        assert_int_equal(evc_signed_header_encode(&out, again, sizeof again, &again_size), 0);
        assert_int_equal(again_size, size);
        assert_memory_equal(again, buf, size);
      }
    }
    buf[at] = old;
  }
  free(dbuf);
}

/* ---- genesis ---- */

#define PUBKEY_HEX "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
#define NS_HEADERS_HEX "00000000000000000000000000000000000000fa5092d4579f83fc9296"
#define NS_DATA_HEX "000000000000000000000000000000000000008a0443f00721ca382740"

static const char sample_genesis[] =
    "{\"chain_id\": \"evc-local\", \"initial_height\": 1,"
    " \"genesis_time_ns\": \"1767225600000000000\","
    " \"proposer_pubkey\": \"" PUBKEY_HEX "\", \"da_start_height\": 1,"
    " \"header_namespace\": \"" NS_HEADERS_HEX "\","
    " \"data_namespace\": \"" NS_DATA_HEX "\"}";

/* Parses text from an exact-size heap copy (no NUL after it). */
static int parse_genesis(const char *text, size_t size, struct evc_genesis *g, char *err,
                         size_t err_size) {
  char *copy = (char *)dup_bytes((const uint8_t *)text, size);
  int rc = evc_genesis_parse_json(copy, size, g, err, err_size);
  free(copy);
  return rc;
}

static void genesis_parse_emit_round_trip(void **state) {
  (void)state;
  struct evc_genesis g;
  char err[256];
  assert_int_equal(parse_genesis(sample_genesis, strlen(sample_genesis), &g, err, sizeof err),
                   0);
  assert_string_equal(g.chain_id.text, "evc-local");
  assert_int_equal(g.initial_height, 1);
  assert_int_equal(g.genesis_time_ns, 1767225600000000000ull);
  assert_int_equal(g.da_start_height, 1);
  uint8_t ns[EVC_NAMESPACE_SIZE];
  evc_namespace_from_string("rollkit-headers", ns);
  assert_memory_equal(g.header_namespace, ns, EVC_NAMESPACE_SIZE);
  evc_namespace_from_string("rollkit-data", ns);
  assert_memory_equal(g.data_namespace, ns, EVC_NAMESPACE_SIZE);
  char *json = NULL;
  assert_int_equal(evc_genesis_to_json(&g, &json), 0);
  assert_non_null(strstr(json, "\"initial_height\":\t1,"));
  assert_non_null(strstr(json, "\"genesis_time_ns\":\t\"1767225600000000000\""));
  assert_non_null(strstr(json, "\"proposer_pubkey\":\t\"" PUBKEY_HEX "\""));
  struct evc_genesis back;
  assert_int_equal(parse_genesis(json, strlen(json), &back, err, sizeof err), 0);
  assert_memory_equal(&back, &g, sizeof g);
  char *again = NULL;
  assert_int_equal(evc_genesis_to_json(&back, &again), 0);
  assert_string_equal(again, json);
  free(again);
  free(json);
}

static void genesis_accepts_both_integer_forms_and_hex_cases(void **state) {
  (void)state;
  const char text[] =
      "{\"chain_id\": \"c\", \"initial_height\": \"18446744073709551615\","
      " \"genesis_time_ns\": 0, \"proposer_pubkey\": \"" PUBKEY_HEX "\","
      " \"da_start_height\": 9007199254740991,"
      " \"header_namespace\": \"00000000000000000000000000000000000000FA5092D4579F83FC9296\","
      " \"data_namespace\": \"" NS_DATA_HEX "\"}";
  struct evc_genesis g;
  char err[256] = "";
  assert_int_equal(parse_genesis(text, strlen(text), &g, err, sizeof err), 0);
  assert_int_equal(g.initial_height, UINT64_MAX);
  assert_int_equal(g.genesis_time_ns, 0);
  assert_int_equal(g.da_start_height, 9007199254740991ull);
  char *json = NULL;
  assert_int_equal(evc_genesis_to_json(&g, &json), 0);
  /* too big for an exact JSON number: written as a string; hex comes out lowercase */
  assert_non_null(strstr(json, "\"initial_height\":\t\"18446744073709551615\""));
  assert_non_null(strstr(json, "\"da_start_height\":\t9007199254740991,"));
  assert_non_null(strstr(json, NS_HEADERS_HEX));
  struct evc_genesis back;
  assert_int_equal(parse_genesis(json, strlen(json), &back, err, sizeof err), 0);
  assert_memory_equal(&back, &g, sizeof g);
  free(json);
}

/* Replaces the first occurrence of from with to in sample_genesis. */
static void genesis_edit(const char *from, const char *to, char *out, size_t capacity) {
  const char *at = strstr(sample_genesis, from);
  assert_non_null(at);
  size_t head = (size_t)(at - sample_genesis);
  int n = snprintf(out, capacity, "%.*s%s%s", (int)head, sample_genesis, to,
                   at + strlen(from));
  assert_true(n > 0 && (size_t)n < capacity);
}

struct genesis_case {
  const char *from;
  const char *to;
  int rc;
  const char *message; /* must appear in err */
};

static void genesis_errors_name_the_field(void **state) {
  (void)state;
  static const struct genesis_case cases[] = {
      {", \"da_start_height\": 1", "", EVC_ECONFIG, "genesis: field \"da_start_height\": missing"},
      {"{", "{\"extra\": 1, ", EVC_ECONFIG, "genesis: unknown field \"extra\""},
      {"{", "{\"Chain_id\": \"x\", ", EVC_ECONFIG, "unknown field \"Chain_id\""},
      {"{", "{\"chain_id\": \"x\", ", EVC_ECONFIG, "field \"chain_id\": appears twice"},
      {"\"evc-local\"", "5", EVC_ECONFIG, "genesis: field \"chain_id\": must be a string"},
      {"\"evc-local\"", "\"evc local\"", EVC_ECONFIG, "field \"chain_id\""},
      {"\"evc-local\"", "\"\"", EVC_ECONFIG, "field \"chain_id\""},
      {"\"initial_height\": 1", "\"initial_height\": true", EVC_ECONFIG,
       "field \"initial_height\""},
      {"\"initial_height\": 1", "\"initial_height\": 0", EVC_ECONFIG,
       "genesis: field \"initial_height\": must be an integer >= 1"},
      {"\"da_start_height\": 1", "\"da_start_height\": 0", EVC_ECONFIG,
       "genesis: field \"da_start_height\": must be an integer >= 1"},
      {"\"da_start_height\": 1", "\"da_start_height\": \"0\"", EVC_ECONFIG,
       "genesis: field \"da_start_height\": must be an integer >= 1"},
      {"\"da_start_height\": 1", "\"da_start_height\": -1", EVC_ECONFIG,
       "field \"da_start_height\""},
      {"\"initial_height\": 1", "\"initial_height\": 1.5", EVC_ECONFIG,
       "field \"initial_height\""},
      {"\"initial_height\": 1", "\"initial_height\": 9007199254740992", EVC_ECONFIG,
       "field \"initial_height\""},
      {"\"1767225600000000000\"", "\"01767225600000000000\"", EVC_ECONFIG,
       "field \"genesis_time_ns\": must be a decimal string"},
      {"\"1767225600000000000\"", "\"+1\"", EVC_ECONFIG, "field \"genesis_time_ns\""},
      {"\"1767225600000000000\"", "\"\"", EVC_ECONFIG, "field \"genesis_time_ns\""},
      {"\"1767225600000000000\"", "\"18446744073709551616\"", EVC_ECONFIG,
       "field \"genesis_time_ns\""},
      {"\"1767225600000000000\"", "null", EVC_ECONFIG, "field \"genesis_time_ns\""},
      {PUBKEY_HEX, "zz02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
       EVC_ECONFIG, "field \"proposer_pubkey\": must be 64 hex"},
      {PUBKEY_HEX, PUBKEY_HEX "00", EVC_ECONFIG, "field \"proposer_pubkey\""},
      {"\"" PUBKEY_HEX "\"", "[]", EVC_ECONFIG, "field \"proposer_pubkey\""},
      {NS_HEADERS_HEX, "01000000000000000000000000000000000000fa5092d4579f83fc9296",
       EVC_ECONFIG, "field \"header_namespace\""},
      {NS_HEADERS_HEX, "ff000000000000000000000000000000000000fa5092d4579f83fc9296",
       EVC_ECONFIG, "field \"header_namespace\""},
      {NS_DATA_HEX, "000000000000000000000000000000000001008a0443f00721ca382740", EVC_ECONFIG,
       "field \"data_namespace\""},
      {NS_DATA_HEX, "00", EVC_ECONFIG, "field \"data_namespace\""},
      {"\"evc-local\"", "\"evc\\u0000x\"", EVC_ECONFIG, "\\u0000"},
      {"}", "", EVC_EDECODE, "genesis: invalid JSON"},
      {"}", "}}", EVC_EDECODE, "genesis: invalid JSON"},
      {"{", "[{", EVC_EDECODE, "genesis: invalid JSON"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[1024];
    genesis_edit(cases[i].from, cases[i].to, text, sizeof text);
    struct evc_genesis g;
    char err[256] = "";
    int rc = parse_genesis(text, strlen(text), &g, err, sizeof err);
    if (rc != cases[i].rc || strstr(err, cases[i].message) == NULL) {
      fail_msg("case %zu: rc %d err '%s', want %d '%s'", i, rc, err, cases[i].rc,
               cases[i].message);
    }
    assert_true(all_zero(&g, sizeof g));
  }
}

static void genesis_refuses_bad_documents(void **state) {
  (void)state;
  struct evc_genesis g;
  char err[256];
  const char *not_objects[] = {"[]", "1", "\"x\"", "null"};
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(parse_genesis(not_objects[i], strlen(not_objects[i]), &g, err, sizeof err),
                     EVC_ECONFIG);
    assert_non_null(strstr(err, "top level"));
  }
  assert_int_equal(parse_genesis("", 0, &g, err, sizeof err), EVC_EDECODE);
  assert_int_equal(evc_genesis_parse_json(NULL, 0, &g, err, sizeof err), EVC_EDECODE);
  /* A NUL byte inside the input, even after a complete document. */
  char with_nul[sizeof sample_genesis + 8];
  memcpy(with_nul, sample_genesis, sizeof sample_genesis); /* includes the NUL */
  memcpy(with_nul + sizeof sample_genesis, " ", 1);
  assert_int_equal(parse_genesis(with_nul, sizeof sample_genesis + 1, &g, err, sizeof err),
                   EVC_EDECODE);
  assert_non_null(strstr(err, "NUL"));
  /* Over 1 MiB. */
  size_t big = 1024 * 1024 + 1;
  char *huge = malloc(big);
  assert_non_null(huge);
  memset(huge, ' ', big);
  assert_int_equal(evc_genesis_parse_json(huge, big, &g, err, sizeof err), EVC_ETOOBIG);
  /* Deep nesting stays within the parser's nesting limit instead of exhausting the stack. */
  memset(huge, '[', 100000);
  assert_int_equal(evc_genesis_parse_json(huge, 100000, &g, err, sizeof err), EVC_EDECODE);
  free(huge);
  /* A tiny error buffer is truncated, not overrun; no buffer at all is fine too. */
  char tiny[8];
  assert_int_equal(parse_genesis("[]", 2, &g, tiny, sizeof tiny), EVC_ECONFIG);
  assert_int_equal(strlen(tiny), sizeof tiny - 1);
  assert_int_equal(parse_genesis("[]", 2, &g, NULL, 0), EVC_ECONFIG);
}

static void genesis_every_prefix_is_handled(void **state) {
  (void)state;
  size_t size = strlen(sample_genesis);
  struct evc_genesis g;
  char err[256];
  /* Every proper prefix lacks the closing brace: invalid JSON, from a buffer with no NUL. */
  for (size_t n = 0; n < size; n++) {
    assert_int_equal(parse_genesis(sample_genesis, n, &g, err, sizeof err), EVC_EDECODE);
  }
  assert_int_equal(parse_genesis(sample_genesis, size, &g, err, sizeof err), 0);
}

static void genesis_emit_refuses_invalid_values(void **state) {
  (void)state;
  struct evc_genesis g;
  char err[256];
  assert_int_equal(parse_genesis(sample_genesis, strlen(sample_genesis), &g, err, sizeof err),
                   0);
  char *json = NULL;
  struct evc_genesis bad = g;
  bad.initial_height = 0;
  assert_int_equal(evc_genesis_to_json(&bad, &json), EVC_EINVAL);
  bad = g;
  bad.da_start_height = 0;
  assert_int_equal(evc_genesis_to_json(&bad, &json), EVC_EINVAL);
  bad = g;
  bad.data_namespace[0] = 1;
  assert_int_equal(evc_genesis_to_json(&bad, &json), EVC_EINVAL);
  bad = g;
  bad.chain_id.text[0] = '"';
  assert_int_equal(evc_genesis_to_json(&bad, &json), EVC_EINVAL);
  assert_null(json);
}

static void genesis_hash_matches_known_answer_and_covers_every_field(void **state) {
  (void)state;
  struct evc_genesis g;
  char err[256];
  assert_int_equal(parse_genesis(sample_genesis, strlen(sample_genesis), &g, err, sizeof err),
                   0);
  uint8_t base[EVC_HASH_SIZE];
  evc_genesis_hash(&g, base);
  /* "evc.genesis.v1" || 09 "evc-local" || u64 1 || u64 time || pubkey || u64 1 || ns || ns */
  assert_hex(base, EVC_HASH_SIZE,
             "96b95c5cc6672c4e5ad174d673fa60c2dd374d3d7243ad1d7df86797a3a69382");
  for (int field = 0; field < 7; field++) {
    struct evc_genesis c = g;
    switch (field) {
    case 0: assert_int_equal(evc_chain_id_set(&c.chain_id, "evc-locam", 9), 0); break;
    case 1: c.initial_height = 2; break;
    case 2: c.genesis_time_ns++; break;
    case 3: c.proposer_pubkey[31] ^= 1; break;
    case 4: c.da_start_height = 2; break;
    case 5: c.header_namespace[28] ^= 1; break;
    default: c.data_namespace[19] ^= 1; break;
    }
    uint8_t hash[EVC_HASH_SIZE];
    evc_genesis_hash(&c, hash);
    assert_memory_not_equal(hash, base, EVC_HASH_SIZE);
  }
}

/* The chain's SHA-256 (OpenSSL) against FIPS 180-2's known answers and against libsodium's
 * independent implementation on every length 0..1100 (crossing block boundaries), hashed in
 * one piece and in uneven pieces. */
static void sha256_matches_known_answers_and_libsodium(void **state) {
  (void)state;
  uint8_t out[EVC_SHA256_SIZE];
  char hex[2 * EVC_SHA256_SIZE + 1];
  evc_sha256("abc", 3, out);
  evc_hex_encode(out, sizeof out, hex);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  evc_sha256(NULL, 0, out);
  evc_hex_encode(out, sizeof out, hex);
  assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  static uint8_t msg[1100];
  for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 131u + (i >> 3));
  for (size_t len = 0; len <= sizeof msg; len++) {
    uint8_t want[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(want, msg, len);
    evc_sha256(msg, len, out);
    assert_memory_equal(out, want, sizeof want);
    struct evc_sha256 h;
    evc_sha256_init(&h);
    size_t done = 0, step = 1;
    while (done < len) {
      size_t n = step < len - done ? step : len - done;
      evc_sha256_update(&h, msg + done, n);
      done += n;
      step = step * 3 % 97 + 1;
    }
    evc_sha256_final(&h, out);
    assert_memory_equal(out, want, sizeof want);
  }
}

int main(void) {
#ifdef TEST_ALLOC_HOOK
  if (__sanitizer_install_malloc_and_free_hooks(record_alloc, record_free) == 0) return 1;
#endif
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(header_encoding_and_hash_match_known_answer),
      cmocka_unit_test(header_round_trip_is_byte_exact),
      cmocka_unit_test(header_size_only_and_small_capacity),
      cmocka_unit_test(every_header_truncation_is_rejected),
      cmocka_unit_test(header_trailing_byte_is_rejected),
      cmocka_unit_test(header_wrong_tag_is_rejected),
      cmocka_unit_test(header_unknown_version_is_rejected),
      cmocka_unit_test(header_height_zero_is_rejected),
      cmocka_unit_test(header_bad_chain_id_is_rejected),
      cmocka_unit_test(chain_id_set_enforces_limits),
      cmocka_unit_test(header_hash_changes_when_any_field_changes),
      cmocka_unit_test(signed_header_round_trip_is_byte_exact),
      cmocka_unit_test(every_signed_header_truncation_is_rejected),
      cmocka_unit_test(signed_header_wrong_tags_are_rejected),
      cmocka_unit_test(signature_verifies_only_the_signed_header),
      cmocka_unit_test(address_and_namespaces_match_known_answers),
      cmocka_unit_test(data_encoding_and_hash_match_known_answer),
      cmocka_unit_test(data_round_trip_is_byte_exact),
      cmocka_unit_test(every_data_truncation_is_rejected),
      cmocka_unit_test(data_wrong_tag_and_height_zero_are_rejected),
      cmocka_unit_test(data_tx_size_limits_are_enforced),
      cmocka_unit_test(data_tx_count_limits_are_enforced),
      cmocka_unit_test(data_size_limit_is_enforced),
      cmocka_unit_test(data_encoder_refuses_invalid_values),
      cmocka_unit_test(data_hash_changes_when_any_field_changes),
      cmocka_unit_test(mutated_encodings_decode_only_canonically),
      cmocka_unit_test(genesis_parse_emit_round_trip),
      cmocka_unit_test(genesis_accepts_both_integer_forms_and_hex_cases),
      cmocka_unit_test(genesis_errors_name_the_field),
      cmocka_unit_test(genesis_refuses_bad_documents),
      cmocka_unit_test(genesis_every_prefix_is_handled),
      cmocka_unit_test(genesis_emit_refuses_invalid_values),
      cmocka_unit_test(genesis_hash_matches_known_answer_and_covers_every_field),
      cmocka_unit_test(sha256_matches_known_answers_and_libsodium),
  };
  return cmocka_run_group_tests_name("types", tests, NULL, NULL);
}
