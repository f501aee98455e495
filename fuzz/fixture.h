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

/* The two sides of a fuzzed P2P handshake (fuzz/fuzz_p2p.c mode 1): the harness plays the
 * local side, the seeds' hellos and signatures come from the remote side. Each has a fixed
 * node key and a fixed ephemeral X25519 key pair (32-byte keys). */
#define EVC_FUZZ_P2P_ADVERTISED "127.0.0.1:26656"
enum evc_fuzz_p2p_side { EVC_FUZZ_P2P_LOCAL, EVC_FUZZ_P2P_REMOTE };
void evc_fuzz_p2p_keys(enum evc_fuzz_p2p_side side, struct evc_keypair *node_out,
                       uint8_t eph_pk_out[32], uint8_t eph_sk_out[32]);

#endif
