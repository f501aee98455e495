/* The P2P side of the node: known peers (flags and the peer book), dialling with backoff,
 * status exchange with signed heads, range requests, new-block announcements, and serving
 * blocks. Every block from a peer is validated exactly like one from DA; a peer that sends
 * invalid or unrequested data is disconnected and no longer asked (the heights proven by
 * signed headers stay proven). Nothing here is final: blocks from peers are soft until the
 * DA follower finds them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/core/log.h"
#include "node/core/node_internal.h"
#include "node/p2p/messages.h"

static void request_more(struct evc_node *n, struct evc_peer *p);

static struct evc_peer *peer_find(struct evc_node *n, const struct evc_peer_id *id) {
  for (uint32_t i = 0; i < EVC_PEERS_CONNECTED_MAX; i++) {
    if (n->peers[i].used && memcmp(n->peers[i].id.key, id->key, EVC_NODE_ID_SIZE) == 0) {
      return &n->peers[i];
    }
  }
  return NULL;
}

static void peer_name(const struct evc_peer *p, char out[17]) {
  evc_hex_encode(p->id.key, 8, out);
}

static int send_message(struct evc_node *n, struct evc_peer *p, const struct evc_p2p_message *m) {
  uint8_t *bytes = NULL;
  size_t size = 0;
  int rc = evc_p2p_encode(m, &bytes, &size);
  if (rc == 0) rc = n->env->p2p_send(n->env->ctx, &p->id, bytes, size);
  free(bytes);
  if (rc != 0 && rc != EVC_ENOTFOUND) {
    evc_logf(n->env, EVC_LOG_WARN, "event=p2p_send_failed peer=%s type=%d error=%s", p->address,
             (int)m->type, evc_errname(rc));
  }
  return rc;
}

/* Stops asking a misbehaving peer and closes the connection. The heights proven so far stay
 * proven (peer_proven_max): a header signed by the genesis key proves its block exists
 * whoever relayed it, and lowering the maximum here would also drop the proofs of peers that
 * have since disconnected, so a byzantine peer could make a recovering sequencer produce over
 * blocks an honest peer proved (scenarios/byzantine_bad_sig_keeps_proof.json). */
static void misbehaved(struct evc_node *n, struct evc_peer *p, const char *why) {
  evc_logf(n->env, EVC_LOG_WARN, "event=peer_misbehaved peer=%s reason=\"%s\" action=disconnect",
           p->address, why);
  evc_node_counter(n, "peers_disconnected_for_misbehaviour", 1);
  p->head = 0;
  p->requesting = false;
  n->env->p2p_disconnect(n->env->ctx, &p->id);
}

/* ---- status ---- */

static int send_status(struct evc_node *n, struct evc_peer *p) {
  struct evc_p2p_message m;
  memset(&m, 0, sizeof m);
  m.type = EVC_P2P_STATUS;
  m.height = n->chain.height;
  m.da_included_height = n->chain.da_included_height;
  struct evc_block_record rec;
  memset(&rec, 0, sizeof rec);
  if (n->store != NULL && n->chain.height >= n->cfg.genesis.initial_height) {
    int rc = evc_store_get_block(n->store, n->chain.height, &rec);
    if (rc != 0) return rc;
    m.has_head = true;
    m.head = rec.header;
    m.head_size = rec.header_size;
  }
  int rc = send_message(n, p, &m);
  evc_block_record_release(&rec);
  return rc;
}

/* Decodes and checks a signed header from a peer against the genesis key. */
static int verify_header(const struct evc_node *n, const uint8_t *bytes, size_t size,
                         struct evc_signed_header *sh, uint8_t hash[EVC_HASH_SIZE]) {
  int rc = evc_signed_header_decode(bytes, size, sh);
  if (rc != 0) return rc;
  if (!evc_chain_id_equal(&sh->header.chain_id, &n->cfg.genesis.chain_id)) return EVC_EVALIDATE;
  if (memcmp(sh->header.proposer, n->proposer, EVC_ADDRESS_SIZE) != 0) return EVC_EVALIDATE;
  if (evc_signed_header_verify(sh, n->cfg.genesis.proposer_pubkey) != 0) return EVC_ESIG;
  return evc_header_hash(&sh->header, hash);
}

/* An aggregator that produces must be the only signer of new blocks. */
static bool producing(const struct evc_node *n) {
  return n->cfg.aggregator && (n->mode == EVC_MODE_DRAINING || n->mode == EVC_MODE_PRODUCING);
}

/* Under the operator's --catchup.da-only override this node knowingly re-signed the heights
 * up to the old sign state: a peer's old block there is the expected equivocation, which the
 * peer resolves when DA shows our block. Anything else signed by our key is another instance. */
static bool expected_conflict(const struct evc_node *n, uint64_t height) {
  return n->override_equivocation && height <= n->override_ceiling;
}

/* A validly signed block at a height we hold: the same one, or evidence of equivocation. */
static void compare_known(struct evc_node *n, uint64_t height, const uint8_t hash[EVC_HASH_SIZE]) {
  struct evc_block_record rec;
  if (evc_store_get_block(n->store, height, &rec) != 0) return;
  bool same = memcmp(rec.hash, hash, EVC_HASH_SIZE) == 0;
  evc_block_record_release(&rec);
  if (same) return;
  n->equivocations++;
  evc_node_observe(n, EVC_OBS_EQUIVOCATION, height, hash, 0, "a peer holds a different block");
  char hex[2 * EVC_HASH_SIZE + 1];
  evc_hex_encode(hash, EVC_HASH_SIZE, hex);
  evc_logf(n->env, EVC_LOG_WARN, "event=equivocation height=%llu hash=%s detail=\"a peer holds a "
           "different block signed by the sequencer key\"", (unsigned long long)height, hex);
  if (producing(n) && !expected_conflict(n, height)) {
    evc_node_counter(n, "own_key_conflicts_detected", 1);
    evc_node_fail(n, EVC_ECONFLICT, "another instance is signing with this node's key: a peer "
                  "holds a block it did not produce");
  }
}

static void on_status(struct evc_node *n, struct evc_peer *p, const struct evc_p2p_message *m) {
  p->answered = true;
  if (p->known >= 0) n->known[p->known].answered = true;
  uint64_t proven = 0;
  if (m->has_head) {
    struct evc_signed_header sh;
    uint8_t hash[EVC_HASH_SIZE];
    if (verify_header(n, m->head, m->head_size, &sh, hash) != 0 || sh.header.height != m->height) {
      return misbehaved(n, p, "status head is not a valid header signed by the genesis key");
    }
    proven = m->height;
    if (proven <= n->chain.height) compare_known(n, proven, hash);
    if (!evc_node_is_running(n)) return;
    if (proven > n->chain.height && producing(n) && expected_conflict(n, proven)) {
      proven = 0; /* the old chain we overrode: nothing to fetch */
    } else if (proven > n->chain.height && producing(n)) {
      evc_node_counter(n, "own_key_conflicts_detected", 1);
      return evc_node_fail(n, EVC_ECONFLICT, "a peer proved a block above this producer's head: "
                           "another instance is signing with this key");
    }
  }
  if (proven > p->head) p->head = proven;
  if (proven > n->peer_proven_max) n->peer_proven_max = proven;
  evc_node_observe(n, EVC_OBS_PEER_ANSWERED, proven, NULL, 0, p->address);
  request_more(n, p);
  evc_node_reevaluate(n);
}

/* ---- blocks from peers ---- */

static void request_more(struct evc_node *n, struct evc_peer *p) {
  if (p->requesting || p->head <= n->chain.height || !evc_node_is_running(n)) return;
  uint64_t want = p->head - n->chain.height;
  struct evc_p2p_message m;
  memset(&m, 0, sizeof m);
  m.type = EVC_P2P_GET_BLOCKS;
  m.from = n->chain.height + 1;
  m.count = want > EVC_P2P_RANGE_BLOCKS_MAX ? EVC_P2P_RANGE_BLOCKS_MAX : (uint32_t)want;
  if (send_message(n, p, &m) != 0) return;
  p->requesting = true;
  p->request_from = m.from;
  p->request_count = m.count;
  p->request_at_ns = n->env->mono_ns(n->env->ctx);
}

/* Validates and, when it is the next block, applies a block a peer sent. Returns non-zero
 * only when the peer misbehaved (an invalid block). */
static int take_block(struct evc_node *n, struct evc_peer *p, const struct evc_p2p_block *wire,
                      bool *applied) {
  *applied = false;
  struct evc_block b;
  int rc = evc_block_from_bytes(wire->header, wire->header_size, wire->data, wire->data_size, &b);
  if (rc != 0) return rc;
  uint8_t hash[EVC_HASH_SIZE];
  struct evc_signed_header sh;
  rc = verify_header(n, b.header_bytes, b.header_size, &sh, hash);
  uint64_t height = b.sh.header.height;
  if (rc == 0 && height <= n->chain.height) {
    compare_known(n, height, b.hash);
  } else if (rc == 0 && height == n->chain.height + 1) {
    if (producing(n) && expected_conflict(n, height)) {
      /* an old block we overrode: ignore */
    } else if (producing(n)) {
      evc_node_counter(n, "own_key_conflicts_detected", 1);
      evc_node_fail(n, EVC_ECONFLICT, "a peer sent a block above this producer's head: another "
                    "instance is signing with this key");
    } else {
      rc = evc_chain_check_next(n, &b);
      if (rc == 0) rc = evc_chain_apply(n, &b, 0, false);
      if (rc == 0) {
        *applied = true;
        if (n->cfg.aggregator) evc_node_counter(n, "blocks_from_peers", 1);
        evc_node_after_apply(n);
      }
    }
  } else if (rc == 0 && height > p->head) {
    p->head = height; /* a signed header proves the height */
    if (height > n->peer_proven_max) n->peer_proven_max = height;
  }
  evc_block_release(&b);
  return rc;
}

static void on_blocks(struct evc_node *n, struct evc_peer *p, const struct evc_p2p_message *m) {
  if (!p->requesting || m->from != p->request_from || m->count > p->request_count) {
    return misbehaved(n, p, "blocks that were not requested");
  }
  p->requesting = false;
  for (uint32_t i = 0; i < m->count && evc_node_is_running(n); i++) {
    bool applied = false;
    int rc = take_block(n, p, &m->blocks[i], &applied);
    if (rc == EVC_ENOMEM || rc == EVC_EIO) return evc_node_fail(n, rc, "cannot store a block");
    if (rc != 0) return misbehaved(n, p, "an invalid block");
  }
  if (m->count == 0 && p->head > n->chain.height) p->head = n->chain.height; /* it lacks them */
  request_more(n, p);
  evc_node_reevaluate(n);
}

static void on_new_block(struct evc_node *n, struct evc_peer *p, const struct evc_p2p_message *m) {
  bool applied = false;
  int rc = take_block(n, p, &m->blocks[0], &applied);
  if (rc == EVC_ENOMEM || rc == EVC_EIO) return evc_node_fail(n, rc, "cannot store a block");
  if (rc != 0 && rc != EVC_ECHAIN) return misbehaved(n, p, "an invalid announced block");
  request_more(n, p);
  evc_node_reevaluate(n);
}

static void on_get_blocks(struct evc_node *n, struct evc_peer *p, const struct evc_p2p_message *m) {
  struct evc_p2p_message reply;
  memset(&reply, 0, sizeof reply);
  reply.type = EVC_P2P_BLOCKS;
  reply.from = m->from;
  struct evc_block_record recs[EVC_P2P_RANGE_BLOCKS_MAX];
  size_t bytes = 0;
  for (uint32_t i = 0; i < m->count && m->from + i <= n->chain.height; i++) {
    if (m->from + i < n->cfg.genesis.initial_height) break;
    struct evc_block_record *r = &recs[reply.count];
    if (evc_store_get_block(n->store, m->from + i, r) != 0) break;
    if (bytes + r->header_size + r->data_size + 32 > EVC_P2P_BLOCKS_BYTES_MAX) {
      evc_block_record_release(r);
      break;
    }
    bytes += r->header_size + r->data_size + 32;
    reply.blocks[reply.count] = (struct evc_p2p_block){r->header, r->header_size, r->data,
                                                       r->data_size, r->da_height};
    reply.count++;
  }
  send_message(n, p, &reply);
  for (uint32_t i = 0; i < reply.count; i++) evc_block_record_release(&recs[i]);
}

void evc_p2p_message(struct evc_node *n, const struct evc_peer_id *id, const uint8_t *bytes,
                     size_t size) {
  struct evc_peer *p = peer_find(n, id);
  if (p == NULL || !evc_node_is_running(n) || n->store == NULL) return;
  struct evc_p2p_message *m = malloc(sizeof *m);
  if (m == NULL) return evc_node_fail(n, EVC_ENOMEM, "cannot decode a peer message");
  int rc = evc_p2p_decode(bytes, size, m);
  if (rc != 0) {
    free(m);
    return misbehaved(n, p, "a malformed message");
  }
  switch (m->type) {
  case EVC_P2P_STATUS: on_status(n, p, m); break;
  case EVC_P2P_STATUS_REQUEST: send_status(n, p); break;
  case EVC_P2P_GET_BLOCKS: on_get_blocks(n, p, m); break;
  case EVC_P2P_BLOCKS: on_blocks(n, p, m); break;
  case EVC_P2P_NEW_BLOCK: on_new_block(n, p, m); break;
  }
  free(m);
}

void evc_p2p_announce(struct evc_node *n, const struct evc_block *b) {
  struct evc_p2p_message m;
  memset(&m, 0, sizeof m);
  m.type = EVC_P2P_NEW_BLOCK;
  m.count = 1;
  m.blocks[0] = (struct evc_p2p_block){b->header_bytes, b->header_size, b->data_bytes,
                                       b->data_size, 0};
  for (uint32_t i = 0; i < EVC_PEERS_CONNECTED_MAX; i++) {
    if (n->peers[i].used) send_message(n, &n->peers[i], &m);
  }
}

/* ---- known peers, the peer book and dialling ---- */

static void dial_known(struct evc_known_peer *k);

static void redial_callback(void *arg) {
  struct evc_known_peer *k = arg;
  k->redial_timer = 0;
  if (evc_node_is_running(k->node) && !k->connected) dial_known(k);
}

/* Full nodes (and a sequencer's known peers) come back within the redial cap. */
static void schedule_redial(struct evc_known_peer *k) {
  struct evc_node *n = k->node;
  if (!evc_node_is_running(n) || k->redial_timer != 0 || k->connected) return;
  uint64_t delay = k->backoff_ns;
  k->backoff_ns = k->backoff_ns * 2 > EVC_REDIAL_MAX_NS ? EVC_REDIAL_MAX_NS : k->backoff_ns * 2;
  n->env->timer_start(n->env->ctx, delay, redial_callback, k, &k->redial_timer);
}

static void dial_known(struct evc_known_peer *k) {
  struct evc_node *n = k->node;
  char target[2 * EVC_ADDRESS_TEXT_MAX];
  if (k->has_id) {
    char id[2 * EVC_NODE_ID_SIZE + 1];
    evc_hex_encode(k->id.key, EVC_NODE_ID_SIZE, id);
    snprintf(target, sizeof target, "%s@%s", id, k->address);
  } else {
    snprintf(target, sizeof target, "%s", k->address);
  }
  k->dialing = n->env->p2p_dial(n->env->ctx, target) == 0;
  if (!k->dialing) schedule_redial(k);
}

static struct evc_known_peer *known_add(struct evc_node *n, const char *address,
                                        const struct evc_peer_id *id) {
  for (uint32_t i = 0; i < n->known_count; i++) {
    struct evc_known_peer *k = &n->known[i];
    if (strcmp(k->address, address) == 0 ||
        (id != NULL && k->has_id && memcmp(k->id.key, id->key, EVC_NODE_ID_SIZE) == 0)) {
      if (id != NULL && !k->has_id) {
        k->has_id = true;
        k->id = *id;
      }
      return k;
    }
  }
  if (n->known_count == EVC_KNOWN_PEERS_MAX || address[0] == '\0' ||
      strlen(address) >= EVC_ADDRESS_TEXT_MAX) {
    return NULL;
  }
  struct evc_known_peer *k = &n->known[n->known_count++];
  memset(k, 0, sizeof *k);
  k->node = n;
  snprintf(k->address, sizeof k->address, "%s", address);
  k->backoff_ns = EVC_REDIAL_MIN_NS;
  if (id != NULL) {
    k->has_id = true;
    k->id = *id;
  }
  return k;
}

/* "[NODEID@]HOST:PORT" from --p2p.peers. */
static void known_add_flag(struct evc_node *n, const char *text) {
  const char *at = strchr(text, '@');
  struct evc_peer_id id;
  if (at != NULL && evc_hex_decode(text, (size_t)(at - text), id.key, EVC_NODE_ID_SIZE) == 0) {
    known_add(n, at + 1, &id);
    return;
  }
  known_add(n, text, NULL);
}

/* HOME/peers.json: {"peers":[{"id":"<hex>","address":"host:port"}, ...]}. A damaged book is
 * reported and ignored: it only widens whom the node asks, never what it accepts. */
static void peer_book_load(struct evc_node *n) {
  uint8_t *bytes = NULL;
  size_t size = 0;
  int rc = n->env->file_read(n->env->ctx, EVC_PEER_BOOK_FILE, EVC_PEER_BOOK_SIZE_MAX, &bytes, &size);
  if (rc != 0) {
    if (rc != EVC_ENOTFOUND) {
      evc_logf(n->env, EVC_LOG_WARN, "event=peer_book_unreadable error=%s", evc_errname(rc));
    }
    return;
  }
  cJSON *root = cJSON_ParseWithLength((const char *)bytes, size);
  free(bytes);
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "peers");
  if (!cJSON_IsArray(list)) {
    evc_logf(n->env, EVC_LOG_WARN, "event=peer_book_invalid detail=\"peers.json has no peers array\"");
  }
  const cJSON *item;
  cJSON_ArrayForEach(item, list) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
    const cJSON *address = cJSON_GetObjectItemCaseSensitive(item, "address");
    struct evc_peer_id pid;
    if (!cJSON_IsString(id) || !cJSON_IsString(address) ||
        evc_hex_decode(id->valuestring, strlen(id->valuestring), pid.key, EVC_NODE_ID_SIZE) != 0) {
      continue;
    }
    known_add(n, address->valuestring, &pid);
  }
  cJSON_Delete(root);
}

static void peer_book_save(struct evc_node *n) {
  cJSON *root = cJSON_CreateObject();
  cJSON *list = cJSON_AddArrayToObject(root, "peers");
  for (uint32_t i = 0; i < n->known_count && list != NULL; i++) {
    const struct evc_known_peer *k = &n->known[i];
    if (!k->has_id) continue;
    char id[2 * EVC_NODE_ID_SIZE + 1];
    evc_hex_encode(k->id.key, EVC_NODE_ID_SIZE, id);
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "id", id);
    cJSON_AddStringToObject(entry, "address", k->address);
    cJSON_AddItemToArray(list, entry);
  }
  char *text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (text == NULL) return;
  int rc = n->env->file_replace(n->env->ctx, EVC_PEER_BOOK_FILE, (const uint8_t *)text, strlen(text));
  free(text);
  if (rc != 0) evc_logf(n->env, EVC_LOG_WARN, "event=peer_book_write_failed error=%s", evc_errname(rc));
}

/* ---- connections ---- */

void evc_p2p_peer_connected(struct evc_node *n, const struct evc_peer_id *id, const char *address,
                            bool inbound) {
  if (!evc_node_is_running(n) || peer_find(n, id) != NULL) return;
  struct evc_peer *p = NULL;
  for (uint32_t i = 0; i < EVC_PEERS_CONNECTED_MAX && p == NULL; i++) {
    if (!n->peers[i].used) p = &n->peers[i];
  }
  if (p == NULL) {
    evc_logf(n->env, EVC_LOG_WARN, "event=peer_refused address=%s reason=\"too many peers\"", address);
    n->env->p2p_disconnect(n->env->ctx, id);
    return;
  }
  memset(p, 0, sizeof *p);
  p->used = true;
  p->id = *id;
  p->inbound = inbound;
  p->known = -1;
  snprintf(p->address, sizeof p->address, "%s", address);
  uint32_t before = n->known_count;
  bool had_id = false;
  struct evc_known_peer *k = NULL;
  for (uint32_t i = 0; i < n->known_count && k == NULL; i++) {
    struct evc_known_peer *c = &n->known[i];
    if ((c->has_id && memcmp(c->id.key, id->key, EVC_NODE_ID_SIZE) == 0) ||
        (address[0] != '\0' && strcmp(c->address, address) == 0)) {
      k = c;
      had_id = c->has_id;
    }
  }
  if (k == NULL && address[0] != '\0') k = known_add(n, address, id); /* into the peer book */
  if (k != NULL) {
    if (!k->has_id) {
      k->has_id = true;
      k->id = *id;
    }
    k->connected = true;
    k->dialing = false;
    k->backoff_ns = EVC_REDIAL_MIN_NS;
    p->known = (int32_t)(k - n->known);
    if (n->known_count != before || !had_id) peer_book_save(n);
  }
  char name[17];
  peer_name(p, name);
  evc_logf(n->env, EVC_LOG_INFO, "event=peer_connected peer=%s address=%s inbound=%d", name,
           address, inbound ? 1 : 0);
  send_status(n, p);
  evc_node_reevaluate(n);
}

void evc_p2p_peer_disconnected(struct evc_node *n, const struct evc_peer_id *id) {
  struct evc_peer *p = peer_find(n, id);
  if (p == NULL) return;
  evc_logf(n->env, EVC_LOG_INFO, "event=peer_disconnected address=%s", p->address);
  int32_t known = p->known;
  memset(p, 0, sizeof *p);
  if (known >= 0) {
    n->known[known].connected = false;
    schedule_redial(&n->known[known]);
  }
  evc_node_reevaluate(n);
}

void evc_p2p_dial_failed(struct evc_node *n, const char *address, int status) {
  const char *at = strchr(address, '@');
  const char *plain = at != NULL ? at + 1 : address;
  for (uint32_t i = 0; i < n->known_count; i++) {
    struct evc_known_peer *k = &n->known[i];
    if (strcmp(k->address, plain) != 0) continue;
    k->dialing = false;
    evc_logf(n->env, EVC_LOG_DEBUG, "event=dial_failed address=%s error=%s retry_ms=%llu", plain,
             evc_errname(status), (unsigned long long)(k->backoff_ns / 1000000));
    schedule_redial(k);
  }
}

/* Asks a peer for its status again (it answers with STATUS). */
static void request_status(struct evc_node *n, struct evc_peer *p) {
  struct evc_p2p_message m;
  memset(&m, 0, sizeof m);
  m.type = EVC_P2P_STATUS_REQUEST;
  send_message(n, p, &m);
}

/* Re-asks a peer whose range request went unanswered (a lost message). While catching up,
 * also asks every connected peer for its status again: a status lost on the way would
 * leave that peer's blocks unknown (the timeout then decides without them), and a peer's
 * head can move after it answered (a full node syncing from another peer), and catchup
 * must see every height a peer can prove before it lets the node produce. */
static void tick_callback(void *arg) {
  struct evc_node *n = arg;
  n->p2p_tick_timer = 0;
  if (!evc_node_is_running(n)) return;
  uint64_t now = n->env->mono_ns(n->env->ctx);
  bool catching_up = n->mode == EVC_MODE_CATCHING_UP;
  for (uint32_t i = 0; i < EVC_PEERS_CONNECTED_MAX; i++) {
    struct evc_peer *p = &n->peers[i];
    if (!p->used) continue;
    if (p->requesting && now - p->request_at_ns > EVC_P2P_REQUEST_TIMEOUT_NS) {
      p->requesting = false;
      request_more(n, p);
    }
    if (catching_up) request_status(n, p);
  }
  n->env->timer_start(n->env->ctx, EVC_P2P_TICK_NS, tick_callback, n, &n->p2p_tick_timer);
}

static void peek_callback(void *arg) {
  struct evc_node *n = arg;
  n->peek_timer = 0;
  n->peek_expired = true;
  evc_node_reevaluate(n);
}

int evc_p2p_start(struct evc_node *n) {
  for (uint32_t i = 0; i < n->cfg.peer_count; i++) known_add_flag(n, n->cfg.peers[i]);
  peer_book_load(n);
  n->known_at_start = n->known_count;
  int rc = n->env->timer_start(n->env->ctx, EVC_P2P_TICK_NS, tick_callback, n, &n->p2p_tick_timer);
  if (rc == 0 && n->cfg.aggregator) {
    rc = n->env->timer_start(n->env->ctx, n->cfg.catchup_peek_timeout_ns, peek_callback, n,
                             &n->peek_timer);
  }
  if (rc != 0) return rc;
  evc_logf(n->env, EVC_LOG_INFO, "event=p2p_start known_peers=%u", n->known_count);
  for (uint32_t i = 0; i < n->known_count; i++) dial_known(&n->known[i]);
  return 0;
}

void evc_p2p_stop(struct evc_node *n) {
  for (uint32_t i = 0; i < n->known_count; i++) {
    if (n->known[i].redial_timer != 0) n->env->timer_cancel(n->env->ctx, n->known[i].redial_timer);
    n->known[i].redial_timer = 0;
  }
  if (n->p2p_tick_timer != 0) n->env->timer_cancel(n->env->ctx, n->p2p_tick_timer);
  if (n->peek_timer != 0) n->env->timer_cancel(n->env->ctx, n->peek_timer);
  n->p2p_tick_timer = n->peek_timer = 0;
}

void evc_p2p_update_facts(struct evc_node *n) {
  struct evc_catchup_facts *f = &n->facts;
  uint32_t answered_known = 0, answered = 0, connected = 0, connected_answered = 0;
  for (uint32_t i = 0; i < n->known_at_start; i++) answered_known += n->known[i].answered;
  answered = answered_known;
  for (uint32_t i = 0; i < EVC_PEERS_CONNECTED_MAX; i++) {
    const struct evc_peer *p = &n->peers[i];
    if (!p->used) continue;
    connected++;
    connected_answered += p->answered;
    if (p->answered && (p->known < 0 || (uint32_t)p->known >= n->known_at_start)) answered++;
  }
  f->known_peer_count = n->known_at_start;
  f->known_peers_answered = answered_known;
  f->peers_answered = answered;
  f->peer_signed_height_max = n->peer_proven_max;
  f->peek_done = n->peek_expired || connected_answered == connected;
}
