/* The fixed chain shared by the harnesses and fuzz/gen_corpus.c, so seeds signed by the
 * generator verify in the harness. It must stay deterministic: no randomness, no clock. */
#include "fuzz/fixture.h"

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
