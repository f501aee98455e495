/* Tests for node/live/p2p_handshake.c: the hello's layout and its refusals, session keys and
 * transcript agreement between two sides, role-bound signatures, and frame sealing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "node/common/error.h"
#include "node/live/p2p_handshake.h"

struct side {
  struct evc_keypair node;
  uint8_t eph_pk[EVC_P2P_KX_KEY_SIZE];
  uint8_t eph_sk[EVC_P2P_KX_KEY_SIZE];
  uint8_t hello[EVC_P2P_HELLO_SIZE_MAX];
  size_t hello_size;
};

static void side_init(struct side *s, uint8_t seed_byte, const char *address) {
  assert_int_equal(evc_crypto_init(), 0);
  uint8_t seed[EVC_SEED_SIZE];
  memset(seed, seed_byte, sizeof seed);
  evc_keypair_from_seed(seed, &s->node);
  seed[0] ^= 0xff;
  assert_int_equal(crypto_kx_seed_keypair(s->eph_pk, s->eph_sk, seed), 0);
  struct evc_p2p_hello h;
  memset(&h, 0, sizeof h);
  memcpy(h.node_id, s->node.pubkey, EVC_NODE_ID_SIZE);
  memcpy(h.eph_pk, s->eph_pk, sizeof h.eph_pk);
  h.address_size = strlen(address);
  memcpy(h.address, address, h.address_size + 1);
  assert_int_equal(evc_p2p_hello_encode(&h, s->hello, &s->hello_size), 0);
}

static void hello_layout_and_round_trip(void **state) {
  (void)state;
  struct side a;
  side_init(&a, 0x21, "127.0.0.1:26656");
  assert_int_equal(a.hello_size, EVC_P2P_HELLO_FIXED_SIZE + 15);
  assert_memory_equal(a.hello, "evcp2p\x00\x01", 8);
  assert_memory_equal(a.hello + 8, a.node.pubkey, EVC_NODE_ID_SIZE);
  assert_int_equal(a.hello[EVC_P2P_HELLO_FIXED_SIZE - 1], 15);
  struct evc_p2p_hello h;
  const char *why = NULL;
  assert_int_equal(evc_p2p_hello_decode(a.hello, a.hello_size, &h, &why), 0);
  assert_string_equal(h.address, "127.0.0.1:26656");
  assert_memory_equal(h.eph_pk, a.eph_pk, EVC_P2P_KX_KEY_SIZE);
  uint8_t again[EVC_P2P_HELLO_SIZE_MAX];
  size_t size = 0;
  assert_int_equal(evc_p2p_hello_encode(&h, again, &size), 0);
  assert_int_equal(size, a.hello_size);
  assert_memory_equal(again, a.hello, size);
}

static void expect_refused(const uint8_t *bytes, size_t size, const char *reason) {
  struct evc_p2p_hello h;
  const char *why = NULL;
  assert_int_equal(evc_p2p_hello_decode(bytes, size, &h, &why), EVC_EPEER);
  assert_non_null(why);
  assert_non_null(strstr(why, reason));
}

static void hello_refusals(void **state) {
  (void)state;
  struct side a;
  side_init(&a, 0x22, "10.0.0.1:1");
  uint8_t bad[EVC_P2P_HELLO_SIZE_MAX + 1];
  expect_refused(a.hello, EVC_P2P_HELLO_FIXED_SIZE - 1, "size");
  memset(bad, 'a', sizeof bad);
  expect_refused(bad, sizeof bad, "size");
  memcpy(bad, a.hello, a.hello_size);
  bad[0] = 'E';
  expect_refused(bad, a.hello_size, "magic");
  memcpy(bad, a.hello, a.hello_size);
  bad[6] = 1;
  expect_refused(bad, a.hello_size, "version");
  memcpy(bad, a.hello, a.hello_size);
  expect_refused(bad, a.hello_size - 1, "address length");
  bad[a.hello_size - 1] = 0x7f;
  expect_refused(bad, a.hello_size, "printable");

  struct evc_p2p_hello h;
  memset(&h, 0, sizeof h);
  h.address_size = 3;
  memcpy(h.address, "a b", 4);
  size_t size = 0;
  assert_int_equal(evc_p2p_hello_encode(&h, bad, &size), EVC_EINVAL);
  h.address_size = EVC_ADDRESS_TEXT_MAX + 1;
  assert_int_equal(evc_p2p_hello_encode(&h, bad, &size), EVC_EINVAL);
}

static void two_sides_agree(void **state) {
  (void)state;
  struct side d, a;
  side_init(&d, 0x31, "10.0.0.1:26656");
  side_init(&a, 0x32, "");
  uint8_t d_rx[32], d_tx[32], a_rx[32], a_tx[32], t_d[32], t_a[32];
  assert_int_equal(evc_p2p_session_keys(true, d.eph_pk, d.eph_sk, a.eph_pk, d_rx, d_tx), 0);
  assert_int_equal(evc_p2p_session_keys(false, a.eph_pk, a.eph_sk, d.eph_pk, a_rx, a_tx), 0);
  assert_memory_equal(d_tx, a_rx, 32);
  assert_memory_equal(d_rx, a_tx, 32);
  evc_p2p_transcript(d.hello, d.hello_size, a.hello, a.hello_size, t_d);
  evc_p2p_transcript(d.hello, d.hello_size, a.hello, a.hello_size, t_a);
  assert_memory_equal(t_d, t_a, 32);

  /* the dialer's signature verifies as the dialer's only, and only under its key */
  uint8_t sig[EVC_SIG_SIZE];
  evc_p2p_auth_sign(&d.node, true, t_d, sig);
  assert_int_equal(evc_p2p_auth_verify(d.node.pubkey, true, t_a, sig), 0);
  assert_int_equal(evc_p2p_auth_verify(d.node.pubkey, false, t_a, sig), EVC_EPEER);
  assert_int_equal(evc_p2p_auth_verify(a.node.pubkey, true, t_a, sig), EVC_EPEER);

  /* sealed by one side, opened by the other at the same frame number only */
  uint8_t frame[EVC_P2P_FRAME_PREFIX_SIZE + EVC_P2P_AUTH_FRAME_SIZE], copy[EVC_P2P_AUTH_FRAME_SIZE];
  evc_p2p_frame_seal(d_tx, 0, sig, sizeof sig, frame);
  assert_memory_equal(frame, "\x00\x00\x00\x50", 4);
  size_t plain = 0;
  memcpy(copy, frame + 4, sizeof copy);
  assert_int_equal(evc_p2p_frame_open(a_rx, 1, copy, sizeof copy, &plain), EVC_EPEER);
  memcpy(copy, frame + 4, sizeof copy);
  assert_int_equal(evc_p2p_frame_open(a_rx, 0, copy, sizeof copy - 1, &plain), EVC_EPEER);
  memcpy(copy, frame + 4, sizeof copy);
  assert_int_equal(evc_p2p_frame_open(a_rx, 0, copy, sizeof copy, &plain), 0);
  assert_int_equal(plain, EVC_SIG_SIZE);
  assert_memory_equal(copy, sig, EVC_SIG_SIZE);
  assert_int_equal(evc_p2p_frame_open(a_rx, 0, copy, EVC_P2P_FRAME_OVERHEAD - 1, &plain),
                   EVC_EPEER);
}

static void low_order_key_is_refused(void **state) {
  (void)state;
  struct side a;
  side_init(&a, 0x41, "");
  uint8_t zero[EVC_P2P_KX_KEY_SIZE] = {0}, rx[32], tx[32];
  assert_int_equal(evc_p2p_session_keys(true, a.eph_pk, a.eph_sk, zero, rx, tx), EVC_EPEER);
}

static void frame_bounds_per_stage(void **state) {
  (void)state;
  uint32_t min = 0, max = 0;
  const char *name = NULL;
  evc_p2p_frame_bounds(EVC_P2P_STAGE_HELLO, &min, &max, &name);
  assert_int_equal(min, 73);
  assert_int_equal(max, 73 + EVC_ADDRESS_TEXT_MAX);
  evc_p2p_frame_bounds(EVC_P2P_STAGE_AUTH, &min, &max, &name);
  assert_int_equal(min, 80);
  assert_int_equal(max, 80);
  evc_p2p_frame_bounds(EVC_P2P_STAGE_OPEN, &min, &max, &name);
  assert_int_equal(min, EVC_P2P_FRAME_OVERHEAD);
  assert_int_equal(max, EVC_P2P_FRAME_SIZE_MAX);
  assert_string_equal(name, "a message frame");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hello_layout_and_round_trip),
      cmocka_unit_test(hello_refusals),
      cmocka_unit_test(two_sides_agree),
      cmocka_unit_test(low_order_key_is_refused),
      cmocka_unit_test(frame_bounds_per_stage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
