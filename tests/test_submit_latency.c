/* The submitter under slow DA inclusion. A Submit call stays in flight until its blobs land;
 * with blobs taking 16-17 s to land (DA block 2 s, L = 10) and calls starting every quarter
 * DA block, about 36 calls are in flight at once. If the submitter kept fewer, a block would
 * wait for a free call on top of the inclusion delay, and the liveness bound (DESIGN.md: the
 * maximum inclusion delay plus two DA block times) would not hold for every block. This test
 * measures each block's time from production to being seen final by its own sequencer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/error.h"
#include "node/crypto/crypto.h"
#include "node/crypto/sign_state.h"
#include "sim/evc_nodes.h"
#include "sim/sim.h"
#include "sim/simdisk.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define HEIGHTS_MAX 4096u

struct latency {
  struct evc_sim *sim;
  uint64_t produced_at[HEIGHTS_MAX];
  uint64_t included_at[HEIGHTS_MAX];
};

static void observer(void *arg, struct evc_sim_node *node, const struct evc_observation *o) {
  struct latency *l = arg;
  (void)node;
  if (o->height == 0 || o->height >= HEIGHTS_MAX) return;
  if (o->kind == EVC_OBS_BLOCK_PRODUCED) l->produced_at[o->height] = evc_sim_now(l->sim);
  /* DA_INCLUDED at h: every block up to h is final (the follower finalises in order). */
  if (o->kind == EVC_OBS_DA_INCLUDED) {
    for (uint64_t h = o->height; h > 0 && l->included_at[h] == 0; h--) {
      l->included_at[h] = evc_sim_now(l->sim);
    }
  }
}

static void every_block_lands_within_the_liveness_bound(void **state) {
  (void)state;
  struct evc_sim_config cfg;
  evc_sim_config_default(&cfg);
  cfg.seed = 3;
  cfg.block_time_ns = 100 * MS;
  cfg.da_block_time_ns = 2 * SEC;
  cfg.da_mempool_ttl_blocks = 10;
  cfg.da_inclusion_delay_min_ns = 16 * SEC;
  cfg.da_inclusion_delay_max_ns = 17 * SEC;
  struct latency *l = calloc(1, sizeof *l);
  assert_non_null(l);
  assert_int_equal(evc_sim_new(&cfg, &l->sim), 0);
  struct evc_sim_node_params p;
  memset(&p, 0, sizeof p);
  p.name = "seq";
  p.role = "aggregator";
  p.node_class = &evc_sim_aggregator_class;
  struct evc_sim_node *seq = NULL;
  assert_int_equal(evc_sim_add_node(l->sim, &p, &seq), 0);
  /* An initialised key (sign state at genesis), so the node produces from the start. */
  struct evc_sign_state s;
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_sign_state_init_empty(0, &s), 0);
  assert_int_equal(evc_sign_state_encode(&s, &bytes, &size), 0);
  assert_int_equal(evc_simdisk_replace(evc_sim_node_disk(seq), EVC_SIGN_STATE_FILE, bytes, size), 0);
  free(bytes);
  evc_sign_state_release(&s);
  assert_int_equal(evc_sim_add_observer(l->sim, observer, l), 0);
  assert_int_equal(evc_sim_node_start(seq, NULL), 0);
  assert_int_equal(evc_sim_run_until(l->sim, 90 * SEC), 0);

  uint64_t bound = cfg.da_inclusion_delay_max_ns + 2 * cfg.da_block_time_ns;
  uint64_t checked = 0, worst = 0;
  for (uint64_t h = 1; h < HEIGHTS_MAX; h++) {
    uint64_t at = l->produced_at[h];
    if (at == 0 || at + bound > 90 * SEC) continue;
    if (l->included_at[h] == 0) fail_msg("height %llu produced at %llu ms is not final at 90 s", (unsigned long long)h, (unsigned long long)(at / MS));
    uint64_t took = l->included_at[h] - at;
    if (took > worst) worst = took;
    checked++;
  }
  assert_true(checked > 500); /* 10 blocks/s for the first ~70 s */
  print_message("blocks checked %llu, worst production-to-final %llu ms, bound %llu ms\n",
                (unsigned long long)checked, (unsigned long long)(worst / MS),
                (unsigned long long)(bound / MS));
  assert_true(worst <= bound);
  evc_sim_free(l->sim);
  free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_block_lands_within_the_liveness_bound),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
