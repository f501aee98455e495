/* The node's HTTP RPC on libh2o over the runtime's libuv loop: status, blocks, health,
 * metrics and transaction submission. Handlers answer at once from the node's state; they
 * never block, never keep a request open, and never touch the node once it is gone. */
#define H2O_USE_LIBUV 1
#include "node/live/rpc.h"

#include <h2o.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/live/env_live.h"
#include "node/live/rpc_handler.h"

#define DRAIN_TICK_MS 20u
#define DRAIN_TICKS_MAX 100u /* 2 s for open connections to finish after a stop */
#define REQ_TIMEOUT_MS 10000u
#define LISTEN_BACKLOG 128

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

/* ---- requests: node/live/rpc_handler.c answers, this copies the answer out ---- */

static bool live_available(void *arg) {
  const struct evc_live *live = arg;
  return live->node != NULL && !live->stopping;
}

static void live_status(void *arg, struct evc_node_status *out) {
  const struct evc_live *live = arg;
  evc_node_status(live->node, out);
}

static int live_get_block(void *arg, uint64_t height, struct evc_node_block *out) {
  struct evc_live *live = arg;
  return evc_node_get_block(live->node, height, out);
}

static void live_release_block(void *arg, struct evc_node_block *b) {
  (void)arg;
  evc_node_block_release(b);
}

static int live_submit_tx(void *arg, const uint8_t *tx, size_t size,
                          uint8_t hash_out[EVC_HASH_SIZE]) {
  struct evc_live *live = arg;
  return evc_node_submit_tx(live->node, tx, size, hash_out);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
  struct evc_rpc *rpc = ((struct rpc_handler *)self)->rpc;
  struct evc_live *live = rpc->live;
  const struct evc_rpc_node node = {
      .arg = live, .available = live_available, .status = live_status,
      .get_block = live_get_block, .release_block = live_release_block,
      .submit_tx = live_submit_tx, .chain_id = live->chain_id,
      .aggregator = live->cfg->aggregator, .known_peers = live->cfg->peer_count,
      .metrics = &live->metrics};
  struct evc_rpc_response res;
  evc_rpc_handle(&node, req->method.base, req->method.len, req->path_normalized.base,
                 req->path_normalized.len, (const uint8_t *)req->entity.base, req->entity.len,
                 &res);
  req->res.status = res.status;
  req->res.reason = res.reason;
  req->res.content_length = res.body_size;
  if (res.header_name != NULL) {
    const h2o_token_t *token =
        strcmp(res.header_name, "Allow") == 0 ? H2O_TOKEN_ALLOW : H2O_TOKEN_RETRY_AFTER;
    EVC_ASSERT(token == H2O_TOKEN_ALLOW || strcmp(res.header_name, "Retry-After") == 0);
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, res.header_value,
                   strlen(res.header_value));
  }
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, res.content_type,
                 strlen(res.content_type));
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                 H2O_STRLIT("no-store"));
  h2o_send_inline(req, res.body, res.body_size); /* copies the body into the request's pool */
  evc_rpc_response_release(&res);
  return 0;
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
