/* The simulated network: nodes addressed by name, at most one connection per pair, each
 * with an epoch so that a disconnect drops what was in flight; latency, drop, duplicate
 * and reorder drawn from the "network" stream; partitions by group. Never calls a node
 * from inside that node's own env call: every outcome is a queued event. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"
#include "sim/sim_internal.h"

enum close_reason { CLOSE_BY_NODE, CLOSE_NODE_DOWN, CLOSE_PARTITION };

uint32_t evc_simk_pair_index(uint32_t a, uint32_t b) {
  EVC_ASSERT(a != b);
  EVC_ASSERT(a < EVC_SIM_NODES_MAX && b < EVC_SIM_NODES_MAX);
  uint32_t lo = a < b ? a : b;
  uint32_t hi = a < b ? b : a;
  return lo * EVC_SIM_NODES_MAX + hi;
}

static int side_of(uint32_t pair, uint32_t node) {
  return pair / EVC_SIM_NODES_MAX == node ? 0 : 1;
}

static uint32_t node_of_side(uint32_t pair, int side) {
  return side == 0 ? pair / EVC_SIM_NODES_MAX : pair % EVC_SIM_NODES_MAX;
}

static uint64_t latency(struct evc_sim *sim, uint32_t a, uint32_t b) {
  uint64_t lo = sim->config.net_latency_min_ns;
  uint64_t hi = sim->config.net_latency_max_ns;
  if (a != b) {
    const struct evc_simk_pair *p = &sim->pairs[evc_simk_pair_index(a, b)];
    if (p->latency_override) {
      lo = p->latency_min_ns;
      hi = p->latency_max_ns;
    }
  }
  return evc_sim_rng_range_inclusive(&sim->rng_network, lo, hi);
}

static bool reachable(const struct evc_sim *sim, uint32_t a, uint32_t b) {
  return sim->group_of[a] == sim->group_of[b];
}

static struct evc_peer_id peer_id_of(const struct evc_sim *sim, uint32_t node) {
  struct evc_peer_id id;
  memcpy(id.key, sim->nodes[node]->node_key.pubkey, EVC_NODE_ID_SIZE);
  return id;
}

static int node_of_peer_id(const struct evc_sim *sim, const struct evc_peer_id *peer) {
  for (size_t i = 0; i < sim->node_count; i++) {
    if (memcmp(sim->nodes[i]->node_key.pubkey, peer->key, EVC_NODE_ID_SIZE) == 0) return (int)i;
  }
  return -1;
}

static void push_dial_failed(struct evc_sim *sim, uint32_t node, const char *address,
                             int status, uint64_t at_ns) {
  struct evc_simk_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVC_SIMK_EV_DIAL_FAILED;
  ev.node = node;
  ev.incarnation = sim->nodes[node]->incarnation;
  size_t size = strlen(address);
  ev.u.dial_failed.address = malloc(size + 1);
  if (ev.u.dial_failed.address == NULL) {
    evc_simk_fail(sim, EVC_ENOMEM, "out of memory queueing a dial failure");
    return;
  }
  memcpy(ev.u.dial_failed.address, address, size + 1);
  ev.u.dial_failed.status = status;
  if (evc_simk_push(sim, at_ns, &ev, NULL) != 0) free(ev.u.dial_failed.address);
}

static void push_peer_down(struct evc_sim *sim, uint32_t node, uint32_t peer, uint64_t at_ns) {
  struct evc_simk_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVC_SIMK_EV_PEER_DOWN;
  ev.node = node;
  ev.incarnation = sim->nodes[node]->incarnation;
  ev.u.peer_down.peer = peer;
  (void)evc_simk_push(sim, at_ns, &ev, NULL);
}

/* Ends the pair's connection: each side told peer_connected hears peer_disconnected (the
 * closing node at once, the others after one latency); a dialer never told gets
 * dial_failed. The node going down (reason CLOSE_NODE_DOWN, actor) is told nothing. */
static void pair_close(struct evc_sim *sim, uint32_t pair, enum close_reason reason,
                       uint32_t actor) {
  struct evc_simk_pair *p = &sim->pairs[pair];
  EVC_ASSERT(p->state != EVC_SIMK_CONN_NONE);
  for (int side = 0; side < 2; side++) {
    uint32_t n = node_of_side(pair, side);
    uint32_t other = node_of_side(pair, 1 - side);
    if (reason == CLOSE_NODE_DOWN && n == actor) continue;
    uint64_t at = sim->now_ns;
    if (!(reason == CLOSE_BY_NODE && n == actor)) at += latency(sim, n, other);
    if (p->up[side]) {
      push_peer_down(sim, n, other, at);
    } else if (n == p->dialer) {
      int status = EVC_ECLOSED;
      if (reason == CLOSE_PARTITION) {
        status = EVC_ETIMEDOUT;
        uint64_t timeout_at = p->dial_time_ns + EVC_SIM_CONNECT_TIMEOUT_NS;
        at = timeout_at > sim->now_ns ? timeout_at : sim->now_ns;
      }
      push_dial_failed(sim, n, p->dial_address, status, at);
    } else {
      continue;
    }
    if (at > p->quiet_until_ns) p->quiet_until_ns = at;
  }
  p->state = EVC_SIMK_CONN_NONE;
  p->up[0] = false;
  p->up[1] = false;
}

/* Splits "HEXID@name" into the expected id and the name; a plain name has no id. */
static int parse_address(const char *address, char *name_out, size_t name_capacity,
                         bool *has_id_out, uint8_t id_out[EVC_NODE_ID_SIZE]) {
  *has_id_out = false;
  const char *at = strchr(address, '@');
  const char *name = address;
  if (at != NULL) {
    if (evc_hex_decode(address, (size_t)(at - address), id_out, EVC_NODE_ID_SIZE) != 0) {
      return EVC_EINVAL;
    }
    *has_id_out = true;
    name = at + 1;
  }
  if (strlen(name) >= name_capacity) return EVC_EINVAL;
  snprintf(name_out, name_capacity, "%s", name);
  return 0;
}

/* Why a dial from node to target must fail (0: it may proceed) and after how long. */
static int dial_refusal(struct evc_sim *sim, uint32_t node, int target, bool has_id,
                        const uint8_t id[EVC_NODE_ID_SIZE], uint64_t *delay_out) {
  *delay_out = latency(sim, node, node);
  if (target < 0) return EVC_ENOTFOUND;
  if ((uint32_t)target == node) return EVC_EINVAL;
  const struct evc_sim_node *t = sim->nodes[target];
  if (has_id && memcmp(id, t->node_key.pubkey, EVC_NODE_ID_SIZE) != 0) return EVC_EPEER;
  if (sim->pairs[evc_simk_pair_index(node, (uint32_t)target)].state != EVC_SIMK_CONN_NONE) {
    return EVC_EEXIST;
  }
  if (evc_sim_rng_chance_ppm(&sim->rng_network, sim->dial_fail_ppm)) return EVC_ECLOSED;
  if (!reachable(sim, node, (uint32_t)target)) {
    *delay_out = EVC_SIM_CONNECT_TIMEOUT_NS;
    return EVC_ETIMEDOUT;
  }
  if (!evc_simk_node_live(sim, (uint32_t)target, t->incarnation)) return EVC_ECLOSED;
  *delay_out = latency(sim, node, (uint32_t)target);
  return 0;
}

int evc_simk_net_dial(struct evc_sim_node *node, const char *address) {
  struct evc_sim *sim = node->sim;
  if (address == NULL) return EVC_EINVAL;
  size_t size = strlen(address);
  if (size == 0 || size > EVC_ADDRESS_TEXT_MAX) return EVC_EINVAL;
  char name[EVC_ADDRESS_TEXT_MAX + 1];
  bool has_id = false;
  uint8_t id[EVC_NODE_ID_SIZE];
  int rc = parse_address(address, name, sizeof name, &has_id, id);
  if (rc != 0) return rc;
  int target = evc_simk_node_index(sim, name);
  uint64_t delay = 0;
  rc = dial_refusal(sim, node->index, target, has_id, id, &delay);
  evc_simk_trace(sim, node->name, "dial address=%s outcome=%s", address,
                 rc == 0 ? "connecting" : evc_errname(rc));
  if (rc != 0) {
    push_dial_failed(sim, node->index, address, rc, sim->now_ns + delay);
    return 0;
  }
  uint32_t pair = evc_simk_pair_index(node->index, (uint32_t)target);
  struct evc_simk_pair *p = &sim->pairs[pair];
  p->state = EVC_SIMK_CONN_CONNECTING;
  p->epoch++;
  p->dialer = node->index;
  snprintf(p->dial_address, sizeof p->dial_address, "%s", address);
  p->dial_time_ns = sim->now_ns;
  memset(p->up, 0, sizeof p->up);
  memset(p->inflight, 0, sizeof p->inflight);
  memset(p->last_deliver_ns, 0, sizeof p->last_deliver_ns);
  uint64_t at = sim->now_ns + delay;
  if (at < p->quiet_until_ns) at = p->quiet_until_ns;
  struct evc_simk_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVC_SIMK_EV_CONNECT;
  ev.u.connect.pair = pair;
  ev.u.connect.epoch = p->epoch;
  return evc_simk_push(sim, at, &ev, NULL);
}

static void tell_connected(struct evc_sim *sim, uint32_t pair, uint32_t n, uint32_t other,
                           bool inbound) {
  struct evc_simk_pair *p = &sim->pairs[pair];
  struct evc_sim_node *node = sim->nodes[n];
  p->up[side_of(pair, n)] = true;
  struct evc_peer_id id = peer_id_of(sim, other);
  evc_simk_trace(sim, node->name, "connected peer=%s %s", sim->nodes[other]->name,
                 inbound ? "inbound" : "outbound");
  evc_simk_enter(sim);
  node->node_class->entry->peer_connected(node->object, &id, sim->nodes[other]->name, inbound);
  evc_simk_leave(sim);
}

static void dispatch_connect(struct evc_sim *sim, const struct evc_simk_event *ev) {
  uint32_t pair = ev->u.connect.pair;
  struct evc_simk_pair *p = &sim->pairs[pair];
  if (p->epoch != ev->u.connect.epoch || p->state != EVC_SIMK_CONN_CONNECTING) return;
  uint32_t dialer = p->dialer;
  uint32_t target = node_of_side(pair, side_of(pair, dialer) == 0 ? 1 : 0);
  /* Partitions close connecting pairs. An end that is exiting (torn down at its next
   * event) closes the pair then; until that the connection stays pending. */
  EVC_ASSERT(reachable(sim, dialer, target));
  if (!evc_simk_node_live(sim, dialer, sim->nodes[dialer]->incarnation)) return;
  if (!evc_simk_node_live(sim, target, sim->nodes[target]->incarnation)) return;
  p->state = EVC_SIMK_CONN_OPEN;
  tell_connected(sim, pair, target, dialer, true);
  /* The target may have disconnected (the dialer then gets dial_failed) or died. */
  if (p->epoch != ev->u.connect.epoch || p->state != EVC_SIMK_CONN_OPEN) return;
  if (!evc_simk_node_live(sim, dialer, sim->nodes[dialer]->incarnation)) return;
  tell_connected(sim, pair, dialer, target, false);
}

int evc_simk_net_send(struct evc_sim_node *node, const struct evc_peer_id *peer,
                      const uint8_t *bytes, size_t size) {
  struct evc_sim *sim = node->sim;
  if (peer == NULL || (bytes == NULL && size > 0)) return EVC_EINVAL;
  if (size > EVC_P2P_MESSAGE_SIZE_MAX) return EVC_ETOOBIG;
  int j = node_of_peer_id(sim, peer);
  if (j < 0 || (uint32_t)j == node->index) return EVC_ENOTFOUND;
  uint32_t pair = evc_simk_pair_index(node->index, (uint32_t)j);
  struct evc_simk_pair *p = &sim->pairs[pair];
  int side = side_of(pair, node->index);
  if (p->state != EVC_SIMK_CONN_OPEN || !p->up[side]) return EVC_ENOTFOUND;
  if (p->inflight[side] >= sim->config.net_queue_messages_max) return EVC_EFULL;
  if (evc_sim_rng_chance_ppm(&sim->rng_network, sim->drop_ppm)) {
    evc_simk_trace(sim, node->name, "send to=%s size=%zu dropped", sim->nodes[j]->name, size);
    return 0;
  }
  if (p->blocked[side]) {
    evc_simk_trace(sim, node->name, "send to=%s size=%zu blocked", sim->nodes[j]->name, size);
    return 0;
  }
  int copies = evc_sim_rng_chance_ppm(&sim->rng_network, sim->duplicate_ppm) ? 2 : 1;
  evc_simk_trace(sim, node->name, "send to=%s size=%zu copies=%d", sim->nodes[j]->name, size,
                 copies);
  for (int c = 0; c < copies; c++) {
    uint64_t at = sim->now_ns + latency(sim, node->index, (uint32_t)j);
    if (p->clog_until_ns > sim->now_ns) at += p->clog_until_ns - sim->now_ns;
    bool overtake = evc_sim_rng_chance_ppm(&sim->rng_network, sim->reorder_ppm);
    if (!overtake && at < p->last_deliver_ns[side]) at = p->last_deliver_ns[side];
    if (at > p->last_deliver_ns[side]) p->last_deliver_ns[side] = at;
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL) return EVC_ENOMEM;
    if (size > 0) memcpy(copy, bytes, size);
    struct evc_simk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = EVC_SIMK_EV_DELIVER;
    ev.node = (uint32_t)j;
    ev.incarnation = sim->nodes[j]->incarnation;
    ev.u.deliver.pair = pair;
    ev.u.deliver.epoch = p->epoch;
    ev.u.deliver.from = node->index;
    ev.u.deliver.bytes = copy;
    ev.u.deliver.size = size;
    int rc = evc_simk_push(sim, at, &ev, NULL);
    if (rc != 0) {
      free(copy);
      return rc;
    }
    p->inflight[side]++;
  }
  return 0;
}

void evc_simk_net_disconnect(struct evc_sim_node *node, const struct evc_peer_id *peer) {
  struct evc_sim *sim = node->sim;
  if (peer == NULL) return;
  int j = node_of_peer_id(sim, peer);
  if (j < 0 || (uint32_t)j == node->index) return;
  uint32_t pair = evc_simk_pair_index(node->index, (uint32_t)j);
  struct evc_simk_pair *p = &sim->pairs[pair];
  if (p->state != EVC_SIMK_CONN_OPEN || !p->up[side_of(pair, node->index)]) return;
  evc_simk_trace(sim, node->name, "disconnect peer=%s", sim->nodes[j]->name);
  pair_close(sim, pair, CLOSE_BY_NODE, node->index);
}

void evc_simk_net_node_down(struct evc_sim_node *node) {
  struct evc_sim *sim = node->sim;
  for (uint32_t j = 0; j < sim->node_count; j++) {
    if (j == node->index) continue;
    uint32_t pair = evc_simk_pair_index(node->index, j);
    if (sim->pairs[pair].state != EVC_SIMK_CONN_NONE) {
      pair_close(sim, pair, CLOSE_NODE_DOWN, node->index);
    }
  }
}

static void dispatch_deliver(struct evc_sim *sim, const struct evc_simk_event *ev) {
  struct evc_simk_pair *p = &sim->pairs[ev->u.deliver.pair];
  if (p->epoch != ev->u.deliver.epoch) return; /* an older connection's message */
  int side = side_of(ev->u.deliver.pair, ev->u.deliver.from);
  EVC_ASSERT(p->inflight[side] > 0 || p->state == EVC_SIMK_CONN_NONE);
  if (p->inflight[side] > 0) p->inflight[side]--;
  if (p->state != EVC_SIMK_CONN_OPEN) return;
  if (!evc_simk_node_live(sim, ev->node, ev->incarnation)) return;
  struct evc_sim_node *to = sim->nodes[ev->node];
  struct evc_peer_id from = peer_id_of(sim, ev->u.deliver.from);
  evc_simk_trace(sim, to->name, "deliver from=%s size=%zu", sim->nodes[ev->u.deliver.from]->name,
                 ev->u.deliver.size);
  evc_simk_enter(sim);
  to->node_class->entry->message(to->object, &from, ev->u.deliver.bytes, ev->u.deliver.size);
  evc_simk_leave(sim);
}

void evc_simk_net_dispatch(struct evc_sim *sim, struct evc_simk_event *ev) {
  if (ev->kind == EVC_SIMK_EV_CONNECT) {
    dispatch_connect(sim, ev);
    return;
  }
  if (ev->kind == EVC_SIMK_EV_DELIVER) {
    dispatch_deliver(sim, ev);
    return;
  }
  if (!evc_simk_node_live(sim, ev->node, ev->incarnation)) return;
  struct evc_sim_node *node = sim->nodes[ev->node];
  evc_simk_enter(sim);
  if (ev->kind == EVC_SIMK_EV_PEER_DOWN) {
    struct evc_peer_id id = peer_id_of(sim, ev->u.peer_down.peer);
    evc_simk_trace(sim, node->name, "disconnected peer=%s", sim->nodes[ev->u.peer_down.peer]->name);
    node->node_class->entry->peer_disconnected(node->object, &id);
  } else {
    EVC_ASSERT(ev->kind == EVC_SIMK_EV_DIAL_FAILED);
    evc_simk_trace(sim, node->name, "dial_failed address=%s error=%s",
                   ev->u.dial_failed.address, evc_errname(ev->u.dial_failed.status));
    node->node_class->entry->dial_failed(node->object, ev->u.dial_failed.address,
                                         ev->u.dial_failed.status);
  }
  evc_simk_leave(sim);
}

/* ---- public network controls ---- */

int evc_sim_partition(struct evc_sim *sim, const struct evc_sim_group *groups,
                      size_t group_count) {
  EVC_ASSERT(sim != NULL);
  EVC_ASSERT(sim->node_call_depth == 0);
  EVC_ASSERT(groups != NULL || group_count == 0);
  uint32_t group_of[EVC_SIM_NODES_MAX];
  memset(group_of, 0, sizeof group_of); /* 0: the group of every node named nowhere */
  for (size_t g = 0; g < group_count; g++) {
    for (size_t k = 0; k < groups[g].count; k++) {
      int n = evc_simk_node_index(sim, groups[g].names[k]);
      if (n < 0) return EVC_ENOTFOUND;
      if (group_of[n] != 0) return EVC_EINVAL;
      group_of[n] = (uint32_t)g + 1;
    }
  }
  memcpy(sim->group_of, group_of, sizeof group_of);
  char text[EVC_SIM_TRACE_LINE_MAX / 2];
  size_t used = 0;
  for (uint32_t i = 0; i < sim->node_count && used < sizeof text - 1; i++) {
    int n = snprintf(text + used, sizeof text - used, " %s:%" PRIu32, sim->nodes[i]->name,
                     group_of[i]);
    if (n < 0) break;
    used += (size_t)n;
  }
  if (used >= sizeof text) used = sizeof text - 1;
  text[used] = '\0';
  evc_simk_trace(sim, "-", "partition%s", text);
  for (uint32_t pair = 0; pair < EVC_SIMK_PAIRS; pair++) {
    if (sim->pairs[pair].state == EVC_SIMK_CONN_NONE) continue;
    if (reachable(sim, node_of_side(pair, 0), node_of_side(pair, 1))) continue;
    pair_close(sim, pair, CLOSE_PARTITION, 0);
  }
  return 0;
}

void evc_sim_heal(struct evc_sim *sim) {
  EVC_ASSERT(sim != NULL);
  memset(sim->group_of, 0, sizeof sim->group_of);
  evc_simk_trace(sim, "-", "heal");
}

int evc_sim_link_latency(struct evc_sim *sim, const char *a, const char *b, uint64_t min_ns,
                         uint64_t max_ns) {
  EVC_ASSERT(sim != NULL);
  int ia = evc_simk_node_index(sim, a);
  int ib = evc_simk_node_index(sim, b);
  if (ia < 0 || ib < 0) return EVC_ENOTFOUND;
  if (ia == ib || min_ns > max_ns) return EVC_EINVAL;
  struct evc_simk_pair *p = &sim->pairs[evc_simk_pair_index((uint32_t)ia, (uint32_t)ib)];
  p->latency_override = true;
  p->latency_min_ns = min_ns;
  p->latency_max_ns = max_ns;
  return 0;
}

void evc_sim_net_faults(struct evc_sim *sim, uint32_t drop_ppm, uint32_t duplicate_ppm,
                        uint32_t reorder_ppm, uint32_t dial_fail_ppm) {
  EVC_ASSERT(sim != NULL);
  sim->drop_ppm = drop_ppm;
  sim->duplicate_ppm = duplicate_ppm;
  sim->reorder_ppm = reorder_ppm;
  sim->dial_fail_ppm = dial_fail_ppm;
  evc_simk_trace(sim, "-", "net_faults drop_ppm=%" PRIu32 " duplicate_ppm=%" PRIu32
                 " reorder_ppm=%" PRIu32 " dial_fail_ppm=%" PRIu32,
                 drop_ppm, duplicate_ppm, reorder_ppm, dial_fail_ppm);
}

bool evc_sim_connected(const struct evc_sim *sim, const char *a, const char *b) {
  int ia = evc_simk_node_index(sim, a);
  int ib = evc_simk_node_index(sim, b);
  if (ia < 0 || ib < 0 || ia == ib) return false;
  const struct evc_simk_pair *p = &sim->pairs[evc_simk_pair_index((uint32_t)ia, (uint32_t)ib)];
  return p->state == EVC_SIMK_CONN_OPEN && p->up[0] && p->up[1];
}

/* ---- fault hooks ---- */

void evc_sim_net_faults_get(const struct evc_sim *sim, uint32_t *drop_ppm_out,
                            uint32_t *duplicate_ppm_out, uint32_t *reorder_ppm_out,
                            uint32_t *dial_fail_ppm_out) {
  EVC_ASSERT(sim != NULL);
  *drop_ppm_out = sim->drop_ppm;
  *duplicate_ppm_out = sim->duplicate_ppm;
  *reorder_ppm_out = sim->reorder_ppm;
  *dial_fail_ppm_out = sim->dial_fail_ppm;
}

static int link_of(struct evc_sim *sim, const char *a, const char *b, int *ia_out, int *ib_out) {
  int ia = evc_simk_node_index(sim, a);
  int ib = evc_simk_node_index(sim, b);
  if (ia < 0 || ib < 0) return EVC_ENOTFOUND;
  if (ia == ib) return EVC_EINVAL;
  *ia_out = ia;
  *ib_out = ib;
  return 0;
}

int evc_sim_link_latency_reset(struct evc_sim *sim, const char *a, const char *b) {
  EVC_ASSERT(sim != NULL);
  int ia, ib;
  int rc = link_of(sim, a, b, &ia, &ib);
  if (rc != 0) return rc;
  sim->pairs[evc_simk_pair_index((uint32_t)ia, (uint32_t)ib)].latency_override = false;
  return 0;
}

int evc_sim_link_clog(struct evc_sim *sim, const char *a, const char *b, uint64_t until_ns) {
  EVC_ASSERT(sim != NULL);
  int ia, ib;
  int rc = link_of(sim, a, b, &ia, &ib);
  if (rc != 0) return rc;
  sim->pairs[evc_simk_pair_index((uint32_t)ia, (uint32_t)ib)].clog_until_ns = until_ns;
  evc_simk_trace(sim, "-", "clog a=%s b=%s until=%" PRIu64, a, b, until_ns);
  return 0;
}

int evc_sim_link_block(struct evc_sim *sim, const char *from, const char *to, bool blocked) {
  EVC_ASSERT(sim != NULL);
  int ia, ib;
  int rc = link_of(sim, from, to, &ia, &ib);
  if (rc != 0) return rc;
  uint32_t pair = evc_simk_pair_index((uint32_t)ia, (uint32_t)ib);
  sim->pairs[pair].blocked[side_of(pair, (uint32_t)ia)] = blocked;
  evc_simk_trace(sim, "-", "link_block from=%s to=%s blocked=%d", from, to, blocked ? 1 : 0);
  return 0;
}

void evc_sim_links_reset(struct evc_sim *sim) {
  EVC_ASSERT(sim != NULL);
  for (uint32_t pair = 0; pair < EVC_SIMK_PAIRS; pair++) {
    struct evc_simk_pair *p = &sim->pairs[pair];
    p->latency_override = false;
    p->clog_until_ns = 0;
    p->blocked[0] = false;
    p->blocked[1] = false;
  }
  evc_simk_trace(sim, "-", "links_reset");
}
