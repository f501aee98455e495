/* The invariant checker. It keeps, per node, the chain that node holds (from its
 * BLOCK_STORED / ROLLED_BACK / DA_INCLUDED observations), and one global map of the block
 * every place saw at each height. Two different blocks at one height held by two places is
 * a fork, with the exceptions DESIGN.md lists: a block only ever held by a wiped or lost
 * node (forgotten with it), heights above H under --catchup.da-only, and twins. */
#include "sim/check.h"
#include "sim/simdisk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/crypto/crypto.h"

#define DA_PLACE 31u /* the holder bit of DA in a global entry */

struct held {
  bool present;
  bool final;
  bool unknown; /* held (the node booted past it) but never seen stored: hash unknown */
  uint8_t hash[EVC_HASH_SIZE];
};

struct node_chain {
  struct evc_sim_node *node;
  struct held *blocks; /* indexed by height */
  uint64_t capacity;
  uint64_t max_known;      /* highest height stored or signed in this life */
  uint64_t sign_height;    /* the height whose sign bit this node holds */
  bool da_only;            /* started with --catchup.da-only this life */
  bool producing;
  uint64_t override_floor; /* H when a da_only node started producing */
  uint64_t equivocations;
  uint32_t answered;       /* nodes that answered it (status) in this life before producing */
  uint64_t *produced_at;   /* virtual time each height was produced (0: not by this node) */
  bool boot_pending;       /* started; its first mode observation reports its store head */
  uint64_t disk_faults_at_boot; /* evc_simdisk_faults_fired of its disk when it last booted */
  bool durability_lied;    /* booted after a disk fault: its own finality marks may be lost */
};

struct global_entry {
  bool present;
  uint8_t hash[EVC_HASH_SIZE];
  uint32_t holders;      /* store holders, bit per node index; DA_PLACE for DA */
  uint32_t sign_holders; /* nodes whose sign state names this block */
  bool final;            /* some node saw it final */
  bool overrode;         /* signed under --catchup.da-only above the signer's H: DESIGN.md lets
                          * it replace soft blocks held elsewhere */
};

/* A soft reorg DESIGN.md permits: a recovered sequencer produced over a soft block held only
 * by nodes that had not answered it. Those nodes must report and roll back by the end. */
struct soft_reorg {
  uint64_t height;
  uint8_t old_hash[EVC_HASH_SIZE];
  uint8_t new_hash[EVC_HASH_SIZE];
  uint32_t holders;
  bool held_before_restore; /* scratch of evc_check_on_restore: the restored node held it */
};
#define SOFT_REORGS_MAX 256

struct evc_check {
  struct evc_sim *sim;
  bool twins;
  struct node_chain nodes[EVC_SIM_NODES_MAX];
  size_t node_count;
  struct global_entry *global;
  uint64_t global_capacity;
  /* Per height, the last soft block some node rolled back because DA holds another one: a
   * loser of a reorg the checker already judged. A stale restore may bring it back. */
  struct held *retired;
  uint64_t retired_capacity;
  uint64_t da_scanned; /* DA heights scanned so far */
  struct {
    char name[EVC_SIM_NODE_NAME_MAX + 34];
    struct node_chain *owner;
    struct held *blocks; /* the chain the snapshot's store held, heights 0..top */
    uint64_t top;
  } snapshots[EVC_SIM_SNAPSHOTS_MAX];
  size_t snapshot_count;
  struct soft_reorg reorgs[SOFT_REORGS_MAX];
  size_t reorg_count;
  enum evc_check_failure failure;
  char message[512];
};

static void fail(struct evc_check *c, enum evc_check_failure kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#include <stdarg.h>
static void fail(struct evc_check *c, enum evc_check_failure kind, const char *fmt, ...) {
  if (c->failure != EVC_CHECK_OK) return;
  c->failure = kind;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->message, sizeof c->message, fmt, ap);
  va_end(ap);
  evc_sim_trace_note(c->sim, "-", c->message);
}

static int grow(void **array, uint64_t *capacity, uint64_t need, size_t elem) {
  if (need < *capacity) return 0;
  uint64_t cap = *capacity == 0 ? 256 : *capacity;
  while (cap <= need) cap *= 2;
  void *p = realloc(*array, cap * elem);
  if (p == NULL) return EVC_ENOMEM;
  memset((uint8_t *)p + *capacity * elem, 0, (cap - *capacity) * elem);
  *array = p;
  *capacity = cap;
  return 0;
}

static struct node_chain *chain_of(struct evc_check *c, const struct evc_sim_node *node) {
  for (size_t i = 0; i < c->node_count; i++) {
    if (c->nodes[i].node == node) return &c->nodes[i];
  }
  EVC_UNREACHABLE();
}

static uint32_t bit_of(const struct evc_check *c, const struct node_chain *nc) {
  return 1u << (uint32_t)(nc - c->nodes);
}

static int chain_reserve(struct node_chain *nc, uint64_t height) {
  uint64_t cap = nc->capacity;
  int rc = grow((void **)&nc->blocks, &nc->capacity, height, sizeof *nc->blocks);
  uint64_t cap2 = cap;
  if (rc == 0) rc = grow((void **)&nc->produced_at, &cap2, height, sizeof *nc->produced_at);
  return rc;
}

static uint64_t top(const struct node_chain *nc);

static void hex8(const uint8_t *hash, char out[17]) {
  evc_hex_encode(hash, 8, out);
}

static const char *place_name(const struct evc_check *c, uint32_t holders) {
  if (holders & (1u << DA_PLACE)) return "DA";
  for (size_t i = 0; i < c->node_count; i++) {
    if (holders & (1u << i)) return evc_sim_node_name(c->nodes[i].node);
  }
  return "a sign state";
}

/* A place (a node's store or sign state, or DA) holds block `hash` at `height`. */
/* A node that stores the old block of a pending soft reorg (fetched from a peer still holding
 * it) joins the nodes that must roll it back by the end. */
static bool join_reorg_on_store(struct evc_check *c, uint64_t height, const uint8_t *hash,
                                uint32_t bit) {
  for (size_t r = 0; r < c->reorg_count; r++) {
    if (c->reorgs[r].height == height &&
        memcmp(c->reorgs[r].old_hash, hash, EVC_HASH_SIZE) == 0) {
      c->reorgs[r].holders |= bit;
      return true;
    }
  }
  return false;
}

/* Records a pending soft reorg at height: holders must roll old_hash back and report it. */
static void add_reorg(struct evc_check *c, uint64_t height, const uint8_t *old_hash,
                      const uint8_t *new_hash, uint32_t holders) {
  EVC_ASSERT(c->reorg_count < SOFT_REORGS_MAX);
  struct soft_reorg *r = &c->reorgs[c->reorg_count++];
  memset(r, 0, sizeof *r);
  r->height = height;
  memcpy(r->old_hash, old_hash, EVC_HASH_SIZE);
  memcpy(r->new_hash, new_hash, EVC_HASH_SIZE);
  r->holders = holders;
}

/* The new block of a soft reorg was forgotten (held only by a wiped or restored-away store,
 * never on DA): the reorg is void and the old block may stand again. */
static void drop_reorgs_of(struct evc_check *c, uint64_t height, const uint8_t *new_hash) {
  size_t kept = 0;
  for (size_t r = 0; r < c->reorg_count; r++) {
    if (c->reorgs[r].height == height &&
        memcmp(c->reorgs[r].new_hash, new_hash, EVC_HASH_SIZE) == 0) {
      continue;
    }
    c->reorgs[kept++] = c->reorgs[r];
  }
  c->reorg_count = kept;
}

static void global_see(struct evc_check *c, uint64_t height, const uint8_t *hash,
                       struct node_chain *nc, bool sign) {
  if (grow((void **)&c->global, &c->global_capacity, height, sizeof *c->global) != 0) {
    fail(c, EVC_CHECK_SAFETY, "checker out of memory");
    return;
  }
  struct global_entry *g = &c->global[height];
  uint32_t bit = nc == NULL ? 1u << DA_PLACE : bit_of(c, nc);
  if (g->present && memcmp(g->hash, hash, EVC_HASH_SIZE) != 0) {
    if (nc != NULL && !sign && !c->twins && join_reorg_on_store(c, height, hash, bit)) return;
    uint32_t others = (g->holders | g->sign_holders) & ~bit;
    bool forgotten = (g->holders | g->sign_holders) == 0;
    if (forgotten) drop_reorgs_of(c, height, g->hash);
    /* DESIGN.md: the producer went ahead without an answer from the holders (unreachable),
     * or the operator forced --catchup.da-only over heights above H. */
    bool unheard = nc != NULL && (others & nc->answered) == 0;
    bool forced = nc != NULL && nc->da_only && height > nc->override_floor;
    bool soft_reorg = !c->twins && nc != NULL && nc->producing && !g->final &&
                      !(g->holders & (1u << DA_PLACE)) && (g->sign_holders & ~bit) == 0 &&
                      (unheard || forced) && c->reorg_count < SOFT_REORGS_MAX;
    if (soft_reorg && !forgotten) {
      add_reorg(c, height, g->hash, hash, others);
      memset(g, 0, sizeof *g);
      forgotten = true;
    }
    bool da_only_override = nc != NULL && nc->da_only && nc->producing &&
                            height > nc->override_floor && others == 0 &&
                            !(g->holders & (1u << DA_PLACE));
    if (forgotten || da_only_override || c->twins) {
      if (!c->twins || forgotten) {
        memset(g, 0, sizeof *g);
      }
    }
    if (!forgotten && !da_only_override && !c->twins) {
      char a[17], b[17];
      hex8(g->hash, a);
      hex8(hash, b);
      fail(c, EVC_CHECK_SAFETY, "fork at height %llu: %s holds %s.., %s holds %s..",
           (unsigned long long)height, place_name(c, g->holders | g->sign_holders), a,
           nc == NULL ? "DA" : evc_sim_node_name(nc->node), b);
      return;
    }
    if (c->twins && g->present) return; /* twin blocks: canonical decided by finality */
  }
  if (!g->present) {
    g->present = true;
    memcpy(g->hash, hash, EVC_HASH_SIZE);
  }
  if (sign) {
    g->sign_holders |= bit;
  } else {
    g->holders |= bit;
  }
}

static void drop_holder(struct evc_check *c, uint64_t height, uint32_t bit, bool sign) {
  if (height >= c->global_capacity || !c->global[height].present) return;
  struct global_entry *g = &c->global[height];
  if (sign) {
    g->sign_holders &= ~bit;
  } else {
    g->holders &= ~bit;
  }
}

static void on_stored(struct evc_check *c, struct node_chain *nc, uint64_t height,
                      const uint8_t *hash) {
  if (chain_reserve(nc, height) != 0) return fail(c, EVC_CHECK_SAFETY, "checker out of memory");
  struct held *h = &nc->blocks[height];
  if (h->present && h->final && !h->unknown && !nc->durability_lied &&
      memcmp(h->hash, hash, EVC_HASH_SIZE) != 0) {
    char a[17], b[17];
    hex8(h->hash, a);
    hex8(hash, b);
    return fail(c, EVC_CHECK_SAFETY, "final block changed on %s at height %llu: %s.. -> %s..",
                evc_sim_node_name(nc->node), (unsigned long long)height, a, b);
  }
  h->present = true;
  h->final = false;
  h->unknown = false;
  memcpy(h->hash, hash, EVC_HASH_SIZE);
  if (height > nc->max_known) nc->max_known = height;
  global_see(c, height, hash, nc, false);
}

static void on_rolled_back(struct evc_check *c, struct node_chain *nc, uint64_t height) {
  for (uint64_t h = height + 1; h < nc->capacity; h++) {
    if (!nc->blocks[h].present) continue;
    if (nc->blocks[h].final && !nc->durability_lied) {
      return fail(c, EVC_CHECK_SAFETY, "final block rolled back on %s at height %llu",
                  evc_sim_node_name(nc->node), (unsigned long long)h);
    }
    if (!nc->blocks[h].unknown) {
      if (grow((void **)&c->retired, &c->retired_capacity, h, sizeof *c->retired) != 0) {
        return fail(c, EVC_CHECK_SAFETY, "checker out of memory");
      }
      c->retired[h] = nc->blocks[h];
    }
    memset(&nc->blocks[h], 0, sizeof nc->blocks[h]);
    drop_holder(c, h, bit_of(c, nc), false);
  }
}

static void on_included(struct evc_check *c, struct node_chain *nc, uint64_t height) {
  for (uint64_t h = height; h > 0 && h < nc->capacity; h--) {
    struct held *b = &nc->blocks[h];
    if (!b->present || b->final) break;
    b->final = true;
    if (h < c->global_capacity && c->global[h].present) {
      struct global_entry *g = &c->global[h];
      g->final = true;
    }
  }
}

static void on_signed(struct evc_check *c, struct node_chain *nc, uint64_t height,
                      const uint8_t *hash) {
  bool excepted = nc->da_only && height > nc->override_floor;
  if (height <= nc->max_known && !excepted) {
    return fail(c, EVC_CHECK_SAFETY, "%s signed height %llu, which it already knew of",
                evc_sim_node_name(nc->node), (unsigned long long)height);
  }
  if (nc->sign_height != 0) drop_holder(c, nc->sign_height, bit_of(c, nc), true);
  nc->sign_height = height;
  if (height > nc->max_known) nc->max_known = height;
  global_see(c, height, hash, nc, true);
  if (excepted && height < c->global_capacity && c->global[height].present &&
      memcmp(c->global[height].hash, hash, EVC_HASH_SIZE) == 0) {
    c->global[height].overrode = true;
  }
}

static void on_produced(struct evc_check *c, struct node_chain *nc, uint64_t height) {
  if (chain_reserve(nc, height) != 0) return;
  nc->produced_at[height] = evc_sim_now(c->sim) + 1; /* +1: time 0 stays "not produced" */
}

/* The first mode of a life reports the store head the node booted with. A power cut loses
 * the soft blocks it had not synced; they are forgotten with it, exactly like a wipe, so
 * the node did not "know" them in this life. Final blocks are kept (never forgotten here),
 * so no check on them gets weaker. Heights up to the head that were never seen stored are
 * held with an unknown hash: they count as held, and compare equal to anything. */
static void on_boot(struct evc_check *c, struct node_chain *nc, uint64_t head) {
  nc->boot_pending = false;
  /* A disk fault since the last boot (a misdirected write, a lost fsync) can lose even a
   * durable commit, in a way no store can tell from a power cut: what this node marked final
   * may be soft again, or gone. From then on its own finality marks no longer bind it (DA's
   * and the other nodes' still do): it may roll back or replace a block it had marked final,
   * and re-learns finality from DA. The marks still count for liveness. */
  uint64_t faults = evc_simdisk_faults_fired(evc_sim_node_disk(nc->node));
  if (faults > nc->disk_faults_at_boot) nc->durability_lied = true;
  nc->disk_faults_at_boot = faults; /* lower after lose_machine: a new disk counts afresh */
  /* A power cut right after a durable commit loses the commit's observation, not the
   * block: heights up to the head it booted with are held, some with a hash unseen. */
  if (head > 0 && chain_reserve(nc, head) != 0) {
    return fail(c, EVC_CHECK_SAFETY, "checker out of memory");
  }
  for (uint64_t h = 1; h <= head; h++) {
    if (nc->blocks[h].present) continue;
    memset(&nc->blocks[h], 0, sizeof nc->blocks[h]);
    nc->blocks[h].present = true;
    nc->blocks[h].unknown = true;
  }
  for (uint64_t h = head + 1; h < nc->capacity; h++) {
    if (!nc->blocks[h].present || nc->blocks[h].final) continue;
    /* Forgotten like a wipe: an old block of a pending soft reorg it lost this way leaves
     * nothing to roll back or report (a restore may have put back blocks never synced). */
    for (size_t r = 0; r < c->reorg_count; r++) {
      if (c->reorgs[r].height == h &&
          memcmp(c->reorgs[r].old_hash, nc->blocks[h].hash, EVC_HASH_SIZE) == 0) {
        c->reorgs[r].holders &= ~bit_of(c, nc);
      }
    }
    memset(&nc->blocks[h], 0, sizeof nc->blocks[h]);
    drop_holder(c, h, bit_of(c, nc), false);
  }
  nc->max_known = 0;
  for (uint64_t h = 0; h < nc->capacity; h++) {
    if (nc->blocks[h].present && h > nc->max_known) nc->max_known = h;
  }
}

static void observer(void *arg, struct evc_sim_node *node, const struct evc_observation *o) {
  struct evc_check *c = arg;
  struct node_chain *nc = chain_of(c, node);
  switch (o->kind) {
  case EVC_OBS_BLOCK_STORED: on_stored(c, nc, o->height, o->hash); break;
  case EVC_OBS_BLOCK_SIGNED: on_signed(c, nc, o->height, o->hash); break;
  case EVC_OBS_BLOCK_PRODUCED: on_produced(c, nc, o->height); break;
  case EVC_OBS_ROLLED_BACK: on_rolled_back(c, nc, o->height); break;
  case EVC_OBS_DA_INCLUDED: on_included(c, nc, o->height); break;
  case EVC_OBS_EQUIVOCATION: nc->equivocations++; break;
  case EVC_OBS_MODE:
    if (nc->boot_pending) on_boot(c, nc, o->height);
    if (o->text != NULL && strcmp(o->text, "producing") == 0 && !nc->producing) {
      nc->producing = true;
      nc->override_floor = o->height;
    }
    break;
  case EVC_OBS_PEER_ANSWERED:
    for (size_t i = 0; i < c->node_count && o->text != NULL && !nc->producing; i++) {
      if (strcmp(evc_sim_node_name(c->nodes[i].node), o->text) == 0) nc->answered |= 1u << i;
    }
    break;
  case EVC_OBS_COUNTER:
  case EVC_OBS_GAUGE:
    break;
  }
}

int evc_check_new(struct evc_sim *sim, bool twins, struct evc_check **out) {
  struct evc_check *c = calloc(1, sizeof *c);
  if (c == NULL) return EVC_ENOMEM;
  c->sim = sim;
  c->twins = twins;
  c->node_count = evc_sim_node_count(sim);
  EVC_ASSERT(c->node_count < DA_PLACE);
  for (size_t i = 0; i < c->node_count; i++) c->nodes[i].node = evc_sim_node_at(sim, i);
  int rc = evc_sim_add_observer(sim, observer, c);
  if (rc != 0) {
    free(c);
    return rc;
  }
  *out = c;
  return 0;
}

void evc_check_free(struct evc_check *c) {
  if (c == NULL) return;
  for (size_t i = 0; i < c->node_count; i++) {
    free(c->nodes[i].blocks);
    free(c->nodes[i].produced_at);
  }
  for (size_t i = 0; i < c->snapshot_count; i++) free(c->snapshots[i].blocks);
  free(c->global);
  free(c->retired);
  free(c);
}

void evc_check_scan_da(struct evc_check *c) {
  const struct evc_genesis *g = evc_sim_genesis(c->sim);
  uint64_t head = evc_sim_da_head(c->sim);
  for (uint64_t h = c->da_scanned + 1; h <= head; h++) {
    const struct evc_da_blob *blobs;
    size_t count;
    if (evc_sim_da_blobs_at(c->sim, h, &blobs, &count) != 0) continue;
    for (size_t i = 0; i < count; i++) {
      if (memcmp(blobs[i].namespace_id, g->header_namespace, EVC_NAMESPACE_SIZE) != 0) continue;
      struct evc_signed_header sh;
      if (evc_signed_header_decode(blobs[i].bytes, blobs[i].size, &sh) != 0) continue;
      if (evc_signed_header_verify(&sh, g->proposer_pubkey) != 0) continue;
      uint8_t hash[EVC_HASH_SIZE];
      if (evc_header_hash(&sh.header, hash) != 0) continue;
      global_see(c, sh.header.height, hash, NULL, false);
    }
  }
  c->da_scanned = head;
}

void evc_check_on_start(struct evc_check *c, struct evc_sim_node *node, bool da_only) {
  struct node_chain *nc = chain_of(c, node);
  nc->da_only = da_only;
  nc->producing = false;
  nc->override_floor = 0;
  nc->max_known = 0;
  nc->answered = 0;
  nc->boot_pending = true;
  for (uint64_t h = 0; h < nc->capacity; h++) {
    if (nc->blocks[h].present && h > nc->max_known) nc->max_known = h;
  }
}

/* data/ is gone: the node's store holds nothing any more. */
void evc_check_on_wipe(struct evc_check *c, struct evc_sim_node *node) {
  struct node_chain *nc = chain_of(c, node);
  for (uint64_t h = 0; h < nc->capacity; h++) {
    if (nc->blocks[h].present) drop_holder(c, h, bit_of(c, nc), false);
    memset(&nc->blocks[h], 0, sizeof nc->blocks[h]);
    nc->produced_at[h] = 0; /* a forgotten block owes no DA inclusion; a new one at h will */
  }
  /* It forgot the old blocks of pending soft reorgs too: nothing left to roll back or report. */
  for (size_t r = 0; r < c->reorg_count; r++) c->reorgs[r].holders &= ~bit_of(c, nc);
}

void evc_check_on_lose_machine(struct evc_check *c, struct evc_sim_node *node) {
  struct node_chain *nc = chain_of(c, node);
  evc_check_on_wipe(c, node);
  if (nc->sign_height != 0) drop_holder(c, nc->sign_height, bit_of(c, nc), true);
  nc->sign_height = 0;
}

void evc_check_on_snapshot(struct evc_check *c, struct evc_sim_node *node, const char *name) {
  struct node_chain *nc = chain_of(c, node);
  size_t i = 0;
  while (i < c->snapshot_count &&
         (strcmp(c->snapshots[i].name, name) != 0 || c->snapshots[i].owner != nc)) {
    i++;
  }
  if (i == c->snapshot_count) {
    if (c->snapshot_count == EVC_SIM_SNAPSHOTS_MAX) return fail(c, EVC_CHECK_SAFETY, "checker: too many snapshots");
    c->snapshot_count++;
  }
  uint64_t t = top(nc);
  struct held *copy = calloc(t + 1, sizeof *copy);
  if (copy == NULL) return fail(c, EVC_CHECK_SAFETY, "checker out of memory");
  if (nc->capacity > 0) memcpy(copy, nc->blocks, (t + 1) * sizeof *copy);
  free(c->snapshots[i].blocks);
  snprintf(c->snapshots[i].name, sizeof c->snapshots[i].name, "%s", name);
  c->snapshots[i].owner = nc;
  c->snapshots[i].blocks = copy;
  c->snapshots[i].top = t;
}

/* A restored store holds again exactly what it held when the snapshot was taken. */
/* Whether the node held the old block of the pending soft reorg at height with this hash
 * before the restore (held_before_restore, kept in the reorg itself so that reorgs dropped or
 * added while the restore is replayed keep it right); if so it holds it again and stays a
 * holder of that reorg (it must still roll back and report by the end: check_reorgs),
 * rather than becoming a new place holding a conflicting block. */
static bool rejoin_reorg(struct evc_check *c, uint64_t height, const uint8_t *hash, uint32_t bit) {
  for (size_t r = 0; r < c->reorg_count; r++) {
    struct soft_reorg *sr = &c->reorgs[r];
    if (sr->held_before_restore && sr->height == height &&
        memcmp(sr->old_hash, hash, EVC_HASH_SIZE) == 0) {
      sr->holders |= bit;
      return true;
    }
  }
  return false;
}

/* A restore brought back a soft block while a different block now stands at that height,
 * and the old one is a loser the checker already judged: a node had rolled it back because DA
 * holds another block, or the block standing now was signed under --catchup.da-only over it
 * (the old one was forgotten when it was re-signed: dropped by a crash or a wipe). The
 * restored node holds a loser again and must roll it back and report by the end, like any
 * holder of a pending soft reorg. A final block is never a loser: bringing back a different
 * final block stays a fork. */
static bool resurrect_loser(struct evc_check *c, uint64_t height, const struct held *b,
                            uint32_t bit) {
  if (b->final || height >= c->global_capacity) return false;
  const struct global_entry *g = &c->global[height];
  if (!g->present || memcmp(g->hash, b->hash, EVC_HASH_SIZE) == 0) return false;
  bool retired = height < c->retired_capacity && c->retired[height].present &&
                 memcmp(c->retired[height].hash, b->hash, EVC_HASH_SIZE) == 0;
  if (!retired && !g->overrode) return false;
  if (c->reorg_count == SOFT_REORGS_MAX) return false;
  add_reorg(c, height, b->hash, g->hash, bit);
  return true;
}

void evc_check_on_restore(struct evc_check *c, struct evc_sim_node *node, const char *name) {
  struct node_chain *nc = chain_of(c, node);
  uint32_t bit = bit_of(c, nc);
  for (size_t r = 0; r < c->reorg_count; r++) {
    c->reorgs[r].held_before_restore = (c->reorgs[r].holders & bit) != 0;
  }
  evc_check_on_wipe(c, node);
  for (size_t i = 0; i < c->snapshot_count; i++) {
    if (strcmp(c->snapshots[i].name, name) != 0 || c->snapshots[i].owner != nc) continue;
    uint64_t t = c->snapshots[i].top;
    if (chain_reserve(nc, t) != 0) return fail(c, EVC_CHECK_SAFETY, "checker out of memory");
    for (uint64_t h = 1; h <= t; h++) {
      if (!c->snapshots[i].blocks[h].present) continue;
      nc->blocks[h] = c->snapshots[i].blocks[h];
      if (nc->blocks[h].unknown) continue;
      if (rejoin_reorg(c, h, nc->blocks[h].hash, bit)) continue;
      if (resurrect_loser(c, h, &nc->blocks[h], bit)) continue;
      global_see(c, h, nc->blocks[h].hash, nc, false);
    }
  }
  for (size_t r = 0; r < c->reorg_count; r++) c->reorgs[r].held_before_restore = false;
}

uint64_t evc_check_p2p_only_blocks(const struct evc_check *c, const struct evc_sim_node *node) {
  uint32_t mine = 0;
  for (size_t i = 0; i < c->node_count; i++) {
    if (c->nodes[i].node == node) mine = 1u << i;
  }
  uint64_t count = 0;
  for (uint64_t h = 0; h < c->global_capacity; h++) {
    const struct global_entry *g = &c->global[h];
    if (!g->present || (g->holders & (1u << DA_PLACE))) continue;
    if ((g->holders & ~mine) != 0) count++;
  }
  return count;
}

enum evc_check_failure evc_check_failed(const struct evc_check *c, const char **message_out) {
  if (message_out != NULL) *message_out = c->message;
  return c->failure;
}

uint64_t evc_check_equivocations(const struct evc_check *c, const struct evc_sim_node *node) {
  return chain_of((struct evc_check *)c, node)->equivocations;
}

static uint64_t top(const struct node_chain *nc) {
  uint64_t t = 0;
  for (uint64_t h = 0; h < nc->capacity; h++) {
    if (nc->blocks[h].present) t = h;
  }
  return t;
}

bool evc_check_same_chain(const struct evc_check *c, const struct evc_sim_node *a,
                          const struct evc_sim_node *b, char *msg, size_t msg_size) {
  const struct node_chain *x = chain_of((struct evc_check *)c, a);
  const struct node_chain *y = chain_of((struct evc_check *)c, b);
  uint64_t ta = top(x), tb = top(y);
  uint64_t upto = ta < tb ? ta : tb;
  for (uint64_t h = 1; h <= upto; h++) {
    const struct held *p = &x->blocks[h], *q = &y->blocks[h];
    if (p->present && q->present &&
        (p->unknown || q->unknown || memcmp(p->hash, q->hash, EVC_HASH_SIZE) == 0)) {
      continue;
    }
    snprintf(msg, msg_size, "%s and %s differ at height %llu (heads %llu and %llu)",
             evc_sim_node_name(a), evc_sim_node_name(b), (unsigned long long)h,
             (unsigned long long)ta, (unsigned long long)tb);
    return false;
  }
  return true;
}

static bool counts_for_liveness(const struct evc_sim_node_view *v) {
  return v->running && strcmp(v->mode, "failed") != 0 &&
         (strcmp(v->role, "aggregator") == 0 || strcmp(v->role, "full") == 0);
}

/* Every block a producing sequencer holds that was produced (in this life or an earlier one)
 * more than bound_ns before now is final on it and held by every live node. Writes the first
 * lapse into msg; true when there is none. */
static bool liveness_holds(const struct evc_check *c, uint64_t bound_ns, char *msg, size_t size) {
  uint64_t now = evc_sim_now(c->sim);
  for (size_t i = 0; i < c->node_count; i++) {
    const struct node_chain *seq = &c->nodes[i];
    struct evc_sim_node_view v;
    evc_sim_node_get_view(seq->node, &v);
    if (!counts_for_liveness(&v) || strcmp(v.mode, "producing") != 0) continue;
    for (uint64_t h = 1; h < seq->capacity; h++) {
      uint64_t at = seq->produced_at[h];
      if (at == 0 || at - 1 + bound_ns >= now || !seq->blocks[h].present) continue;
      if (!seq->blocks[h].final) {
        snprintf(msg, size, "%s produced height %llu at %llu ms and it is not on DA %llu ms "
                 "later", v.name, (unsigned long long)h, (unsigned long long)((at - 1) / 1000000),
                 (unsigned long long)((now - at + 1) / 1000000));
        return false;
      }
      for (size_t j = 0; j < c->node_count; j++) {
        struct evc_sim_node_view w;
        evc_sim_node_get_view(c->nodes[j].node, &w);
        const struct node_chain *other = &c->nodes[j];
        if (!counts_for_liveness(&w)) continue;
        if (h < other->capacity && other->blocks[h].present &&
            (other->blocks[h].unknown || seq->blocks[h].unknown ||
             memcmp(other->blocks[h].hash, seq->blocks[h].hash, EVC_HASH_SIZE) == 0)) {
          continue;
        }
        snprintf(msg, size, "%s does not hold height %llu, produced by %s at %llu ms", w.name,
                 (unsigned long long)h, v.name, (unsigned long long)((at - 1) / 1000000));
        return false;
      }
    }
  }
  return true;
}

bool evc_check_liveness_holds(const struct evc_check *c, uint64_t bound_ns) {
  char msg[256];
  return liveness_holds(c, bound_ns, msg, sizeof msg);
}

bool evc_check_liveness_why(const struct evc_check *c, uint64_t bound_ns, char *msg,
                            size_t size) {
  return liveness_holds(c, bound_ns, msg, size);
}

static void check_liveness(struct evc_check *c, uint64_t bound_ns) {
  char msg[256];
  if (!liveness_holds(c, bound_ns, msg, sizeof msg)) fail(c, EVC_CHECK_LIVENESS, "%s", msg);
}

static bool node_running(const struct node_chain *nc) {
  struct evc_sim_node_view v;
  evc_sim_node_get_view(nc->node, &v);
  return v.running;
}

static bool failed_node(const struct node_chain *nc) {
  struct evc_sim_node_view v;
  evc_sim_node_get_view(nc->node, &v);
  return strcmp(v.mode, "failed") == 0;
}

/* With twins, DA's first-in-order chain is canonical: every node that did not fail must
 * agree on every block it holds as final. */
static void check_twin_finals(struct evc_check *c) {
  for (size_t i = 0; i < c->node_count; i++) {
    const struct node_chain *a = &c->nodes[i];
    if (failed_node(a)) continue;
    for (size_t j = i + 1; j < c->node_count; j++) {
      const struct node_chain *b = &c->nodes[j];
      if (failed_node(b)) continue;
      uint64_t upto = a->capacity < b->capacity ? a->capacity : b->capacity;
      for (uint64_t h = 1; h < upto; h++) {
        const struct held *x = &a->blocks[h], *y = &b->blocks[h];
        if (!x->final || !y->final || x->unknown || y->unknown ||
            memcmp(x->hash, y->hash, EVC_HASH_SIZE) == 0) {
          continue;
        }
        return fail(c, EVC_CHECK_SAFETY, "%s and %s hold different final blocks at height %llu",
                    evc_sim_node_name(a->node), evc_sim_node_name(b->node), (unsigned long long)h);
      }
    }
  }
}

static void check_twins(struct evc_check *c) {
  check_twin_finals(c);
  bool any_failed = false;
  for (size_t i = 0; i < c->node_count; i++) {
    struct evc_sim_node_view v;
    evc_sim_node_get_view(c->nodes[i].node, &v);
    if (evc_sim_node_signer(c->nodes[i].node) != NULL && strcmp(v.mode, "failed") == 0) {
      any_failed = true;
    }
  }
  if (!any_failed) fail(c, EVC_CHECK_SAFETY, "twin sequencers: neither twin ended in failed");
}

/* Every permitted soft reorg was resolved: the nodes that held the old soft block reported an
 * equivocation and no longer hold it (or are down for good). */
/* Whether the new block of a reorg reached anything that serves it: DA, or a node that did
 * not end failed (its store or its sign state). A block signed by a node that then failed
 * closed before publishing it (a disk error right after the signature) stays in that node's
 * sign state: nobody ever sees it next to the old block, so there is nothing to resolve. */
static bool reorg_new_block_served(const struct evc_check *c, const struct soft_reorg *sr) {
  if (sr->height >= c->global_capacity) return false;
  const struct global_entry *g = &c->global[sr->height];
  if (!g->present || memcmp(g->hash, sr->new_hash, EVC_HASH_SIZE) != 0) return true;
  if (g->holders & (1u << DA_PLACE)) return true;
  uint32_t places = g->holders | g->sign_holders;
  for (size_t i = 0; i < c->node_count; i++) {
    if ((places & (1u << i)) && !failed_node(&c->nodes[i])) return true;
  }
  return false;
}

/* The first permitted soft reorg not resolved yet, described in msg; true when all are. */
static bool reorgs_resolved(const struct evc_check *c, char *msg, size_t size) {
  for (size_t r = 0; r < c->reorg_count; r++) {
    const struct soft_reorg *sr = &c->reorgs[r];
    if (!reorg_new_block_served(c, sr)) continue;
    for (size_t i = 0; i < c->node_count; i++) {
      if (!(sr->holders & (1u << i))) continue;
      const struct node_chain *nc = &c->nodes[i];
      /* A node that failed closed (an unrepairable disk, a conflict) or is down at the end
       * serves nothing: it cannot resolve the reorg now, and it is not asked to (once it
       * runs again, its DA follower finds the new block and rolls back, as any holder's). */
      if (failed_node(nc) || !node_running(nc)) continue;
      bool holds = sr->height < nc->capacity && nc->blocks[sr->height].present &&
                   memcmp(nc->blocks[sr->height].hash, sr->old_hash, EVC_HASH_SIZE) == 0;
      if (holds) {
        snprintf(msg, size, "soft reorg at height %llu unresolved: %s still holds the old block",
                 (unsigned long long)sr->height, evc_sim_node_name(nc->node));
        return false;
      }
      if (nc->equivocations == 0) {
        snprintf(msg, size, "soft reorg at height %llu: %s never reported it",
                 (unsigned long long)sr->height, evc_sim_node_name(nc->node));
        return false;
      }
    }
  }
  return true;
}

bool evc_check_reorgs_resolved(const struct evc_check *c) {
  char msg[160];
  return reorgs_resolved(c, msg, sizeof msg);
}

/* Every permitted soft reorg was resolved: the nodes that held the old soft block reported an
 * equivocation and no longer hold it (or are down for good). */
static void check_reorgs(struct evc_check *c) {
  char msg[160];
  if (!reorgs_resolved(c, msg, sizeof msg)) fail(c, EVC_CHECK_SAFETY, "%s", msg);
}

enum evc_check_failure evc_check_finish(struct evc_check *c, uint64_t bound_ns) {
  evc_check_scan_da(c);
  check_reorgs(c);
  if (c->twins) check_twins(c);
  check_liveness(c, bound_ns);
  return c->failure;
}

bool evc_check_converged(const struct evc_check *c, const struct evc_sim_node *a,
                         const struct evc_sim_node *b, char *msg, size_t msg_size) {
  const struct node_chain *x = chain_of((struct evc_check *)c, a);
  const struct node_chain *y = chain_of((struct evc_check *)c, b);
  uint64_t ta = top(x), tb = top(y);
  uint64_t upto = ta < tb ? ta : tb;
  for (uint64_t h = 1; h <= upto; h++) {
    const struct held *p = &x->blocks[h], *q = &y->blocks[h];
    if (!p->present || !q->present || p->unknown || q->unknown ||
        memcmp(p->hash, q->hash, EVC_HASH_SIZE) == 0) {
      continue;
    }
    snprintf(msg, msg_size, "%s and %s hold different blocks at height %llu (heads %llu and "
             "%llu)", evc_sim_node_name(a), evc_sim_node_name(b), (unsigned long long)h,
             (unsigned long long)ta, (unsigned long long)tb);
    return false;
  }
  return true;
}
