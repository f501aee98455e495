/* The chain's data types and their canonical binary encoding (docs/wire-format.md).
 * Decoding accepts exactly one canonical encoding per value: every length is bounded by
 * a named limit, trailing bytes, unknown versions and non-canonical forms are rejected.
 * Nothing here touches the world: pure functions over caller-owned memory. */
#ifndef EVC_TYPES_TYPES_H
#define EVC_TYPES_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVC_HASH_SIZE 32
#define EVC_PUBKEY_SIZE 32
#define EVC_SECKEY_SIZE 64
#define EVC_SIG_SIZE 64
#define EVC_ADDRESS_SIZE 20
#define EVC_NAMESPACE_SIZE 29
#define EVC_CHAIN_ID_SIZE_MAX 64
#define EVC_HEADER_VERSION 1
#define EVC_TX_SIZE_MAX 4096u
#define EVC_TXS_PER_BLOCK_MAX 4096u
#define EVC_DATA_SIZE_MAX (4u * 1024u * 1024u) /* encoded data, below Celestia's 5 MiB blob cap */

/* Type tags: the first byte of every top-level encoding; they also separate hash domains. */
enum evc_tag {
  EVC_TAG_HEADER = 0x01,
  EVC_TAG_SIGNED_HEADER = 0x02,
  EVC_TAG_DATA = 0x03,
};

/* tag(1) version(4) chain_id_len(1) chain_id height(8) time(8) 3 hashes proposer */
#define EVC_HEADER_SIZE_MAX \
  (1 + 4 + 1 + EVC_CHAIN_ID_SIZE_MAX + 8 + 8 + 3 * EVC_HASH_SIZE + EVC_ADDRESS_SIZE)
/* tag(1) header signature */
#define EVC_SIGNED_HEADER_SIZE_MAX (1 + EVC_HEADER_SIZE_MAX + EVC_SIG_SIZE)

struct evc_chain_id {
  uint8_t size; /* 1..EVC_CHAIN_ID_SIZE_MAX */
  char text[EVC_CHAIN_ID_SIZE_MAX + 1]; /* NUL-terminated; chars [A-Za-z0-9._-] */
};

struct evc_header {
  uint32_t version; /* EVC_HEADER_VERSION */
  struct evc_chain_id chain_id;
  uint64_t height; /* >= 1 */
  uint64_t time_ns; /* unix ns, > previous header's */
  uint8_t last_header_hash[EVC_HASH_SIZE]; /* zero for the first block */
  uint8_t data_hash[EVC_HASH_SIZE];
  uint8_t app_hash[EVC_HASH_SIZE]; /* state after this block's txs */
  uint8_t proposer[EVC_ADDRESS_SIZE];
};

struct evc_signed_header {
  struct evc_header header;
  uint8_t signature[EVC_SIG_SIZE]; /* ed25519 over the header's canonical encoding */
};

struct evc_tx {
  const uint8_t *bytes; /* borrowed: points into the buffer the data was decoded from */
  uint32_t size; /* 1..EVC_TX_SIZE_MAX */
};

struct evc_data {
  struct evc_chain_id chain_id;
  uint64_t height;
  uint32_t tx_count; /* 0..EVC_TXS_PER_BLOCK_MAX */
  struct evc_tx *txs; /* owned array of tx_count views; free with evc_data_release */
};

struct evc_genesis {
  struct evc_chain_id chain_id;
  uint64_t initial_height; /* >= 1 */
  uint64_t genesis_time_ns;
  uint8_t proposer_pubkey[EVC_PUBKEY_SIZE];
  uint64_t da_start_height; /* >= 1 */
  uint8_t header_namespace[EVC_NAMESPACE_SIZE];
  uint8_t data_namespace[EVC_NAMESPACE_SIZE];
};

/* Sets a chain id from text; EVC_EINVAL when empty, too long or with a forbidden char. */
int evc_chain_id_set(struct evc_chain_id *id, const char *text, size_t size);
bool evc_chain_id_equal(const struct evc_chain_id *a, const struct evc_chain_id *b);

/* Encoders write into out (capacity bytes) and set *size_out; EVC_ETOOBIG if it does not fit.
 * With out == NULL they only compute *size_out. EVC_EINVAL for a value that breaks a limit. */
int evc_header_encode(const struct evc_header *h, uint8_t *out, size_t capacity, size_t *size_out);
int evc_signed_header_encode(const struct evc_signed_header *sh, uint8_t *out, size_t capacity,
                             size_t *size_out);
int evc_data_encode(const struct evc_data *d, uint8_t *out, size_t capacity, size_t *size_out);

/* Decoders accept exactly one canonical encoding; errors: EVC_ETRUNC, EVC_ETRAILING,
 * EVC_ETOOBIG, EVC_EVERSION, EVC_ENONCANON, EVC_EDECODE. On error *out is left zeroed. */
int evc_header_decode(const uint8_t *bytes, size_t size, struct evc_header *out);
int evc_signed_header_decode(const uint8_t *bytes, size_t size, struct evc_signed_header *out);
/* Data txs borrow from bytes: keep bytes alive while out is used. Allocates out->txs. */
int evc_data_decode(const uint8_t *bytes, size_t size, struct evc_data *out);
void evc_data_release(struct evc_data *d);

/* SHA-256 of the canonical header encoding: the block hash. */
int evc_header_hash(const struct evc_header *h, uint8_t out[EVC_HASH_SIZE]);
/* SHA-256 of the canonical data encoding: what header.data_hash commits to. */
int evc_data_hash(const struct evc_data *d, uint8_t out[EVC_HASH_SIZE]);

/* Ed25519 signature over the header's canonical encoding with a 64-byte libsodium secret key. */
int evc_signed_header_sign(struct evc_signed_header *sh, const uint8_t seckey[EVC_SECKEY_SIZE]);
/* 0 when the signature verifies under pubkey, EVC_ESIG otherwise. */
int evc_signed_header_verify(const struct evc_signed_header *sh,
                             const uint8_t pubkey[EVC_PUBKEY_SIZE]);

/* The proposer address of a public key: the first 20 bytes of SHA-256(pubkey). */
void evc_address_from_pubkey(const uint8_t pubkey[EVC_PUBKEY_SIZE],
                             uint8_t out[EVC_ADDRESS_SIZE]);

/* A version-0 namespace from a string, as ev-node derives it: 0x00, 18 zero bytes,
 * then the first 10 bytes of SHA-256(text). */
void evc_namespace_from_string(const char *text, uint8_t out[EVC_NAMESPACE_SIZE]);

/* Genesis as JSON (genesis.json): parse with errors that name the field into err
 * (err_size bytes); emit as a NUL-terminated malloc'd string the caller frees. */
int evc_genesis_parse_json(const char *json, size_t size, struct evc_genesis *out, char *err,
                           size_t err_size);
int evc_genesis_to_json(const struct evc_genesis *g, char **json_out);
/* SHA-256 over the genesis fields in a fixed binary order: identifies the chain. */
void evc_genesis_hash(const struct evc_genesis *g, uint8_t out[EVC_HASH_SIZE]);

#endif
