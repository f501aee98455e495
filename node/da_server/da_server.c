/* evc-da: JSON-RPC over HTTP POST with libh2o on libuv, a mempool with a TTL in blocks, one DA
 * block per tick stored in SQLite. A Submit's HTTP request stays pending until its block is
 * stored (or the TTL ends): never answer before the blobs are durable. */
#include "node/da_server/da_server.h"

#include <h2o.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/da_server/da_store.h"
#include "node/live/da_json.h"
#include "node/os/fsutil.h"

#define DRAIN_POLL_MS 10u
#define DRAIN_DEADLINE_MS 1000u
#define LISTEN_BACKLOG 128

struct submission;

/* Lives in the request's memory pool: tells a pending submission its request is gone. */
struct req_link {
  struct submission *sub;
};

struct submission {
  struct submission *next;
  h2o_req_t *req; /* NULL once the client went away: the blobs still land */
  struct req_link *link;
  char id[EVC_DA_JSON_ID_MAX];
  struct evc_da_json_blobs blobs;
  size_t bytes;
  uint64_t seq;
  uint64_t deadline_height; /* the last height that may include it */
  bool included;
};

struct da_handler {
  h2o_handler_t super;
  struct evc_da_server *server;
};

struct conn {
  uv_tcp_t tcp; /* first: libh2o closes it with our callback */
  struct evc_da_server *server;
};

struct evc_da_server {
  uv_loop_t *loop;
  struct evc_da_server_config cfg;
  char *home;
  char *host;
  char *token;
  h2o_globalconf_t h2o_config;
  h2o_context_t h2o_ctx;
  h2o_accept_ctx_t accept_ctx;
  uv_tcp_t listener;
  uv_timer_t block_timer;
  uv_timer_t drain_timer;
  struct evc_da_store store;
  struct submission *mempool;
  size_t mempool_calls;
  size_t mempool_bytes;
  uint64_t seq;
  uint16_t port;
  unsigned connections;
  unsigned handles_open;
  bool stopping;
  uint64_t drain_deadline_ms;
  void (*stopped)(void *arg);
  void *stopped_arg;
};

__attribute__((format(printf, 3, 4))) static void logf_(struct evc_da_server *s,
                                                        enum evc_log_level level,
                                                        const char *fmt, ...) {
  if (s->cfg.log == NULL) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  s->cfg.log(s->cfg.log_arg, level, line);
}

void evc_da_server_config_default(struct evc_da_server_config *config) {
  memset(config, 0, sizeof *config);
  config->listen_host = "127.0.0.1";
  config->listen_port = 26658;
  config->block_time_ms = 1000;
  config->mempool_ttl_blocks = 10;
  config->blob_bytes_max = 2u * 1024 * 1024;
  config->call_bytes_max = 8u * 1024 * 1024;
  config->block_bytes_max = 16u * 1024 * 1024;
  config->block_blobs_max = 4096;
}

uint16_t evc_da_server_port(const struct evc_da_server *server) {
  return server->port;
}

uint64_t evc_da_server_head(const struct evc_da_server *server) {
  return server->store.head.height;
}

/* ---- answering HTTP requests ---- */

static void send_body(h2o_req_t *req, int status, const char *reason, const char *type,
                      const char *body, size_t size) {
  req->res.status = status;
  req->res.reason = reason;
  req->res.content_length = size;
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type,
                 strlen(type));
  h2o_send_inline(req, body, size);
}

static void send_text(h2o_req_t *req, int status, const char *reason, const char *text) {
  send_body(req, status, reason, "text/plain; charset=utf-8", text, strlen(text));
}

/* Sends a JSON-RPC reply built by one of the da_json builders (rc, text). */
static void send_json(struct evc_da_server *s, h2o_req_t *req, int rc, char *text,
                      size_t size) {
  if (rc != 0) {
    logf_(s, EVC_LOG_ERROR, "event=reply_failed error=%s", evc_errname(rc));
    send_text(req, 500, "Internal Server Error", "evc-da cannot build the reply\n");
    return;
  }
  send_body(req, 200, "OK", "application/json", text, size);
  free(text);
}

static void send_rpc_error(struct evc_da_server *s, h2o_req_t *req, const char *id, int code,
                           const char *message) {
  char *text = NULL;
  size_t size = 0;
  int rc = evc_da_json_error_reply(id, code, message, &text, &size);
  send_json(s, req, rc, text, size);
}

/* ---- the mempool ---- */

static void link_disposed(void *p) {
  struct req_link *link = p;
  if (link->sub != NULL) link->sub->req = NULL;
}

static void submission_free(struct submission *sub) {
  if (sub->link != NULL) sub->link->sub = NULL;
  evc_da_json_blobs_free(&sub->blobs);
  free(sub);
}

/* Answers and frees sub; height 0 answers message as an error. */
static void submission_answer(struct evc_da_server *s, struct submission *sub,
                              uint64_t height, const char *message) {
  if (sub->req != NULL) {
    if (height > 0) {
      char *text = NULL;
      size_t size = 0;
      int rc = evc_da_json_height_reply(sub->id, height, &text, &size);
      send_json(s, sub->req, rc, text, size);
    } else {
      send_rpc_error(s, sub->req, sub->id, EVC_DA_RPC_SERVICE_ERROR, message);
    }
  }
  EVC_ASSERT(s->mempool_calls > 0);
  s->mempool_calls--;
  s->mempool_bytes -= sub->bytes;
  submission_free(sub);
}

static const char *check_blobs(const struct evc_da_server *s, const struct evc_da_json_blobs *b,
                               size_t *bytes_out) {
  size_t bytes = 0;
  if (b->count > s->cfg.block_blobs_max) return "blob: over size limit";
  for (size_t i = 0; i < b->count; i++) {
    if (!evc_da_namespace_valid(b->blobs[i].namespace_id)) {
      return "blob: invalid namespace: want version 0, 18 leading zero bytes, not reserved";
    }
    if (b->blobs[i].size == 0) return "data can not be empty";
    if (b->blobs[i].size > s->cfg.blob_bytes_max) return "blob: over size limit";
    bytes += b->blobs[i].size;
    if (bytes > s->cfg.call_bytes_max) return "blob: over size limit";
  }
  *bytes_out = bytes;
  return NULL;
}

/* Queues a Submit; the request stays pending until its block exists or its TTL ends. */
static void handle_submit(struct evc_da_server *s, h2o_req_t *req,
                          struct evc_da_json_request *r) {
  size_t bytes = 0;
  const char *bad = check_blobs(s, &r->submit, &bytes);
  if (bad != NULL) return send_rpc_error(s, req, r->id, EVC_DA_RPC_SERVICE_ERROR, bad);
  if (s->mempool_calls >= EVC_DA_SERVER_MEMPOOL_CALLS_MAX ||
      s->mempool_bytes + bytes > 4 * s->cfg.block_bytes_max) {
    return send_rpc_error(s, req, r->id, EVC_DA_RPC_SERVICE_ERROR, "mempool is full");
  }
  struct submission *sub = calloc(1, sizeof *sub);
  if (sub == NULL) {
    return send_rpc_error(s, req, r->id, EVC_DA_RPC_SERVICE_ERROR, "evc-da is out of memory");
  }
  /* libh2o aborts rather than return NULL here; the link dies with the request. */
  struct req_link *link = h2o_mem_alloc_shared(&req->pool, sizeof *link, link_disposed);
  link->sub = sub;
  sub->link = link;
  sub->req = req;
  memcpy(sub->id, r->id, sizeof sub->id);
  sub->blobs = r->submit;
  memset(&r->submit, 0, sizeof r->submit);
  sub->bytes = bytes;
  sub->seq = ++s->seq;
  sub->deadline_height = s->store.head.height + s->cfg.mempool_ttl_blocks;
  struct submission **tail = &s->mempool;
  while (*tail != NULL) tail = &(*tail)->next;
  *tail = sub;
  s->mempool_calls++;
  s->mempool_bytes += bytes;
}

/* ---- reads ---- */

static void send_future(struct evc_da_server *s, h2o_req_t *req, const char *id,
                        uint64_t height) {
  char message[160];
  snprintf(message, sizeof message, "header: given height is from the future: networkHeight: "
           "%llu, requestedHeight: %llu", (unsigned long long)s->store.head.height,
           (unsigned long long)height);
  send_rpc_error(s, req, id, EVC_DA_RPC_SERVICE_ERROR, message);
}

/* Refuses heights GetAll and GetByHeight cannot serve; true when it answered. */
static bool refuse_height(struct evc_da_server *s, h2o_req_t *req, const char *id,
                          uint64_t height) {
  if (height == 0) {
    send_rpc_error(s, req, id, EVC_DA_RPC_SERVICE_ERROR, "header: height is equal to 0");
    return true;
  }
  if (height > s->store.head.height) {
    send_future(s, req, id, height);
    return true;
  }
  return false;
}

static void handle_header(struct evc_da_server *s, h2o_req_t *req, const char *id,
                          uint64_t height) {
  struct evc_da_json_header h;
  int rc = evc_da_store_header(&s->store, height, &h);
  if (rc != 0) {
    logf_(s, EVC_LOG_ERROR, "event=store_read_failed height=%llu error=%s",
          (unsigned long long)height, evc_errname(rc));
    return send_rpc_error(s, req, id, EVC_DA_RPC_SERVICE_ERROR, "evc-da cannot read its store");
  }
  char *text = NULL;
  size_t size = 0;
  rc = evc_da_json_header_reply(id, &h, &text, &size);
  send_json(s, req, rc, text, size);
}

static void handle_get_all(struct evc_da_server *s, h2o_req_t *req,
                           const struct evc_da_json_request *r) {
  struct evc_da_json_blobs blobs;
  int rc = evc_da_store_get_all(&s->store, r->height, r->namespaces, r->namespace_count, &blobs);
  if (rc != 0) {
    logf_(s, EVC_LOG_ERROR, "event=store_read_failed height=%llu error=%s",
          (unsigned long long)r->height, evc_errname(rc));
    return send_rpc_error(s, req, r->id, EVC_DA_RPC_SERVICE_ERROR,
                          "evc-da cannot read its store");
  }
  char *text = NULL;
  size_t size = 0;
  rc = evc_da_json_blobs_reply(r->id, blobs.blobs, blobs.count, &text, &size);
  evc_da_json_blobs_free(&blobs);
  send_json(s, req, rc, text, size);
}

static void dispatch(struct evc_da_server *s, h2o_req_t *req, struct evc_da_json_request *r) {
  switch (r->method) {
  case EVC_DA_METHOD_SUBMIT:
    return handle_submit(s, req, r);
  case EVC_DA_METHOD_GET_ALL:
    if (refuse_height(s, req, r->id, r->height)) return;
    return handle_get_all(s, req, r);
  case EVC_DA_METHOD_NETWORK_HEAD:
    return handle_header(s, req, r->id, s->store.head.height);
  case EVC_DA_METHOD_GET_BY_HEIGHT:
    if (refuse_height(s, req, r->id, r->height)) return;
    return handle_header(s, req, r->id, r->height);
  }
  EVC_UNREACHABLE();
}

static bool authorized(const struct evc_da_server *s, h2o_req_t *req) {
  if (s->token == NULL) return true;
  ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
  if (i < 0) return false;
  const h2o_iovec_t *v = &req->headers.entries[i].value;
  size_t token_len = strlen(s->token);
  if (v->len != 7 + token_len || memcmp(v->base, "Bearer ", 7) != 0) return false;
  return sodium_memcmp(v->base + 7, s->token, token_len) == 0;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
  struct evc_da_server *s = ((struct da_handler *)self)->server;
  if (s->stopping) {
    send_text(req, 503, "Service Unavailable", "evc-da is stopping\n");
    return 0;
  }
  if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
    send_text(req, 405, "Method Not Allowed", "evc-da speaks JSON-RPC over HTTP POST\n");
    return 0;
  }
  if (!authorized(s, req)) {
    send_text(req, 401, "Unauthorized", "evc-da wants 'Authorization: Bearer <token>'\n");
    return 0;
  }
  struct evc_da_json_request r;
  struct evc_da_json_error err = {0};
  const char *body = req->entity.base == NULL ? "" : req->entity.base;
  if (evc_da_json_parse_request(body, req->entity.len, &r, &err) != 0) {
    logf_(s, EVC_LOG_INFO, "event=bad_request code=%d error=\"%s\"", err.code, err.message);
    send_rpc_error(s, req, r.id, err.code, err.message);
    return 0;
  }
  dispatch(s, req, &r);
  evc_da_json_request_free(&r);
  return 0;
}

/* ---- DA blocks ---- */

struct placed {
  const struct evc_da_blob *blob;
  uint64_t seq;
  size_t position;
};

/* Namespace order, then arrival order: a block lists blobs as Celestia's shares do. */
static int placed_compare(const void *a, const void *b) {
  const struct placed *x = a;
  const struct placed *y = b;
  int ns = memcmp(x->blob->namespace_id, y->blob->namespace_id, EVC_NAMESPACE_SIZE);
  if (ns != 0) return ns;
  if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
  return x->position < y->position ? -1 : x->position > y->position;
}

/* Marks the submissions the next block takes (FIFO, skipping what does not fit). */
static size_t select_included(struct evc_da_server *s) {
  size_t bytes = 0;
  size_t count = 0;
  for (struct submission *sub = s->mempool; sub != NULL; sub = sub->next) {
    sub->included = bytes + sub->bytes <= s->cfg.block_bytes_max &&
                    count + sub->blobs.count <= s->cfg.block_blobs_max;
    if (!sub->included) continue;
    bytes += sub->bytes;
    count += sub->blobs.count;
  }
  return count;
}

/* Builds the block's blobs in DA order with their indexes; NULL on allocation failure. */
static struct evc_da_blob *block_blobs(struct evc_da_server *s, size_t count) {
  struct placed *order = calloc(count == 0 ? 1 : count, sizeof *order);
  struct evc_da_blob *blobs = calloc(count == 0 ? 1 : count, sizeof *blobs);
  if (order == NULL || blobs == NULL) {
    free(order);
    free(blobs);
    return NULL;
  }
  size_t n = 0;
  for (struct submission *sub = s->mempool; sub != NULL; sub = sub->next) {
    for (size_t i = 0; sub->included && i < sub->blobs.count; i++) {
      order[n++] = (struct placed){.blob = &sub->blobs.blobs[i], .seq = sub->seq, .position = i};
    }
  }
  EVC_ASSERT(n == count);
  qsort(order, count, sizeof *order, placed_compare);
  for (size_t i = 0; i < count; i++) {
    blobs[i] = *order[i].blob;
    blobs[i].index = (uint32_t)i;
  }
  free(order);
  return blobs;
}

static uint64_t wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Answers every included submission and every one whose TTL ended at height. */
static void settle_mempool(struct evc_da_server *s, uint64_t height) {
  struct submission **it = &s->mempool;
  while (*it != NULL) {
    struct submission *sub = *it;
    if (!sub->included && height < sub->deadline_height) {
      it = &sub->next;
      continue;
    }
    *it = sub->next;
    if (!sub->included) {
      logf_(s, EVC_LOG_WARN, "event=submit_expired blobs=%zu ttl_blocks=%u", sub->blobs.count,
            s->cfg.mempool_ttl_blocks);
    }
    submission_answer(s, sub, sub->included ? height : 0,
                      "timed out waiting for tx to be included in a block");
  }
}

static void produce_block(struct evc_da_server *s) {
  size_t count = select_included(s);
  struct evc_da_blob *blobs = block_blobs(s, count);
  uint64_t now = wall_ns();
  uint64_t time_ns = now > s->store.head.time_ns ? now : s->store.head.time_ns + 1;
  int rc = blobs == NULL ? EVC_ENOMEM : evc_da_store_append(&s->store, time_ns, blobs, count);
  free(blobs);
  if (rc != 0) {
    /* Nothing was stored: the submissions wait for the next tick (their TTL still runs). */
    logf_(s, EVC_LOG_ERROR, "event=block_failed height=%llu error=%s",
          (unsigned long long)s->store.head.height + 1, evc_errname(rc));
    for (struct submission *sub = s->mempool; sub != NULL; sub = sub->next) sub->included = false;
    return;
  }
  logf_(s, EVC_LOG_DEBUG, "event=block height=%llu blobs=%zu", (unsigned long long)s->store.head.height,
        count);
  settle_mempool(s, s->store.head.height);
}

static void block_tick(uv_timer_t *t) {
  produce_block(t->data);
}

/* ---- connections ---- */

static void conn_closed(uv_handle_t *h) {
  struct conn *c = (struct conn *)h;
  EVC_ASSERT(c->server->connections > 0);
  c->server->connections--;
  free(c);
}

static void reject_closed(uv_handle_t *h) {
  free(h);
}

static void on_connection(uv_stream_t *listener, int status) {
  struct evc_da_server *s = listener->data;
  if (status != 0) return;
  struct conn *c = calloc(1, sizeof *c);
  if (c == NULL) return;
  c->server = s;
  EVC_ASSERT(uv_tcp_init(s->loop, &c->tcp) == 0);
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 ||
      s->connections >= EVC_DA_SERVER_CONNECTIONS_MAX || s->stopping) {
    uv_close((uv_handle_t *)&c->tcp, reject_closed);
    return;
  }
  s->connections++;
  h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, conn_closed);
  h2o_accept(&s->accept_ctx, sock);
}

static int listen_on(struct evc_da_server *s) {
  struct sockaddr_storage addr;
  if (uv_ip4_addr(s->host, s->cfg.listen_port, (struct sockaddr_in *)&addr) != 0 &&
      uv_ip6_addr(s->host, s->cfg.listen_port, (struct sockaddr_in6 *)&addr) != 0) {
    return EVC_ECONFIG;
  }
  EVC_ASSERT(uv_tcp_init(s->loop, &s->listener) == 0);
  s->listener.data = s;
  s->handles_open++;
  if (uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0) != 0 ||
      uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, on_connection) != 0) {
    return EVC_EIO;
  }
  struct sockaddr_storage bound;
  int len = sizeof bound;
  if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len) != 0) return EVC_EIO;
  s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                              : ((struct sockaddr_in *)&bound)->sin_port);
  return 0;
}

/* ---- lifecycle ---- */

static int config_check(const struct evc_da_server_config *c) {
  if (c->home == NULL || c->home[0] == '\0' || c->listen_host == NULL) return EVC_ECONFIG;
  if (c->block_time_ms == 0 || c->block_time_ms > 86400000u) return EVC_ECONFIG;
  if (c->mempool_ttl_blocks == 0 || c->mempool_ttl_blocks > 100000) return EVC_ECONFIG;
  if (c->blob_bytes_max == 0 || c->blob_bytes_max > c->call_bytes_max) return EVC_ECONFIG;
  if (c->call_bytes_max > c->block_bytes_max || c->block_blobs_max == 0) return EVC_ECONFIG;
  /* base64 grows data by 4/3: a full call must still fit in one request */
  if (c->call_bytes_max > EVC_DA_JSON_REQUEST_SIZE_MAX / 4 * 3 - 65536) return EVC_ECONFIG;
  return 0;
}

static void server_release(struct evc_da_server *s) {
  evc_da_store_close(&s->store);
  free(s->home);
  free(s->host);
  if (s->token != NULL) sodium_memzero(s->token, strlen(s->token));
  free(s->token);
  free(s);
}

static void failed_listener_closed(uv_handle_t *h) {
  server_release(h->data);
}

static int open_store(struct evc_da_server *s) {
  size_t size = strlen(s->home) + 32;
  char *path = malloc(size);
  if (path == NULL) return EVC_ENOMEM;
  snprintf(path, size, "%s/data", s->home);
  int rc = evc_fs_mkdir_p(path, 0700);
  if (rc == 0) {
    snprintf(path, size, "%s/data/da.sqlite", s->home);
    rc = evc_da_store_open(&s->store, path);
  }
  free(path);
  return rc;
}

static void h2o_setup(struct evc_da_server *s) {
  h2o_config_init(&s->h2o_config);
  s->h2o_config.max_request_entity_size = EVC_DA_JSON_REQUEST_SIZE_MAX;
  h2o_hostconf_t *host = h2o_config_register_host(&s->h2o_config,
                                                  h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
  struct da_handler *handler = (struct da_handler *)h2o_create_handler(path, sizeof *handler);
  handler->super.on_req = on_req;
  handler->server = s;
  h2o_context_init(&s->h2o_ctx, s->loop, &s->h2o_config);
  s->accept_ctx.ctx = &s->h2o_ctx;
  s->accept_ctx.hosts = s->h2o_config.hosts;
}

static char *dup_or_null(const char *text) {
  return text == NULL || text[0] == '\0' ? NULL : strdup(text);
}

int evc_da_server_new(uv_loop_t *loop, const struct evc_da_server_config *config,
                      struct evc_da_server **server_out) {
  int rc = config_check(config);
  if (rc != 0) return rc;
  struct evc_da_server *s = calloc(1, sizeof *s);
  if (s == NULL) return EVC_ENOMEM;
  s->loop = loop;
  s->cfg = *config;
  s->home = strdup(config->home);
  s->host = strdup(config->listen_host);
  s->token = dup_or_null(config->auth_token);
  if (s->home == NULL || s->host == NULL || (s->token == NULL && config->auth_token != NULL &&
                                             config->auth_token[0] != '\0')) {
    server_release(s);
    return EVC_ENOMEM;
  }
  rc = open_store(s);
  if (rc != 0) {
    server_release(s);
    return rc;
  }
  rc = listen_on(s);
  if (rc != 0) {
    if (s->handles_open > 0) {
      uv_close((uv_handle_t *)&s->listener, failed_listener_closed);
    } else {
      server_release(s);
    }
    return rc;
  }
  h2o_setup(s);
  EVC_ASSERT(uv_timer_init(loop, &s->block_timer) == 0);
  EVC_ASSERT(uv_timer_init(loop, &s->drain_timer) == 0);
  s->block_timer.data = s;
  s->drain_timer.data = s;
  s->handles_open += 2;
  if (s->store.head.height == 0) produce_block(s); /* heights start at 1, as Celestia's */
  EVC_ASSERT(uv_timer_start(&s->block_timer, block_tick, s->cfg.block_time_ms,
                            s->cfg.block_time_ms) == 0);
  logf_(s, EVC_LOG_INFO, "event=listening address=%s:%u head=%llu block_time_ms=%llu",
        s->host, s->port, (unsigned long long)s->store.head.height,
        (unsigned long long)s->cfg.block_time_ms);
  *server_out = s;
  return 0;
}

static void handle_closed(uv_handle_t *h) {
  struct evc_da_server *s = h->data;
  EVC_ASSERT(s->handles_open > 0);
  s->handles_open--;
  if (h == (uv_handle_t *)&s->drain_timer) {
    if (s->connections > 0) {
      logf_(s, EVC_LOG_WARN, "event=stopped_with_open_connections count=%u", s->connections);
    }
    if (s->stopped != NULL) s->stopped(s->stopped_arg);
  }
}

static void drain_check(uv_timer_t *t) {
  struct evc_da_server *s = t->data;
  bool drained = s->connections == 0 && s->handles_open == 1;
  if (!drained && uv_now(s->loop) < s->drain_deadline_ms) return;
  uv_timer_stop(t);
  uv_close((uv_handle_t *)t, handle_closed);
}

void evc_da_server_stop(struct evc_da_server *server, void (*stopped)(void *arg), void *arg) {
  struct evc_da_server *s = server;
  EVC_ASSERT(!s->stopping);
  s->stopping = true;
  s->stopped = stopped;
  s->stopped_arg = arg;
  uv_timer_stop(&s->block_timer);
  uv_close((uv_handle_t *)&s->block_timer, handle_closed);
  uv_close((uv_handle_t *)&s->listener, handle_closed);
  while (s->mempool != NULL) {
    struct submission *sub = s->mempool;
    s->mempool = sub->next;
    submission_answer(s, sub, 0, "evc-da is shutting down");
  }
  /* No h2o_context_request_shutdown: in libh2o 2.2.5 it arms a timer that makes
   * h2o_context_dispose assert, and it does not close idle HTTP/1 connections anyway. */
  s->drain_deadline_ms = uv_now(s->loop) + DRAIN_DEADLINE_MS;
  EVC_ASSERT(uv_timer_start(&s->drain_timer, drain_check, DRAIN_POLL_MS, DRAIN_POLL_MS) == 0);
  logf_(s, EVC_LOG_INFO, "event=stopping head=%llu", (unsigned long long)s->store.head.height);
}

void evc_da_server_free(struct evc_da_server *server) {
  struct evc_da_server *s = server;
  EVC_ASSERT(s->stopping);
  EVC_ASSERT(s->handles_open == 0);
  EVC_ASSERT(s->mempool == NULL);
  if (s->connections > 0) {
    /* libh2o's connections still point at its context and at s: keep both. */
    evc_da_store_close(&s->store);
    return;
  }
  h2o_context_dispose(&s->h2o_ctx);
  h2o_config_dispose(&s->h2o_config);
  server_release(s);
}
