/* SHA-256 through OpenSSL's low-level interface: the EVP one-shot allocates a context per
 * call, which costs more than hashing a header. The 1.1.1 API level keeps these functions
 * free of deprecation warnings; they exist in every OpenSSL 3 release. */
#define OPENSSL_API_COMPAT 10101
#include "node/types/sha256.h"

#include <openssl/sha.h>
#include <stdalign.h>

#include "node/common/assert.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct evc_sha256 *)0)->state),
               "struct evc_sha256 holds a SHA256_CTX");
_Static_assert(alignof(SHA256_CTX) <= 16, "struct evc_sha256 is aligned for a SHA256_CTX");
_Static_assert(EVC_SHA256_SIZE == SHA256_DIGEST_LENGTH, "SHA-256 digests are 32 bytes");

static SHA256_CTX *ctx_of(struct evc_sha256 *h) { return (SHA256_CTX *)(void *)h->state; }

void evc_sha256_init(struct evc_sha256 *h) {
  EVC_ASSERT(h != NULL);
  int ok = SHA256_Init(ctx_of(h));
  EVC_ASSERT(ok == 1);
}

void evc_sha256_update(struct evc_sha256 *h, const void *bytes, size_t size) {
  EVC_ASSERT(h != NULL);
  EVC_ASSERT(bytes != NULL || size == 0);
  if (size == 0) return;
  int ok = SHA256_Update(ctx_of(h), bytes, size);
  EVC_ASSERT(ok == 1);
}

void evc_sha256_final(struct evc_sha256 *h, uint8_t out[EVC_SHA256_SIZE]) {
  EVC_ASSERT(h != NULL);
  EVC_ASSERT(out != NULL);
  int ok = SHA256_Final(out, ctx_of(h));
  EVC_ASSERT(ok == 1);
}

void evc_sha256(const void *bytes, size_t size, uint8_t out[EVC_SHA256_SIZE]) {
  struct evc_sha256 h;
  evc_sha256_init(&h);
  evc_sha256_update(&h, bytes, size);
  evc_sha256_final(&h, out);
}
