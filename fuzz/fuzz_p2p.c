/* P2P harness: evc_p2p_decode (node/p2p/messages.h) on arbitrary bytes, as a peer's frame
 * arrives after the handshake, then the decodes the node runs on what it borrowed (the signed
 * header and data codecs, as node/core/p2p.c does). Properties: whatever decodes re-encodes
 * to exactly the input; counts and sizes stay within their bounds; every borrowed pointer lies
 * inside the input; errors are the documented codes. It must never read past the input.
 *
 * Input: one P2P message, the whole input (no mode byte). The handshake's hello and auth
 * frames are not fuzzed here: node/live/p2p_tcp.c has no pure parse function to call. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/p2p/messages.h"
#include "node/types/types.h"

static bool inside(const uint8_t *p, size_t n, const uint8_t *base, size_t size) {
  return p != NULL && p >= base && n <= size && (size_t)(p - base) <= size - n;
}

/* The signed header codec on a borrowed header: decodes or fails with a documented code. */
static void check_header(const uint8_t *bytes, size_t size) {
  struct evc_signed_header sh;
  int rc = evc_signed_header_decode(bytes, size, &sh);
  EVC_ASSERT(rc == 0 || rc == EVC_ETRUNC || rc == EVC_ETRAILING || rc == EVC_ETOOBIG ||
             rc == EVC_EVERSION || rc == EVC_ENONCANON || rc == EVC_EDECODE);
}

/* The data codec on borrowed data: decoded txs borrow from inside the data blob. */
static void check_data(const uint8_t *bytes, size_t size) {
  struct evc_data d;
  int rc = evc_data_decode(bytes, size, &d);
  if (rc != 0) {
    EVC_ASSERT(rc == EVC_ETRUNC || rc == EVC_ETRAILING || rc == EVC_ETOOBIG ||
               rc == EVC_EVERSION || rc == EVC_ENONCANON || rc == EVC_EDECODE ||
               rc == EVC_ENOMEM);
    return;
  }
  EVC_ASSERT(d.tx_count <= EVC_TXS_PER_BLOCK_MAX);
  for (uint32_t i = 0; i < d.tx_count; i++) {
    EVC_ASSERT(inside(d.txs[i].bytes, d.txs[i].size, bytes, size));
  }
  evc_data_release(&d);
}

static void check_block(const struct evc_p2p_block *b, const uint8_t *base, size_t size) {
  EVC_ASSERT(b->header_size >= 1 && b->header_size <= EVC_SIGNED_HEADER_SIZE_MAX);
  EVC_ASSERT(b->data_size >= 1 && b->data_size <= EVC_DATA_SIZE_MAX);
  EVC_ASSERT(inside(b->header, b->header_size, base, size));
  EVC_ASSERT(inside(b->data, b->data_size, base, size));
  check_header(b->header, b->header_size);
  check_data(b->data, b->data_size);
}

/* Bounds of a decoded message, per type; the blocks are checked as the node reads them. */
static void check_bounds(const struct evc_p2p_message *m, const uint8_t *bytes, size_t size) {
  EVC_ASSERT(m->count <= EVC_P2P_RANGE_BLOCKS_MAX);
  switch (m->type) {
  case EVC_P2P_STATUS:
    if (m->has_head) {
      EVC_ASSERT(m->head_size >= 1 && m->head_size <= EVC_SIGNED_HEADER_SIZE_MAX);
      EVC_ASSERT(inside(m->head, m->head_size, bytes, size));
      check_header(m->head, m->head_size);
    }
    break;
  case EVC_P2P_STATUS_REQUEST: break;
  case EVC_P2P_GET_BLOCKS: EVC_ASSERT(m->count >= 1); break;
  case EVC_P2P_BLOCKS:
    for (uint32_t i = 0; i < m->count; i++) check_block(&m->blocks[i], bytes, size);
    break;
  case EVC_P2P_NEW_BLOCK: check_block(&m->blocks[0], bytes, size); break;
  default: EVC_UNREACHABLE(); /* a decoded message has one of the five types */
  }
}

int evc_fuzz_p2p(const uint8_t *data, size_t size) {
  /* An exact-size copy: under ASan a read one byte past the input is a report, where the
   * drivers' larger buffers would hide it. */
  uint8_t *bytes = malloc(size > 0 ? size : 1);
  EVC_ASSERT(bytes != NULL);
  if (size > 0) memcpy(bytes, data, size);
  struct evc_p2p_message *m = malloc(sizeof *m);
  EVC_ASSERT(m != NULL);
  int rc = evc_p2p_decode(bytes, size, m);
  if (rc != 0) {
    EVC_ASSERT(rc == EVC_ETRUNC || rc == EVC_ETRAILING || rc == EVC_ETOOBIG ||
               rc == EVC_EVERSION || rc == EVC_EDECODE);
  } else {
    EVC_ASSERT(size >= 2 && bytes[0] == EVC_P2P_VERSION && bytes[1] == (uint8_t)m->type);
    check_bounds(m, bytes, size);
    uint8_t *out = NULL;
    size_t out_size = 0;
    EVC_ASSERT(evc_p2p_encode(m, &out, &out_size) == 0);
    EVC_ASSERT(out_size == size);
    EVC_ASSERT(memcmp(out, bytes, size) == 0);
    free(out);
  }
  free(m);
  free(bytes);
  return 0;
}
