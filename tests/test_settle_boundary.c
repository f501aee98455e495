/* The settle wait at its exact boundary (DESIGN.md "Catchup", the DA bound L). A lost
 * sequencer's block lands late on DA; the recovered node, with no sign state, reads d0 and
 * must apply everything up to DA height d0 + L before producing:
 *  - landing at d0 + L: applied, and production continues on top of it;
 *  - landing at d0 + L + 1 (a DA that broke the bound): the node no longer waits, signs its
 *    own block at that height, and the DA follower catches the earlier foreign block signed
 *    by its key: failed, never a silent fork. */
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
#define TTL 3u

struct watch {
  struct evc_sim_node *seq;
  uint64_t d0;                   /* the node's settle base, read from its log */
  bool d0_known;
  uint64_t last_height;          /* from the first life */
  uint8_t last_hash[EVC_HASH_SIZE];
  uint64_t first_produced;       /* first height produced after the restart */
  uint8_t stored_at_next[EVC_HASH_SIZE];
  bool restarted;
};

static void observer(void *arg, struct evc_sim_node *node, const struct evc_observation *o) {
  struct watch *w = arg;
  if (node != w->seq) return;
  if (o->kind == EVC_OBS_BLOCK_STORED && !w->restarted) {
    w->last_height = o->height;
    memcpy(w->last_hash, o->hash, EVC_HASH_SIZE);
  }
  if (o->kind == EVC_OBS_BLOCK_STORED && w->restarted && o->height == w->last_height + 1 &&
      w->first_produced == 0) {
    memcpy(w->stored_at_next, o->hash, EVC_HASH_SIZE);
  }
  if (o->kind == EVC_OBS_BLOCK_PRODUCED && w->restarted && w->first_produced == 0) {
    w->first_produced = o->height;
  }
}

/* The node logs its settle base: "event=settle_target d0=N". */
static void trace_sink(void *arg, const char *line, size_t size) {
  struct watch *w = arg;
  const char *p = strstr(line, "event=settle_target d0=");
  if (p == NULL || w->d0_known || !w->restarted) return;
  w->d0 = strtoull(p + strlen("event=settle_target d0="), NULL, 10);
  w->d0_known = true;
  (void)size;
}

static bool d0_known(void *arg) { return ((struct watch *)arg)->d0_known; }

static bool is_down(void *arg) {
  struct evc_sim_node_view v;
  evc_sim_node_get_view(arg, &v);
  return v.state == EVC_SIM_NODE_DOWN;
}

/* Finds the signed header of `height` on DA. */
static void header_from_da(struct evc_sim *sim, uint64_t height, struct evc_signed_header *out) {
  const struct evc_genesis *g = evc_sim_genesis(sim);
  for (uint64_t h = 1; h <= evc_sim_da_head(sim); h++) {
    const struct evc_da_blob *blobs;
    size_t count;
    assert_int_equal(evc_sim_da_blobs_at(sim, h, &blobs, &count), 0);
    for (size_t i = 0; i < count; i++) {
      if (memcmp(blobs[i].namespace_id, g->header_namespace, EVC_NAMESPACE_SIZE) != 0) continue;
      if (evc_signed_header_decode(blobs[i].bytes, blobs[i].size, out) == 0 &&
          out->header.height == height) {
        return;
      }
    }
  }
  fail_msg("height %llu is not on DA", (unsigned long long)height);
}

/* The block the lost sequencer signed at height + 1 but never saw included. */
static void inject_late_block(struct evc_sim *sim, struct evc_sim_node *seq,
                              const struct evc_signed_header *prev, uint64_t at_da_height) {
  const struct evc_genesis *g = evc_sim_genesis(sim);
  struct evc_data data = {.chain_id = g->chain_id, .height = prev->header.height + 1};
  uint8_t data_bytes[128], header_bytes[EVC_SIGNED_HEADER_SIZE_MAX];
  size_t data_size = 0, header_size = 0;
  assert_int_equal(evc_data_encode(&data, data_bytes, sizeof data_bytes, &data_size), 0);
  struct evc_signed_header sh;
  memset(&sh, 0, sizeof sh);
  sh.header = prev->header; /* same chain, proposer, app hash (no txs: state unchanged) */
  sh.header.height = prev->header.height + 1;
  sh.header.time_ns = prev->header.time_ns + 1000;
  assert_int_equal(evc_header_hash(&prev->header, sh.header.last_header_hash), 0);
  evc_sha256(data_bytes, data_size, sh.header.data_hash);
  assert_int_equal(evc_signed_header_sign(&sh, evc_sim_node_signer(seq)->seckey), 0);
  assert_int_equal(evc_signed_header_encode(&sh, header_bytes, sizeof header_bytes, &header_size), 0);
  struct evc_da_blob blobs[2];
  memset(blobs, 0, sizeof blobs);
  memcpy(blobs[0].namespace_id, g->header_namespace, EVC_NAMESPACE_SIZE);
  blobs[0].bytes = header_bytes;
  blobs[0].size = header_size;
  memcpy(blobs[1].namespace_id, g->data_namespace, EVC_NAMESPACE_SIZE);
  blobs[1].bytes = data_bytes;
  blobs[1].size = data_size;
  assert_int_equal(evc_sim_da_inject(sim, blobs, 2, at_da_height), 0);
}

static struct evc_sim *world(struct watch *w) {
  struct evc_sim_config cfg;
  evc_sim_config_default(&cfg);
  cfg.seed = 11;
  cfg.txs_per_block = 0;
  cfg.da_mempool_ttl_blocks = TTL;
  cfg.da_inclusion_delay_min_ns = 0;
  cfg.da_inclusion_delay_max_ns = 500 * MS;
  struct evc_sim *sim = NULL;
  assert_int_equal(evc_sim_new(&cfg, &sim), 0);
  struct evc_sim_node_params p;
  memset(&p, 0, sizeof p);
  p.name = "seq";
  p.role = "aggregator";
  p.node_class = &evc_sim_aggregator_class;
  assert_int_equal(evc_sim_add_node(sim, &p, &w->seq), 0);
  struct evc_sign_state s;
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_sign_state_init_empty(0, &s), 0);
  assert_int_equal(evc_sign_state_encode(&s, &bytes, &size), 0);
  assert_int_equal(evc_simdisk_replace(evc_sim_node_disk(w->seq), EVC_SIGN_STATE_FILE, bytes, size), 0);
  free(bytes);
  evc_sign_state_release(&s);
  assert_int_equal(evc_sim_add_observer(sim, observer, w), 0);
  evc_sim_set_trace_sink(sim, trace_sink, w);
  return sim;
}

/* Runs a first life, loses the machine, restarts, waits until the node has fixed its settle
 * base d0, injects the late block `offset` DA heights above it, and runs 15 s. */
static struct evc_sim *lose_and_restart(struct watch *w, uint64_t offset, uint64_t *d0_out) {
  struct evc_sim *sim = world(w);
  assert_int_equal(evc_sim_node_start(w->seq, NULL), 0);
  assert_int_equal(evc_sim_run_until(sim, 5 * SEC), 0);
  assert_int_equal(evc_sim_node_stop(w->seq), 0); /* drains: every block reaches DA */
  bool held = false;
  assert_int_equal(evc_sim_run_until_predicate(sim, 40 * SEC, is_down, w->seq, &held), 0);
  assert_true(held);
  struct evc_signed_header last;
  header_from_da(sim, w->last_height, &last);
  assert_int_equal(evc_sim_node_lose_machine(w->seq), 0);
  w->restarted = true;
  struct evc_sim_start_options o;
  evc_sim_start_options_default(&o);
  o.inbound_grace_ms = 100;
  assert_int_equal(evc_sim_node_start(w->seq, &o), 0);
  held = false;
  assert_int_equal(evc_sim_run_until_predicate(sim, evc_sim_now(sim) + 5 * SEC, d0_known, w, &held), 0);
  assert_true(held);
  assert_true(w->d0 >= evc_sim_da_head(sim) - 1); /* not below the head it started at */
  inject_late_block(sim, w->seq, &last, w->d0 + offset);
  assert_int_equal(evc_sim_run_until(sim, evc_sim_now(sim) + 15 * SEC), 0);
  *d0_out = w->d0;
  return sim;
}

static void late_block_at_d0_plus_l_is_applied_before_producing(void **state) {
  (void)state;
  struct watch w;
  memset(&w, 0, sizeof w);
  uint64_t d0 = 0;
  struct evc_sim *sim = lose_and_restart(&w, TTL, &d0);
  struct evc_sim_node_view v;
  evc_sim_node_get_view(w.seq, &v);
  assert_string_equal(v.mode, "producing");
  assert_int_equal(w.first_produced, w.last_height + 2); /* on top of the late block */
  assert_true(evc_sim_node_counter(w.seq, "late_blobs_landed") >= 1);
  evc_sim_free(sim);
}

static void late_block_beyond_the_bound_is_caught_not_forked(void **state) {
  (void)state;
  struct watch w;
  memset(&w, 0, sizeof w);
  uint64_t d0 = 0;
  struct evc_sim *sim = lose_and_restart(&w, TTL + 1, &d0);
  struct evc_sim_node_view v;
  evc_sim_node_get_view(w.seq, &v);
  assert_int_equal(w.first_produced, w.last_height + 1); /* the settle wait ended at d0 + L */
  assert_string_equal(v.mode, "failed");
  assert_true(evc_sim_node_counter(w.seq, "own_key_conflicts_detected") >= 1);
  evc_sim_free(sim);
}

int main(void) {
  evc_crypto_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(late_block_at_d0_plus_l_is_applied_before_producing),
      cmocka_unit_test(late_block_beyond_the_bound_is_caught_not_forked),
  };
  return cmocka_run_group_tests_name("settle_boundary", tests, NULL, NULL);
}
