/* The node RPC's request handling as a pure function: one request (method, normalized path,
 * body) against a node behind a small interface, to one response (status, reason, content
 * type, body, at most one extra header). node/live/rpc.c serves it over libh2o; the fuzz
 * harness (fuzz/fuzz_rpc.c) and tests drive it with a fake node. It never blocks and keeps
 * no state between requests. */
#ifndef EVC_LIVE_RPC_HANDLER_H
#define EVC_LIVE_RPC_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/core/node.h"
#include "node/live/metrics.h"

#define EVC_RPC_BODY_SIZE_MAX (64u * 1024u) /* a larger request body is refused (413) */

/* What the handler reads of the node. Every call gets arg; none but available() is made
 * while available() is false, nor for a request the handler rejects on its own (unknown
 * path, wrong method, malformed height, a body size out of bounds). */
struct evc_rpc_node {
  void *arg;
  /* false once the node is gone or stopping: every node-backed answer is then 503 */
  bool (*available)(void *arg);
  void (*status)(void *arg, struct evc_node_status *out);
  /* as evc_node_get_block; a block it returned (0) is released exactly once */
  int (*get_block)(void *arg, uint64_t height, struct evc_node_block *out);
  void (*release_block)(void *arg, struct evc_node_block *b);
  /* as evc_node_submit_tx; called at most once per request, only for POST /tx to an
   * aggregator with a body of 1..EVC_RPC_BODY_SIZE_MAX bytes */
  int (*submit_tx)(void *arg, const uint8_t *tx, size_t size, uint8_t hash_out[EVC_HASH_SIZE]);
  const char *chain_id;
  bool aggregator;      /* POST /tx is 405 on a full node */
  uint32_t known_peers; /* the configured peer count */
  const struct evc_live_metrics *metrics;
};

/* One answer. status is one of 200, 400, 404, 405, 413, 429, 500, 503. content_type is
 * "application/json" (a JSON object; on every status but 200 it has a non-empty "error"
 * string), "text/plain; charset=utf-8" (health: "ok\n", "ready\n", or the reason it is not
 * ready, one line) or the Prometheus text type (GET /metrics, 200 only). Header: NULL, or
 * "Allow" (405 for a wrong method) or "Retry-After" (429), with its value. */
struct evc_rpc_response {
  int status;
  const char *reason;       /* the HTTP reason phrase, static */
  const char *content_type; /* static */
  const char *header_name;  /* static or NULL */
  const char *header_value; /* static or NULL */
  const char *body;         /* body_size bytes, valid until evc_rpc_response_release */
  size_t body_size;
  void *owned_;             /* private: what release frees */
  bool owned_by_cjson_;     /* private */
};

#define EVC_RPC_CONTENT_JSON "application/json"
#define EVC_RPC_CONTENT_TEXT "text/plain; charset=utf-8"
#define EVC_RPC_CONTENT_METRICS "text/plain; version=0.0.4; charset=utf-8"

/* Answers one request: method (e.g. "GET"; HEAD is answered as GET, the server drops the
 * body), path as normalized by the server (no query), body (may be NULL when body_size is
 * 0). Routes: GET /status, /block/{decimal height}, /health/live, /health/ready, /metrics;
 * POST /tx. Any bytes are accepted in every argument. Never fails: an internal failure
 * (out of memory) is a 500 with a static body. Release *out with evc_rpc_response_release. */
void evc_rpc_handle(const struct evc_rpc_node *node, const char *method, size_t method_size,
                    const char *path, size_t path_size, const uint8_t *body, size_t body_size,
                    struct evc_rpc_response *out);
void evc_rpc_response_release(struct evc_rpc_response *r);

#endif
