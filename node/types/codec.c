/* Canonical binary encoding of headers, signed headers and data, their hashes, the header
 * signature and the derived addresses and namespaces (docs/wire-format.md). A decoder must
 * never accept two encodings of one value, read past its input, or allocate more than the
 * input can justify; an encoder must never produce what the decoder would refuse. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/buf.h"
#include "node/common/error.h"
#include "node/types/sha256.h"
#include "node/types/types.h"
#include "node/types/verify.h"

_Static_assert(EVC_CHAIN_ID_SIZE_MAX <= UINT8_MAX, "the chain id length is one byte");
_Static_assert(EVC_HASH_SIZE == crypto_hash_sha256_BYTES, "hashes are SHA-256");
_Static_assert(EVC_PUBKEY_SIZE == crypto_sign_PUBLICKEYBYTES, "ed25519 public key");
_Static_assert(EVC_SECKEY_SIZE == crypto_sign_SECRETKEYBYTES, "libsodium ed25519 secret key");
_Static_assert(EVC_SIG_SIZE == crypto_sign_BYTES, "ed25519 signature");
_Static_assert(EVC_ADDRESS_SIZE <= EVC_HASH_SIZE, "an address is a hash prefix");
_Static_assert(EVC_NAMESPACE_SIZE == 1 + 18 + 10, "version, 18 zero bytes, 10 hash bytes");
_Static_assert(EVC_TX_SIZE_MAX <= EVC_DATA_SIZE_MAX, "one tx must fit in a data blob");
_Static_assert(EVC_DATA_SIZE_MAX <= UINT32_MAX, "data sizes fit in 32 bits");

/* The smallest encoding of one tx: its u32 size and at least one byte. */
#define TX_ENCODING_SIZE_MIN 5u
/* tag(1) chain_id_len(1) chain_id height(8) tx_count(4) */
#define DATA_PREFIX_SIZE_MAX (1 + 1 + EVC_CHAIN_ID_SIZE_MAX + 8 + 4)
/* Namespace layout: version byte, zero bytes, then a prefix of SHA-256(text). */
#define NAMESPACE_ZERO_SIZE 18
#define NAMESPACE_HASH_SIZE 10

/* ---- chain id ---- */

static bool chain_id_char_ok(uint8_t c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  return c == '.' || c == '_' || c == '-';
}

static bool chain_id_text_ok(const uint8_t *text, size_t size) {
  for (size_t i = 0; i < size; i++) {
    if (!chain_id_char_ok(text[i])) return false;
  }
  return true;
}

static bool chain_id_valid(const struct evc_chain_id *id) {
  if (id->size == 0 || id->size > EVC_CHAIN_ID_SIZE_MAX) return false;
  if (id->text[id->size] != '\0') return false;
  return chain_id_text_ok((const uint8_t *)id->text, id->size);
}

int evc_chain_id_set(struct evc_chain_id *id, const char *text, size_t size) {
  EVC_ASSERT(id != NULL);
  memset(id, 0, sizeof *id);
  if (text == NULL || size == 0 || size > EVC_CHAIN_ID_SIZE_MAX) return EVC_EINVAL;
  if (!chain_id_text_ok((const uint8_t *)text, size)) return EVC_EINVAL;
  memcpy(id->text, text, size);
  id->size = (uint8_t)size;
  EVC_ASSERT(chain_id_valid(id));
  return 0;
}

bool evc_chain_id_equal(const struct evc_chain_id *a, const struct evc_chain_id *b) {
  EVC_ASSERT(a != NULL);
  EVC_ASSERT(b != NULL);
  EVC_ASSERT(a->size <= EVC_CHAIN_ID_SIZE_MAX);
  EVC_ASSERT(b->size <= EVC_CHAIN_ID_SIZE_MAX);
  return a->size == b->size && memcmp(a->text, b->text, a->size) == 0;
}

static void write_chain_id(struct evc_writer *w, const struct evc_chain_id *id) {
  EVC_ASSERT(chain_id_valid(id));
  evc_write_u8(w, id->size);
  evc_write_bytes(w, id->text, id->size);
}

static void read_chain_id(struct evc_reader *r, struct evc_chain_id *out) {
  uint8_t size = evc_read_u8(r);
  if (r->error != 0) return;
  if (size == 0) {
    evc_reader_fail(r, EVC_EDECODE);
    return;
  }
  if (size > EVC_CHAIN_ID_SIZE_MAX) {
    evc_reader_fail(r, EVC_ETOOBIG);
    return;
  }
  const uint8_t *text = evc_read_bytes(r, size);
  if (text == NULL) return;
  if (!chain_id_text_ok(text, size)) {
    evc_reader_fail(r, EVC_EDECODE);
    return;
  }
  memcpy(out->text, text, size);
  out->text[size] = '\0';
  out->size = size;
}

static void read_tag(struct evc_reader *r, uint8_t tag) {
  uint8_t got = evc_read_u8(r);
  if (r->error == 0 && got != tag) evc_reader_fail(r, EVC_EDECODE);
}

/* ---- header and signed header ---- */

static bool header_valid(const struct evc_header *h) {
  if (h->version != EVC_HEADER_VERSION) return false;
  if (!chain_id_valid(&h->chain_id)) return false;
  return h->height >= 1;
}

static void write_header(struct evc_writer *w, const struct evc_header *h) {
  EVC_ASSERT(header_valid(h));
  evc_write_u8(w, EVC_TAG_HEADER);
  evc_write_u32(w, h->version);
  write_chain_id(w, &h->chain_id);
  evc_write_u64(w, h->height);
  evc_write_u64(w, h->time_ns);
  evc_write_bytes(w, h->last_header_hash, EVC_HASH_SIZE);
  evc_write_bytes(w, h->data_hash, EVC_HASH_SIZE);
  evc_write_bytes(w, h->app_hash, EVC_HASH_SIZE);
  evc_write_bytes(w, h->proposer, EVC_ADDRESS_SIZE);
}

static void read_header(struct evc_reader *r, struct evc_header *out) {
  read_tag(r, EVC_TAG_HEADER);
  out->version = evc_read_u32(r);
  if (r->error == 0 && out->version != EVC_HEADER_VERSION) evc_reader_fail(r, EVC_EVERSION);
  read_chain_id(r, &out->chain_id);
  out->height = evc_read_u64(r);
  if (r->error == 0 && out->height == 0) evc_reader_fail(r, EVC_EDECODE);
  out->time_ns = evc_read_u64(r);
  evc_read_copy(r, out->last_header_hash, EVC_HASH_SIZE);
  evc_read_copy(r, out->data_hash, EVC_HASH_SIZE);
  evc_read_copy(r, out->app_hash, EVC_HASH_SIZE);
  evc_read_copy(r, out->proposer, EVC_ADDRESS_SIZE);
}

static void write_signed_header(struct evc_writer *w, const struct evc_signed_header *sh) {
  evc_write_u8(w, EVC_TAG_SIGNED_HEADER);
  write_header(w, &sh->header);
  evc_write_bytes(w, sh->signature, EVC_SIG_SIZE);
}

/* The writers as one type, so that one function measures and writes either value. */
typedef void (*write_fn)(struct evc_writer *w, const void *value);

static void write_header_value(struct evc_writer *w, const void *value) {
  write_header(w, value);
}

static void write_signed_header_value(struct evc_writer *w, const void *value) {
  write_signed_header(w, value);
}

/* Measures, then writes (when out is given) a value already checked as valid. */
static int encode_valid(write_fn write, const void *value, uint8_t *out, size_t capacity,
                        size_t *size_out) {
  struct evc_writer w;
  evc_writer_init(&w, NULL, 0);
  write(&w, value);
  EVC_ASSERT(w.error == 0);
  size_t size = w.offset;
  *size_out = size;
  if (out == NULL) return 0;
  if (capacity < size) return EVC_ETOOBIG;
  evc_writer_init(&w, out, capacity);
  write(&w, value);
  EVC_ASSERT(w.error == 0);
  EVC_ASSERT(w.offset == size);
  return 0;
}

int evc_header_encode(const struct evc_header *h, uint8_t *out, size_t capacity, size_t *size_out) {
  EVC_ASSERT(h != NULL);
  EVC_ASSERT(size_out != NULL);
  *size_out = 0;
  if (!header_valid(h)) return EVC_EINVAL;
  return encode_valid(write_header_value, h, out, capacity, size_out);
}

int evc_signed_header_encode(const struct evc_signed_header *sh, uint8_t *out, size_t capacity,
                             size_t *size_out) {
  EVC_ASSERT(sh != NULL);
  EVC_ASSERT(size_out != NULL);
  *size_out = 0;
  if (!header_valid(&sh->header)) return EVC_EINVAL;
  return encode_valid(write_signed_header_value, sh, out, capacity, size_out);
}

int evc_header_decode(const uint8_t *bytes, size_t size, struct evc_header *out) {
  EVC_ASSERT(out != NULL);
  EVC_ASSERT(bytes != NULL || size == 0);
  memset(out, 0, sizeof *out);
  struct evc_reader r;
  evc_reader_init(&r, bytes, size);
  read_header(&r, out);
  int rc = evc_reader_finish(&r);
  if (rc != 0) {
    memset(out, 0, sizeof *out);
    return rc;
  }
  EVC_ASSERT(header_valid(out));
  return 0;
}

int evc_signed_header_decode(const uint8_t *bytes, size_t size, struct evc_signed_header *out) {
  EVC_ASSERT(out != NULL);
  EVC_ASSERT(bytes != NULL || size == 0);
  memset(out, 0, sizeof *out);
  struct evc_reader r;
  evc_reader_init(&r, bytes, size);
  read_tag(&r, EVC_TAG_SIGNED_HEADER);
  read_header(&r, &out->header);
  evc_read_copy(&r, out->signature, EVC_SIG_SIZE);
  int rc = evc_reader_finish(&r);
  if (rc != 0) {
    memset(out, 0, sizeof *out);
    return rc;
  }
  EVC_ASSERT(header_valid(&out->header));
  return 0;
}

/* ---- data ---- */

/* Checks every limit of a data value and computes its encoded size. */
static int data_measure(const struct evc_data *d, size_t *size_out) {
  if (!chain_id_valid(&d->chain_id)) return EVC_EINVAL;
  if (d->height == 0) return EVC_EINVAL;
  if (d->tx_count > EVC_TXS_PER_BLOCK_MAX) return EVC_EINVAL;
  if (d->tx_count > 0 && d->txs == NULL) return EVC_EINVAL;
  size_t size = 1 + 1 + (size_t)d->chain_id.size + 8 + 4;
  for (uint32_t i = 0; i < d->tx_count; i++) {
    const struct evc_tx *tx = &d->txs[i];
    if (tx->size == 0 || tx->size > EVC_TX_SIZE_MAX || tx->bytes == NULL) return EVC_EINVAL;
    size += 4 + (size_t)tx->size; /* at most 4096 * 4100 bytes: no overflow */
  }
  if (size > EVC_DATA_SIZE_MAX) return EVC_EINVAL;
  *size_out = size;
  return 0;
}

/* Where a data encoding goes: a bounded writer, or a SHA-256 state (no buffer needed). */
struct data_sink {
  struct evc_writer *writer;
  struct evc_sha256 *sha;
};

static void sink_put(struct data_sink *s, const void *bytes, size_t size) {
  if (s->writer != NULL) {
    evc_write_bytes(s->writer, bytes, size);
  } else {
    EVC_ASSERT(s->sha != NULL);
    evc_sha256_update(s->sha, bytes, size);
  }
}

/* Emits the encoding of a data value that data_measure accepted. */
static void data_emit(const struct evc_data *d, struct data_sink *s) {
  uint8_t prefix[DATA_PREFIX_SIZE_MAX];
  struct evc_writer w;
  evc_writer_init(&w, prefix, sizeof prefix);
  evc_write_u8(&w, EVC_TAG_DATA);
  write_chain_id(&w, &d->chain_id);
  evc_write_u64(&w, d->height);
  evc_write_u32(&w, d->tx_count);
  EVC_ASSERT(w.error == 0);
  sink_put(s, prefix, w.offset);
  for (uint32_t i = 0; i < d->tx_count; i++) {
    uint8_t size_be[4];
    evc_writer_init(&w, size_be, sizeof size_be);
    evc_write_u32(&w, d->txs[i].size);
    EVC_ASSERT(w.error == 0);
    sink_put(s, size_be, sizeof size_be);
    sink_put(s, d->txs[i].bytes, d->txs[i].size);
  }
}

int evc_data_encode(const struct evc_data *d, uint8_t *out, size_t capacity, size_t *size_out) {
  EVC_ASSERT(d != NULL);
  EVC_ASSERT(size_out != NULL);
  *size_out = 0;
  size_t size = 0;
  int rc = data_measure(d, &size);
  if (rc != 0) return rc;
  *size_out = size;
  if (out == NULL) return 0;
  if (capacity < size) return EVC_ETOOBIG;
  struct evc_writer w;
  evc_writer_init(&w, out, capacity);
  struct data_sink sink = {.writer = &w, .sha = NULL};
  data_emit(d, &sink);
  EVC_ASSERT(w.error == 0);
  EVC_ASSERT(w.offset == size);
  return 0;
}

static void read_tx(struct evc_reader *r, struct evc_tx *out) {
  uint32_t size = evc_read_u32(r);
  if (r->error != 0) return;
  if (size == 0) {
    evc_reader_fail(r, EVC_ENONCANON);
    return;
  }
  if (size > EVC_TX_SIZE_MAX) {
    evc_reader_fail(r, EVC_ETOOBIG);
    return;
  }
  out->bytes = evc_read_bytes(r, size);
  out->size = size;
}

/* Reads tx_count and refuses it before any allocation unless the bytes left can hold it. */
static uint32_t read_tx_count(struct evc_reader *r) {
  uint32_t count = evc_read_u32(r);
  if (r->error != 0) return 0;
  if (count > EVC_TXS_PER_BLOCK_MAX) {
    evc_reader_fail(r, EVC_ETOOBIG);
    return 0;
  }
  if (count > evc_reader_left(r) / TX_ENCODING_SIZE_MIN) {
    evc_reader_fail(r, EVC_ETRUNC);
    return 0;
  }
  return count;
}

int evc_data_decode(const uint8_t *bytes, size_t size, struct evc_data *out) {
  EVC_ASSERT(out != NULL);
  EVC_ASSERT(bytes != NULL || size == 0);
  memset(out, 0, sizeof *out);
  if (size > EVC_DATA_SIZE_MAX) return EVC_ETOOBIG;
  struct evc_reader r;
  evc_reader_init(&r, bytes, size);
  read_tag(&r, EVC_TAG_DATA);
  read_chain_id(&r, &out->chain_id);
  out->height = evc_read_u64(&r);
  if (r.error == 0 && out->height == 0) evc_reader_fail(&r, EVC_EDECODE);
  uint32_t count = read_tx_count(&r);
  if (r.error == 0 && count > 0) {
    out->txs = calloc(count, sizeof *out->txs);
    if (out->txs == NULL) evc_reader_fail(&r, EVC_ENOMEM);
  }
  for (uint32_t i = 0; i < count && r.error == 0; i++) read_tx(&r, &out->txs[i]);
  int rc = evc_reader_finish(&r);
  if (rc != 0) {
    free(out->txs);
    memset(out, 0, sizeof *out);
    return rc;
  }
  out->tx_count = count;
  return 0;
}

void evc_data_release(struct evc_data *d) {
  if (d == NULL) return;
  free(d->txs);
  d->txs = NULL;
  d->tx_count = 0;
}

/* ---- hashes, signatures, derived identifiers ---- */

int evc_header_hash(const struct evc_header *h, uint8_t out[EVC_HASH_SIZE]) {
  EVC_ASSERT(h != NULL);
  EVC_ASSERT(out != NULL);
  uint8_t buf[EVC_HEADER_SIZE_MAX];
  size_t size = 0;
  int rc = evc_header_encode(h, buf, sizeof buf, &size);
  if (rc != 0) return rc;
  evc_sha256(buf, size, out);
  return 0;
}

int evc_data_hash(const struct evc_data *d, uint8_t out[EVC_HASH_SIZE]) {
  EVC_ASSERT(d != NULL);
  EVC_ASSERT(out != NULL);
  size_t size = 0;
  int rc = data_measure(d, &size);
  if (rc != 0) return rc;
  struct evc_sha256 sha;
  evc_sha256_init(&sha);
  struct data_sink sink = {.writer = NULL, .sha = &sha};
  data_emit(d, &sink);
  evc_sha256_final(&sha, out);
  return 0;
}

int evc_signed_header_sign(struct evc_signed_header *sh, const uint8_t seckey[EVC_SECKEY_SIZE]) {
  EVC_ASSERT(sh != NULL);
  EVC_ASSERT(seckey != NULL);
  if (sodium_init() < 0) return EVC_EIO;
  uint8_t buf[EVC_HEADER_SIZE_MAX];
  size_t size = 0;
  int rc = evc_header_encode(&sh->header, buf, sizeof buf, &size);
  if (rc != 0) return rc;
  rc = crypto_sign_detached(sh->signature, NULL, buf, size, seckey);
  EVC_ASSERT(rc == 0);
  return 0;
}

int evc_signed_header_verify(const struct evc_signed_header *sh,
                             const uint8_t pubkey[EVC_PUBKEY_SIZE]) {
  EVC_ASSERT(sh != NULL);
  EVC_ASSERT(pubkey != NULL);
  uint8_t buf[EVC_HEADER_SIZE_MAX];
  size_t size = 0;
  /* A header that breaks a limit has no canonical encoding, so nothing can sign it. */
  if (evc_header_encode(&sh->header, buf, sizeof buf, &size) != 0) return EVC_ESIG;
  return evc_verify(pubkey, buf, size, sh->signature);
}

void evc_address_from_pubkey(const uint8_t pubkey[EVC_PUBKEY_SIZE],
                             uint8_t out[EVC_ADDRESS_SIZE]) {
  EVC_ASSERT(pubkey != NULL);
  EVC_ASSERT(out != NULL);
  uint8_t digest[EVC_HASH_SIZE];
  evc_sha256(pubkey, EVC_PUBKEY_SIZE, digest);
  memcpy(out, digest, EVC_ADDRESS_SIZE);
}

void evc_namespace_from_string(const char *text, uint8_t out[EVC_NAMESPACE_SIZE]) {
  EVC_ASSERT(text != NULL);
  EVC_ASSERT(out != NULL);
  uint8_t digest[EVC_HASH_SIZE];
  evc_sha256(text, strlen(text), digest);
  memset(out, 0, 1 + NAMESPACE_ZERO_SIZE); /* version 0, then the zero prefix */
  memcpy(out + 1 + NAMESPACE_ZERO_SIZE, digest, NAMESPACE_HASH_SIZE);
}
