/* P2P harness, two modes picked by data[0] % 2; the rest of the input is the mode's bytes.
 *
 * Mode 0, messages: evc_p2p_decode (node/p2p/messages.h) on arbitrary bytes, as a peer's
 * frame arrives after the handshake, then the decodes the node runs on what it borrowed (the
 * signed header and data codecs, as node/core/p2p.c does). Properties: whatever decodes
 * re-encodes to exactly the input; counts and sizes stay within their bounds; every borrowed
 * pointer lies inside the input; errors are the documented codes. It must never read past
 * the input.
 *
 * Mode 1, the handshake (node/live/p2p_handshake.h) as node/live/p2p_tcp.c runs it against a
 * peer: data[1] flags (bit 0: the harness dialed, so the peer's hello is the acceptor's;
 * bit 1: the rest is a plaintext signature that the harness seals as the peer would, else it
 * is the auth frame's body as sent), then the peer's hello as a frame (4-byte big-endian
 * length, then up to that many bytes), then the auth frame. The harness is the local side of
 * fuzz/fixture.h. Properties: a hello decodes or fails with EVC_EPEER and a reason; one that
 * decodes is inside the hello's frame bounds, has a printable address, and re-encodes to the
 * same bytes (the format is canonical); session keys are derived or EVC_EPEER; a frame
 * sealed with the session key opens to the same bytes, and not under another counter; a
 * frame as sent opens or fails with EVC_EPEER; a signature verifies (0) or is EVC_EPEER, and
 * one that verifies for the peer's role never verifies for the other role; our own
 * signature verifies under our node id. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fixture.h"
#include "fuzz/fuzz.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/live/p2p_handshake.h"
#include "node/p2p/messages.h"
#include "node/types/types.h"

enum p2p_mode { P2P_MESSAGE, P2P_HANDSHAKE, P2P_MODE_COUNT };
#define HS_WE_DIALED 0x01u
#define HS_PLAIN_SIGNATURE 0x02u

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

static void fuzz_message(const uint8_t *data, size_t size) {
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
}

/* ---- mode 1: the handshake ---- */

static uint8_t *copy_exact(const uint8_t *data, size_t size) {
  uint8_t *bytes = malloc(size > 0 ? size : 1);
  EVC_ASSERT(bytes != NULL);
  if (size > 0) memcpy(bytes, data, size);
  return bytes;
}

/* The peer's hello: EVC_EPEER with a reason, or a canonical hello inside its bounds. */
static int check_hello(const uint8_t *bytes, size_t size, struct evc_p2p_hello *h) {
  const char *why = NULL;
  int rc = evc_p2p_hello_decode(bytes, size, h, &why);
  if (rc != 0) {
    EVC_ASSERT(rc == EVC_EPEER);
    EVC_ASSERT(why != NULL && why[0] != '\0');
    return rc;
  }
  uint32_t min = 0, max = 0;
  const char *name = NULL;
  evc_p2p_frame_bounds(EVC_P2P_STAGE_HELLO, &min, &max, &name);
  EVC_ASSERT(size >= min && size <= max);
  EVC_ASSERT(h->address_size <= EVC_ADDRESS_TEXT_MAX);
  EVC_ASSERT(strlen(h->address) == h->address_size);
  EVC_ASSERT(evc_p2p_printable((const uint8_t *)h->address, h->address_size));
  uint8_t out[EVC_P2P_HELLO_SIZE_MAX];
  size_t out_size = 0;
  EVC_ASSERT(evc_p2p_hello_encode(h, out, &out_size) == 0);
  EVC_ASSERT(out_size == size && memcmp(out, bytes, size) == 0);
  return 0;
}

/* A signature as the peer's: verifies (0) or EVC_EPEER; never for both roles. */
static void check_signature(const struct evc_p2p_hello *peer, bool peer_dialed,
                            const uint8_t transcript[EVC_P2P_TRANSCRIPT_SIZE],
                            const uint8_t sig[EVC_SIG_SIZE]) {
  int rc = evc_p2p_auth_verify(peer->node_id, peer_dialed, transcript, sig);
  EVC_ASSERT(rc == 0 || rc == EVC_EPEER);
  int other = evc_p2p_auth_verify(peer->node_id, !peer_dialed, transcript, sig);
  EVC_ASSERT(other == 0 || other == EVC_EPEER);
  EVC_ASSERT(rc != 0 || other != 0);
}

/* The auth frame after a usable hello: rest is a signature to seal, or a frame as sent. */
static void check_auth(const uint8_t *rest, size_t rest_size, bool plain, bool we_dialed,
                       const struct evc_p2p_hello *peer,
                       const uint8_t rx_key[EVC_P2P_SESSION_KEY_SIZE],
                       const uint8_t transcript[EVC_P2P_TRANSCRIPT_SIZE]) {
  if (plain) {
    if (rest_size < EVC_SIG_SIZE) return;
    uint8_t frame[EVC_P2P_FRAME_PREFIX_SIZE + EVC_P2P_AUTH_FRAME_SIZE];
    evc_p2p_frame_seal(rx_key, 0, rest, EVC_SIG_SIZE, frame);
    EVC_ASSERT(frame[0] == 0 && frame[1] == 0 && frame[2] == 0 &&
               frame[3] == EVC_P2P_AUTH_FRAME_SIZE);
    uint8_t again[EVC_P2P_AUTH_FRAME_SIZE];
    memcpy(again, frame + EVC_P2P_FRAME_PREFIX_SIZE, sizeof again);
    size_t plain_size = 0;
    EVC_ASSERT(evc_p2p_frame_open(rx_key, 1, again, sizeof again, &plain_size) == EVC_EPEER);
    uint8_t *body = frame + EVC_P2P_FRAME_PREFIX_SIZE;
    EVC_ASSERT(evc_p2p_frame_open(rx_key, 0, body, EVC_P2P_AUTH_FRAME_SIZE, &plain_size) == 0);
    EVC_ASSERT(plain_size == EVC_SIG_SIZE && memcmp(body, rest, EVC_SIG_SIZE) == 0);
    check_signature(peer, !we_dialed, transcript, body);
    return;
  }
  uint8_t *frame = copy_exact(rest, rest_size);
  size_t plain_size = 0;
  int rc = evc_p2p_frame_open(rx_key, 0, frame, rest_size, &plain_size);
  EVC_ASSERT(rc == 0 || rc == EVC_EPEER);
  if (rc == 0) {
    EVC_ASSERT(plain_size + EVC_P2P_FRAME_OVERHEAD == rest_size);
    if (plain_size == EVC_SIG_SIZE) check_signature(peer, !we_dialed, transcript, frame);
  }
  free(frame);
}

static void fuzz_handshake(const uint8_t *data, size_t size) {
  if (size < 1 + EVC_P2P_FRAME_PREFIX_SIZE) return;
  bool we_dialed = (data[0] & HS_WE_DIALED) != 0;
  bool plain = (data[0] & HS_PLAIN_SIGNATURE) != 0;
  const uint8_t *p = data + 1;
  size_t left = size - 1;
  uint32_t announced = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
                       ((uint32_t)p[2] << 8) | p[3];
  p += EVC_P2P_FRAME_PREFIX_SIZE;
  left -= EVC_P2P_FRAME_PREFIX_SIZE;
  size_t hello_size = announced < left ? announced : left;
  uint8_t *hello_bytes = copy_exact(p, hello_size);
  const uint8_t *rest = p + hello_size;
  size_t rest_size = left - hello_size;

  /* The local side, set up once (the AFL driver warms it up before forking). */
  static bool local_ready;
  static struct evc_keypair node;
  static uint8_t eph_pk[EVC_P2P_KX_KEY_SIZE], eph_sk[EVC_P2P_KX_KEY_SIZE];
  static uint8_t hello_ours[EVC_P2P_HELLO_SIZE_MAX];
  static size_t hello_ours_size;
  if (!local_ready) {
    evc_fuzz_p2p_keys(EVC_FUZZ_P2P_LOCAL, &node, eph_pk, eph_sk);
    struct evc_p2p_hello ours;
    memset(&ours, 0, sizeof ours);
    memcpy(ours.node_id, node.pubkey, EVC_NODE_ID_SIZE);
    memcpy(ours.eph_pk, eph_pk, sizeof eph_pk);
    ours.address_size = strlen(EVC_FUZZ_P2P_ADVERTISED);
    memcpy(ours.address, EVC_FUZZ_P2P_ADVERTISED, ours.address_size + 1);
    EVC_ASSERT(evc_p2p_hello_encode(&ours, hello_ours, &hello_ours_size) == 0);
    local_ready = true;
  }

  struct evc_p2p_hello peer;
  if (check_hello(hello_bytes, hello_size, &peer) == 0) {

    uint8_t rx_key[EVC_P2P_SESSION_KEY_SIZE], tx_key[EVC_P2P_SESSION_KEY_SIZE];
    int rc = evc_p2p_session_keys(we_dialed, eph_pk, eph_sk, peer.eph_pk, rx_key, tx_key);
    EVC_ASSERT(rc == 0 || rc == EVC_EPEER);
    if (rc == 0) {
      uint8_t transcript[EVC_P2P_TRANSCRIPT_SIZE];
      if (we_dialed) {
        evc_p2p_transcript(hello_ours, hello_ours_size, hello_bytes, hello_size, transcript);
      } else {
        evc_p2p_transcript(hello_bytes, hello_size, hello_ours, hello_ours_size, transcript);
      }
      uint8_t sig[EVC_SIG_SIZE];
      evc_p2p_auth_sign(&node, we_dialed, transcript, sig);
      EVC_ASSERT(evc_p2p_auth_verify(node.pubkey, we_dialed, transcript, sig) == 0);
      EVC_ASSERT(evc_p2p_auth_verify(node.pubkey, !we_dialed, transcript, sig) == EVC_EPEER);
      check_auth(rest, rest_size, plain, we_dialed, &peer, rx_key, transcript);
    }
  }
  free(hello_bytes);
}

int evc_fuzz_p2p(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  switch ((enum p2p_mode)(data[0] % P2P_MODE_COUNT)) {
  case P2P_MESSAGE: fuzz_message(data + 1, size - 1); break;
  case P2P_HANDSHAKE: fuzz_handshake(data + 1, size - 1); break;
  default: EVC_UNREACHABLE();
  }
  return 0;
}
