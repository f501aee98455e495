/* The P2P protocol messages: round trips of every type, every truncation rejected, bounds
 * enforced before any use, and non-canonical forms refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/error.h"
#include "node/p2p/messages.h"

static const uint8_t header_bytes[] = {0x02, 0x01, 0x00, 0x00, 0x00, 0x01, 0x03, 'a', 'b', 'c'};
static const uint8_t data_bytes[] = {0x03, 0x03, 'a', 'b', 'c', 0, 0, 0, 0, 0, 0, 0, 1};

static struct evc_p2p_block sample_block(uint64_t hint) {
  struct evc_p2p_block b = {header_bytes, sizeof header_bytes, data_bytes, sizeof data_bytes, hint};
  return b;
}

static void samples(struct evc_p2p_message out[5]) {
  memset(out, 0, 5 * sizeof *out);
  out[0].type = EVC_P2P_STATUS;
  out[0].height = 77;
  out[0].has_head = true;
  out[0].head = header_bytes;
  out[0].head_size = sizeof header_bytes;
  out[0].da_included_height = 70;
  out[1].type = EVC_P2P_STATUS_REQUEST;
  out[2].type = EVC_P2P_GET_BLOCKS;
  out[2].from = 5;
  out[2].count = 64;
  out[3].type = EVC_P2P_BLOCKS;
  out[3].from = 5;
  out[3].count = 3;
  for (int i = 0; i < 3; i++) out[3].blocks[i] = sample_block((uint64_t)i);
  out[4].type = EVC_P2P_NEW_BLOCK;
  out[4].count = 1;
  out[4].blocks[0] = sample_block(9);
}

static void every_type_round_trips(void **state) {
  (void)state;
  struct evc_p2p_message m[5];
  samples(m);
  for (int i = 0; i < 5; i++) {
    uint8_t *bytes = NULL, *again = NULL;
    size_t size = 0, again_size = 0;
    assert_int_equal(evc_p2p_encode(&m[i], &bytes, &size), 0);
    struct evc_p2p_message back;
    assert_int_equal(evc_p2p_decode(bytes, size, &back), 0);
    assert_int_equal(back.type, m[i].type);
    assert_int_equal(evc_p2p_encode(&back, &again, &again_size), 0);
    assert_int_equal(again_size, size);
    assert_memory_equal(again, bytes, size);
    free(bytes);
    free(again);
  }
}

static void every_truncation_is_rejected(void **state) {
  (void)state;
  struct evc_p2p_message m[5];
  samples(m);
  for (int i = 0; i < 5; i++) {
    uint8_t *bytes = NULL;
    size_t size = 0;
    assert_int_equal(evc_p2p_encode(&m[i], &bytes, &size), 0);
    for (size_t cut = 0; cut < size; cut++) {
      uint8_t *copy = malloc(cut > 0 ? cut : 1); /* exact size: ASan sees any over-read */
      memcpy(copy, bytes, cut);
      struct evc_p2p_message back;
      assert_int_equal(evc_p2p_decode(copy, cut, &back), EVC_ETRUNC);
      assert_int_equal(back.type, 0);
      free(copy);
    }
    uint8_t *longer = malloc(size + 1);
    memcpy(longer, bytes, size);
    longer[size] = 0;
    struct evc_p2p_message back;
    assert_int_equal(evc_p2p_decode(longer, size + 1, &back), EVC_ETRAILING);
    free(longer);
    free(bytes);
  }
}

static void bad_version_type_and_flags_are_rejected(void **state) {
  (void)state;
  struct evc_p2p_message m[5], back;
  samples(m);
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_p2p_encode(&m[0], &bytes, &size), 0);
  bytes[0] = 2;
  assert_int_equal(evc_p2p_decode(bytes, size, &back), EVC_EVERSION);
  bytes[0] = 1;
  bytes[1] = 99;
  assert_int_equal(evc_p2p_decode(bytes, size, &back), EVC_EDECODE);
  bytes[1] = EVC_P2P_STATUS;
  bytes[10] = 2; /* has_head must be 0 or 1 */
  assert_int_equal(evc_p2p_decode(bytes, size, &back), EVC_EDECODE);
  free(bytes);
}

static void counts_and_sizes_are_bounded(void **state) {
  (void)state;
  /* GET_BLOCKS with count 0 and over the maximum */
  uint8_t get[] = {1, EVC_P2P_GET_BLOCKS, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
  struct evc_p2p_message back;
  assert_int_equal(evc_p2p_decode(get, sizeof get, &back), EVC_ETOOBIG);
  get[13] = EVC_P2P_RANGE_BLOCKS_MAX + 1;
  assert_int_equal(evc_p2p_decode(get, sizeof get, &back), EVC_ETOOBIG);
  /* BLOCKS claiming a huge count with no bytes behind it */
  uint8_t blocks[] = {1, EVC_P2P_BLOCKS, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff};
  assert_int_equal(evc_p2p_decode(blocks, sizeof blocks, &back), EVC_ETOOBIG);
  /* a NEW_BLOCK whose header length is over the header limit */
  uint8_t newb[] = {1, EVC_P2P_NEW_BLOCK, 0, 0x10, 0, 0};
  assert_int_equal(evc_p2p_decode(newb, sizeof newb, &back), EVC_ETOOBIG);
  /* zero-length header */
  uint8_t empty[] = {1, EVC_P2P_NEW_BLOCK, 0, 0, 0, 0};
  assert_int_equal(evc_p2p_decode(empty, sizeof empty, &back), EVC_EDECODE);
  /* the encoder refuses what the decoder would refuse */
  struct evc_p2p_message m;
  memset(&m, 0, sizeof m);
  m.type = EVC_P2P_GET_BLOCKS;
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_p2p_encode(&m, &bytes, &size), EVC_EINVAL);
  m.count = EVC_P2P_RANGE_BLOCKS_MAX + 1;
  assert_int_equal(evc_p2p_encode(&m, &bytes, &size), EVC_EINVAL);
  assert_null(bytes);
}

static void decoded_blocks_borrow_from_the_input(void **state) {
  (void)state;
  struct evc_p2p_message m[5], back;
  samples(m);
  uint8_t *bytes = NULL;
  size_t size = 0;
  assert_int_equal(evc_p2p_encode(&m[3], &bytes, &size), 0);
  assert_int_equal(evc_p2p_decode(bytes, size, &back), 0);
  assert_int_equal(back.count, 3);
  for (uint32_t i = 0; i < back.count; i++) {
    assert_true(back.blocks[i].header >= bytes && back.blocks[i].header < bytes + size);
    assert_int_equal(back.blocks[i].da_height_hint, i);
    assert_memory_equal(back.blocks[i].data, data_bytes, sizeof data_bytes);
  }
  free(bytes);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_type_round_trips),
      cmocka_unit_test(every_truncation_is_rejected),
      cmocka_unit_test(bad_version_type_and_flags_are_rejected),
      cmocka_unit_test(counts_and_sizes_are_bounded),
      cmocka_unit_test(decoded_blocks_borrow_from_the_input),
  };
  return cmocka_run_group_tests_name("p2p_messages", tests, NULL, NULL);
}
