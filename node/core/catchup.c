/* The catchup decision (DESIGN.md "Catchup"), written as an ordered list of rules over a
 * snapshot of facts. Pure: no I/O, no clock, no allocation. docs/catchup.md mirrors the
 * rules one to one; change both together. */
#include "node/core/catchup.h"

#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"

static const char *const mode_names[EVC_MODE_COUNT] = {
    [EVC_MODE_BOOT] = "boot",         [EVC_MODE_CATCHING_UP] = "catching_up",
    [EVC_MODE_DRAINING] = "draining", [EVC_MODE_PRODUCING] = "producing",
    [EVC_MODE_SYNCING] = "syncing",   [EVC_MODE_STOPPED] = "stopped",
    [EVC_MODE_FAILED] = "failed",
};

const char *evc_mode_name(enum evc_mode mode) {
  EVC_ASSERT((unsigned)mode < EVC_MODE_COUNT);
  return mode_names[mode];
}

int evc_mode_parse(const char *name, enum evc_mode *out) {
  for (unsigned i = 0; i < EVC_MODE_COUNT; i++) {
    if (strcmp(name, mode_names[i]) == 0) {
      *out = (enum evc_mode)i;
      return 0;
    }
  }
  return EVC_EINVAL;
}

const char *evc_catchup_action_name(enum evc_catchup_action action) {
  switch (action) {
  case EVC_CATCHUP_WAIT: return "wait";
  case EVC_CATCHUP_MARK_STALE: return "mark_stale";
  case EVC_CATCHUP_APPLY_SIGNED_BLOCK: return "apply_signed_block";
  case EVC_CATCHUP_DRAIN: return "drain";
  case EVC_CATCHUP_FAIL: return "fail";
  case EVC_CATCHUP_STOP: return "stop";
  }
  EVC_UNREACHABLE();
}

const char *evc_sign_status_name(enum evc_sign_status status) {
  switch (status) {
  case EVC_SIGN_ABSENT: return "absent";
  case EVC_SIGN_INTACT: return "intact";
  case EVC_SIGN_INVALID: return "invalid";
  case EVC_SIGN_STALE: return "stale";
  }
  EVC_UNREACHABLE();
}

static void set(struct evc_catchup_decision *out, enum evc_catchup_action action,
                const char *text) {
  out->action = action;
  if (action == EVC_CATCHUP_WAIT) {
    out->waiting_for = text;
  } else {
    out->reason = text;
  }
}

/* Blocks that some source proved exist are missing and the waits are over: fail closed,
 * unless the operator chose --catchup.da-only and accepts equivocating over them. */
static void fail_closed_or_override(const struct evc_catchup_facts *f, const char *reason,
                                    struct evc_catchup_decision *out) {
  if (f->da_only) {
    set(out, EVC_CATCHUP_DRAIN, reason);
    out->equivocation_override = true;
  } else {
    set(out, EVC_CATCHUP_FAIL, reason);
  }
}

/* S is known: it says how far the chain can reach. */
static void decide_intact(const struct evc_catchup_facts *f, struct evc_catchup_decision *out) {
  uint64_t s = f->sign_height;
  uint64_t h = f->local_height;
  EVC_ASSERT(h <= s);
  if (h == s) {
    if (!f->peek_done) return set(out, EVC_CATCHUP_WAIT, "peek: signed heads of connected peers");
    return set(out, EVC_CATCHUP_DRAIN, "caught up to the sign state");
  }
  if (h + 1 == s) return set(out, EVC_CATCHUP_APPLY_SIGNED_BLOCK, "one block behind the sign state");
  if (!f->settle_reached) return set(out, EVC_CATCHUP_WAIT, "settle: DA head to reach d0 + L");
  if (!f->p2p_timeout_expired) {
    return set(out, EVC_CATCHUP_WAIT, "peers: blocks between the local height and the sign state");
  }
  if (f->da_height_above > h) {
    return set(out, EVC_CATCHUP_FAIL, "DA holds blocks signed by this key above a gap that no "
               "source filled: producing would lose to them in DA order");
  }
  fail_closed_or_override(f, "blocks below the sign state are missing and no source supplied them",
                          out);
}

/* No usable sign state: nothing says how far the chain got, so wait on every other source.
 * --catchup.da-only overrides only the fail-closed outcomes: the settle wait still applies,
 * because the lost sequencer's last blobs may still land. */
static void decide_without(const struct evc_catchup_facts *f, struct evc_catchup_decision *out) {
  if (f->known_peer_count > 0) {
    if (f->known_peers_answered < f->known_peer_count && !f->p2p_timeout_expired) {
      return set(out, EVC_CATCHUP_WAIT, "peers: every known peer to answer");
    }
  } else if (!f->inbound_grace_expired) {
    return set(out, EVC_CATCHUP_WAIT, "inbound grace: no known peers, waiting for peers to dial in");
  }
  const char *override = NULL;
  if (f->da_height_above > f->local_height) {
    if (!f->settle_reached || !f->p2p_timeout_expired) {
      return set(out, EVC_CATCHUP_WAIT, "DA: blocks above a gap, waiting for the missing ones");
    }
    return set(out, EVC_CATCHUP_FAIL, "DA holds blocks signed by this key above a gap that no "
               "source filled: producing would lose to them in DA order");
  }
  if (f->peer_signed_height_max > f->local_height) {
    if (!f->p2p_timeout_expired) return set(out, EVC_CATCHUP_WAIT, "peers: blocks a peer proved exist");
    override = "a peer proved blocks that could not be fetched";
  } else if (f->known_peer_count > 0 && f->peers_answered == 0) {
    override = "no known peer answered within the p2p timeout";
  }
  if (override != NULL && !f->da_only) return set(out, EVC_CATCHUP_FAIL, override);
  if (!f->settle_reached) return set(out, EVC_CATCHUP_WAIT, "settle: DA head to reach d0 + L");
  if (override != NULL) return fail_closed_or_override(f, override, out);
  set(out, EVC_CATCHUP_DRAIN, "caught up from DA and peers");
}

void evc_catchup_decide(const struct evc_catchup_facts *f, struct evc_catchup_decision *out) {
  memset(out, 0, sizeof *out);
  if (f->fatal_error != 0) return set(out, EVC_CATCHUP_FAIL, "fatal error during catchup");
  if (f->stop_requested) return set(out, EVC_CATCHUP_STOP, "stop requested during catchup");
  if (f->sign_status == EVC_SIGN_INVALID) {
    return set(out, EVC_CATCHUP_FAIL, "the sign state failed validation");
  }
  if (f->sign_status == EVC_SIGN_INTACT) {
    if (f->sign_block_conflicts) {
      return set(out, EVC_CATCHUP_FAIL, "the sign state names a block different from the stored one");
    }
    if (f->local_height > f->sign_height || f->highest_known_height > f->sign_height ||
        f->peer_signed_height_max > f->sign_height) {
      return set(out, EVC_CATCHUP_MARK_STALE, "the chain reached beyond the sign state");
    }
  }
  if (!f->da_caught_up) return set(out, EVC_CATCHUP_WAIT, "DA: retrieval to reach the DA head");
  if (f->sign_status == EVC_SIGN_INTACT) return decide_intact(f, out);
  decide_without(f, out);
}
