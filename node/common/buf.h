/* Bounded big-endian reader and writer used by every binary codec (chain types,
 * sign state, P2P messages). A reader never reads past its end; a writer never
 * writes past its capacity: both latch the first error and report it once. */
#ifndef EVC_COMMON_BUF_H
#define EVC_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "node/common/error.h"

struct evc_reader {
  const uint8_t *bytes;
  size_t size;
  size_t offset;
  int error; /* first error seen, 0 while all reads succeeded */
};

struct evc_writer {
  uint8_t *bytes; /* may be NULL to only measure */
  size_t capacity;
  size_t offset; /* bytes written (or that would have been written) */
  int error;
};

static inline void evc_reader_init(struct evc_reader *r, const uint8_t *bytes, size_t size) {
  r->bytes = bytes;
  r->size = size;
  r->offset = 0;
  r->error = 0;
}

static inline size_t evc_reader_left(const struct evc_reader *r) { return r->size - r->offset; }

/* Returns a pointer to the next n bytes and advances, or NULL (error EVC_ETRUNC). */
static inline const uint8_t *evc_read_bytes(struct evc_reader *r, size_t n) {
  if (r->error != 0) return NULL;
  if (n > evc_reader_left(r)) {
    r->error = EVC_ETRUNC;
    return NULL;
  }
  const uint8_t *p = r->bytes + r->offset;
  r->offset += n;
  return p;
}

static inline uint8_t evc_read_u8(struct evc_reader *r) {
  const uint8_t *p = evc_read_bytes(r, 1);
  return p ? p[0] : 0;
}

static inline uint32_t evc_read_u32(struct evc_reader *r) {
  const uint8_t *p = evc_read_bytes(r, 4);
  if (!p) return 0;
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t evc_read_u64(struct evc_reader *r) {
  const uint8_t *p = evc_read_bytes(r, 8);
  if (!p) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}

static inline void evc_read_copy(struct evc_reader *r, void *out, size_t n) {
  const uint8_t *p = evc_read_bytes(r, n);
  if (p) memcpy(out, p, n);
}

/* Marks the reader failed with code unless it already failed. */
static inline void evc_reader_fail(struct evc_reader *r, int code) {
  if (r->error == 0) r->error = code;
}

/* Returns the reader's error, or EVC_ETRAILING when bytes are left over. */
static inline int evc_reader_finish(const struct evc_reader *r) {
  if (r->error != 0) return r->error;
  if (r->offset != r->size) return EVC_ETRAILING;
  return 0;
}

static inline void evc_writer_init(struct evc_writer *w, uint8_t *bytes, size_t capacity) {
  w->bytes = bytes;
  w->capacity = capacity;
  w->offset = 0;
  w->error = 0;
}

static inline void evc_write_bytes(struct evc_writer *w, const void *src, size_t n) {
  if (w->error != 0) return;
  if (w->bytes != NULL) {
    if (n > w->capacity - w->offset) {
      w->error = EVC_ETOOBIG;
      return;
    }
    if (n > 0) memcpy(w->bytes + w->offset, src, n);
  }
  w->offset += n;
}

static inline void evc_write_u8(struct evc_writer *w, uint8_t v) { evc_write_bytes(w, &v, 1); }

static inline void evc_write_u32(struct evc_writer *w, uint32_t v) {
  uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  evc_write_bytes(w, b, 4);
}

static inline void evc_write_u64(struct evc_writer *w, uint64_t v) {
  uint8_t b[8];
  for (int i = 7; i >= 0; i--) {
    b[i] = (uint8_t)v;
    v >>= 8;
  }
  evc_write_bytes(w, b, 8);
}

#endif
