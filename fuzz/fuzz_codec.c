/* Codec harness: the chain types' decoders and the sign state decoder on arbitrary bytes.
 * Property: decoding accepts one canonical encoding per value, so anything that decodes
 * re-encodes to exactly the input bytes. It must never crash, leak or read past the input.
 *
 * Input: data[0] selects the decoder (mod CODEC_MODE_COUNT), data[1..] is what it decodes. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fixture.h"
#include "fuzz/fuzz.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/crypto/sign_state.h"

enum codec_mode {
  CODEC_HEADER,
  CODEC_SIGNED_HEADER,
  CODEC_DATA,
  CODEC_SIGN_STATE,
  /* The checksum is recomputed first, so mutations reach the checks behind it. */
  CODEC_SIGN_STATE_RECHECKSUM,
  CODEC_MODE_COUNT,
};

static struct evc_keypair fixture_kp;
static struct evc_genesis fixture_genesis;
static bool fixture_ready;

static void check_header(const uint8_t *bytes, size_t size) {
  struct evc_header h;
  if (evc_header_decode(bytes, size, &h) != 0) return;
  uint8_t out[EVC_HEADER_SIZE_MAX];
  size_t out_size = 0;
  EVC_ASSERT(evc_header_encode(&h, out, sizeof out, &out_size) == 0);
  EVC_ASSERT(out_size == size);
  EVC_ASSERT(memcmp(out, bytes, size) == 0);
  /* The block hash is the hash of exactly these bytes. */
  uint8_t hash[EVC_HASH_SIZE], expected[EVC_HASH_SIZE];
  EVC_ASSERT(evc_header_hash(&h, hash) == 0);
  evc_sha256(bytes, size, expected);
  EVC_ASSERT(memcmp(hash, expected, EVC_HASH_SIZE) == 0);
}

static void check_signed_header(const uint8_t *bytes, size_t size) {
  struct evc_signed_header sh;
  if (evc_signed_header_decode(bytes, size, &sh) != 0) return;
  uint8_t out[EVC_SIGNED_HEADER_SIZE_MAX];
  size_t out_size = 0;
  EVC_ASSERT(evc_signed_header_encode(&sh, out, sizeof out, &out_size) == 0);
  EVC_ASSERT(out_size == size);
  EVC_ASSERT(memcmp(out, bytes, size) == 0);
  /* The embedded header is a canonical header encoding of its own. */
  size_t header_size = 0;
  EVC_ASSERT(evc_header_encode(&sh.header, NULL, 0, &header_size) == 0);
  EVC_ASSERT(1 + header_size + EVC_SIG_SIZE == size);
  int rc = evc_signed_header_verify(&sh, fixture_genesis.proposer_pubkey);
  EVC_ASSERT(rc == 0 || rc == EVC_ESIG);
}

static void check_data(const uint8_t *bytes, size_t size) {
  struct evc_data d;
  if (evc_data_decode(bytes, size, &d) != 0) return;
  EVC_ASSERT(d.tx_count <= EVC_TXS_PER_BLOCK_MAX);
  for (uint32_t i = 0; i < d.tx_count; i++) {
    EVC_ASSERT(d.txs[i].size >= 1 && d.txs[i].size <= EVC_TX_SIZE_MAX);
    EVC_ASSERT(d.txs[i].bytes >= bytes && d.txs[i].bytes + d.txs[i].size <= bytes + size);
  }
  size_t out_size = 0;
  EVC_ASSERT(evc_data_encode(&d, NULL, 0, &out_size) == 0);
  EVC_ASSERT(out_size == size);
  uint8_t *out = malloc(size);
  EVC_ASSERT(out != NULL);
  EVC_ASSERT(evc_data_encode(&d, out, size, &out_size) == 0);
  EVC_ASSERT(out_size == size);
  EVC_ASSERT(memcmp(out, bytes, size) == 0);
  free(out);
  uint8_t hash[EVC_HASH_SIZE], expected[EVC_HASH_SIZE];
  EVC_ASSERT(evc_data_hash(&d, hash) == 0);
  evc_sha256(bytes, size, expected);
  EVC_ASSERT(memcmp(hash, expected, EVC_HASH_SIZE) == 0);
  evc_data_release(&d);
}

static void check_sign_state(const uint8_t *bytes, size_t size) {
  struct evc_sign_state s;
  int rc = evc_sign_state_decode(bytes, size, &fixture_genesis, &s);
  if (rc != 0) {
    EVC_ASSERT(rc == EVC_ECORRUPT || rc == EVC_EVERSION || rc == EVC_EVALIDATE ||
               rc == EVC_ENOMEM);
    return;
  }
  EVC_ASSERT(s.height >= fixture_genesis.initial_height - 1);
  if (s.has_block) {
    EVC_ASSERT(s.height == s.signed_header.header.height);
    EVC_ASSERT(evc_signed_header_verify(&s.signed_header, fixture_genesis.proposer_pubkey) == 0);
  }
  uint8_t *out = NULL;
  size_t out_size = 0;
  EVC_ASSERT(evc_sign_state_encode(&s, &out, &out_size) == 0);
  EVC_ASSERT(out_size == size);
  EVC_ASSERT(memcmp(out, bytes, size) == 0);
  free(out);
  evc_sign_state_release(&s);
}

/* Recomputes the trailing SHA-256 over everything before it, as the encoder writes it. */
static void check_sign_state_rechecksum(const uint8_t *bytes, size_t size) {
  if (size < EVC_SIGN_STATE_FIXED_SIZE || size > EVC_SIGN_STATE_SIZE_MAX) {
    check_sign_state(bytes, size);
    return;
  }
  uint8_t *copy = malloc(size);
  EVC_ASSERT(copy != NULL);
  memcpy(copy, bytes, size);
  evc_sha256(copy, size - EVC_HASH_SIZE, copy + size - EVC_HASH_SIZE);
  check_sign_state(copy, size);
  free(copy);
}

int evc_fuzz_codec(const uint8_t *data, size_t size) {
  if (!fixture_ready) {
    evc_fuzz_fixture(&fixture_kp, &fixture_genesis);
    fixture_ready = true;
  }
  if (size == 0) return 0;
  const uint8_t *bytes = data + 1;
  size_t bytes_size = size - 1;
  switch ((enum codec_mode)(data[0] % CODEC_MODE_COUNT)) {
  case CODEC_HEADER: check_header(bytes, bytes_size); break;
  case CODEC_SIGNED_HEADER: check_signed_header(bytes, bytes_size); break;
  case CODEC_DATA: check_data(bytes, bytes_size); break;
  case CODEC_SIGN_STATE: check_sign_state(bytes, bytes_size); break;
  case CODEC_SIGN_STATE_RECHECKSUM: check_sign_state_rechecksum(bytes, bytes_size); break;
  case CODEC_MODE_COUNT: EVC_UNREACHABLE();
  }
  return 0;
}
