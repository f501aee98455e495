/* The node's P2P protocol messages (docs/p2p.md "Messages"): status with a signed head,
 * status requests, block range requests and replies, and new-block announcements. Pure
 * encode/decode over caller memory with every count and length bounded; decoding borrows
 * from the input buffer. The transport (TCP + handshake live, the simulated network in
 * sim/) carries them as opaque frames. */
#ifndef EVC_P2P_MESSAGES_H
#define EVC_P2P_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/types/types.h"

#define EVC_P2P_VERSION 1
#define EVC_P2P_RANGE_BLOCKS_MAX 64u          /* blocks one request may ask for */
#define EVC_P2P_BLOCKS_BYTES_MAX (6u << 20)   /* one BLOCKS reply, encoded */

enum evc_p2p_type {
  EVC_P2P_STATUS = 1,         /* my head: height and its signed header */
  EVC_P2P_STATUS_REQUEST = 2, /* send me your status */
  EVC_P2P_GET_BLOCKS = 3,     /* blocks [from, from + count) */
  EVC_P2P_BLOCKS = 4,         /* reply: blocks from `from`, in order (fewer when I lack some) */
  EVC_P2P_NEW_BLOCK = 5,      /* a block I just produced or learned */
};

/* One block on the wire: the signed header and data encodings, borrowed. */
struct evc_p2p_block {
  const uint8_t *header;
  size_t header_size;
  const uint8_t *data;
  size_t data_size;
  uint64_t da_height_hint; /* where the block is on DA, 0 when not known */
};

struct evc_p2p_message {
  enum evc_p2p_type type;
  /* STATUS */
  uint64_t height;             /* claimed height; counts only when backed by head */
  bool has_head;
  const uint8_t *head;         /* signed header encoding of the block at `height` */
  size_t head_size;
  uint64_t da_included_height;
  /* GET_BLOCKS, BLOCKS */
  uint64_t from;
  uint32_t count;              /* GET_BLOCKS: asked; BLOCKS: blocks[] entries */
  struct evc_p2p_block blocks[EVC_P2P_RANGE_BLOCKS_MAX];
  /* NEW_BLOCK: blocks[0] */
};

/* Encodes m into a malloc'd buffer. EVC_EINVAL for a message that breaks a bound. */
int evc_p2p_encode(const struct evc_p2p_message *m, uint8_t **bytes_out, size_t *size_out);
/* Decodes exactly one message; errors: EVC_ETRUNC, EVC_ETRAILING, EVC_ETOOBIG, EVC_EVERSION,
 * EVC_EDECODE. Pointers in out borrow from bytes. */
int evc_p2p_decode(const uint8_t *bytes, size_t size, struct evc_p2p_message *out);

#endif
