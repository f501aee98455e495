/* The P2P handshake and frame crypto of docs/p2p.md as pure functions: the hello's layout
 * (parse and build), the session keys, the transcript, the signed auth message, and the
 * AEAD sealing of frames (the auth frame and every message after it). node/live/p2p_tcp.c
 * runs them from its libuv callbacks; fuzz/fuzz_p2p.c (mode 1) drives them on raw bytes.
 * No I/O, no state: every byte from a peer is bounded here before it is read. */
#ifndef EVC_LIVE_P2P_HANDSHAKE_H
#define EVC_LIVE_P2P_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/core/env.h"
#include "node/crypto/crypto.h"
#include "node/types/types.h"

/* Bytes an encrypted frame adds to its plaintext: the AEAD tag (the length prefix aside). */
#define EVC_P2P_FRAME_OVERHEAD 16u
/* The largest value the 4-byte length prefix of a frame may hold. */
#define EVC_P2P_FRAME_SIZE_MAX (EVC_P2P_MESSAGE_SIZE_MAX + EVC_P2P_FRAME_OVERHEAD)
#define EVC_P2P_FRAME_PREFIX_SIZE 4u

/* The hello, the first frame each side sends, in plaintext: "evcp2p", version u16 (1), the
 * node id (ed25519 public key), the ephemeral X25519 key, the length of the listen address
 * (u8) and the address (printable ASCII 0x21..0x7e, possibly empty). */
#define EVC_P2P_HELLO_MAGIC "evcp2p"
#define EVC_P2P_HELLO_MAGIC_SIZE 6u
#define EVC_P2P_HELLO_VERSION 1u
#define EVC_P2P_KX_KEY_SIZE 32u
#define EVC_P2P_HELLO_FIXED_SIZE \
  (EVC_P2P_HELLO_MAGIC_SIZE + 2u + EVC_NODE_ID_SIZE + EVC_P2P_KX_KEY_SIZE + 1u)
#define EVC_P2P_HELLO_SIZE_MAX (EVC_P2P_HELLO_FIXED_SIZE + EVC_ADDRESS_TEXT_MAX)
/* The auth frame, the second: the signature of the auth message, sealed. */
#define EVC_P2P_AUTH_FRAME_SIZE (EVC_SIG_SIZE + EVC_P2P_FRAME_OVERHEAD)
#define EVC_P2P_TRANSCRIPT_SIZE 32u
#define EVC_P2P_AUTH_MESSAGE_SIZE_MAX 64u
#define EVC_P2P_SESSION_KEY_SIZE 32u

struct evc_p2p_hello {
  uint8_t node_id[EVC_NODE_ID_SIZE];
  uint8_t eph_pk[EVC_P2P_KX_KEY_SIZE];
  size_t address_size;                   /* 0..EVC_ADDRESS_TEXT_MAX */
  char address[EVC_ADDRESS_TEXT_MAX + 1]; /* NUL-terminated */
};

/* Which frame a connection waits for: its length bounds differ. */
enum evc_p2p_stage {
  EVC_P2P_STAGE_HELLO,
  EVC_P2P_STAGE_AUTH,
  EVC_P2P_STAGE_OPEN, /* messages */
};

/* The length bounds a frame's prefix must respect at stage, and the frame's name for logs
 * ("a hello", "a handshake signature frame", "a message frame"). */
void evc_p2p_frame_bounds(enum evc_p2p_stage stage, uint32_t *min_out, uint32_t *max_out,
                          const char **name_out);

/* True when every byte is printable ASCII without space (0x21..0x7e); true for size 0. */
bool evc_p2p_printable(const uint8_t *text, size_t size);

/* Writes the hello (at most EVC_P2P_HELLO_SIZE_MAX bytes). EVC_EINVAL when the address is
 * longer than EVC_ADDRESS_TEXT_MAX or not printable. */
int evc_p2p_hello_encode(const struct evc_p2p_hello *h, uint8_t out[EVC_P2P_HELLO_SIZE_MAX],
                         size_t *size_out);
/* Reads a hello of exactly size bytes. EVC_EPEER, with *why_out set to a static sentence,
 * for a size out of bounds, a wrong magic or version, an address length that does not
 * match the size, or an address that is not printable. The format is canonical: whatever
 * decodes encodes to the same bytes. */
int evc_p2p_hello_decode(const uint8_t *bytes, size_t size, struct evc_p2p_hello *out,
                         const char **why_out);

/* Session keys from our ephemeral key pair and the peer's ephemeral public key (crypto_kx:
 * the dialer is the client). EVC_EPEER when the peer's key is unusable (a low-order point). */
int evc_p2p_session_keys(bool dialer, const uint8_t eph_pk[EVC_P2P_KX_KEY_SIZE],
                         const uint8_t eph_sk[EVC_P2P_KX_KEY_SIZE],
                         const uint8_t peer_eph_pk[EVC_P2P_KX_KEY_SIZE],
                         uint8_t rx_key[EVC_P2P_SESSION_KEY_SIZE],
                         uint8_t tx_key[EVC_P2P_SESSION_KEY_SIZE]);
/* SHA-256 over the dialer's hello, then the acceptor's, as sent. */
void evc_p2p_transcript(const uint8_t *dialer_hello, size_t dialer_size,
                        const uint8_t *acceptor_hello, size_t acceptor_size,
                        uint8_t out[EVC_P2P_TRANSCRIPT_SIZE]);
/* What a side signs: its role's label ("evc-p2p v1 dialer" / "evc-p2p v1 acceptor"), then
 * the transcript. Returns the size (<= EVC_P2P_AUTH_MESSAGE_SIZE_MAX). */
size_t evc_p2p_auth_message(bool dialer, const uint8_t transcript[EVC_P2P_TRANSCRIPT_SIZE],
                            uint8_t out[EVC_P2P_AUTH_MESSAGE_SIZE_MAX]);
void evc_p2p_auth_sign(const struct evc_keypair *key, bool dialer,
                       const uint8_t transcript[EVC_P2P_TRANSCRIPT_SIZE],
                       uint8_t sig[EVC_SIG_SIZE]);
/* 0 when sig is node_id's signature of the auth message of role dialer, EVC_EPEER else. */
int evc_p2p_auth_verify(const uint8_t node_id[EVC_NODE_ID_SIZE], bool dialer,
                        const uint8_t transcript[EVC_P2P_TRANSCRIPT_SIZE],
                        const uint8_t sig[EVC_SIG_SIZE]);

/* Seals plain (plain_size <= EVC_P2P_MESSAGE_SIZE_MAX) as frame number counter: writes the
 * 4-byte big-endian length prefix, then the ciphertext with its tag, to out (room for
 * EVC_P2P_FRAME_PREFIX_SIZE + plain_size + EVC_P2P_FRAME_OVERHEAD bytes). The nonce is 16
 * zero bytes then the counter big-endian; the prefix is the associated data. */
void evc_p2p_frame_seal(const uint8_t key[EVC_P2P_SESSION_KEY_SIZE], uint64_t counter,
                        const uint8_t *plain, size_t plain_size, uint8_t *out);
/* Opens a frame body (what followed its prefix, frame_size bytes) in place: on success the
 * first *plain_size_out bytes are the plaintext. EVC_EPEER when it is shorter than the tag
 * or fails authentication (wrong key, counter, length or bytes). */
int evc_p2p_frame_open(const uint8_t key[EVC_P2P_SESSION_KEY_SIZE], uint64_t counter,
                       uint8_t *frame, size_t frame_size, size_t *plain_size_out);

#endif
