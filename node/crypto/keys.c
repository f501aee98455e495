/* Ed25519 key pairs, signatures and SHA-256 via libsodium. Pure: no files, no clock; the only
 * randomness is evc_keypair_generate, which the core must never reach. */
#include "node/crypto/crypto.h"

#include <sodium.h>

#include "node/common/assert.h"
#include "node/common/error.h"

_Static_assert(EVC_PUBKEY_SIZE == crypto_sign_PUBLICKEYBYTES, "ed25519 public key size");
_Static_assert(EVC_SECKEY_SIZE == crypto_sign_SECRETKEYBYTES, "ed25519 secret key size");
_Static_assert(EVC_SIG_SIZE == crypto_sign_BYTES, "ed25519 signature size");
_Static_assert(EVC_SEED_SIZE == crypto_sign_SEEDBYTES, "ed25519 seed size");
_Static_assert(EVC_HASH_SIZE == crypto_hash_sha256_BYTES, "sha-256 digest size");

int evc_crypto_init(void) {
  /* 0: initialised now, 1: already initialised, -1: failure. */
  if (sodium_init() < 0) return EVC_EIO;
  return 0;
}

void evc_keypair_from_seed(const uint8_t seed[EVC_SEED_SIZE], struct evc_keypair *out) {
  EVC_ASSERT(seed != NULL);
  EVC_ASSERT(out != NULL);
  int rc = crypto_sign_seed_keypair(out->pubkey, out->seckey, seed);
  EVC_ASSERT(rc == 0);
}

int evc_keypair_generate(struct evc_keypair *out) {
  EVC_ASSERT(out != NULL);
  uint8_t seed[EVC_SEED_SIZE];
  randombytes_buf(seed, sizeof seed);
  evc_keypair_from_seed(seed, out);
  sodium_memzero(seed, sizeof seed);
  return 0;
}

void evc_keypair_seed(const struct evc_keypair *kp, uint8_t seed_out[EVC_SEED_SIZE]) {
  EVC_ASSERT(kp != NULL);
  EVC_ASSERT(seed_out != NULL);
  int rc = crypto_sign_ed25519_sk_to_seed(seed_out, kp->seckey);
  EVC_ASSERT(rc == 0);
}

void evc_keypair_wipe(struct evc_keypair *kp) {
  EVC_ASSERT(kp != NULL);
  sodium_memzero(kp, sizeof *kp);
}

void evc_sign(const struct evc_keypair *kp, const uint8_t *msg, size_t size,
              uint8_t sig[EVC_SIG_SIZE]) {
  EVC_ASSERT(kp != NULL);
  EVC_ASSERT(msg != NULL || size == 0);
  EVC_ASSERT(sig != NULL);
  static const uint8_t empty[1] = {0};
  int rc = crypto_sign_detached(sig, NULL, size == 0 ? empty : msg, (unsigned long long)size,
                                kp->seckey);
  EVC_ASSERT(rc == 0);
}
