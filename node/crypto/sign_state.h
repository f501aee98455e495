/* The sign state (DESIGN.md, "Sign state" under Catchup): S, the last height this signer
 * signed, and that block's bytes. Pure encode/decode/validate over memory: reading and
 * writing HOME/keys/sign_state is the caller's job (struct evc_env file_read/file_replace). */
#ifndef EVC_CRYPTO_SIGN_STATE_H
#define EVC_CRYPTO_SIGN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/types/types.h"

/* HOME-relative name of the file (beside the key, outside data/). */
#define EVC_SIGN_STATE_FILE "keys/sign_state"
#define EVC_SIGN_STATE_VERSION 1u
/* magic(8) version(4) height(8) has_block(1) header_size(4) data_size(4) checksum(32) */
#define EVC_SIGN_STATE_FIXED_SIZE (8u + 4u + 8u + 1u + 4u + 4u + EVC_HASH_SIZE)
/* The largest valid file: pass it as size_max when reading the file. */
#define EVC_SIGN_STATE_SIZE_MAX \
  (EVC_SIGN_STATE_FIXED_SIZE + EVC_SIGNED_HEADER_SIZE_MAX + EVC_DATA_SIZE_MAX)

struct evc_sign_state {
  uint64_t height; /* S */
  bool has_block;  /* false: nothing signed yet (S = initial_height - 1) */
  uint8_t *header_bytes; /* owned copy of the signed header encoding; NULL when !has_block */
  size_t header_size;
  uint8_t *data_bytes; /* owned copy of the data encoding; NULL when !has_block */
  size_t data_size;
  struct evc_signed_header signed_header; /* decoded from header_bytes when has_block */
  uint8_t block_hash[EVC_HASH_SIZE];      /* header hash when has_block, zero otherwise */
};

/* A sign state that names no block: S = height. Returns 0. */
int evc_sign_state_init_empty(uint64_t height, struct evc_sign_state *out);
/* A sign state for a signed block: copies both encodings, S = the header's height.
 * Errors: the codec's decode errors (EVC_ETRUNC, EVC_EDECODE, ...), EVC_ETOOBIG over a
 * limit, EVC_EVALIDATE when the data's height or hash does not match the header, EVC_ENOMEM.
 * The signature is not checked here (evc_sign_state_decode checks it against genesis). */
int evc_sign_state_init_block(const uint8_t *header_bytes, size_t header_size,
                              const uint8_t *data_bytes, size_t data_size,
                              struct evc_sign_state *out);
/* Encodes s into a malloc'd buffer (free with free()); EVC_ENOMEM. */
int evc_sign_state_encode(const struct evc_sign_state *s, uint8_t **bytes_out, size_t *size_out);
/* Decodes a sign state file and validates it against the chain: EVC_ECORRUPT for a torn,
 * truncated, checksum-failing or malformed file, EVC_EVERSION for an unknown format version,
 * EVC_EVALIDATE for a well-formed file naming a block this chain's signer could not have
 * signed (chain id, height, proposer, signature, data hash), EVC_ENOMEM. */
int evc_sign_state_decode(const uint8_t *bytes, size_t size, const struct evc_genesis *genesis,
                          struct evc_sign_state *out);
/* Frees the owned copies and zeroes s; safe on a zeroed or already released state. */
void evc_sign_state_release(struct evc_sign_state *s);

#endif
