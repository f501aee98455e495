/* The catchup decision, rule by rule (DESIGN.md "Catchup"; docs/catchup.md), driven without a
 * runtime: each test builds the facts a node would hold and checks the action and its text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "node/common/error.h"
#include "node/core/catchup.h"

/* A sequencer restarted with its sign state intact at S = 10, store at 10, DA caught up. */
static struct evc_catchup_facts intact(uint64_t s, uint64_t h) {
  struct evc_catchup_facts f;
  memset(&f, 0, sizeof f);
  f.sign_status = EVC_SIGN_INTACT;
  f.sign_height = s;
  f.local_height = h;
  f.highest_known_height = h;
  f.da_caught_up = true;
  f.peek_done = true;
  return f;
}

static struct evc_catchup_facts absent(uint32_t known_peers) {
  struct evc_catchup_facts f = intact(0, 5);
  f.sign_status = EVC_SIGN_ABSENT;
  f.sign_height = 0;
  f.known_peer_count = known_peers;
  return f;
}

static enum evc_catchup_action decide(const struct evc_catchup_facts *f,
                                      struct evc_catchup_decision *d) {
  evc_catchup_decide(f, d);
  if (d->action == EVC_CATCHUP_WAIT) {
    assert_non_null(d->waiting_for);
  } else {
    assert_non_null(d->reason);
  }
  return d->action;
}

static void intact_at_sign_height_drains_without_waiting(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = intact(10, 10);
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_DRAIN);
  assert_false(d.equivocation_override);
}

static void nothing_decided_before_da_caught_up(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = intact(10, 10);
  f.da_caught_up = false;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  assert_non_null(strstr(d.waiting_for, "DA"));
  f = absent(1);
  f.da_caught_up = false;
  f.known_peers_answered = 1;
  f.peers_answered = 1;
  f.settle_reached = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
}

static void intact_waits_for_the_peek(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = intact(10, 10);
  f.peek_done = false;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  assert_non_null(strstr(d.waiting_for, "peek"));
}

static void one_behind_applies_the_signed_block(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = intact(10, 9);
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_APPLY_SIGNED_BLOCK);
}

static void far_behind_waits_for_settle_and_timeout_then_fails_closed(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = intact(10, 7);
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  assert_non_null(strstr(d.waiting_for, "settle"));
  f.settle_reached = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  f.settle_reached = false;
  f.p2p_timeout_expired = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  f.settle_reached = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_FAIL);
}

static void far_behind_with_da_only_drains_with_override(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = intact(10, 7);
  f.settle_reached = true;
  f.p2p_timeout_expired = true;
  f.da_only = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_DRAIN);
  assert_true(d.equivocation_override);
}

static void invalid_sign_state_fails_at_once(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = intact(10, 10);
  f.sign_status = EVC_SIGN_INVALID;
  f.da_caught_up = false;
  f.da_only = true; /* the override never covers a bad sign state */
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_FAIL);
}

static void sign_state_conflicting_with_store_fails_at_once(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = intact(10, 12);
  f.sign_block_conflicts = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_FAIL);
}

static void evidence_above_sign_height_marks_it_stale(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = intact(10, 11);
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_MARK_STALE);
  f = intact(10, 8);
  f.highest_known_height = 11; /* a block above S seen on DA */
  f.da_caught_up = false;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_MARK_STALE);
  f = intact(10, 10);
  f.peer_signed_height_max = 11; /* the peek */
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_MARK_STALE);
}

static void stale_is_treated_as_absent(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = intact(10, 11);
  f.sign_status = EVC_SIGN_STALE;
  f.known_peer_count = 0;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  assert_non_null(strstr(d.waiting_for, "grace"));
  f.inbound_grace_expired = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  assert_non_null(strstr(d.waiting_for, "settle"));
  f.settle_reached = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_DRAIN);
}

static void absent_waits_for_every_known_peer(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = absent(2);
  f.settle_reached = true;
  f.known_peers_answered = 1;
  f.peers_answered = 1;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  assert_non_null(strstr(d.waiting_for, "known peer"));
  f.known_peers_answered = 2;
  f.peers_answered = 2;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_DRAIN);
}

static void absent_proceeds_at_timeout_when_one_peer_answered(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = absent(2);
  f.settle_reached = true;
  f.known_peers_answered = 1;
  f.peers_answered = 1;
  f.p2p_timeout_expired = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_DRAIN);
}

static void absent_fails_closed_when_no_known_peer_answered(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = absent(2);
  f.settle_reached = true;
  f.p2p_timeout_expired = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_FAIL);
  f.da_only = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_DRAIN);
  assert_true(d.equivocation_override);
}

static void da_only_without_sign_state_still_waits_for_settle(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = absent(3); /* found by the catchup fuzzer */
  f.da_only = true;
  f.p2p_timeout_expired = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  assert_non_null(strstr(d.waiting_for, "settle"));
  f.settle_reached = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_DRAIN);
  assert_true(d.equivocation_override);
  f = absent(1);
  f.known_peers_answered = 1;
  f.peers_answered = 1;
  f.peer_signed_height_max = 9;
  f.p2p_timeout_expired = true;
  f.da_only = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  f.settle_reached = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_DRAIN);
  assert_true(d.equivocation_override);
}

static void absent_without_peers_waits_for_grace_then_settle(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = absent(0);
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  assert_non_null(strstr(d.waiting_for, "grace"));
  f.inbound_grace_expired = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  assert_non_null(strstr(d.waiting_for, "settle"));
  f.settle_reached = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_DRAIN);
}

static void proven_peer_height_holds_catchup_then_fails_closed(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = absent(1);
  f.known_peers_answered = 1;
  f.peers_answered = 1;
  f.settle_reached = true;
  f.peer_signed_height_max = 9; /* local is 5 */
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  f.p2p_timeout_expired = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_FAIL);
  f.local_height = 9; /* fetched */
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_DRAIN);
}

static void da_blocks_above_a_gap_fail_closed_even_under_da_only(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = absent(0); /* found by a swarm sweep */
  f.inbound_grace_expired = true;
  f.da_height_above = 9; /* local is 5 */
  f.settle_reached = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_WAIT);
  f.p2p_timeout_expired = true;
  f.da_only = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_FAIL);
  f = intact(10, 6);
  f.da_height_above = 8;
  f.settle_reached = true;
  f.p2p_timeout_expired = true;
  f.da_only = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_FAIL);
  f.da_height_above = 0;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_DRAIN);
  assert_true(d.equivocation_override);
}

static void stop_during_catchup_is_a_stop_not_success(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = intact(10, 10);
  f.stop_requested = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_STOP);
}

static void fatal_error_fails_before_anything_else(void **state) {
  (void)state;
  struct evc_catchup_decision d;
  struct evc_catchup_facts f = intact(10, 10);
  f.fatal_error = EVC_EIO;
  f.stop_requested = true;
  assert_int_equal(decide(&f, &d), EVC_CATCHUP_FAIL);
}

static void mode_names_round_trip(void **state) {
  (void)state;
  for (int m = 0; m < EVC_MODE_COUNT; m++) {
    enum evc_mode parsed;
    assert_int_equal(evc_mode_parse(evc_mode_name((enum evc_mode)m), &parsed), 0);
    assert_int_equal(parsed, m);
  }
  enum evc_mode parsed;
  assert_int_equal(evc_mode_parse("Producing", &parsed), EVC_EINVAL);
  assert_string_equal(evc_mode_name(EVC_MODE_CATCHING_UP), "catching_up");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(intact_at_sign_height_drains_without_waiting),
      cmocka_unit_test(nothing_decided_before_da_caught_up),
      cmocka_unit_test(intact_waits_for_the_peek),
      cmocka_unit_test(one_behind_applies_the_signed_block),
      cmocka_unit_test(far_behind_waits_for_settle_and_timeout_then_fails_closed),
      cmocka_unit_test(far_behind_with_da_only_drains_with_override),
      cmocka_unit_test(invalid_sign_state_fails_at_once),
      cmocka_unit_test(sign_state_conflicting_with_store_fails_at_once),
      cmocka_unit_test(evidence_above_sign_height_marks_it_stale),
      cmocka_unit_test(stale_is_treated_as_absent),
      cmocka_unit_test(absent_waits_for_every_known_peer),
      cmocka_unit_test(absent_proceeds_at_timeout_when_one_peer_answered),
      cmocka_unit_test(absent_fails_closed_when_no_known_peer_answered),
      cmocka_unit_test(absent_without_peers_waits_for_grace_then_settle),
      cmocka_unit_test(da_only_without_sign_state_still_waits_for_settle),
      cmocka_unit_test(proven_peer_height_holds_catchup_then_fails_closed),
      cmocka_unit_test(da_blocks_above_a_gap_fail_closed_even_under_da_only),
      cmocka_unit_test(stop_during_catchup_is_a_stop_not_success),
      cmocka_unit_test(fatal_error_fails_before_anything_else),
      cmocka_unit_test(mode_names_round_trip),
  };
  return cmocka_run_group_tests_name("catchup", tests, NULL, NULL);
}
