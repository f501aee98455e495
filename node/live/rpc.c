/* The node's HTTP RPC on libh2o over the runtime's libuv loop: status, blocks, health,
 * metrics and transaction submission. Handlers answer at once from the node's state; they
 * never block, never keep a request open, and never touch the node once it is gone. */
#define H2O_USE_LIBUV 1
#include "node/live/rpc.h"

#include <cjson/cJSON.h>
#include <h2o.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/live/env_live.h"

#define DRAIN_TICK_MS 20u
#define DRAIN_TICKS_MAX 100u /* 2 s for open connections to finish after a stop */
#define REQ_TIMEOUT_MS 10000u
#define LISTEN_BACKLOG 128
#define REASON_TEXT_MAX 256
#define HEIGHT_DIGITS_MAX 20

struct evc_rpc {
  struct evc_live *live;
  h2o_globalconf_t config;
  h2o_context_t ctx;
  h2o_accept_ctx_t accept_ctx;
  uv_tcp_t *listener;
  uv_timer_t drain_timer;
  uint32_t drain_ticks;
  bool idle; /* no connection left: the context may be disposed */
  void (*closed)(void *arg);
  void *closed_arg;
};

struct rpc_handler {
  h2o_handler_t super;
  struct evc_rpc *rpc;
};

/* ---- responses ---- */

static int respond(h2o_req_t *req, int status, const char *reason, const char *content_type,
                   const char *body, size_t size) {
  req->res.status = status;
  req->res.reason = reason;
  req->res.content_length = size;
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                 strlen(content_type));
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                 H2O_STRLIT("no-store"));
  h2o_send_inline(req, body, size);
  return 0;
}

/* Sends a cJSON document (consumed) as the body. */
static int respond_json(h2o_req_t *req, int status, const char *reason, cJSON *doc) {
  char *text = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;
  cJSON_Delete(doc);
  if (text == NULL) {
    static const char oom[] = "{\"error\":\"out of memory\"}";
    return respond(req, 500, "Internal Server Error", "application/json", oom, sizeof oom - 1);
  }
  respond(req, status, reason, "application/json", text, strlen(text));
  cJSON_free(text);
  return 0;
}

static int respond_error(h2o_req_t *req, int status, const char *reason, const char *message) {
  cJSON *doc = cJSON_CreateObject();
  if (doc != NULL && cJSON_AddStringToObject(doc, "error", message) == NULL) {
    cJSON_Delete(doc);
    doc = NULL;
  }
  return respond_json(req, status, reason, doc);
}

static int respond_text(h2o_req_t *req, int status, const char *reason, const char *text) {
  return respond(req, status, reason, "text/plain; charset=utf-8", text, strlen(text));
}

static int method_not_allowed(h2o_req_t *req, const char *allow) {
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, allow, strlen(allow));
  char message[REASON_TEXT_MAX];
  snprintf(message, sizeof message, "method not allowed: use %s", allow);
  return respond_error(req, 405, "Method Not Allowed", message);
}

static bool node_available(const struct evc_live *live) {
  return live->node != NULL && !live->stopping;
}

static int respond_stopping(h2o_req_t *req) {
  return respond_error(req, 503, "Service Unavailable", "the node is stopping");
}

/* ---- GET /status ---- */

static bool add_u64(cJSON *obj, const char *key, uint64_t v) {
  return cJSON_AddNumberToObject(obj, key, (double)v) != NULL;
}

static bool add_catchup(cJSON *doc, const struct evc_live *live, const struct evc_node_status *st) {
  struct evc_metrics_progress p;
  evc_live_metrics_progress(&live->metrics, st, &p);
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

static int handle_status(struct evc_rpc *rpc, h2o_req_t *req) {
  struct evc_live *live = rpc->live;
  if (!node_available(live)) return respond_stopping(req);
  struct evc_node_status st;
  evc_node_status(live->node, &st);
  char hash[2 * EVC_HASH_SIZE + 1];
  evc_hex_encode(st.last_hash, EVC_HASH_SIZE, hash);
  cJSON *doc = cJSON_CreateObject();
  bool ok = doc != NULL && cJSON_AddStringToObject(doc, "chain_id", live->chain_id) != NULL &&
            cJSON_AddStringToObject(doc, "role", st.aggregator ? "aggregator" : "full") != NULL &&
            add_u64(doc, "height", st.height) &&
            cJSON_AddStringToObject(doc, "last_block_hash", hash) != NULL &&
            cJSON_AddStringToObject(doc, "mode", evc_mode_name(st.mode)) != NULL &&
            add_u64(doc, "da_included_height", st.da_included_height) &&
            add_u64(doc, "peers", st.peer_count) &&
            add_u64(doc, "known_peers", live->cfg->peer_count) &&
            add_u64(doc, "equivocations", st.equivocations) &&
            add_u64(doc, "mempool_txs", st.mempool_tx_count);
  if (ok && st.mode == EVC_MODE_CATCHING_UP) ok = add_catchup(doc, live, &st);
  if (ok && st.failure != NULL) ok = cJSON_AddStringToObject(doc, "failure", st.failure) != NULL;
  if (!ok) {
    cJSON_Delete(doc);
    doc = NULL;
  }
  return respond_json(req, 200, "OK", doc);
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

static bool add_txs(cJSON *doc, const struct evc_node_block *b) {
  struct evc_data d;
  if (evc_data_decode(b->data, b->data_size, &d) != 0) return false;
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
    }
    free(b64);
  }
  evc_data_release(&d);
  return ok;
}

static cJSON *block_json(const struct evc_node_block *b) {
  const struct evc_header *h = &b->sh.header;
  char time_text[48];
  format_time_ns(h->time_ns, time_text);
  cJSON *doc = cJSON_CreateObject();
  bool ok = doc != NULL && add_u64(doc, "height", h->height) &&
            add_hex(doc, "hash", b->hash, EVC_HASH_SIZE) &&
            add_hex(doc, "last_hash", h->last_header_hash, EVC_HASH_SIZE) &&
            add_hex(doc, "app_hash", h->app_hash, EVC_HASH_SIZE) &&
            add_hex(doc, "data_hash", h->data_hash, EVC_HASH_SIZE) &&
            cJSON_AddStringToObject(doc, "time", time_text) != NULL &&
            add_hex(doc, "proposer", h->proposer, EVC_ADDRESS_SIZE) &&
            cJSON_AddBoolToObject(doc, "final", b->final) != NULL && add_txs(doc, b);
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

static int handle_block(struct evc_rpc *rpc, h2o_req_t *req, const char *arg, size_t arg_size) {
  struct evc_live *live = rpc->live;
  uint64_t height;
  if (!parse_height(arg, arg_size, &height)) {
    return respond_error(req, 400, "Bad Request",
                         "malformed height: use /block/<decimal height>, e.g. /block/12");
  }
  if (!node_available(live)) return respond_stopping(req);
  struct evc_node_block b;
  int rc = evc_node_get_block(live->node, height, &b);
  if (rc == EVC_ENOTFOUND) return respond_error(req, 404, "Not Found", "no block at that height");
  if (rc != 0) {
    char message[REASON_TEXT_MAX];
    snprintf(message, sizeof message, "cannot read the block: %s", evc_strerror(rc));
    return respond_error(req, rc == EVC_ESTATE ? 503 : 500, "Error", message);
  }
  cJSON *doc = block_json(&b);
  evc_node_block_release(&b);
  return respond_json(req, 200, "OK", doc);
}

/* ---- POST /tx ---- */

static int handle_tx(struct evc_rpc *rpc, h2o_req_t *req) {
  struct evc_live *live = rpc->live;
  if (!node_available(live)) return respond_stopping(req);
  if (!live->cfg->aggregator) {
    return respond_error(req, 405, "Method Not Allowed",
                         "this is a full node: it does not accept transactions; send them to the "
                         "sequencer's RPC (POST /tx)");
  }
  uint8_t hash[EVC_HASH_SIZE];
  const uint8_t *body = (const uint8_t *)req->entity.base;
  int rc = body != NULL && req->entity.len > 0
               ? evc_node_submit_tx(live->node, body, req->entity.len, hash)
               : EVC_EINVAL;
  if (rc == 0) {
    cJSON *doc = cJSON_CreateObject();
    if (doc != NULL && !add_hex(doc, "hash", hash, EVC_HASH_SIZE)) {
      cJSON_Delete(doc);
      doc = NULL;
    }
    return respond_json(req, 200, "OK", doc);
  }
  struct evc_node_status st;
  evc_node_status(live->node, &st);
  char message[REASON_TEXT_MAX];
  switch (rc) {
  case EVC_ESTATE:
    snprintf(message, sizeof message, "not accepting transactions while %s: retry once the "
             "node is producing", evc_mode_name(st.mode));
    return respond_error(req, 503, "Service Unavailable", message);
  case EVC_EFULL:
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
    return respond_error(req, 429, "Too Many Requests", "the mempool is full: retry later");
  case EVC_EINVAL:
  case EVC_ETOOBIG:
    snprintf(message, sizeof message, "malformed transaction (%s): the key/value executor takes "
             "\"key=value\", at most %u bytes", evc_strerror(rc), EVC_TX_SIZE_MAX);
    return respond_error(req, 400, "Bad Request", message);
  default:
    snprintf(message, sizeof message, "cannot admit the transaction: %s", evc_strerror(rc));
    return respond_error(req, 500, "Internal Server Error", message);
  }
}

/* ---- health and metrics ---- */

/* Ready: an aggregator producing, or a full node syncing within a DA block of the DA head. */
static bool ready_reason(const struct evc_live *live, char *out, size_t size) {
  struct evc_node_status st;
  evc_node_status(live->node, &st);
  bool caught_up_da = st.da_head > 0 && st.da_height_reached + 1 >= st.da_head;
  if (st.mode == EVC_MODE_PRODUCING) return true;
  if (st.mode == EVC_MODE_SYNCING && caught_up_da) return true;
  if (st.mode == EVC_MODE_CATCHING_UP || st.mode == EVC_MODE_SYNCING) {
    snprintf(out, size, "%s: DA %llu/%llu, peers %u/%u%s%s",
             st.mode == EVC_MODE_SYNCING ? "syncing" : "catching up",
             (unsigned long long)st.da_height_reached, (unsigned long long)st.da_head,
             st.peer_count, live->cfg->peer_count, st.waiting_for != NULL ? ", waiting for " : "",
             st.waiting_for != NULL ? st.waiting_for : "");
  } else if (st.mode == EVC_MODE_FAILED) {
    snprintf(out, size, "failed: %s", st.failure != NULL ? st.failure : "see the log");
  } else {
    snprintf(out, size, "%s", evc_mode_name(st.mode));
  }
  return false;
}

static int handle_ready(struct evc_rpc *rpc, h2o_req_t *req) {
  if (!node_available(rpc->live)) {
    return respond_text(req, 503, "Service Unavailable", "stopping\n");
  }
  char reason[REASON_TEXT_MAX + 16];
  if (ready_reason(rpc->live, reason, sizeof reason - 1)) {
    return respond_text(req, 200, "OK", "ready\n");
  }
  strcat(reason, "\n");
  return respond_text(req, 503, "Service Unavailable", reason);
}

static int handle_metrics(struct evc_rpc *rpc, h2o_req_t *req) {
  struct evc_live *live = rpc->live;
  if (!node_available(live)) return respond_stopping(req);
  struct evc_node_status st;
  evc_node_status(live->node, &st);
  char *text = NULL;
  size_t size = 0;
  if (evc_live_metrics_render(&live->metrics, &st, live->chain_id, live->cfg->peer_count, &text,
                              &size) != 0) {
    return respond_error(req, 500, "Internal Server Error", "out of memory");
  }
  respond(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", text, size);
  free(text);
  return 0;
}

/* ---- routing ---- */

static bool is(h2o_iovec_t v, const char *text) {
  return h2o_memis(v.base, v.len, text, strlen(text));
}

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
  struct evc_rpc *rpc = ((struct rpc_handler *)self)->rpc;
  h2o_iovec_t path = req->path_normalized;
  bool get = is(req->method, "GET") || is(req->method, "HEAD");
  static const char block_prefix[] = "/block/";
  size_t prefix_size = sizeof block_prefix - 1;
  if (is(path, "/tx")) {
    return is(req->method, "POST") ? handle_tx(rpc, req) : method_not_allowed(req, "POST");
  }
  bool known = is(path, "/status") || is(path, "/health/live") || is(path, "/health/ready") ||
               is(path, "/metrics") ||
               (path.len >= prefix_size && memcmp(path.base, block_prefix, prefix_size) == 0);
  if (!known) {
    return respond_error(req, 404, "Not Found", "unknown path: try /status, /block/{height}, "
                         "/health/live, /health/ready, /metrics or POST /tx");
  }
  if (!get) return method_not_allowed(req, "GET");
  if (is(path, "/status")) return handle_status(rpc, req);
  if (is(path, "/health/live")) return respond_text(req, 200, "OK", "ok\n");
  if (is(path, "/health/ready")) return handle_ready(rpc, req);
  if (is(path, "/metrics")) return handle_metrics(rpc, req);
  return handle_block(rpc, req, path.base + prefix_size, path.len - prefix_size);
}

/* ---- listener ---- */

static void on_accept(uv_stream_t *listener, int status) {
  struct evc_rpc *rpc = listener->data;
  if (status != 0) return;
  uv_tcp_t *conn = malloc(sizeof *conn);
  if (conn == NULL) return;
  EVC_ASSERT(uv_tcp_init(listener->loop, conn) == 0);
  if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
    uv_close((uv_handle_t *)conn, (uv_close_cb)free);
    return;
  }
  h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)conn, (uv_close_cb)free);
  h2o_accept(&rpc->accept_ctx, sock);
}

/* "ip:port" or "[ipv6]:port" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *out, char *err,
                        size_t err_size) {
  const char *colon = strrchr(listen, ':');
  char host[EVC_ADDRESS_TEXT_MAX];
  size_t host_size = colon != NULL ? (size_t)(colon - listen) : 0;
  if (colon == NULL || host_size == 0 || host_size >= sizeof host) {
    snprintf(err, err_size, "'%s' is not IP:PORT", listen);
    return EVC_EINVAL;
  }
  memcpy(host, listen, host_size);
  host[host_size] = '\0';
  int port = atoi(colon + 1);
  int rc;
  if (host[0] == '[' && host_size > 2 && host[host_size - 1] == ']') {
    host[host_size - 1] = '\0';
    rc = uv_ip6_addr(host + 1, port, (struct sockaddr_in6 *)out);
  } else {
    rc = uv_ip4_addr(host, port, (struct sockaddr_in *)out);
  }
  if (rc != 0 || port < 0 || port > 65535) {
    snprintf(err, err_size, "'%s' is not IP:PORT", listen);
    return EVC_EINVAL;
  }
  return 0;
}

static int listen_on(struct evc_rpc *rpc, uv_loop_t *loop, const char *listen, char *err,
                     size_t err_size) {
  struct sockaddr_storage addr;
  memset(&addr, 0, sizeof addr);
  int rc = parse_listen(listen, &addr, err, err_size);
  if (rc != 0) return rc;
  rpc->listener = malloc(sizeof *rpc->listener);
  if (rpc->listener == NULL) return EVC_ENOMEM;
  EVC_ASSERT(uv_tcp_init(loop, rpc->listener) == 0);
  rpc->listener->data = rpc;
  int uv = uv_tcp_bind(rpc->listener, (const struct sockaddr *)&addr, 0);
  if (uv == 0) uv = uv_listen((uv_stream_t *)rpc->listener, LISTEN_BACKLOG, on_accept);
  if (uv != 0) {
    snprintf(err, err_size, "%s", uv_strerror(uv));
    uv_close((uv_handle_t *)rpc->listener, (uv_close_cb)free);
    rpc->listener = NULL;
    return EVC_EIO;
  }
  return 0;
}

int evc_rpc_open(struct evc_live *live, const char *listen, struct evc_rpc **out, char *err,
                 size_t err_size) {
  *out = NULL;
  err[0] = '\0';
  struct evc_rpc *rpc = calloc(1, sizeof *rpc);
  if (rpc == NULL) return EVC_ENOMEM;
  rpc->live = live;
  h2o_config_init(&rpc->config);
  rpc->config.max_request_entity_size = EVC_RPC_BODY_SIZE_MAX;
  rpc->config.http1.req_timeout = REQ_TIMEOUT_MS;
  rpc->config.http1.upgrade_to_http2 = 0; /* HTTP/1.1 only: plain JSON for curl and scripts */
  h2o_hostconf_t *host = h2o_config_register_host(&rpc->config,
                                                  h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
  struct rpc_handler *handler = (struct rpc_handler *)h2o_create_handler(path, sizeof *handler);
  handler->rpc = rpc;
  handler->super.on_req = on_req;
  h2o_context_init(&rpc->ctx, &live->loop, &rpc->config);
  rpc->accept_ctx.ctx = &rpc->ctx;
  rpc->accept_ctx.hosts = rpc->config.hosts;
  EVC_ASSERT(uv_timer_init(&live->loop, &rpc->drain_timer) == 0);
  rpc->drain_timer.data = rpc;
  int rc = listen_on(rpc, &live->loop, listen, err, err_size);
  if (rc != 0) {
    rpc->idle = true; /* nothing was ever accepted */
    evc_rpc_destroy(rpc);
    return rc;
  }
  *out = rpc;
  return 0;
}

int evc_rpc_bound_address(const struct evc_rpc *rpc, char *out, size_t size) {
  struct sockaddr_storage addr;
  int len = sizeof addr;
  if (rpc->listener == NULL ||
      uv_tcp_getsockname(rpc->listener, (struct sockaddr *)&addr, &len) != 0) {
    return EVC_EIO;
  }
  char ip[64];
  int n;
  if (addr.ss_family == AF_INET6) {
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&addr;
    uv_ip6_name(a6, ip, sizeof ip);
    n = snprintf(out, size, "[%s]:%u", ip, (unsigned)ntohs(a6->sin6_port));
  } else {
    const struct sockaddr_in *a4 = (const struct sockaddr_in *)&addr;
    uv_ip4_name(a4, ip, sizeof ip);
    n = snprintf(out, size, "%s:%u", ip, (unsigned)ntohs(a4->sin_port));
  }
  return n > 0 && (size_t)n < size ? 0 : EVC_ETOOBIG;
}

/* ---- close ---- */

static void rpc_freed(uv_handle_t *h) { free(h->data); }

static void drain_tick(uv_timer_t *h) {
  struct evc_rpc *rpc = h->data;
  rpc->idle = h2o_linklist_is_empty(&rpc->ctx.http1._conns) &&
              h2o_linklist_is_empty(&rpc->ctx.http2._conns);
  if (!rpc->idle && ++rpc->drain_ticks < DRAIN_TICKS_MAX) return;
  uv_timer_stop(h);
  if (!rpc->idle) {
    evc_live_log_line(EVC_LOG_WARN, "event=rpc_close detail=\"connections still open at exit\"");
  }
  if (rpc->closed != NULL) rpc->closed(rpc->closed_arg);
}

void evc_rpc_close(struct evc_rpc *rpc, void (*closed)(void *arg), void *arg) {
  rpc->closed = closed;
  rpc->closed_arg = arg;
  if (rpc->listener != NULL) {
    uv_close((uv_handle_t *)rpc->listener, (uv_close_cb)free);
    rpc->listener = NULL;
  }
  /* the flag alone makes HTTP/1 close each connection after its response; the full
   * h2o_context_request_shutdown would arm an HTTP/2 timer that outlives the context */
  rpc->ctx.shutdown_requested = 1;
  uv_timer_start(&rpc->drain_timer, drain_tick, 0, DRAIN_TICK_MS);
}

void evc_rpc_destroy(struct evc_rpc *rpc) {
  uv_timer_stop(&rpc->drain_timer);
  if (rpc->idle) {
    h2o_context_dispose(&rpc->ctx); /* runs the loop once itself: never from a callback */
    h2o_config_dispose(&rpc->config);
  }
  /* else a client held a connection past the bound: h2o's state is left to the exit */
  uv_close((uv_handle_t *)&rpc->drain_timer, rpc_freed);
}
