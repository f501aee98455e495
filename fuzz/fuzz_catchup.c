/* Catchup harness: the input is a series of runs; each run boots a node's facts from four
 * bytes, then changes them one event per byte (plus an argument byte for some) the way a
 * real node's facts change, applying each decision as the node would. After every decision
 * the safety properties of DESIGN.md "Catchup" are asserted. It must never report a
 * violation for facts reality cannot produce: the events keep facts consistent (heights
 * grow except under an explicit rollback, expired waits stay expired, answers only add up). */
#include <stdbool.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/core/catchup.h"

#define BOOT_BYTES 4u
/* Bounds that keep facts small enough for the fuzzer to reach every relation between them. */
#define PEERS_KNOWN_MAX 4u
#define PEERS_ANSWERED_MAX 64u

enum catchup_event {
  EV_DA_APPLIED,        /* arg: blocks found on DA and applied (1..4) */
  EV_DA_CAUGHT_UP,      /* retrieval reached the DA head, pipeline empty */
  EV_DA_HEAD_MOVED,     /* a higher DA head was observed: not caught up any more */
  EV_DA_BLOCK_SEEN,     /* arg: a block above H seen on DA, not applied yet */
  EV_SETTLE_REACHED,
  EV_P2P_TIMEOUT,
  EV_INBOUND_GRACE,
  EV_PEEK_DONE,
  EV_KNOWN_PEER_ANSWERED,
  EV_INBOUND_PEER_ANSWERED,
  EV_PEER_PROVED,       /* arg: a peer's signed header above H */
  EV_PEER_BLOCK,        /* a block fetched from a peer, up to what peers proved */
  EV_ROLLBACK,          /* arg: explicit step, soft blocks rolled back (0..3) */
  EV_SIGN_CONFLICT,     /* the store's block at S differs from the sign state's */
  EV_STOP,
  EV_FATAL,
  EV_COUNT,
};

struct byte_stream {
  const uint8_t *bytes;
  size_t size;
  size_t offset;
};

static uint8_t next_byte(struct byte_stream *in) {
  return in->offset < in->size ? in->bytes[in->offset++] : 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static void boot(struct byte_stream *in, struct evc_catchup_facts *f) {
  uint8_t flags = next_byte(in);
  memset(f, 0, sizeof *f);
  static const enum evc_sign_status boot_status[3] = {EVC_SIGN_ABSENT, EVC_SIGN_INTACT,
                                                      EVC_SIGN_INVALID};
  f->sign_status = boot_status[(flags & 0x0f) % 3];
  f->da_only = (flags & 0x10) != 0;
  uint64_t s = next_byte(in);
  f->sign_height = f->sign_status == EVC_SIGN_ABSENT ? 0 : s;
  f->local_height = next_byte(in);
  f->highest_known_height = f->local_height;
  f->known_peer_count = next_byte(in) % (PEERS_KNOWN_MAX + 1);
}

static void raise_height(struct evc_catchup_facts *f, uint64_t height) {
  f->local_height = height;
  f->highest_known_height = max_u64(f->highest_known_height, height);
}

static void apply_event(struct byte_stream *in, struct evc_catchup_facts *f) {
  switch ((enum catchup_event)(next_byte(in) % EV_COUNT)) {
  case EV_DA_APPLIED: raise_height(f, f->local_height + 1 + next_byte(in) % 4); break;
  case EV_DA_CAUGHT_UP: f->da_caught_up = true; break;
  case EV_DA_HEAD_MOVED: f->da_caught_up = false; break;
  case EV_DA_BLOCK_SEEN:
    f->highest_known_height = max_u64(f->highest_known_height, f->local_height + 1 +
                                                                   next_byte(in) % 16);
    f->da_caught_up = false;
    break;
  case EV_SETTLE_REACHED: f->settle_reached = true; break;
  case EV_P2P_TIMEOUT: f->p2p_timeout_expired = true; break;
  case EV_INBOUND_GRACE: f->inbound_grace_expired = true; break;
  case EV_PEEK_DONE: f->peek_done = true; break;
  case EV_KNOWN_PEER_ANSWERED:
    if (f->known_peers_answered < f->known_peer_count) {
      f->known_peers_answered++;
      f->peers_answered++;
    }
    break;
  case EV_INBOUND_PEER_ANSWERED:
    if (f->peers_answered < PEERS_ANSWERED_MAX) f->peers_answered++;
    break;
  case EV_PEER_PROVED: {
    uint64_t h = f->local_height + 1 + next_byte(in) % 16;
    f->peer_signed_height_max = max_u64(f->peer_signed_height_max, h);
    f->highest_known_height = max_u64(f->highest_known_height, h);
    break;
  }
  case EV_PEER_BLOCK:
    if (f->local_height < f->peer_signed_height_max) raise_height(f, f->local_height + 1);
    break;
  case EV_ROLLBACK: {
    uint64_t depth = next_byte(in) % 4;
    f->local_height -= depth < f->local_height ? depth : f->local_height;
    break;
  }
  case EV_SIGN_CONFLICT:
    if (f->sign_status == EVC_SIGN_INTACT && f->local_height >= f->sign_height) {
      f->sign_block_conflicts = true;
    }
    break;
  case EV_STOP: f->stop_requested = true; break;
  case EV_FATAL: f->fatal_error = EVC_EIO; break;
  case EV_COUNT: EVC_UNREACHABLE();
  }
}

/* The properties every decision must have, whatever led to the facts. */
static void check_decision(const struct evc_catchup_facts *f,
                           const struct evc_catchup_decision *d) {
  bool intact = f->sign_status == EVC_SIGN_INTACT;
  if (d->action == EVC_CATCHUP_WAIT) {
    EVC_ASSERT(d->waiting_for != NULL && d->waiting_for[0] != '\0');
  } else {
    EVC_ASSERT(d->reason != NULL && d->reason[0] != '\0');
  }
  if (f->fatal_error != 0) EVC_ASSERT(d->action == EVC_CATCHUP_FAIL);
  if (f->fatal_error == 0 && f->stop_requested) EVC_ASSERT(d->action == EVC_CATCHUP_STOP);
  if (f->sign_status == EVC_SIGN_INVALID) {
    EVC_ASSERT(d->action == EVC_CATCHUP_FAIL || d->action == EVC_CATCHUP_STOP);
  }
  if (d->equivocation_override) {
    EVC_ASSERT(d->action == EVC_CATCHUP_DRAIN);
    EVC_ASSERT(f->da_only);
  }
  if (d->action == EVC_CATCHUP_APPLY_SIGNED_BLOCK) {
    EVC_ASSERT(intact && f->local_height + 1 == f->sign_height);
  }
  if (d->action == EVC_CATCHUP_MARK_STALE) EVC_ASSERT(intact);
  if (d->action != EVC_CATCHUP_DRAIN) return;
  EVC_ASSERT(f->da_caught_up);
  EVC_ASSERT(!f->stop_requested && f->fatal_error == 0);
  EVC_ASSERT(!(intact && f->sign_block_conflicts));
  /* Signed heights the node cannot show are skipped only by the operator's override. */
  if (intact && f->local_height + 1 < f->sign_height) {
    EVC_ASSERT(f->da_only && d->equivocation_override);
  }
  if (intact) EVC_ASSERT(f->local_height >= f->sign_height || d->equivocation_override);
  if (!intact && f->peer_signed_height_max > f->local_height) {
    EVC_ASSERT(f->da_only && d->equivocation_override);
  }
  if (!intact && f->known_peer_count > 0 && f->peers_answered == 0) {
    EVC_ASSERT(f->da_only && d->equivocation_override);
  }
  /* DESIGN.md: without a sign state the node stays in CATCHING_UP until the settle wait is
   * over, so that the lost sequencer's in-flight blobs land before it signs again. */
  if (!intact) EVC_ASSERT(f->settle_reached);
}

/* Decides and applies the decision as the node would; false when the run ended. */
static bool step(struct evc_catchup_facts *f) {
  struct evc_catchup_decision d, again;
  evc_catchup_decide(f, &d);
  evc_catchup_decide(f, &again);
  EVC_ASSERT(memcmp(&d, &again, sizeof d) == 0); /* pure: same facts, same answer */
  check_decision(f, &d);
  switch (d.action) {
  case EVC_CATCHUP_WAIT: return true;
  case EVC_CATCHUP_MARK_STALE:
    f->sign_status = EVC_SIGN_STALE;
    f->sign_block_conflicts = false;
    return true;
  case EVC_CATCHUP_APPLY_SIGNED_BLOCK: raise_height(f, f->sign_height); return true;
  case EVC_CATCHUP_DRAIN:
  case EVC_CATCHUP_FAIL:
  case EVC_CATCHUP_STOP: return false;
  }
  EVC_UNREACHABLE();
}

int evc_fuzz_catchup(const uint8_t *data, size_t size) {
  struct byte_stream in = {data, size, 0};
  while (in.offset + BOOT_BYTES <= in.size) {
    struct evc_catchup_facts f;
    boot(&in, &f);
    bool running = step(&f);
    while (running && in.offset < in.size) {
      apply_event(&in, &f);
      running = step(&f);
    }
  }
  return 0;
}
