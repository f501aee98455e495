/* Encoding of the P2P messages: u8 version, u8 type, then the type's fields big-endian,
 * every variable part length-prefixed (u32) and bounded by the chain types' limits. */
#include "node/p2p/messages.h"

#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/buf.h"
#include "node/common/error.h"

static void write_blob(struct evc_writer *w, const uint8_t *bytes, size_t size) {
  evc_write_u32(w, (uint32_t)size);
  evc_write_bytes(w, bytes, size);
}

static void write_block(struct evc_writer *w, const struct evc_p2p_block *b) {
  write_blob(w, b->header, b->header_size);
  write_blob(w, b->data, b->data_size);
  evc_write_u64(w, b->da_height_hint);
}

static bool block_ok(const struct evc_p2p_block *b) {
  return b->header_size > 0 && b->header_size <= EVC_SIGNED_HEADER_SIZE_MAX &&
         b->data_size > 0 && b->data_size <= EVC_DATA_SIZE_MAX;
}

static bool message_ok(const struct evc_p2p_message *m) {
  switch (m->type) {
  case EVC_P2P_STATUS:
    return !m->has_head || (m->head_size > 0 && m->head_size <= EVC_SIGNED_HEADER_SIZE_MAX);
  case EVC_P2P_STATUS_REQUEST: return true;
  case EVC_P2P_GET_BLOCKS: return m->count >= 1 && m->count <= EVC_P2P_RANGE_BLOCKS_MAX;
  case EVC_P2P_BLOCKS:
    if (m->count > EVC_P2P_RANGE_BLOCKS_MAX) return false;
    for (uint32_t i = 0; i < m->count; i++) {
      if (!block_ok(&m->blocks[i])) return false;
    }
    return true;
  case EVC_P2P_NEW_BLOCK: return block_ok(&m->blocks[0]);
  }
  return false;
}

static void write_message(struct evc_writer *w, const struct evc_p2p_message *m) {
  evc_write_u8(w, EVC_P2P_VERSION);
  evc_write_u8(w, (uint8_t)m->type);
  switch (m->type) {
  case EVC_P2P_STATUS:
    evc_write_u64(w, m->height);
    evc_write_u8(w, m->has_head ? 1 : 0);
    if (m->has_head) write_blob(w, m->head, m->head_size);
    evc_write_u64(w, m->da_included_height);
    break;
  case EVC_P2P_STATUS_REQUEST: break;
  case EVC_P2P_GET_BLOCKS:
    evc_write_u64(w, m->from);
    evc_write_u32(w, m->count);
    break;
  case EVC_P2P_BLOCKS:
    evc_write_u64(w, m->from);
    evc_write_u32(w, m->count);
    for (uint32_t i = 0; i < m->count; i++) write_block(w, &m->blocks[i]);
    break;
  case EVC_P2P_NEW_BLOCK: write_block(w, &m->blocks[0]); break;
  }
}

int evc_p2p_encode(const struct evc_p2p_message *m, uint8_t **bytes_out, size_t *size_out) {
  *bytes_out = NULL;
  *size_out = 0;
  if (!message_ok(m)) return EVC_EINVAL;
  struct evc_writer w;
  evc_writer_init(&w, NULL, 0);
  write_message(&w, m);
  if (w.offset > EVC_P2P_BLOCKS_BYTES_MAX + 64) return EVC_EINVAL;
  uint8_t *bytes = malloc(w.offset);
  if (bytes == NULL) return EVC_ENOMEM;
  size_t size = w.offset;
  evc_writer_init(&w, bytes, size);
  write_message(&w, m);
  EVC_ASSERT(w.error == 0);
  EVC_ASSERT(w.offset == size);
  *bytes_out = bytes;
  *size_out = size;
  return 0;
}

static const uint8_t *read_blob(struct evc_reader *r, size_t max, size_t *size_out) {
  uint32_t size = evc_read_u32(r);
  if (r->error != 0) return NULL;
  if (size == 0) {
    evc_reader_fail(r, EVC_EDECODE);
    return NULL;
  }
  if (size > max) {
    evc_reader_fail(r, EVC_ETOOBIG);
    return NULL;
  }
  *size_out = size;
  return evc_read_bytes(r, size);
}

static void read_block(struct evc_reader *r, struct evc_p2p_block *b) {
  b->header = read_blob(r, EVC_SIGNED_HEADER_SIZE_MAX, &b->header_size);
  b->data = read_blob(r, EVC_DATA_SIZE_MAX, &b->data_size);
  b->da_height_hint = evc_read_u64(r);
}

static void read_body(struct evc_reader *r, struct evc_p2p_message *m) {
  switch (m->type) {
  case EVC_P2P_STATUS: {
    m->height = evc_read_u64(r);
    uint8_t has = evc_read_u8(r);
    if (has > 1) evc_reader_fail(r, EVC_EDECODE);
    m->has_head = has == 1;
    if (m->has_head) m->head = read_blob(r, EVC_SIGNED_HEADER_SIZE_MAX, &m->head_size);
    m->da_included_height = evc_read_u64(r);
    break;
  }
  case EVC_P2P_STATUS_REQUEST: break;
  case EVC_P2P_GET_BLOCKS:
    m->from = evc_read_u64(r);
    m->count = evc_read_u32(r);
    if (r->error == 0 && (m->count == 0 || m->count > EVC_P2P_RANGE_BLOCKS_MAX)) {
      evc_reader_fail(r, EVC_ETOOBIG);
    }
    break;
  case EVC_P2P_BLOCKS:
    m->from = evc_read_u64(r);
    m->count = evc_read_u32(r);
    if (r->error == 0 && m->count > EVC_P2P_RANGE_BLOCKS_MAX) evc_reader_fail(r, EVC_ETOOBIG);
    for (uint32_t i = 0; i < m->count && r->error == 0; i++) read_block(r, &m->blocks[i]);
    break;
  case EVC_P2P_NEW_BLOCK:
    m->count = 1;
    read_block(r, &m->blocks[0]);
    break;
  default: evc_reader_fail(r, EVC_EDECODE); break;
  }
}

int evc_p2p_decode(const uint8_t *bytes, size_t size, struct evc_p2p_message *out) {
  memset(out, 0, sizeof *out);
  struct evc_reader r;
  evc_reader_init(&r, bytes, size);
  uint8_t version = evc_read_u8(&r);
  uint8_t type = evc_read_u8(&r);
  if (r.error == 0 && version != EVC_P2P_VERSION) evc_reader_fail(&r, EVC_EVERSION);
  if (r.error == 0) {
    out->type = (enum evc_p2p_type)type;
    read_body(&r, out);
  }
  int rc = evc_reader_finish(&r);
  if (rc != 0) memset(out, 0, sizeof *out);
  return rc;
}
