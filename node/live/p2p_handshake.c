/* The handshake's bytes and the frame crypto of docs/p2p.md, without sockets: what a peer
 * sends is checked against its bounds before anything reads it. */
#include "node/live/p2p_handshake.h"

#include <sodium.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"

#define LABEL_DIALER "evc-p2p v1 dialer"
#define LABEL_ACCEPTOR "evc-p2p v1 acceptor"
#define NONCE_SIZE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

_Static_assert(EVC_P2P_FRAME_OVERHEAD == crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "the frame overhead is the AEAD tag");
_Static_assert(crypto_kx_PUBLICKEYBYTES == EVC_P2P_KX_KEY_SIZE &&
                   crypto_kx_SECRETKEYBYTES == EVC_P2P_KX_KEY_SIZE &&
                   crypto_kx_SESSIONKEYBYTES == EVC_P2P_SESSION_KEY_SIZE,
               "the hello carries 32-byte X25519 keys");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == EVC_P2P_SESSION_KEY_SIZE,
               "a kx session key is an AEAD key");
_Static_assert(crypto_hash_sha256_BYTES == EVC_P2P_TRANSCRIPT_SIZE,
               "the transcript is a SHA-256");
_Static_assert(EVC_PUBKEY_SIZE == crypto_sign_PUBLICKEYBYTES && EVC_NODE_ID_SIZE == 32,
               "a node id is an ed25519 public key");
_Static_assert(sizeof LABEL_ACCEPTOR - 1 + EVC_P2P_TRANSCRIPT_SIZE <=
                       EVC_P2P_AUTH_MESSAGE_SIZE_MAX &&
                   sizeof LABEL_DIALER - 1 + EVC_P2P_TRANSCRIPT_SIZE <=
                       EVC_P2P_AUTH_MESSAGE_SIZE_MAX,
               "a signed handshake message fits 64 bytes");
_Static_assert(EVC_ADDRESS_TEXT_MAX <= 255, "the hello's address length is one byte");
_Static_assert(EVC_P2P_FRAME_SIZE_MAX <= UINT32_MAX, "a frame length fits the u32 prefix");

void evc_p2p_frame_bounds(enum evc_p2p_stage stage, uint32_t *min_out, uint32_t *max_out,
                          const char **name_out) {
  switch (stage) {
  case EVC_P2P_STAGE_HELLO:
    *min_out = EVC_P2P_HELLO_FIXED_SIZE;
    *max_out = EVC_P2P_HELLO_SIZE_MAX;
    *name_out = "a hello";
    return;
  case EVC_P2P_STAGE_AUTH:
    *min_out = EVC_P2P_AUTH_FRAME_SIZE;
    *max_out = EVC_P2P_AUTH_FRAME_SIZE;
    *name_out = "a handshake signature frame";
    return;
  case EVC_P2P_STAGE_OPEN:
    *min_out = EVC_P2P_FRAME_OVERHEAD;
    *max_out = EVC_P2P_FRAME_SIZE_MAX;
    *name_out = "a message frame";
    return;
  }
  EVC_UNREACHABLE();
}

bool evc_p2p_printable(const uint8_t *text, size_t size) {
  for (size_t i = 0; i < size; i++) {
    if (text[i] < 0x21 || text[i] > 0x7e) return false;
  }
  return true;
}

/* ---- the hello ---- */

int evc_p2p_hello_encode(const struct evc_p2p_hello *h, uint8_t out[EVC_P2P_HELLO_SIZE_MAX],
                         size_t *size_out) {
  if (h->address_size > EVC_ADDRESS_TEXT_MAX ||
      !evc_p2p_printable((const uint8_t *)h->address, h->address_size)) {
    return EVC_EINVAL;
  }
  uint8_t *p = out;
  memcpy(p, EVC_P2P_HELLO_MAGIC, EVC_P2P_HELLO_MAGIC_SIZE);
  p += EVC_P2P_HELLO_MAGIC_SIZE;
  *p++ = (uint8_t)(EVC_P2P_HELLO_VERSION >> 8);
  *p++ = (uint8_t)EVC_P2P_HELLO_VERSION;
  memcpy(p, h->node_id, EVC_NODE_ID_SIZE);
  p += EVC_NODE_ID_SIZE;
  memcpy(p, h->eph_pk, EVC_P2P_KX_KEY_SIZE);
  p += EVC_P2P_KX_KEY_SIZE;
  *p++ = (uint8_t)h->address_size;
  memcpy(p, h->address, h->address_size);
  p += h->address_size;
  *size_out = (size_t)(p - out);
  EVC_ASSERT(*size_out <= EVC_P2P_HELLO_SIZE_MAX);
  return 0;
}

int evc_p2p_hello_decode(const uint8_t *bytes, size_t size, struct evc_p2p_hello *out,
                         const char **why_out) {
  if (size < EVC_P2P_HELLO_FIXED_SIZE || size > EVC_P2P_HELLO_SIZE_MAX) {
    *why_out = "the hello's size is out of bounds";
    return EVC_EPEER;
  }
  if (memcmp(bytes, EVC_P2P_HELLO_MAGIC, EVC_P2P_HELLO_MAGIC_SIZE) != 0) {
    *why_out = "the hello does not start with the evcp2p magic";
    return EVC_EPEER;
  }
  const uint8_t *p = bytes + EVC_P2P_HELLO_MAGIC_SIZE;
  if (p[0] != (uint8_t)(EVC_P2P_HELLO_VERSION >> 8) || p[1] != (uint8_t)EVC_P2P_HELLO_VERSION) {
    *why_out = "the hello names a protocol version other than 1";
    return EVC_EPEER;
  }
  p += 2;
  size_t address_size = bytes[EVC_P2P_HELLO_FIXED_SIZE - 1];
  if (EVC_P2P_HELLO_FIXED_SIZE + address_size != size || address_size > EVC_ADDRESS_TEXT_MAX) {
    *why_out = "the hello's address length does not match its size";
    return EVC_EPEER;
  }
  const uint8_t *address = bytes + EVC_P2P_HELLO_FIXED_SIZE;
  if (!evc_p2p_printable(address, address_size)) {
    *why_out = "the hello's address is not printable text";
    return EVC_EPEER;
  }
  memcpy(out->node_id, p, EVC_NODE_ID_SIZE);
  memcpy(out->eph_pk, p + EVC_NODE_ID_SIZE, EVC_P2P_KX_KEY_SIZE);
  out->address_size = address_size;
  memcpy(out->address, address, address_size);
  out->address[address_size] = '\0';
  return 0;
}

/* ---- keys, transcript, signatures ---- */

int evc_p2p_session_keys(bool dialer, const uint8_t eph_pk[EVC_P2P_KX_KEY_SIZE],
                         const uint8_t eph_sk[EVC_P2P_KX_KEY_SIZE],
                         const uint8_t peer_eph_pk[EVC_P2P_KX_KEY_SIZE],
                         uint8_t rx_key[EVC_P2P_SESSION_KEY_SIZE],
                         uint8_t tx_key[EVC_P2P_SESSION_KEY_SIZE]) {
  int rc = dialer ? crypto_kx_client_session_keys(rx_key, tx_key, eph_pk, eph_sk, peer_eph_pk)
                  : crypto_kx_server_session_keys(rx_key, tx_key, eph_pk, eph_sk, peer_eph_pk);
  return rc == 0 ? 0 : EVC_EPEER;
}

void evc_p2p_transcript(const uint8_t *dialer_hello, size_t dialer_size,
                        const uint8_t *acceptor_hello, size_t acceptor_size,
                        uint8_t out[EVC_P2P_TRANSCRIPT_SIZE]) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, dialer_hello, dialer_size);
  crypto_hash_sha256_update(&st, acceptor_hello, acceptor_size);
  crypto_hash_sha256_final(&st, out);
}

size_t evc_p2p_auth_message(bool dialer, const uint8_t transcript[EVC_P2P_TRANSCRIPT_SIZE],
                            uint8_t out[EVC_P2P_AUTH_MESSAGE_SIZE_MAX]) {
  const char *label = dialer ? LABEL_DIALER : LABEL_ACCEPTOR;
  size_t label_size = strlen(label);
  memcpy(out, label, label_size);
  memcpy(out + label_size, transcript, EVC_P2P_TRANSCRIPT_SIZE);
  return label_size + EVC_P2P_TRANSCRIPT_SIZE;
}

void evc_p2p_auth_sign(const struct evc_keypair *key, bool dialer,
                       const uint8_t transcript[EVC_P2P_TRANSCRIPT_SIZE],
                       uint8_t sig[EVC_SIG_SIZE]) {
  uint8_t message[EVC_P2P_AUTH_MESSAGE_SIZE_MAX];
  size_t size = evc_p2p_auth_message(dialer, transcript, message);
  evc_sign(key, message, size, sig);
}

int evc_p2p_auth_verify(const uint8_t node_id[EVC_NODE_ID_SIZE], bool dialer,
                        const uint8_t transcript[EVC_P2P_TRANSCRIPT_SIZE],
                        const uint8_t sig[EVC_SIG_SIZE]) {
  uint8_t message[EVC_P2P_AUTH_MESSAGE_SIZE_MAX];
  size_t size = evc_p2p_auth_message(dialer, transcript, message);
  return evc_verify(node_id, message, size, sig) == 0 ? 0 : EVC_EPEER;
}

/* ---- frames ---- */

static void put_u32(uint8_t out[4], uint32_t v) {
  out[0] = (uint8_t)(v >> 24);
  out[1] = (uint8_t)(v >> 16);
  out[2] = (uint8_t)(v >> 8);
  out[3] = (uint8_t)v;
}

/* The AEAD nonce of frame number counter: 16 zero bytes, then the counter big-endian. */
static void frame_nonce(uint64_t counter, uint8_t nonce[NONCE_SIZE]) {
  memset(nonce, 0, NONCE_SIZE);
  for (int i = 0; i < 8; i++) {
    nonce[NONCE_SIZE - 1 - i] = (uint8_t)(counter >> (8 * i));
  }
}

void evc_p2p_frame_seal(const uint8_t key[EVC_P2P_SESSION_KEY_SIZE], uint64_t counter,
                        const uint8_t *plain, size_t plain_size, uint8_t *out) {
  EVC_ASSERT(plain_size <= EVC_P2P_MESSAGE_SIZE_MAX);
  size_t body = plain_size + EVC_P2P_FRAME_OVERHEAD;
  put_u32(out, (uint32_t)body);
  uint8_t nonce[NONCE_SIZE];
  frame_nonce(counter, nonce);
  unsigned long long out_size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out + EVC_P2P_FRAME_PREFIX_SIZE, &out_size, plain,
                                             plain_size, out, EVC_P2P_FRAME_PREFIX_SIZE, NULL,
                                             nonce, key);
  EVC_ASSERT(out_size == body);
}

int evc_p2p_frame_open(const uint8_t key[EVC_P2P_SESSION_KEY_SIZE], uint64_t counter,
                       uint8_t *frame, size_t frame_size, size_t *plain_size_out) {
  if (frame_size < EVC_P2P_FRAME_OVERHEAD || frame_size > EVC_P2P_FRAME_SIZE_MAX) {
    return EVC_EPEER;
  }
  uint8_t nonce[NONCE_SIZE];
  uint8_t ad[EVC_P2P_FRAME_PREFIX_SIZE];
  put_u32(ad, (uint32_t)frame_size);
  frame_nonce(counter, nonce);
  unsigned long long plain_size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(frame, &plain_size, NULL, frame, frame_size, ad,
                                                 sizeof ad, nonce, key) != 0) {
    return EVC_EPEER;
  }
  EVC_ASSERT(plain_size + EVC_P2P_FRAME_OVERHEAD == frame_size);
  *plain_size_out = (size_t)plain_size;
  return 0;
}
