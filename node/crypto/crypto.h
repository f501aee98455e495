/* Ed25519 keys, signatures and SHA-256 on top of libsodium: pure functions, usable by the core.
 * Nothing here touches a file, a clock or the network; only evc_keypair_generate draws
 * randomness, and the core must never call it (keys reach the core as seeds). */
#ifndef EVC_CRYPTO_CRYPTO_H
#define EVC_CRYPTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "node/types/sha256.h" /* evc_sha256 */
#include "node/types/types.h"
#include "node/types/verify.h" /* evc_verify */

#define EVC_SEED_SIZE 32

struct evc_keypair {
  uint8_t pubkey[EVC_PUBKEY_SIZE];
  uint8_t seckey[EVC_SECKEY_SIZE]; /* libsodium layout: seed(32) || pubkey(32) */
};

/* Initialises libsodium (idempotent); EVC_EIO if it cannot. Call once before anything else. */
int evc_crypto_init(void);
/* Derives a key pair deterministically from a 32-byte seed (RFC 8032 key generation). */
void evc_keypair_from_seed(const uint8_t seed[EVC_SEED_SIZE], struct evc_keypair *out);
/* Generates a fresh random key pair (live runtime and CLIs only, never the core); EVC_EIO. */
int evc_keypair_generate(struct evc_keypair *out);
/* Copies the 32-byte seed the key pair was derived from into seed_out. */
void evc_keypair_seed(const struct evc_keypair *kp, uint8_t seed_out[EVC_SEED_SIZE]);
/* Overwrites the key pair with zeros in a way the compiler cannot elide. */
void evc_keypair_wipe(struct evc_keypair *kp);
/* Detached ed25519 signature of msg with kp's secret key. */
void evc_sign(const struct evc_keypair *kp, const uint8_t *msg, size_t size,
              uint8_t sig[EVC_SIG_SIZE]);

#endif
