/* The node RPC's routes and answers, independent of the HTTP server: status, blocks, health,
 * metrics and transaction submission against struct evc_rpc_node. Every answer is built here
 * in full; the server only copies it out. */
#include "node/live/rpc_handler.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"

#define REASON_TEXT_MAX 256
#define HEIGHT_DIGITS_MAX 20

/* ---- responses ---- */

static void set_static(struct evc_rpc_response *r, int status, const char *reason,
                       const char *content_type, const char *body, size_t size) {
  r->status = status;
  r->reason = reason;
  r->content_type = content_type;
  r->body = body;
  r->body_size = size;
  r->owned_ = NULL;
  r->owned_by_cjson_ = false;
}

static void respond_oom(struct evc_rpc_response *r) {
  static const char oom[] = "{\"error\":\"out of memory\"}";
  set_static(r, 500, "Internal Server Error", EVC_RPC_CONTENT_JSON, oom, sizeof oom - 1);
  r->header_name = NULL;
  r->header_value = NULL;
}

/* A cJSON document (consumed) as the body; NULL (a failed build) is a 500. */
static void respond_json(struct evc_rpc_response *r, int status, const char *reason, cJSON *doc) {
  char *text = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;
  cJSON_Delete(doc);
  if (text == NULL) {
    respond_oom(r);
    return;
  }
  set_static(r, status, reason, EVC_RPC_CONTENT_JSON, text, strlen(text));
  r->owned_ = text;
  r->owned_by_cjson_ = true;
}

static void respond_error(struct evc_rpc_response *r, int status, const char *reason,
                          const char *message) {
  cJSON *doc = cJSON_CreateObject();
  if (doc != NULL && cJSON_AddStringToObject(doc, "error", message) == NULL) {
    cJSON_Delete(doc);
    doc = NULL;
  }
  respond_json(r, status, reason, doc);
}

static void respond_text(struct evc_rpc_response *r, int status, const char *reason,
                         const char *text) {
  set_static(r, status, reason, EVC_RPC_CONTENT_TEXT, text, strlen(text));
}

/* A text body built here: copied into an owned buffer. */
static void respond_text_copy(struct evc_rpc_response *r, int status, const char *reason,
                              const char *text) {
  size_t size = strlen(text);
  char *copy = malloc(size + 1);
  if (copy == NULL) {
    respond_oom(r);
    return;
  }
  memcpy(copy, text, size + 1);
  set_static(r, status, reason, EVC_RPC_CONTENT_TEXT, copy, size);
  r->owned_ = copy;
}

static void method_not_allowed(struct evc_rpc_response *r, const char *allow) {
  char message[REASON_TEXT_MAX];
  snprintf(message, sizeof message, "method not allowed: use %s", allow);
  respond_error(r, 405, "Method Not Allowed", message);
  if (r->status == 405) {
    r->header_name = "Allow";
    r->header_value = allow;
  }
}

static void respond_stopping(struct evc_rpc_response *r) {
  respond_error(r, 503, "Service Unavailable", "the node is stopping");
}

void evc_rpc_response_release(struct evc_rpc_response *r) {
  if (r->owned_ != NULL) {
    if (r->owned_by_cjson_) cJSON_free(r->owned_);
    else free(r->owned_);
  }
  memset(r, 0, sizeof *r);
}

/* ---- GET /status ---- */

static bool add_u64(cJSON *obj, const char *key, uint64_t v) {
  return cJSON_AddNumberToObject(obj, key, (double)v) != NULL;
}

static bool add_catchup(cJSON *doc, const struct evc_rpc_node *node,
                        const struct evc_node_status *st) {
  struct evc_metrics_progress p;
  evc_live_metrics_progress(node->metrics, st, &p);
  cJSON *c = cJSON_AddObjectToObject(doc, "catchup");
  if (c == NULL) return false;
  bool ok = add_u64(c, "da_height", st->da_height_reached) && add_u64(c, "da_head", st->da_head) &&
            add_u64(c, "p2p_target_height", st->p2p_target_height);
  ok = ok && cJSON_AddNumberToObject(c, "blocks_per_second", p.known ? p.blocks_per_second : 0);
  ok = ok && (p.eta_known ? cJSON_AddNumberToObject(c, "eta_seconds", p.eta_seconds)
                          : cJSON_AddNullToObject(c, "eta_seconds")) != NULL;
  const char *waiting = st->waiting_for != NULL ? st->waiting_for : "";
  return ok && cJSON_AddStringToObject(c, "waiting_for", waiting) != NULL;
}

static void handle_status(const struct evc_rpc_node *node, struct evc_rpc_response *r) {
  if (!node->available(node->arg)) {
    respond_stopping(r);
    return;
  }
  struct evc_node_status st;
  node->status(node->arg, &st);
  char hash[2 * EVC_HASH_SIZE + 1];
  evc_hex_encode(st.last_hash, EVC_HASH_SIZE, hash);
  cJSON *doc = cJSON_CreateObject();
  bool ok = doc != NULL && cJSON_AddStringToObject(doc, "chain_id", node->chain_id) != NULL &&
            cJSON_AddStringToObject(doc, "role", st.aggregator ? "aggregator" : "full") != NULL &&
            add_u64(doc, "height", st.height) &&
            cJSON_AddStringToObject(doc, "last_block_hash", hash) != NULL &&
            cJSON_AddStringToObject(doc, "mode", evc_mode_name(st.mode)) != NULL &&
            add_u64(doc, "da_included_height", st.da_included_height) &&
            add_u64(doc, "peers", st.peer_count) &&
            add_u64(doc, "known_peers", node->known_peers) &&
            add_u64(doc, "equivocations", st.equivocations) &&
            add_u64(doc, "mempool_txs", st.mempool_tx_count);
  if (ok && st.mode == EVC_MODE_CATCHING_UP) ok = add_catchup(doc, node, &st);
  if (ok && st.failure != NULL) ok = cJSON_AddStringToObject(doc, "failure", st.failure) != NULL;
  if (!ok) {
    cJSON_Delete(doc);
    doc = NULL;
  }
  respond_json(r, 200, "OK", doc);
}

/* ---- GET /block/{height} ---- */

static void format_time_ns(uint64_t unix_ns, char out[48]) {
  time_t secs = (time_t)(unix_ns / 1000000000ull);
  struct tm tm;
  if (gmtime_r(&secs, &tm) == NULL) memset(&tm, 0, sizeof tm);
  char date[24];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 48, "%s.%09uZ", date, (unsigned)(unix_ns % 1000000000ull));
}

static bool add_hex(cJSON *obj, const char *key, const uint8_t *bytes, size_t size) {
  char text[2 * EVC_HASH_SIZE + 1];
  EVC_ASSERT(size <= EVC_HASH_SIZE);
  evc_hex_encode(bytes, size, text);
  return cJSON_AddStringToObject(obj, key, text) != NULL;
}

/* The block's txs, base64, as "txs". The data decode error, or EVC_ENOMEM. */
static int add_txs(cJSON *doc, const struct evc_node_block *b) {
  struct evc_data d;
  int rc = evc_data_decode(b->data, b->data_size, &d);
  if (rc != 0) return rc;
  cJSON *arr = cJSON_AddArrayToObject(doc, "txs");
  bool ok = arr != NULL;
  for (uint32_t i = 0; ok && i < d.tx_count; i++) {
    size_t b64_size = sodium_base64_ENCODED_LEN(d.txs[i].size, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_size);
    ok = b64 != NULL;
    if (ok) {
      sodium_bin2base64(b64, b64_size, d.txs[i].bytes, d.txs[i].size,
                        sodium_base64_VARIANT_ORIGINAL);
      cJSON *s = cJSON_CreateString(b64);
      ok = s != NULL && cJSON_AddItemToArray(arr, s);
      if (s != NULL && !ok) cJSON_Delete(s);
    }
    free(b64);
  }
  evc_data_release(&d);
  return ok ? 0 : EVC_ENOMEM;
}

/* The block as JSON; NULL with *rc_out set (EVC_ENOMEM, or the stored data's decode error). */
static cJSON *block_json(const struct evc_node_block *b, int *rc_out) {
  const struct evc_header *h = &b->sh.header;
  char time_text[48];
  format_time_ns(h->time_ns, time_text);
  *rc_out = EVC_ENOMEM;
  cJSON *doc = cJSON_CreateObject();
  bool ok = doc != NULL && add_u64(doc, "height", h->height) &&
            add_hex(doc, "hash", b->hash, EVC_HASH_SIZE) &&
            add_hex(doc, "last_hash", h->last_header_hash, EVC_HASH_SIZE) &&
            add_hex(doc, "app_hash", h->app_hash, EVC_HASH_SIZE) &&
            add_hex(doc, "data_hash", h->data_hash, EVC_HASH_SIZE) &&
            cJSON_AddStringToObject(doc, "time", time_text) != NULL &&
            add_hex(doc, "proposer", h->proposer, EVC_ADDRESS_SIZE) &&
            cJSON_AddBoolToObject(doc, "final", b->final) != NULL;
  if (ok) {
    *rc_out = add_txs(doc, b);
    ok = *rc_out == 0;
  }
  if (!ok) {
    cJSON_Delete(doc);
    return NULL;
  }
  return doc;
}

static bool parse_height(const char *text, size_t size, uint64_t *out) {
  if (size == 0 || size > HEIGHT_DIGITS_MAX) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < size; i++) {
    if (text[i] < '0' || text[i] > '9') return false;
    uint64_t d = (uint64_t)(text[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

static void handle_block(const struct evc_rpc_node *node, const char *arg, size_t arg_size,
                         struct evc_rpc_response *r) {
  uint64_t height;
  if (!parse_height(arg, arg_size, &height)) {
    respond_error(r, 400, "Bad Request",
                  "malformed height: use /block/<decimal height>, e.g. /block/12");
    return;
  }
  if (!node->available(node->arg)) {
    respond_stopping(r);
    return;
  }
  struct evc_node_block b;
  int rc = node->get_block(node->arg, height, &b);
  if (rc == EVC_ENOTFOUND) {
    respond_error(r, 404, "Not Found", "no block at that height");
    return;
  }
  char message[REASON_TEXT_MAX];
  if (rc != 0) {
    snprintf(message, sizeof message, "cannot read the block: %s", evc_strerror(rc));
    respond_error(r, rc == EVC_ESTATE ? 503 : 500, "Error", message);
    return;
  }
  cJSON *doc = block_json(&b, &rc);
  node->release_block(node->arg, &b);
  if (doc == NULL && rc != EVC_ENOMEM) {
    snprintf(message, sizeof message, "the stored block's data does not decode: %s",
             evc_strerror(rc));
    respond_error(r, 500, "Internal Server Error", message);
    return;
  }
  respond_json(r, 200, "OK", doc);
}

/* ---- POST /tx ---- */

static void handle_tx(const struct evc_rpc_node *node, const uint8_t *body, size_t body_size,
                      struct evc_rpc_response *r) {
  if (body_size > EVC_RPC_BODY_SIZE_MAX) { /* the server refuses it first; never submitted */
    char message[REASON_TEXT_MAX];
    snprintf(message, sizeof message, "the request body is over %u bytes",
             EVC_RPC_BODY_SIZE_MAX);
    respond_error(r, 413, "Payload Too Large", message);
    return;
  }
  if (!node->available(node->arg)) {
    respond_stopping(r);
    return;
  }
  if (!node->aggregator) {
    respond_error(r, 405, "Method Not Allowed",
                  "this is a full node: it does not accept transactions; send them to the "
                  "sequencer's RPC (POST /tx)");
    return;
  }
  uint8_t hash[EVC_HASH_SIZE];
  int rc = body != NULL && body_size > 0 ? node->submit_tx(node->arg, body, body_size, hash)
                                         : EVC_EINVAL;
  if (rc == 0) {
    cJSON *doc = cJSON_CreateObject();
    if (doc != NULL && !add_hex(doc, "hash", hash, EVC_HASH_SIZE)) {
      cJSON_Delete(doc);
      doc = NULL;
    }
    respond_json(r, 200, "OK", doc);
    return;
  }
  char message[REASON_TEXT_MAX];
  switch (rc) {
  case EVC_ESTATE: {
    struct evc_node_status st;
    node->status(node->arg, &st);
    snprintf(message, sizeof message, "not accepting transactions while %s: retry once the "
             "node is producing", evc_mode_name(st.mode));
    respond_error(r, 503, "Service Unavailable", message);
    return;
  }
  case EVC_EFULL:
    respond_error(r, 429, "Too Many Requests", "the mempool is full: retry later");
    if (r->status == 429) {
      r->header_name = "Retry-After";
      r->header_value = "1";
    }
    return;
  case EVC_EINVAL:
  case EVC_ETOOBIG:
    snprintf(message, sizeof message, "malformed transaction (%s): the key/value executor takes "
             "\"key=value\", at most %u bytes", evc_strerror(rc), EVC_TX_SIZE_MAX);
    respond_error(r, 400, "Bad Request", message);
    return;
  default:
    snprintf(message, sizeof message, "cannot admit the transaction: %s", evc_strerror(rc));
    respond_error(r, 500, "Internal Server Error", message);
    return;
  }
}

/* ---- health and metrics ---- */

/* Ready: an aggregator producing, or a full node syncing within a DA block of the DA head. */
static bool ready_reason(const struct evc_rpc_node *node, char *out, size_t size) {
  struct evc_node_status st;
  node->status(node->arg, &st);
  bool caught_up_da = st.da_head > 0 && st.da_height_reached + 1 >= st.da_head;
  if (st.mode == EVC_MODE_PRODUCING) return true;
  if (st.mode == EVC_MODE_SYNCING && caught_up_da) return true;
  if (st.mode == EVC_MODE_CATCHING_UP || st.mode == EVC_MODE_SYNCING) {
    snprintf(out, size, "%s: DA %llu/%llu, peers %u/%u%s%s",
             st.mode == EVC_MODE_SYNCING ? "syncing" : "catching up",
             (unsigned long long)st.da_height_reached, (unsigned long long)st.da_head,
             st.peer_count, node->known_peers, st.waiting_for != NULL ? ", waiting for " : "",
             st.waiting_for != NULL ? st.waiting_for : "");
  } else if (st.mode == EVC_MODE_FAILED) {
    snprintf(out, size, "failed: %s", st.failure != NULL ? st.failure : "see the log");
  } else {
    snprintf(out, size, "%s", evc_mode_name(st.mode));
  }
  return false;
}

static void handle_ready(const struct evc_rpc_node *node, struct evc_rpc_response *r) {
  if (!node->available(node->arg)) {
    respond_text(r, 503, "Service Unavailable", "stopping\n");
    return;
  }
  char reason[REASON_TEXT_MAX + 16];
  if (ready_reason(node, reason, sizeof reason - 1)) {
    respond_text(r, 200, "OK", "ready\n");
    return;
  }
  /* one line: a failure or waiting_for text with a line break or control byte in it (the
   * node's texts may quote what a peer or the DA server said) must not end the answer */
  for (char *c = reason; *c != '\0'; c++) {
    if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
  }
  strcat(reason, "\n");
  respond_text_copy(r, 503, "Service Unavailable", reason);
}

static void handle_metrics(const struct evc_rpc_node *node, struct evc_rpc_response *r) {
  if (!node->available(node->arg)) {
    respond_stopping(r);
    return;
  }
  struct evc_node_status st;
  node->status(node->arg, &st);
  char *text = NULL;
  size_t size = 0;
  if (evc_live_metrics_render(node->metrics, &st, node->chain_id, node->known_peers, &text,
                              &size) != 0) {
    respond_error(r, 500, "Internal Server Error", "out of memory");
    return;
  }
  set_static(r, 200, "OK", EVC_RPC_CONTENT_METRICS, text, size);
  r->owned_ = text;
}

/* ---- routing ---- */

static bool is(const char *bytes, size_t size, const char *text) {
  size_t n = strlen(text);
  return size == n && (n == 0 || memcmp(bytes, text, n) == 0);
}

void evc_rpc_handle(const struct evc_rpc_node *node, const char *method, size_t method_size,
                    const char *path, size_t path_size, const uint8_t *body, size_t body_size,
                    struct evc_rpc_response *out) {
  EVC_ASSERT(node != NULL && out != NULL);
  EVC_ASSERT(method != NULL || method_size == 0);
  EVC_ASSERT(path != NULL || path_size == 0);
  memset(out, 0, sizeof *out);
  bool get = is(method, method_size, "GET") || is(method, method_size, "HEAD");
  static const char block_prefix[] = "/block/";
  size_t prefix_size = sizeof block_prefix - 1;
  if (is(path, path_size, "/tx")) {
    if (is(method, method_size, "POST")) handle_tx(node, body, body_size, out);
    else method_not_allowed(out, "POST");
    return;
  }
  bool is_block = path_size >= prefix_size && memcmp(path, block_prefix, prefix_size) == 0;
  bool known = is(path, path_size, "/status") || is(path, path_size, "/health/live") ||
               is(path, path_size, "/health/ready") || is(path, path_size, "/metrics") ||
               is_block;
  if (!known) {
    respond_error(out, 404, "Not Found", "unknown path: try /status, /block/{height}, "
                  "/health/live, /health/ready, /metrics or POST /tx");
    return;
  }
  if (!get) {
    method_not_allowed(out, "GET");
    return;
  }
  if (is(path, path_size, "/status")) handle_status(node, out);
  else if (is(path, path_size, "/health/live")) respond_text(out, 200, "OK", "ok\n");
  else if (is(path, path_size, "/health/ready")) handle_ready(node, out);
  else if (is(path, path_size, "/metrics")) handle_metrics(node, out);
  else handle_block(node, path + prefix_size, path_size - prefix_size, out);
}
