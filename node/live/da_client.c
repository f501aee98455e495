/* The DA client: JSON-RPC over HTTP with libcurl's multi-socket API on a libuv loop. libcurl
 * tells us which sockets and timeout to watch; libuv tells libcurl when they fire. Never
 * blocks, never calls back inside a call, never keeps a reply bigger than its cap. */
#include "node/live/da_client.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"

#define REPLY_CHUNK_MIN 4096u
#define CONNECT_TIMEOUT_MS_MAX 10000u

struct evc_da_poll {
  uv_poll_t handle;
  struct evc_da_client *client;
  curl_socket_t fd;
  struct evc_da_poll *next;
};

struct evc_da_request {
  struct evc_da_client *client;
  struct evc_da_request *next;
  CURL *easy; /* NULL for an answer decided without the network */
  enum evc_da_method method;
  uint64_t id;
  int early_status;
  char *body;
  size_t body_size;
  char *reply;
  size_t reply_size;
  size_t reply_cap;
  bool reply_overflow;
  evc_da_submit_callback submit_cb;
  evc_da_get_callback get_cb;
  evc_da_head_callback head_cb;
  void *arg;
  char curl_error[CURL_ERROR_SIZE];
};

static const char *method_name(enum evc_da_method m) {
  switch (m) {
  case EVC_DA_METHOD_SUBMIT: return "blob.Submit";
  case EVC_DA_METHOD_GET_ALL: return "blob.GetAll";
  case EVC_DA_METHOD_NETWORK_HEAD: return "header.NetworkHead";
  case EVC_DA_METHOD_GET_BY_HEIGHT: return "header.GetByHeight";
  }
  return "?";
}

__attribute__((format(printf, 3, 4))) static void report(struct evc_da_client *c,
                                                         enum evc_da_method m, const char *fmt,
                                                         ...) {
  char cause[EVC_DA_JSON_MESSAGE_MAX + 64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cause, sizeof cause, fmt, ap);
  va_end(ap);
  /* The cause goes inside a quoted key=value field: no double quote may end it early. */
  for (char *q = cause; *q != '\0'; q++) {
    if (*q == '"') *q = '\'';
  }
  snprintf(c->last_error, sizeof c->last_error, "%s to %s failed: %s", method_name(m), c->url,
           cause);
  if (c->log == NULL) return;
  char line[sizeof c->last_error + 64];
  snprintf(line, sizeof line, "event=da_call_failed method=%s error=\"%s\"", method_name(m),
           cause);
  c->log(c->log_arg, EVC_LOG_WARN, line);
}

/* ---- handles and closing ---- */

static void handle_closed(uv_handle_t *h) {
  struct evc_da_client *c = h->data;
  EVC_ASSERT(c->handles_open > 0);
  c->handles_open--;
  if (h->type == UV_POLL) free(h);
  if (c->handles_open > 0) return;
  curl_global_cleanup();
  if (c->closed != NULL) c->closed(c->closed_arg);
}

static void poll_unwatch(struct evc_da_client *c, struct evc_da_poll *p) {
  for (struct evc_da_poll **it = &c->polls; *it != NULL; it = &(*it)->next) {
    if (*it == p) {
      *it = p->next;
      break;
    }
  }
  uv_poll_stop(&p->handle);
  uv_close((uv_handle_t *)&p->handle, handle_closed);
}

static void request_free(struct evc_da_request *r) {
  if (r->easy != NULL) curl_easy_cleanup(r->easy);
  free(r->body);
  free(r->reply);
  free(r);
}

static void request_unlink(struct evc_da_client *c, struct evc_da_request *r) {
  for (struct evc_da_request **it = &c->requests; *it != NULL; it = &(*it)->next) {
    if (*it == r) {
      *it = r->next;
      EVC_ASSERT(c->inflight > 0);
      c->inflight--;
      return;
    }
  }
  EVC_UNREACHABLE();
}

/* ---- answering ---- */

/* Turns a finished transfer into a status, parsing the reply per method. */
static int transfer_status(struct evc_da_request *r, CURLcode result, uint64_t *height,
                           struct evc_da_json_blobs *blobs) {
  struct evc_da_client *c = r->client;
  if (result != CURLE_OK) {
    if (r->reply_overflow) {
      report(c, r->method, "reply over %u bytes", EVC_DA_JSON_REPLY_SIZE_MAX);
    } else if (result == CURLE_OPERATION_TIMEDOUT) {
      report(c, r->method, "timed out after %llu ms", (unsigned long long)c->timeout_ms);
    } else {
      report(c, r->method, "%s", r->curl_error[0] ? r->curl_error : curl_easy_strerror(result));
    }
    return EVC_EDA;
  }
  long http = 0;
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &http);
  if (http == 401 || http == 403) {
    report(c, r->method, "HTTP %ld: the DA wants a valid auth token", http);
    return EVC_EDA;
  }
  struct evc_da_json_error err = {0};
  int rc = 0;
  switch (r->method) {
  case EVC_DA_METHOD_SUBMIT:
    rc = evc_da_json_parse_submit_reply(r->reply, r->reply_size, r->id, height, &err);
    break;
  case EVC_DA_METHOD_GET_ALL:
    rc = evc_da_json_parse_get_all_reply(r->reply, r->reply_size, r->id, blobs, &err);
    break;
  case EVC_DA_METHOD_NETWORK_HEAD:
  case EVC_DA_METHOD_GET_BY_HEIGHT:
    rc = evc_da_json_parse_header_reply(r->reply, r->reply_size, r->id, height, &err);
    break;
  }
  if (rc == EVC_EDECODE && http != 200) {
    report(c, r->method, "HTTP %ld", http);
    return EVC_EDA;
  }
  if (rc == EVC_EDECODE || rc == EVC_ENOMEM) {
    report(c, r->method, "bad reply: %s", err.message);
    return EVC_EDA;
  }
  /* "From the future" is the normal answer of a caught-up poll, not a failure to report. */
  if (rc != 0 && rc != EVC_EFUTURE) {
    report(c, r->method, "the DA says \"%s\" (code %d)", err.message, err.code);
  }
  return rc;
}

/* Runs the caller's callback; r is already out of the client's list and is freed here. */
static void deliver(struct evc_da_request *r, int status, uint64_t height,
                    const struct evc_da_json_blobs *blobs) {
  switch (r->method) {
  case EVC_DA_METHOD_SUBMIT:
    r->submit_cb(r->arg, status, status == 0 ? height : 0);
    break;
  case EVC_DA_METHOD_GET_ALL:
    r->get_cb(r->arg, status, status == 0 ? blobs->blobs : NULL, status == 0 ? blobs->count : 0);
    break;
  case EVC_DA_METHOD_NETWORK_HEAD:
  case EVC_DA_METHOD_GET_BY_HEIGHT:
    r->head_cb(r->arg, status, status == 0 ? height : 0);
    break;
  }
}

static void finish_transfer(struct evc_da_client *c, CURL *easy, CURLcode result) {
  struct evc_da_request *r = NULL;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
  EVC_ASSERT(r != NULL);
  EVC_ASSERT(r->easy == easy);
  curl_multi_remove_handle(c->multi, easy);
  request_unlink(c, r);
  uint64_t height = 0;
  struct evc_da_json_blobs blobs = {0};
  int status = transfer_status(r, result, &height, &blobs);
  /* The GetAll parser may say EFUTURE; the head parser's EFUTURE is not in head's vocabulary. */
  if (status == EVC_EFUTURE && r->method != EVC_DA_METHOD_GET_ALL) status = EVC_EDA;
  deliver(r, status, height, &blobs);
  evc_da_json_blobs_free(&blobs);
  request_free(r);
}

static void check_done(struct evc_da_client *c) {
  CURLMsg *msg = NULL;
  int left = 0;
  while (!c->closing && (msg = curl_multi_info_read(c->multi, &left)) != NULL) {
    if (msg->msg == CURLMSG_DONE) finish_transfer(c, msg->easy_handle, msg->data.result);
  }
}

static void defer_fired(uv_timer_t *t) {
  struct evc_da_client *c = t->data;
  /* Deliver one at a time from the list head: a callback may start or close anything. */
  for (;;) {
    if (c->closing) return;
    struct evc_da_request *r = c->requests;
    while (r != NULL && r->easy != NULL) r = r->next;
    if (r == NULL) return;
    request_unlink(c, r);
    deliver(r, r->early_status, 0, NULL);
    request_free(r);
  }
}

/* ---- libcurl <-> libuv ---- */

static void poll_fired(uv_poll_t *h, int status, int events) {
  struct evc_da_poll *p = (struct evc_da_poll *)h; /* the handle is its first member */
  struct evc_da_client *c = p->client;
  int flags = 0;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  int running = 0;
  curl_multi_socket_action(c->multi, p->fd, flags, &running);
  check_done(c);
}

static void curl_timer_fired(uv_timer_t *t) {
  struct evc_da_client *c = t->data;
  int running = 0;
  curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(c);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  struct evc_da_client *c = userp;
  struct evc_da_poll *p = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (p != NULL) {
      curl_multi_assign(c->multi, fd, NULL);
      poll_unwatch(c, p);
    }
    return 0;
  }
  if (p == NULL) {
    p = calloc(1, sizeof *p);
    if (p == NULL) return -1;
    if (uv_poll_init_socket(c->loop, &p->handle, fd) != 0) {
      free(p);
      return -1;
    }
    p->handle.data = c;
    p->client = c;
    p->fd = fd;
    p->next = c->polls;
    c->polls = p;
    c->handles_open++;
    curl_multi_assign(c->multi, fd, p);
  }
  int events = 0;
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  return uv_poll_start(&p->handle, events, poll_fired) == 0 ? 0 : -1;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
  struct evc_da_client *c = userp;
  if (timeout_ms < 0) return uv_timer_stop(&c->curl_timer) == 0 ? 0 : -1;
  return uv_timer_start(&c->curl_timer, curl_timer_fired, (uint64_t)timeout_ms, 0) == 0 ? 0 : -1;
}

static size_t on_reply_bytes(char *bytes, size_t size, size_t nmemb, void *userp) {
  struct evc_da_request *r = userp;
  size_t n = size * nmemb;
  if (n > EVC_DA_JSON_REPLY_SIZE_MAX - r->reply_size) {
    r->reply_overflow = true;
    return 0; /* aborts the transfer */
  }
  if (r->reply_size + n > r->reply_cap) {
    size_t cap = r->reply_cap < REPLY_CHUNK_MIN ? REPLY_CHUNK_MIN : r->reply_cap;
    while (cap < r->reply_size + n) cap *= 2;
    if (cap > EVC_DA_JSON_REPLY_SIZE_MAX) cap = EVC_DA_JSON_REPLY_SIZE_MAX;
    char *grown = realloc(r->reply, cap);
    if (grown == NULL) return 0;
    r->reply = grown;
    r->reply_cap = cap;
  }
  memcpy(r->reply + r->reply_size, bytes, n);
  r->reply_size += n;
  return n;
}

/* ---- starting calls ---- */

static int request_new(struct evc_da_client *c, enum evc_da_method m, void *arg,
                       struct evc_da_request **out) {
  if (c->closing) return EVC_ESTOPPED;
  if (c->inflight >= EVC_DA_CLIENT_INFLIGHT_MAX) return EVC_EFULL;
  struct evc_da_request *r = calloc(1, sizeof *r);
  if (r == NULL) return EVC_ENOMEM;
  r->client = c;
  r->method = m;
  r->id = ++c->next_id;
  r->arg = arg;
  *out = r;
  return 0;
}

static void request_link(struct evc_da_client *c, struct evc_da_request *r) {
  r->next = c->requests;
  c->requests = r;
  c->inflight++;
}

/* Answers r from the loop without touching the network (the rule: never call back inside
 * the call that started it). */
static int request_defer(struct evc_da_client *c, struct evc_da_request *r, int status) {
  r->early_status = status;
  if (uv_timer_start(&c->defer_timer, defer_fired, 0, 0) != 0) {
    request_free(r);
    return EVC_EIO;
  }
  request_link(c, r);
  return 0;
}

static int easy_setup(struct evc_da_client *c, struct evc_da_request *r) {
  CURL *e = r->easy;
  long connect_ms = (long)(c->timeout_ms < CONNECT_TIMEOUT_MS_MAX ? c->timeout_ms
                                                                  : CONNECT_TIMEOUT_MS_MAX);
  int bad = 0;
  bad |= curl_easy_setopt(e, CURLOPT_URL, c->url) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_size) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, (struct curl_slist *)c->headers) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_reply_bytes) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, r) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_error) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                          (curl_off_t)EVC_DA_JSON_REPLY_SIZE_MAX) != CURLE_OK;
  return bad ? EVC_EIO : 0;
}

/* Puts r on the wire; takes r (freed on error). */
static int request_start(struct evc_da_client *c, struct evc_da_request *r) {
  r->easy = curl_easy_init();
  if (r->easy == NULL) {
    request_free(r);
    return EVC_ENOMEM;
  }
  int rc = easy_setup(c, r);
  if (rc == 0 && curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) rc = EVC_EIO;
  if (rc != 0) {
    request_free(r);
    return rc;
  }
  request_link(c, r);
  return 0;
}

int evc_da_client_submit(struct evc_da_client *c, const struct evc_da_blob *blobs, size_t count,
                         evc_da_submit_callback cb, void *arg) {
  EVC_ASSERT(cb != NULL);
  if (count == 0 || blobs == NULL) return EVC_EINVAL;
  struct evc_da_request *r = NULL;
  int rc = request_new(c, EVC_DA_METHOD_SUBMIT, arg, &r);
  if (rc != 0) return rc;
  r->submit_cb = cb;
  rc = evc_da_json_submit_request(r->id, blobs, count, &r->body, &r->body_size);
  if (rc == EVC_ETOOBIG) {
    /* Too big for any DA call: the submitter halves its batch when told so by callback. */
    report(c, r->method, "a call of %zu blobs is over the %u-byte request limit", count,
           EVC_DA_JSON_REQUEST_SIZE_MAX);
    return request_defer(c, r, EVC_ETOOBIG);
  }
  if (rc != 0) {
    request_free(r);
    return rc;
  }
  return request_start(c, r);
}

int evc_da_client_get(struct evc_da_client *c, uint64_t height,
                      const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE], size_t namespace_count,
                      evc_da_get_callback cb, void *arg) {
  EVC_ASSERT(cb != NULL);
  if (height == 0 || namespaces == NULL || namespace_count == 0) return EVC_EINVAL;
  struct evc_da_request *r = NULL;
  int rc = request_new(c, EVC_DA_METHOD_GET_ALL, arg, &r);
  if (rc != 0) return rc;
  r->get_cb = cb;
  rc = evc_da_json_get_all_request(r->id, height, namespaces, namespace_count, &r->body,
                                   &r->body_size);
  if (rc != 0) {
    request_free(r);
    return rc;
  }
  return request_start(c, r);
}

int evc_da_client_head(struct evc_da_client *c, evc_da_head_callback cb, void *arg) {
  EVC_ASSERT(cb != NULL);
  struct evc_da_request *r = NULL;
  int rc = request_new(c, EVC_DA_METHOD_NETWORK_HEAD, arg, &r);
  if (rc != 0) return rc;
  r->head_cb = cb;
  rc = evc_da_json_network_head_request(r->id, &r->body, &r->body_size);
  if (rc != 0) {
    request_free(r);
    return rc;
  }
  return request_start(c, r);
}

/* ---- lifecycle ---- */

static int headers_build(struct evc_da_client *c, const char *auth_token) {
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  /* No "Expect: 100-continue" round trip before big bodies. */
  struct curl_slist *t = h == NULL ? NULL : curl_slist_append(h, "Expect:");
  if (t == NULL) goto nomem;
  h = t;
  if (auth_token != NULL && auth_token[0] != '\0') {
    size_t size = strlen(auth_token) + 32;
    char *line = malloc(size);
    if (line == NULL) goto nomem;
    snprintf(line, size, "Authorization: Bearer %s", auth_token);
    t = curl_slist_append(h, line);
    sodium_memzero(line, size);
    free(line);
    if (t == NULL) goto nomem;
    h = t;
  }
  c->headers = h;
  return 0;
nomem:
  curl_slist_free_all(h);
  return EVC_ENOMEM;
}

static bool token_ok(const char *token) {
  if (token == NULL) return true;
  size_t len = strlen(token);
  if (len > EVC_DA_CLIENT_TOKEN_MAX) return false;
  for (size_t i = 0; i < len; i++) {
    if ((unsigned char)token[i] <= ' ' || token[i] == 0x7f) return false; /* no header injection */
  }
  return true;
}

int evc_da_client_init(struct evc_da_client *c, uv_loop_t *loop, const char *url,
                       const char *auth_token, uint64_t timeout_ms) {
  memset(c, 0, sizeof *c);
  if (loop == NULL || url == NULL || timeout_ms == 0 || timeout_ms > INT32_MAX) return EVC_EINVAL;
  if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) return EVC_EINVAL;
  if (strlen(url) >= sizeof c->url || strpbrk(url, " \r\n") != NULL) return EVC_EINVAL;
  if (!token_ok(auth_token)) return EVC_EINVAL;
  memcpy(c->url, url, strlen(url) + 1);
  c->loop = loop;
  c->timeout_ms = timeout_ms;
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return EVC_EIO;
  int rc = headers_build(c, auth_token);
  c->multi = rc == 0 ? curl_multi_init() : NULL;
  if (c->multi == NULL) {
    curl_slist_free_all(c->headers);
    curl_global_cleanup();
    return rc != 0 ? rc : EVC_ENOMEM;
  }
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
  EVC_ASSERT(uv_timer_init(loop, &c->curl_timer) == 0);
  EVC_ASSERT(uv_timer_init(loop, &c->defer_timer) == 0);
  c->curl_timer.data = c;
  c->defer_timer.data = c;
  c->handles_open = 2;
  return 0;
}

void evc_da_client_set_log(struct evc_da_client *c, evc_da_client_log_callback log, void *arg) {
  c->log = log;
  c->log_arg = arg;
}

const char *evc_da_client_last_error(const struct evc_da_client *c) {
  return c->last_error;
}

void evc_da_client_close(struct evc_da_client *c, evc_da_client_closed_callback closed,
                         void *arg) {
  EVC_ASSERT(!c->closing);
  c->closing = true;
  c->closed = closed;
  c->closed_arg = arg;
  while (c->requests != NULL) {
    struct evc_da_request *r = c->requests;
    c->requests = r->next;
    c->inflight--;
    if (r->easy != NULL) curl_multi_remove_handle(c->multi, r->easy);
    request_free(r);
  }
  EVC_ASSERT(c->inflight == 0);
  curl_multi_cleanup(c->multi);
  c->multi = NULL;
  curl_slist_free_all(c->headers);
  c->headers = NULL;
  /* Sockets libcurl never told us to forget (its connection cache) are closed by now. */
  while (c->polls != NULL) poll_unwatch(c, c->polls);
  uv_close((uv_handle_t *)&c->curl_timer, handle_closed);
  uv_close((uv_handle_t *)&c->defer_timer, handle_closed);
}
