/* The node's HTTP RPC (GET /status, /block/{height}, /health/live, /health/ready, /metrics and
 * POST /tx), served by libh2o on the runtime's libuv loop; the answers come from
 * node/live/rpc_handler.h. Read-only except POST /tx, which only hands a transaction to the
 * node's mempool; it never blocks the loop. */
#ifndef EVC_LIVE_RPC_H
#define EVC_LIVE_RPC_H

#include <stddef.h>

#include "node/live/rpc_handler.h" /* the answers; EVC_RPC_BODY_SIZE_MAX (larger: 413) */

struct evc_live;
struct evc_rpc;

/* Binds listen ("ip:port", port 0: any free port) and serves requests for live's node. Call
 * outside uv_run (a failure disposes h2o state, which runs the loop once).
 * EVC_EIO when it cannot bind (err says why), EVC_EINVAL for a bad address, EVC_ENOMEM. */
int evc_rpc_open(struct evc_live *live, const char *listen, struct evc_rpc **out, char *err,
                 size_t err_size);
/* Writes the bound "ip:port". EVC_EIO, EVC_ETOOBIG when out is too small. */
int evc_rpc_bound_address(const struct evc_rpc *rpc, char *out, size_t size);
/* Stops accepting and lets open connections finish (bounded), then calls closed(arg) from the
 * loop. Handlers keep answering (503 once the node is gone) until evc_rpc_destroy. */
void evc_rpc_close(struct evc_rpc *rpc, void (*closed)(void *arg), void *arg);
/* Releases everything after closed ran. Must be called outside uv_run (h2o's dispose runs the
 * loop once itself); the memory is freed by the next uv_run. rpc is invalid afterwards. */
void evc_rpc_destroy(struct evc_rpc *rpc);

#endif
