/* The fixed chain the harnesses and the seed generator share: one genesis, one signer key
 * derived from a constant seed. Test-only: the key is public and must never sign anything
 * outside fuzzing. */
#ifndef EVC_FUZZ_FIXTURE_H
#define EVC_FUZZ_FIXTURE_H

#include "node/crypto/crypto.h"
#include "node/types/types.h"

#define EVC_FUZZ_CHAIN_ID "evc-fuzz-1"
#define EVC_FUZZ_INITIAL_HEIGHT 1u
#define EVC_FUZZ_GENESIS_TIME_NS 1700000000000000000ull

/* Initialises libsodium and fills the fixed key pair and genesis; aborts if it cannot. */
void evc_fuzz_fixture(struct evc_keypair *kp_out, struct evc_genesis *genesis_out);

#endif
