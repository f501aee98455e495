/* xoshiro256** streams seeded through SHA-256 (see rng.h). Deterministic on every compiler:
 * fixed-width unsigned arithmetic, explicit little-endian byte order, no floating point. */
#include "sim/rng.h"

#include <sodium.h>
#include <string.h>

#include "node/common/assert.h"

static uint64_t load_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void evc_sim_rng_init_stream(struct evc_sim_rng *rng, uint64_t seed, const char *name) {
  EVC_ASSERT(rng != NULL);
  EVC_ASSERT(name != NULL);
  uint8_t seed_le[8];
  for (int i = 0; i < 8; i++) seed_le[i] = (uint8_t)(seed >> (8 * i));
  crypto_hash_sha256_state sha;
  crypto_hash_sha256_init(&sha);
  crypto_hash_sha256_update(&sha, seed_le, sizeof seed_le);
  crypto_hash_sha256_update(&sha, (const uint8_t *)name, strlen(name));
  uint8_t digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&sha, digest);
  for (int i = 0; i < 4; i++) rng->state[i] = load_le64(digest + 8 * i);
  /* xoshiro's one forbidden state; SHA-256 reaching it is not a practical concern. */
  if ((rng->state[0] | rng->state[1] | rng->state[2] | rng->state[3]) == 0) rng->state[0] = 1;
}

uint64_t evc_sim_rng_next_u64(struct evc_sim_rng *rng) {
  EVC_ASSERT(rng != NULL);
  uint64_t *s = rng->state;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t evc_sim_rng_below(struct evc_sim_rng *rng, uint64_t n) {
  EVC_ASSERT(n > 0);
  /* Values below threshold would make some residues one more likely than others. */
  uint64_t threshold = (0 - n) % n;
  for (;;) {
    uint64_t r = evc_sim_rng_next_u64(rng);
    if (r >= threshold) return r % n;
  }
}

uint64_t evc_sim_rng_range_inclusive(struct evc_sim_rng *rng, uint64_t lo, uint64_t hi) {
  EVC_ASSERT(lo <= hi);
  if (hi - lo == UINT64_MAX) return evc_sim_rng_next_u64(rng);
  uint64_t v = lo + evc_sim_rng_below(rng, hi - lo + 1);
  EVC_ASSERT(v >= lo && v <= hi);
  return v;
}

bool evc_sim_rng_chance_ppm(struct evc_sim_rng *rng, uint32_t ppm) {
  if (ppm == 0) return false;
  if (ppm >= EVC_SIM_PPM_ONE) return true;
  return evc_sim_rng_below(rng, EVC_SIM_PPM_ONE) < ppm;
}

void evc_sim_rng_fill(struct evc_sim_rng *rng, uint8_t *out, size_t size) {
  EVC_ASSERT(out != NULL || size == 0);
  size_t offset = 0;
  while (offset < size) {
    uint64_t word = evc_sim_rng_next_u64(rng);
    for (int i = 0; i < 8 && offset < size; i++) out[offset++] = (uint8_t)(word >> (8 * i));
  }
}
