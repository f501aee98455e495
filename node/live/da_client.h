/* Asynchronous Celestia JSON-RPC client (blob.Submit, blob.GetAll, header.NetworkHead) over
 * HTTP: libcurl's multi-socket API driven by a libuv loop. Its calls and callbacks match the
 * env seam's da_submit/da_get/da_head exactly. It never blocks the loop and never runs a
 * callback inside the call that started it. */
#ifndef EVC_LIVE_DA_CLIENT_H
#define EVC_LIVE_DA_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node/core/env.h"
#include "node/live/da_json.h"

#define EVC_DA_CLIENT_INFLIGHT_MAX 256 /* requests started and not yet answered: 4 L + 4 Submit calls and the read-ahead window */
#define EVC_DA_CLIENT_URL_MAX 512
#define EVC_DA_CLIENT_TOKEN_MAX 4096

typedef void (*evc_da_client_log_callback)(void *arg, enum evc_log_level level,
                                           const char *line);
typedef void (*evc_da_client_closed_callback)(void *arg);

struct evc_da_request;
struct evc_da_poll;

/* Caller-owned; fields are private. Valid until the closed callback has run. */
struct evc_da_client {
  uv_loop_t *loop;
  void *multi; /* CURLM */
  void *headers; /* struct curl_slist */
  uv_timer_t curl_timer; /* libcurl's timeout */
  uv_timer_t defer_timer; /* delivers answers decided without the network */
  char url[EVC_DA_CLIENT_URL_MAX];
  uint64_t timeout_ms;
  uint64_t next_id;
  size_t inflight;
  struct evc_da_request *requests; /* every request in flight, on the wire or deferred */
  struct evc_da_poll *polls;       /* every socket libcurl asked us to watch */
  unsigned handles_open;
  bool closing;
  evc_da_client_closed_callback closed;
  void *closed_arg;
  evc_da_client_log_callback log;
  void *log_arg;
  char last_error[EVC_DA_JSON_MESSAGE_MAX + EVC_DA_CLIENT_URL_MAX + 128];
};

/* Prepares a client for url ("http://host:port" or https); auth_token may be NULL or "".
 * timeout_ms bounds every call (Submit blocks until inclusion: allow a few DA blocks).
 * EVC_EINVAL for a bad url, token or timeout; EVC_ENOMEM; EVC_EIO if libcurl fails. */
int evc_da_client_init(struct evc_da_client *c, uv_loop_t *loop, const char *url,
                       const char *auth_token, uint64_t timeout_ms);
/* Where failures are reported (one key=value line each); NULL: nowhere. */
void evc_da_client_set_log(struct evc_da_client *c, evc_da_client_log_callback log, void *arg);
/* Aborts every call in flight (their callbacks never run) and releases everything;
 * closed(arg) runs from the loop once the client's handles are closed. closed may be NULL. */
void evc_da_client_close(struct evc_da_client *c, evc_da_client_closed_callback closed,
                         void *arg);

/* blob.Submit: cb gets 0 and the DA height, EVC_ETOOBIG, EVC_ETIMEDOUT or EVC_EDA. Blobs are
 * copied. Returns EVC_EFULL at EVC_DA_CLIENT_INFLIGHT_MAX, EVC_EINVAL, EVC_ENOMEM,
 * EVC_ESTOPPED once closing; then cb is never called. */
int evc_da_client_submit(struct evc_da_client *c, const struct evc_da_blob *blobs, size_t count,
                         evc_da_submit_callback cb, void *arg);
/* blob.GetAll: cb gets 0 and the blobs in DA order (valid during cb; count may be 0),
 * EVC_EFUTURE above the head, or EVC_EDA. Errors as for submit. */
int evc_da_client_get(struct evc_da_client *c, uint64_t height,
                      const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE], size_t namespace_count,
                      evc_da_get_callback cb, void *arg);
/* header.NetworkHead: cb gets 0 and the head height, or EVC_EDA. Errors as for submit. */
int evc_da_client_head(struct evc_da_client *c, evc_da_head_callback cb, void *arg);
/* The last failure as text ("" if none): method, cause and the DA's own message. */
const char *evc_da_client_last_error(const struct evc_da_client *c);

#endif
