/* The catchup controller: the decision of when a starting aggregator may produce again.
 * It is a pure function over a snapshot of facts the node gathers (DA progress, sign state,
 * peers, waits), so it can be unit-tested and fuzzed without a runtime. It never performs
 * I/O, never starts timers and never reads a clock: the node does, then re-evaluates. */
#ifndef EVC_CORE_CATCHUP_H
#define EVC_CORE_CATCHUP_H

#include <stdbool.h>
#include <stdint.h>

/* Node modes; /status, logs and scenarios use evc_mode_name's lowercase names. */
enum evc_mode {
  EVC_MODE_BOOT,
  EVC_MODE_CATCHING_UP,
  EVC_MODE_DRAINING,
  EVC_MODE_PRODUCING,
  EVC_MODE_SYNCING, /* a full node's only running mode */
  EVC_MODE_STOPPED,
  EVC_MODE_FAILED,
};
#define EVC_MODE_COUNT 7

const char *evc_mode_name(enum evc_mode mode);
/* Parses a lowercase mode name; EVC_EINVAL when unknown. */
int evc_mode_parse(const char *name, enum evc_mode *out);

enum evc_sign_status {
  EVC_SIGN_ABSENT,  /* no sign state file: lost machine or imported key */
  EVC_SIGN_INTACT,  /* decoded and validated; S = sign_height */
  EVC_SIGN_INVALID, /* present but failed validation: fail closed */
  EVC_SIGN_STALE,   /* proven stale (the chain reached beyond S): treated as absent */
};

/* Everything the decision depends on. The node keeps it current and re-evaluates after
 * every event that changes a field. */
struct evc_catchup_facts {
  enum evc_sign_status sign_status;
  uint64_t sign_height;            /* S, when intact */
  bool sign_block_conflicts;       /* the store holds a different block at S */
  uint64_t local_height;           /* H: the store's height */
  uint64_t highest_known_height;   /* highest height seen anywhere (store, DA, signed peer heads) */
  uint64_t da_height_above;        /* highest block found on DA above the local height, past a
                                      gap (0: none): signed blocks DA holds that no override can
                                      out-order */
  bool da_caught_up;               /* DA retrieval reached the observed head, pipeline empty */
  bool settle_reached;             /* DA head reached d0 + L and everything up to it applied */
  bool p2p_timeout_expired;        /* --catchup.p2p-timeout passed since catchup began */
  bool inbound_grace_expired;      /* --catchup.inbound-grace passed (no known peers) */
  bool peek_done;                  /* connected peers answered the peek, or its timeout passed */
  uint32_t known_peer_count;       /* --p2p.peers plus the peer book */
  uint32_t known_peers_answered;   /* known peers that sent a status */
  uint32_t peers_answered;         /* any peer, known or dialling in, that sent a status */
  uint64_t peer_signed_height_max; /* highest height proven by a peer's signed header */
  bool da_only;                    /* --catchup.da-only */
  bool stop_requested;
  int fatal_error;                 /* a negative code ends catchup in FAILED */
};

enum evc_catchup_action {
  EVC_CATCHUP_WAIT,               /* keep catching up; `waiting_for` says on what */
  EVC_CATCHUP_MARK_STALE,         /* the sign state is proven stale: say so, treat it as absent */
  EVC_CATCHUP_APPLY_SIGNED_BLOCK, /* H = S-1: apply and re-publish the sign-state block */
  EVC_CATCHUP_DRAIN,              /* caught up: enter DRAINING */
  EVC_CATCHUP_FAIL,               /* fail closed: enter FAILED with `reason` */
  EVC_CATCHUP_STOP,               /* a stop was requested: a clean stop, not success */
};

struct evc_catchup_decision {
  enum evc_catchup_action action;
  const char *reason;      /* static text: why this action (for FAIL, DRAIN, MARK_STALE) */
  const char *waiting_for; /* static text for WAIT: the condition still missing */
  bool equivocation_override; /* DRAIN only because --catchup.da-only overrode a fail-closed */
};

/* Decides the next action in CATCHING_UP from the facts. Pure: same facts, same answer. */
void evc_catchup_decide(const struct evc_catchup_facts *facts,
                        struct evc_catchup_decision *out);
const char *evc_catchup_action_name(enum evc_catchup_action action);
const char *evc_sign_status_name(enum evc_sign_status status);

#endif
