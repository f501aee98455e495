/* Seeded, splittable randomness for the simulator: xoshiro256** streams whose state is
 * SHA-256(le64(seed) || name), so every named stream is independent of the others.
 * Integer arithmetic only: never floating point, never a clock or the OS random source. */
#ifndef EVC_SIM_RNG_H
#define EVC_SIM_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVC_SIM_PPM_ONE 1000000u /* parts per million: 1000000 ppm is certainty */

struct evc_sim_rng {
  uint64_t state[4];
};

/* Derives the stream called name from seed (state = SHA-256(le64(seed) || name)). */
void evc_sim_rng_init_stream(struct evc_sim_rng *rng, uint64_t seed, const char *name);
/* Returns the next 64 random bits of the stream. */
uint64_t evc_sim_rng_next_u64(struct evc_sim_rng *rng);
/* Returns a uniform value in [0, n), n > 0, without modulo bias (rejection sampling). */
uint64_t evc_sim_rng_below(struct evc_sim_rng *rng, uint64_t n);
/* Returns a uniform value in [lo, hi], lo <= hi. */
uint64_t evc_sim_rng_range_inclusive(struct evc_sim_rng *rng, uint64_t lo, uint64_t hi);
/* True with probability ppm / 1000000; draws nothing for ppm 0 or ppm >= 1000000. */
bool evc_sim_rng_chance_ppm(struct evc_sim_rng *rng, uint32_t ppm);
/* Fills out with size random bytes (little-endian words of the stream). */
void evc_sim_rng_fill(struct evc_sim_rng *rng, uint8_t *out, size_t size);

#endif
