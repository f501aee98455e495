/* SHA-256, the one hash of the chain (header, data and app hashes, the genesis hash). It is
 * OpenSSL's implementation, which uses the CPU's SHA extensions where they exist: about four
 * times libsodium's portable code on short messages, and a block is hashed about ten times
 * on its way into the store (docs/performance.md). The result is SHA-256 either way. */
#ifndef EVC_TYPES_SHA256_H
#define EVC_TYPES_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define EVC_SHA256_SIZE 32

/* An incremental hash: init, update any number of times, final. Opaque storage sized for the
 * implementation's state (checked at compile time in sha256.c). */
struct evc_sha256 {
  _Alignas(16) unsigned char state[128];
};

void evc_sha256_init(struct evc_sha256 *h);
void evc_sha256_update(struct evc_sha256 *h, const void *bytes, size_t size);
void evc_sha256_final(struct evc_sha256 *h, uint8_t out[EVC_SHA256_SIZE]);
/* SHA-256 of size bytes, in one call; bytes may be NULL when size is 0. */
void evc_sha256(const void *bytes, size_t size, uint8_t out[EVC_SHA256_SIZE]);

#endif
