/* Encoding, decoding and validation of the sign state: S and the block signed at S.
 * Pure (memory in, memory out): no file I/O here. A decode must never accept a torn file or
 * a block the genesis signer did not sign for this chain: when in doubt, refuse.
 *
 * File layout, version 1 (all integers big-endian, no padding):
 *
 *   offset  size  field
 *   0       8     magic "EVCSIGN\0" (45 56 43 53 49 47 4e 00)
 *   8       4     u32 format version = 1
 *   12      8     u64 height S: the last height this signer signed
 *   20      1     u8 has_block: 0 = nothing signed yet (S = initial_height - 1), 1 = the block
 *                 signed at S follows; any other value is rejected
 *   21      4     u32 header_size: 0 when has_block = 0, else 1..EVC_SIGNED_HEADER_SIZE_MAX
 *   25      h     the signed header's canonical encoding (h = header_size bytes)
 *   25+h    4     u32 data_size: 0 when has_block = 0, else 1..EVC_DATA_SIZE_MAX
 *   29+h    d     the data's canonical encoding (d = data_size bytes)
 *   29+h+d  32    SHA-256 of bytes [0, 29+h+d): everything before the checksum
 *
 * Total size = 61 + h + d; the file ends right after the checksum (trailing bytes are
 * rejected). The checksum is verified first, before any other field is trusted (so a flipped
 * version byte reads as corruption, not as a newer format); every future version keeps the
 * trailing SHA-256 over everything before it. Errors: a file shorter than 61 bytes, a checksum
 * mismatch, a wrong magic, has_block > 1, a size out of bounds or inconsistent with has_block,
 * or trailing bytes: EVC_ECORRUPT. Version != 1: EVC_EVERSION. A well-formed file whose block
 * fails the chain checks (chain id, S = header height >= initial_height, proposer address,
 * signature under the genesis key, data decodes with data_hash, height and chain id matching
 * the header), or whose empty S is below initial_height - 1: EVC_EVALIDATE. */
#include "node/crypto/sign_state.h"

#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/buf.h"
#include "node/common/error.h"
#include "node/crypto/crypto.h"

static const uint8_t sign_state_magic[8] = {'E', 'V', 'C', 'S', 'I', 'G', 'N', '\0'};

_Static_assert(EVC_SIGN_STATE_FIXED_SIZE == 61, "layout comment above names 61 bytes");
_Static_assert(EVC_SIGNED_HEADER_SIZE_MAX <= UINT32_MAX, "header size fits its u32 field");
_Static_assert(EVC_DATA_SIZE_MAX <= UINT32_MAX, "data size fits its u32 field");

/* The fields of a well-formed file, pointing into its bytes. */
struct sign_state_layout {
  uint64_t height;
  bool has_block;
  const uint8_t *header;
  size_t header_size;
  const uint8_t *data;
  size_t data_size;
};

int evc_sign_state_init_empty(uint64_t height, struct evc_sign_state *out) {
  EVC_ASSERT(out != NULL);
  memset(out, 0, sizeof *out);
  out->height = height;
  out->has_block = false;
  return 0;
}

/* Decodes a block and checks that its data belongs to its header (no genesis needed). */
static int block_decode(const uint8_t *header_bytes, size_t header_size,
                        const uint8_t *data_bytes, size_t data_size,
                        struct evc_signed_header *sh_out, uint8_t hash_out[EVC_HASH_SIZE]) {
  int rc = evc_signed_header_decode(header_bytes, header_size, sh_out);
  if (rc != 0) return rc;
  struct evc_data data;
  rc = evc_data_decode(data_bytes, data_size, &data);
  if (rc != 0) return rc;
  uint8_t data_hash[EVC_HASH_SIZE];
  rc = evc_data_hash(&data, data_hash);
  if (rc == 0) {
    const struct evc_header *h = &sh_out->header;
    if (memcmp(data_hash, h->data_hash, EVC_HASH_SIZE) != 0 || data.height != h->height ||
        !evc_chain_id_equal(&data.chain_id, &h->chain_id)) {
      rc = EVC_EVALIDATE;
    }
  }
  evc_data_release(&data);
  if (rc == 0) rc = evc_header_hash(&sh_out->header, hash_out);
  return rc;
}

static uint8_t *copy_bytes(const uint8_t *bytes, size_t size) {
  EVC_ASSERT(size > 0);
  uint8_t *copy = malloc(size);
  if (copy != NULL) memcpy(copy, bytes, size);
  return copy;
}

/* Fills out with owned copies of an already decoded block. */
static int fill_block(const uint8_t *header_bytes, size_t header_size, const uint8_t *data_bytes,
                      size_t data_size, const struct evc_signed_header *sh,
                      const uint8_t hash[EVC_HASH_SIZE], struct evc_sign_state *out) {
  memset(out, 0, sizeof *out);
  out->header_bytes = copy_bytes(header_bytes, header_size);
  out->data_bytes = copy_bytes(data_bytes, data_size);
  if (out->header_bytes == NULL || out->data_bytes == NULL) {
    evc_sign_state_release(out);
    return EVC_ENOMEM;
  }
  out->header_size = header_size;
  out->data_size = data_size;
  out->height = sh->header.height;
  out->has_block = true;
  out->signed_header = *sh;
  memcpy(out->block_hash, hash, EVC_HASH_SIZE);
  return 0;
}

int evc_sign_state_init_block(const uint8_t *header_bytes, size_t header_size,
                              const uint8_t *data_bytes, size_t data_size,
                              struct evc_sign_state *out) {
  EVC_ASSERT(header_bytes != NULL);
  EVC_ASSERT(data_bytes != NULL);
  EVC_ASSERT(out != NULL);
  memset(out, 0, sizeof *out);
  if (header_size > EVC_SIGNED_HEADER_SIZE_MAX || data_size > EVC_DATA_SIZE_MAX) {
    return EVC_ETOOBIG;
  }
  if (header_size == 0 || data_size == 0) return EVC_ETRUNC;
  struct evc_signed_header sh;
  uint8_t hash[EVC_HASH_SIZE];
  int rc = block_decode(header_bytes, header_size, data_bytes, data_size, &sh, hash);
  if (rc != 0) return rc;
  return fill_block(header_bytes, header_size, data_bytes, data_size, &sh, hash, out);
}

int evc_sign_state_encode(const struct evc_sign_state *s, uint8_t **bytes_out,
                          size_t *size_out) {
  EVC_ASSERT(s != NULL);
  EVC_ASSERT(bytes_out != NULL);
  EVC_ASSERT(size_out != NULL);
  if (s->has_block) {
    EVC_ASSERT(s->header_bytes != NULL);
    EVC_ASSERT(s->data_bytes != NULL);
    EVC_ASSERT(s->header_size > 0 && s->header_size <= EVC_SIGNED_HEADER_SIZE_MAX);
    EVC_ASSERT(s->data_size > 0 && s->data_size <= EVC_DATA_SIZE_MAX);
    EVC_ASSERT(s->height == s->signed_header.header.height);
  } else {
    EVC_ASSERT(s->header_size == 0);
    EVC_ASSERT(s->data_size == 0);
  }
  size_t size = EVC_SIGN_STATE_FIXED_SIZE + s->header_size + s->data_size;
  uint8_t *bytes = malloc(size);
  if (bytes == NULL) return EVC_ENOMEM;
  struct evc_writer w;
  evc_writer_init(&w, bytes, size);
  evc_write_bytes(&w, sign_state_magic, sizeof sign_state_magic);
  evc_write_u32(&w, EVC_SIGN_STATE_VERSION);
  evc_write_u64(&w, s->height);
  evc_write_u8(&w, s->has_block ? 1 : 0);
  evc_write_u32(&w, (uint32_t)s->header_size);
  evc_write_bytes(&w, s->header_bytes, s->header_size);
  evc_write_u32(&w, (uint32_t)s->data_size);
  evc_write_bytes(&w, s->data_bytes, s->data_size);
  EVC_ASSERT(w.error == 0);
  EVC_ASSERT(w.offset == size - EVC_HASH_SIZE);
  evc_sha256(bytes, w.offset, bytes + w.offset);
  *bytes_out = bytes;
  *size_out = size;
  return 0;
}

/* Reads one u32 length and that many bytes; the length must be in [min, max]. */
static const uint8_t *read_sized(struct evc_reader *r, size_t min, size_t max, size_t *size_out) {
  uint32_t size = evc_read_u32(r);
  if (r->error == 0 && (size < min || size > max)) evc_reader_fail(r, EVC_ECORRUPT);
  const uint8_t *bytes = evc_read_bytes(r, size);
  *size_out = size;
  return bytes;
}

/* Checks checksum, magic, version and layout; EVC_ECORRUPT or EVC_EVERSION. */
static int layout_parse(const uint8_t *bytes, size_t size, struct sign_state_layout *out) {
  if (size < EVC_SIGN_STATE_FIXED_SIZE || size > EVC_SIGN_STATE_SIZE_MAX) return EVC_ECORRUPT;
  size_t body_size = size - EVC_HASH_SIZE;
  uint8_t sum[EVC_HASH_SIZE];
  evc_sha256(bytes, body_size, sum);
  if (memcmp(sum, bytes + body_size, EVC_HASH_SIZE) != 0) return EVC_ECORRUPT;

  struct evc_reader r;
  evc_reader_init(&r, bytes, body_size);
  const uint8_t *magic = evc_read_bytes(&r, sizeof sign_state_magic);
  EVC_ASSERT(magic != NULL);
  if (memcmp(magic, sign_state_magic, sizeof sign_state_magic) != 0) return EVC_ECORRUPT;
  if (evc_read_u32(&r) != EVC_SIGN_STATE_VERSION) return EVC_EVERSION;
  out->height = evc_read_u64(&r);
  uint8_t has_block = evc_read_u8(&r);
  if (has_block > 1) return EVC_ECORRUPT;
  out->has_block = has_block == 1;
  size_t min = out->has_block ? 1 : 0;
  out->header = read_sized(&r, min, out->has_block ? EVC_SIGNED_HEADER_SIZE_MAX : 0,
                           &out->header_size);
  out->data = read_sized(&r, min, out->has_block ? EVC_DATA_SIZE_MAX : 0, &out->data_size);
  if (evc_reader_finish(&r) != 0) return EVC_ECORRUPT;
  return 0;
}

/* The chain checks on a decoded block: genesis chain, height S, proposer and signature. */
static int block_validate(const struct sign_state_layout *l, const struct evc_signed_header *sh,
                          const struct evc_genesis *genesis) {
  const struct evc_header *h = &sh->header;
  if (!evc_chain_id_equal(&h->chain_id, &genesis->chain_id)) return EVC_EVALIDATE;
  if (h->height != l->height || h->height < genesis->initial_height) return EVC_EVALIDATE;
  uint8_t proposer[EVC_ADDRESS_SIZE];
  evc_address_from_pubkey(genesis->proposer_pubkey, proposer);
  if (memcmp(proposer, h->proposer, EVC_ADDRESS_SIZE) != 0) return EVC_EVALIDATE;
  if (evc_signed_header_verify(sh, genesis->proposer_pubkey) != 0) return EVC_EVALIDATE;
  return 0;
}

int evc_sign_state_decode(const uint8_t *bytes, size_t size, const struct evc_genesis *genesis,
                          struct evc_sign_state *out) {
  EVC_ASSERT(bytes != NULL || size == 0);
  EVC_ASSERT(genesis != NULL);
  EVC_ASSERT(genesis->initial_height >= 1);
  EVC_ASSERT(out != NULL);
  memset(out, 0, sizeof *out);
  struct sign_state_layout l;
  memset(&l, 0, sizeof l);
  int rc = layout_parse(bytes, size, &l);
  if (rc != 0) return rc;
  if (!l.has_block) {
    if (l.height < genesis->initial_height - 1) return EVC_EVALIDATE;
    return evc_sign_state_init_empty(l.height, out);
  }
  struct evc_signed_header sh;
  uint8_t hash[EVC_HASH_SIZE];
  rc = block_decode(l.header, l.header_size, l.data, l.data_size, &sh, hash);
  if (rc == EVC_ENOMEM) return rc;
  if (rc != 0) return EVC_EVALIDATE; /* the checksum held: the file names a bad block */
  rc = block_validate(&l, &sh, genesis);
  if (rc != 0) return rc;
  return fill_block(l.header, l.header_size, l.data, l.data_size, &sh, hash, out);
}

void evc_sign_state_release(struct evc_sign_state *s) {
  EVC_ASSERT(s != NULL);
  free(s->header_bytes);
  free(s->data_bytes);
  memset(s, 0, sizeof *s);
}
