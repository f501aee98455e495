/* The fixed chain shared by the harnesses and fuzz/gen_corpus.c, so seeds signed by the
 * generator verify in the harness. It must stay deterministic: no randomness, no clock. */
#include "fuzz/fixture.h"

#include <sodium.h>
#include <string.h>

#include "node/common/assert.h"

void evc_fuzz_fixture(struct evc_keypair *kp_out, struct evc_genesis *genesis_out) {
  EVC_ASSERT(evc_crypto_init() == 0);
  uint8_t seed[EVC_SEED_SIZE];
  memset(seed, 0x5a, sizeof seed);
  evc_keypair_from_seed(seed, kp_out);
  memset(genesis_out, 0, sizeof *genesis_out);
  EVC_ASSERT(evc_chain_id_set(&genesis_out->chain_id, EVC_FUZZ_CHAIN_ID,
                              strlen(EVC_FUZZ_CHAIN_ID)) == 0);
  genesis_out->initial_height = EVC_FUZZ_INITIAL_HEIGHT;
  genesis_out->genesis_time_ns = EVC_FUZZ_GENESIS_TIME_NS;
  memcpy(genesis_out->proposer_pubkey, kp_out->pubkey, EVC_PUBKEY_SIZE);
  genesis_out->da_start_height = 1;
  evc_namespace_from_string("evc-fuzz-headers", genesis_out->header_namespace);
  evc_namespace_from_string("evc-fuzz-data", genesis_out->data_namespace);
}

void evc_fuzz_p2p_keys(enum evc_fuzz_p2p_side side, struct evc_keypair *node_out,
                       uint8_t eph_pk_out[32], uint8_t eph_sk_out[32]) {
  EVC_ASSERT(evc_crypto_init() == 0);
  _Static_assert(crypto_kx_SEEDBYTES == EVC_SEED_SIZE && crypto_kx_PUBLICKEYBYTES == 32 &&
                     crypto_kx_SECRETKEYBYTES == 32, "32-byte X25519 keys and seeds");
  uint8_t seed[EVC_SEED_SIZE];
  memset(seed, side == EVC_FUZZ_P2P_LOCAL ? 0x6b : 0x7b, sizeof seed);
  evc_keypair_from_seed(seed, node_out);
  memset(seed, side == EVC_FUZZ_P2P_LOCAL ? 0x6c : 0x7c, sizeof seed);
  EVC_ASSERT(crypto_kx_seed_keypair(eph_pk_out, eph_sk_out, seed) == 0);
}
