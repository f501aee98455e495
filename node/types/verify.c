/* ed25519 verification and the simulator's memo of results (node/types/verify.h). */
#include "node/types/verify.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/types/sha256.h"

struct memo_slot {
  bool used;
  bool valid; /* the verification's result */
  uint8_t key[EVC_SHA256_SIZE];
};

struct evc_verify_memo {
  struct memo_slot slots[EVC_VERIFY_MEMO_SLOTS];
  uint64_t hits;
  uint64_t misses;
};

static struct evc_verify_memo *installed;

static bool curve_verify(const uint8_t sig[64], const uint8_t *msg, size_t size,
                         const uint8_t pubkey[32]) {
  static const uint8_t empty[1] = {0};
  if (sodium_init() < 0) return false;
  return crypto_sign_verify_detached(sig, size == 0 ? empty : msg, (unsigned long long)size,
                                     pubkey) == 0;
}

int evc_verify(const uint8_t pubkey[32], const uint8_t *msg, size_t size, const uint8_t sig[64]) {
  EVC_ASSERT(sig != NULL);
  EVC_ASSERT(msg != NULL || size == 0);
  EVC_ASSERT(pubkey != NULL);
  struct evc_verify_memo *m = installed;
  if (m == NULL) return curve_verify(sig, msg, size, pubkey) ? 0 : EVC_ESIG;
  /* The key covers every input byte (the message by its length and bytes), so a hit is the
   * same question asked again. */
  uint8_t key[EVC_SHA256_SIZE];
  uint8_t len[8];
  for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)size >> (8 * i));
  struct evc_sha256 h;
  evc_sha256_init(&h);
  evc_sha256_update(&h, pubkey, 32);
  evc_sha256_update(&h, sig, 64);
  evc_sha256_update(&h, len, sizeof len);
  evc_sha256_update(&h, msg, size);
  evc_sha256_final(&h, key);
  struct memo_slot *s = &m->slots[((uint32_t)key[0] | (uint32_t)key[1] << 8) % EVC_VERIFY_MEMO_SLOTS];
  if (s->used && memcmp(s->key, key, sizeof key) == 0) {
    m->hits++;
    return s->valid ? 0 : EVC_ESIG;
  }
  m->misses++;
  bool valid = curve_verify(sig, msg, size, pubkey);
  s->used = true;
  s->valid = valid;
  memcpy(s->key, key, sizeof key);
  return valid ? 0 : EVC_ESIG;
}

int evc_verify_memo_new(struct evc_verify_memo **out) {
  EVC_ASSERT(out != NULL);
  *out = calloc(1, sizeof **out);
  return *out == NULL ? EVC_ENOMEM : 0;
}

void evc_verify_memo_free(struct evc_verify_memo *m) {
  if (m == NULL) return;
  EVC_ASSERT(installed != m);
  free(m);
}

void evc_verify_memo_install(struct evc_verify_memo *m) { installed = m; }

void evc_verify_memo_stats(const struct evc_verify_memo *m, uint64_t *hits, uint64_t *misses) {
  EVC_ASSERT(m != NULL);
  if (hits != NULL) *hits = m->hits;
  if (misses != NULL) *misses = m->misses;
}
