/* P2P over TCP on libuv: dial/accept, the authenticated key exchange, AEAD-framed messages
 * and bounded queues, as specified in docs/p2p.md. Whatever a peer sends can only close its
 * own connection: it must never crash the process, block the loop or grow memory unbounded. */
#include "node/live/p2p_tcp.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"

#define READ_CHUNK_SIZE (64u * 1024u)
#define FRAME_KEEP_CAPACITY (64u * 1024u) /* larger frame buffers are freed after use */
#define LISTEN_BACKLOG 128
#define KEEPALIVE_DELAY_S 30u
#define LOG_LINE_MAX 512

_Static_assert(crypto_kx_PUBLICKEYBYTES == EVC_P2P_KX_KEY_SIZE &&
                   crypto_kx_SECRETKEYBYTES == EVC_P2P_KX_KEY_SIZE,
               "the ephemeral keys are crypto_kx keys");
_Static_assert(EVC_P2P_SEND_QUEUE_BYTES_MAX_DEFAULT >= EVC_P2P_FRAME_SIZE_MAX + 4u,
               "the default send queue holds one largest frame");

enum conn_state {
  CONN_RESOLVING,  /* outbound: getaddrinfo running */
  CONN_CONNECTING, /* outbound: TCP connect running */
  CONN_HELLO,      /* our hello sent, waiting for the peer's */
  CONN_AUTH,       /* our signature sent, waiting for the peer's */
  CONN_OPEN,       /* handshake done and reported: messages flow */
  CONN_CLOSING,    /* handles closing; freed when every callback has returned */
};

struct evc_p2p_conn {
  struct evc_p2p_tcp *t;
  struct evc_p2p_conn *prev;
  struct evc_p2p_conn *next;
  enum conn_state state;
  bool inbound;
  bool reported;      /* connected was reported: disconnected is owed */
  bool down_reported; /* disconnected was reported */
  bool resolving;     /* the getaddrinfo request is outstanding */
  int status;         /* why it closed: the dial_failed status */
  int pending;        /* outstanding libuv callbacks (handle closes, requests) */
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t connect_req;
  uv_getaddrinfo_t resolve_req;
  char dial_address[EVC_ADDRESS_TEXT_MAX + 1]; /* as given to dial */
  char peer_address[EVC_ADDRESS_TEXT_MAX + 1]; /* reported with connected */
  char remote[64];                             /* "ip:port" of the socket's other end */
  bool has_expected;
  uint8_t expected[EVC_NODE_ID_SIZE];
  struct evc_peer_id peer;
  uint8_t eph_pk[crypto_kx_PUBLICKEYBYTES];
  uint8_t eph_sk[crypto_kx_SECRETKEYBYTES];
  uint8_t hello_ours[EVC_P2P_HELLO_SIZE_MAX];
  size_t hello_ours_size;
  uint8_t transcript[crypto_hash_sha256_BYTES];
  uint8_t rx_key[crypto_kx_SESSIONKEYBYTES];
  uint8_t tx_key[crypto_kx_SESSIONKEYBYTES];
  uint64_t rx_counter;
  uint64_t tx_counter;
  uint8_t header[4];
  size_t header_have;
  uint32_t frame_size;
  size_t frame_have;
  uint8_t *frame;
  size_t frame_capacity;
  size_t queued_bytes;
  uint32_t queued_count;
  char read_chunk[READ_CHUNK_SIZE];
};

struct write_req {
  uv_write_t req;
  struct evc_p2p_conn *conn;
  size_t size;
  bool counted; /* part of the peer's bounded send queue */
  uint8_t bytes[];
};

/* ---- logging ------------------------------------------------------------------------- */

#if defined(__GNUC__)
#define P2P_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define P2P_PRINTF(fmt_index, first_arg)
#endif

P2P_PRINTF(3, 4)
static void tcp_log(const struct evc_p2p_tcp *t, int level, const char *fmt, ...) {
  if (t->cb.log == NULL) return;
  char line[LOG_LINE_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  EVC_ASSERT(n >= 0);
  t->cb.log(t->cb.arg, level, line);
}

/* The peer's node id in hex once its hello arrived, "-" before. */
static const char *conn_peer_text(const struct evc_p2p_conn *c,
                                  char out[2 * EVC_NODE_ID_SIZE + 1]) {
  if (sodium_is_zero(c->peer.key, sizeof c->peer.key)) return "-";
  evc_hex_encode(c->peer.key, sizeof c->peer.key, out);
  return out;
}

static const char *conn_direction(const struct evc_p2p_conn *c) {
  return c->inbound ? "inbound" : "outbound";
}

/* ---- connection lifetime --------------------------------------------------------------- */

static void conn_unlink(struct evc_p2p_conn *c) {
  struct evc_p2p_tcp *t = c->t;
  if (c->prev != NULL) c->prev->next = c->next;
  else t->conns = c->next;
  if (c->next != NULL) c->next->prev = c->prev;
  EVC_ASSERT(t->conn_count > 0);
  t->conn_count--;
}

static void maybe_closed(struct evc_p2p_tcp *t) {
  if (!t->closing || t->listener != NULL || t->conns != NULL) return;
  EVC_ASSERT(t->conn_count == 0);
  void (*closed)(void *arg) = t->closed;
  void *arg = t->closed_arg;
  /* t may be freed by closed: nothing touches it afterwards. */
  if (closed != NULL) closed(arg);
}

/* Frees a closing connection once every libuv callback it waits for has run, then tells the
 * node what it lost: a reported peer, or the dial it started. */
static void conn_maybe_free(struct evc_p2p_conn *c) {
  EVC_ASSERT(c->pending >= 0);
  if (c->state != CONN_CLOSING || c->pending > 0) return;
  struct evc_p2p_tcp *t = c->t;
  conn_unlink(c);
  bool report_down = c->reported && !c->down_reported && !t->closing;
  bool report_dial = !c->inbound && !c->reported && !t->closing;
  struct evc_peer_id peer = c->peer;
  char address[EVC_ADDRESS_TEXT_MAX + 1];
  memcpy(address, c->dial_address, sizeof address);
  int status = c->status;
  free(c->frame);
  sodium_memzero(c, sizeof *c);
  free(c);
  if (report_down && t->cb.disconnected != NULL) t->cb.disconnected(t->cb.arg, &peer);
  if (report_dial && t->cb.dial_failed != NULL) t->cb.dial_failed(t->cb.arg, address, status);
  maybe_closed(t);
}

static void on_conn_handle_closed(uv_handle_t *handle) {
  struct evc_p2p_conn *c = handle->data;
  c->pending--;
  conn_maybe_free(c);
}

/* Starts closing; the node hears about it from conn_maybe_free, from the loop. */
static void conn_close(struct evc_p2p_conn *c) {
  if (c->state == CONN_CLOSING) return;
  c->state = CONN_CLOSING;
  if (c->resolving) (void)uv_cancel((uv_req_t *)&c->resolve_req);
  c->pending += 2;
  uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

/* Logs why and closes; status becomes the dial_failed status of an unreported dial. */
P2P_PRINTF(4, 5)
static void conn_fail(struct evc_p2p_conn *c, int status, int level, const char *fmt, ...) {
  if (c->state == CONN_CLOSING) return;
  char reason[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  EVC_ASSERT(n >= 0);
  char peer[2 * EVC_NODE_ID_SIZE + 1];
  const char *address = c->inbound ? c->peer_address : c->dial_address;
  tcp_log(c->t, level,
          "event=p2p_connection_closed peer=%s address=%s remote=%s direction=%s error=%s "
          "reason=\"%s\"",
          conn_peer_text(c, peer), address[0] != '\0' ? address : "-",
          c->remote[0] != '\0' ? c->remote : "-", conn_direction(c), evc_errname(status), reason);
  c->status = status;
  conn_close(c);
}

static void on_handshake_timeout(uv_timer_t *timer) {
  struct evc_p2p_conn *c = timer->data;
  conn_fail(c, EVC_ETIMEDOUT, EVC_LOG_WARN, "connect and handshake did not finish within %" PRIu32
            " ms", c->t->options.handshake_timeout_ms);
}

static int conn_new(struct evc_p2p_tcp *t, bool inbound, struct evc_p2p_conn **conn_out) {
  struct evc_p2p_conn *c = calloc(1, sizeof *c);
  if (c == NULL) return EVC_ENOMEM;
  if (uv_tcp_init(t->loop, &c->tcp) != 0) {
    free(c);
    return EVC_EIO;
  }
  int rc = uv_timer_init(t->loop, &c->timer);
  EVC_ASSERT(rc == 0);
  c->t = t;
  c->inbound = inbound;
  c->status = EVC_ECLOSED;
  c->tcp.data = c;
  c->timer.data = c;
  c->connect_req.data = c;
  c->resolve_req.data = c;
  c->next = t->conns;
  if (t->conns != NULL) t->conns->prev = c;
  t->conns = c;
  t->conn_count++;
  rc = uv_timer_start(&c->timer, on_handshake_timeout, t->options.handshake_timeout_ms, 0);
  EVC_ASSERT(rc == 0);
  *conn_out = c;
  return 0;
}

static struct evc_p2p_conn *find_open(const struct evc_p2p_tcp *t, const uint8_t *key) {
  for (struct evc_p2p_conn *c = t->conns; c != NULL; c = c->next) {
    if (c->state == CONN_OPEN && memcmp(c->peer.key, key, EVC_NODE_ID_SIZE) == 0) return c;
  }
  return NULL;
}

/* ---- addresses ------------------------------------------------------------------------- */

/* Splits "host:port" or "[ipv6]:port"; port 0 only when allow_port_zero. */
static int parse_host_port(const char *text, char *host_out, size_t host_capacity,
                           uint16_t *port_out, bool allow_port_zero) {
  size_t size = strlen(text);
  if (size == 0 || size > EVC_ADDRESS_TEXT_MAX) return EVC_EINVAL;
  if (!evc_p2p_printable((const uint8_t *)text, size)) return EVC_EINVAL;
  const char *host = text;
  const char *colon = strrchr(text, ':');
  if (colon == NULL) return EVC_EINVAL;
  size_t host_size = (size_t)(colon - text);
  if (text[0] == '[') {
    if (host_size < 3 || text[host_size - 1] != ']') return EVC_EINVAL;
    host = text + 1;
    host_size -= 2;
  } else if (memchr(text, ':', host_size) != NULL) {
    return EVC_EINVAL; /* an IPv6 literal needs brackets */
  }
  if (host_size == 0 || host_size >= host_capacity) return EVC_EINVAL;
  const char *digits = colon + 1;
  size_t digit_count = strlen(digits);
  if (digit_count == 0 || digit_count > 5) return EVC_EINVAL;
  uint32_t port = 0;
  for (size_t i = 0; i < digit_count; i++) {
    if (digits[i] < '0' || digits[i] > '9') return EVC_EINVAL;
    port = port * 10u + (uint32_t)(digits[i] - '0');
  }
  if (port > 65535u || (port == 0 && !allow_port_zero)) return EVC_EINVAL;
  memcpy(host_out, host, host_size);
  host_out[host_size] = '\0';
  *port_out = (uint16_t)port;
  return 0;
}

/* An IP literal to a socket address; EVC_EINVAL when host is not one. */
static int literal_sockaddr(const char *host, uint16_t port, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0) return 0;
  if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0) return 0;
  return EVC_EINVAL;
}

static int format_sockaddr(const struct sockaddr *sa, char *out, size_t size) {
  char ip[64];
  int port = 0;
  int n = -1;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
    if (uv_ip4_name(sin, ip, sizeof ip) != 0) return EVC_EIO;
    port = ntohs(sin->sin_port);
    n = snprintf(out, size, "%s:%d", ip, port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
    if (uv_ip6_name(sin6, ip, sizeof ip) != 0) return EVC_EIO;
    port = ntohs(sin6->sin6_port);
    n = snprintf(out, size, "[%s]:%d", ip, port);
  } else {
    return EVC_EIO;
  }
  if (n < 0 || (size_t)n >= size) return EVC_ETOOBIG;
  return 0;
}

static void conn_note_remote(struct evc_p2p_conn *c) {
  struct sockaddr_storage ss;
  int len = (int)sizeof ss;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0 ||
      format_sockaddr((const struct sockaddr *)&ss, c->remote, sizeof c->remote) != 0) {
    snprintf(c->remote, sizeof c->remote, "?");
  }
}

/* ---- frames out ------------------------------------------------------------------------ */

static void put_u32(uint8_t out[4], uint32_t v) {
  out[0] = (uint8_t)(v >> 24);
  out[1] = (uint8_t)(v >> 16);
  out[2] = (uint8_t)(v >> 8);
  out[3] = (uint8_t)v;
}

static void on_written(uv_write_t *req, int status) {
  struct write_req *w = (struct write_req *)req;
  struct evc_p2p_conn *c = w->conn;
  c->pending--;
  if (w->counted) {
    EVC_ASSERT(c->queued_count > 0);
    EVC_ASSERT(c->queued_bytes >= w->size);
    c->queued_count--;
    c->queued_bytes -= w->size;
  }
  free(w);
  if (status < 0 && c->state != CONN_CLOSING) {
    conn_fail(c, EVC_ECLOSED, EVC_LOG_INFO, "write failed: %s", uv_strerror(status));
  }
  conn_maybe_free(c);
}

/* Writes one frame (length prefix, then the plaintext or its AEAD ciphertext). A write that
 * libuv refuses closes the connection (disconnected follows): the call still returns 0. */
static int write_frame(struct evc_p2p_conn *c, const uint8_t *plain, size_t plain_size,
                       bool encrypt, bool counted) {
  size_t body = plain_size + (encrypt ? EVC_P2P_FRAME_OVERHEAD : 0);
  EVC_ASSERT(body <= EVC_P2P_FRAME_SIZE_MAX);
  struct write_req *w = malloc(sizeof *w + 4 + body);
  if (w == NULL) return EVC_ENOMEM;
  w->conn = c;
  w->size = 4 + body;
  w->counted = counted;
  if (encrypt) {
    EVC_ASSERT(c->tx_counter < UINT64_MAX);
    evc_p2p_frame_seal(c->tx_key, c->tx_counter++, plain, plain_size, w->bytes);
  } else {
    put_u32(w->bytes, (uint32_t)body);
    if (plain_size > 0) memcpy(w->bytes + 4, plain, plain_size);
  }
  uv_buf_t buf = uv_buf_init((char *)w->bytes, (unsigned int)w->size);
  int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written);
  if (rc != 0) {
    free(w);
    conn_fail(c, EVC_ECLOSED, EVC_LOG_INFO, "write failed: %s", uv_strerror(rc));
    return 0;
  }
  c->pending++;
  if (counted) {
    c->queued_count++;
    c->queued_bytes += w->size;
  }
  return 0;
}

/* ---- handshake ------------------------------------------------------------------------- */

static void hello_build(struct evc_p2p_conn *c) {
  const struct evc_p2p_tcp *t = c->t;
  crypto_kx_keypair(c->eph_pk, c->eph_sk);
  struct evc_p2p_hello h;
  memcpy(h.node_id, t->node_key.pubkey, EVC_NODE_ID_SIZE);
  memcpy(h.eph_pk, c->eph_pk, sizeof c->eph_pk);
  h.address_size = strlen(t->advertised);
  EVC_ASSERT(h.address_size <= EVC_ADDRESS_TEXT_MAX);
  memcpy(h.address, t->advertised, h.address_size + 1);
  /* options_check and the bound address keep the advertised address printable */
  int rc = evc_p2p_hello_encode(&h, c->hello_ours, &c->hello_ours_size);
  EVC_ASSERT(rc == 0);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  struct evc_p2p_conn *c = handle->data;
  *buf = uv_buf_init(c->read_chunk, (unsigned int)sizeof c->read_chunk);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* A TCP connection exists (either direction): send our hello and read theirs. */
static void conn_start(struct evc_p2p_conn *c) {
  (void)uv_tcp_nodelay(&c->tcp, 1);
  (void)uv_tcp_keepalive(&c->tcp, 1, KEEPALIVE_DELAY_S);
  conn_note_remote(c);
  hello_build(c);
  c->state = CONN_HELLO;
  if (write_frame(c, c->hello_ours, c->hello_ours_size, false, false) != 0) {
    conn_fail(c, EVC_ENOMEM, EVC_LOG_ERROR, "out of memory for the hello");
    return;
  }
  if (c->state != CONN_HELLO) return;
  int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (rc != 0) conn_fail(c, EVC_ECLOSED, EVC_LOG_INFO, "cannot read: %s", uv_strerror(rc));
}

/* Session keys (crypto_kx: the dialer is the client) and the transcript hash over the
 * dialer's hello, then the acceptor's. */
static int session_derive(struct evc_p2p_conn *c, const uint8_t *peer_eph) {
  int rc = evc_p2p_session_keys(!c->inbound, c->eph_pk, c->eph_sk, peer_eph, c->rx_key,
                                c->tx_key);
  sodium_memzero(c->eph_sk, sizeof c->eph_sk);
  if (rc != 0) return EVC_EPEER;
  if (c->inbound) {
    evc_p2p_transcript(c->frame, c->frame_size, c->hello_ours, c->hello_ours_size,
                       c->transcript);
  } else {
    evc_p2p_transcript(c->hello_ours, c->hello_ours_size, c->frame, c->frame_size,
                       c->transcript);
  }
  return 0;
}

static void on_hello(struct evc_p2p_conn *c) {
  struct evc_p2p_hello hello;
  const char *why = NULL;
  if (evc_p2p_hello_decode(c->frame, c->frame_size, &hello, &why) != 0) {
    conn_fail(c, EVC_EPEER, EVC_LOG_WARN, "%s", why);
    return;
  }
  memcpy(c->peer.key, hello.node_id, EVC_NODE_ID_SIZE);
  if (c->inbound) memcpy(c->peer_address, hello.address, hello.address_size + 1);
  if (c->has_expected && memcmp(c->expected, c->peer.key, EVC_NODE_ID_SIZE) != 0) {
    char expected[2 * EVC_NODE_ID_SIZE + 1];
    evc_hex_encode(c->expected, EVC_NODE_ID_SIZE, expected);
    conn_fail(c, EVC_EPEER, EVC_LOG_WARN, "the node there is not the expected node %s",
              expected);
    return;
  }
  if (session_derive(c, hello.eph_pk) != 0) {
    conn_fail(c, EVC_EPEER, EVC_LOG_WARN, "the hello's ephemeral key is unusable");
    return;
  }
  uint8_t sig[EVC_SIG_SIZE];
  evc_p2p_auth_sign(&c->t->node_key, !c->inbound, c->transcript, sig);
  c->state = CONN_AUTH;
  if (write_frame(c, sig, sizeof sig, true, false) != 0) {
    conn_fail(c, EVC_ENOMEM, EVC_LOG_ERROR, "out of memory for the handshake signature");
  }
}

/* Opens the frame in place; EVC_EPEER when it fails authentication. */
static int frame_decrypt(struct evc_p2p_conn *c, size_t *plain_size_out) {
  int rc = evc_p2p_frame_open(c->rx_key, c->rx_counter, c->frame, c->frame_size,
                              plain_size_out);
  if (rc != 0) return rc;
  c->rx_counter++;
  return 0;
}

/* Tells the node about disconnections of peer still owed, so that it never hears
 * "connected" for a peer before "disconnected" of its previous connection. */
static void flush_down(struct evc_p2p_tcp *t, const struct evc_peer_id *peer) {
  for (struct evc_p2p_conn *o = t->conns; o != NULL && !t->closing; o = o->next) {
    if (o->state != CONN_CLOSING || !o->reported || o->down_reported) continue;
    if (memcmp(o->peer.key, peer->key, EVC_NODE_ID_SIZE) != 0) continue;
    o->down_reported = true;
    if (t->cb.disconnected != NULL) t->cb.disconnected(t->cb.arg, &o->peer);
  }
}

/* Both signatures checked: refuse ourselves, settle duplicates, report the peer. */
static void conn_established(struct evc_p2p_conn *c) {
  struct evc_p2p_tcp *t = c->t;
  uv_timer_stop(&c->timer);
  if (memcmp(c->peer.key, t->node_key.pubkey, EVC_NODE_ID_SIZE) == 0) {
    conn_fail(c, EVC_EINVAL, EVC_LOG_INFO, "this is a connection to our own node");
    return;
  }
  struct evc_p2p_conn *other = find_open(t, c->peer.key);
  if (other != NULL) {
    /* Both ends compare the same transcripts, so both keep the same connection. */
    if (memcmp(other->transcript, c->transcript, sizeof c->transcript) < 0) {
      conn_fail(c, EVC_EEXIST, EVC_LOG_INFO, "already connected to this node (kept the other)");
      return;
    }
    conn_fail(other, EVC_EEXIST, EVC_LOG_INFO, "replaced by a newer connection to this node");
  }
  flush_down(t, &c->peer);
  if (c->state != CONN_AUTH) return; /* a callback closed the transport */
  c->state = CONN_OPEN;
  c->reported = true;
  char peer[2 * EVC_NODE_ID_SIZE + 1];
  tcp_log(t, EVC_LOG_INFO, "event=p2p_connected peer=%s remote=%s direction=%s address=%s",
          conn_peer_text(c, peer), c->remote, conn_direction(c),
          c->peer_address[0] != '\0' ? c->peer_address : "-");
  if (t->cb.connected != NULL) t->cb.connected(t->cb.arg, &c->peer, c->peer_address, c->inbound);
}

static void on_auth(struct evc_p2p_conn *c) {
  size_t size = 0;
  if (frame_decrypt(c, &size) != 0) {
    conn_fail(c, EVC_EPEER, EVC_LOG_WARN, "the handshake signature frame failed to decrypt");
    return;
  }
  EVC_ASSERT(size == EVC_SIG_SIZE);
  /* the peer signed as the dialer when we accepted its connection */
  if (evc_p2p_auth_verify(c->peer.key, c->inbound, c->transcript, c->frame) != 0) {
    conn_fail(c, EVC_EPEER, EVC_LOG_WARN, "bad handshake signature");
    return;
  }
  conn_established(c);
}

static void on_message(struct evc_p2p_conn *c) {
  size_t size = 0;
  if (frame_decrypt(c, &size) != 0) {
    conn_fail(c, EVC_EPEER, EVC_LOG_WARN, "a frame failed to decrypt");
    return;
  }
  struct evc_p2p_tcp *t = c->t;
  if (t->cb.message != NULL) t->cb.message(t->cb.arg, &c->peer, c->frame, size);
}

/* ---- frames in ------------------------------------------------------------------------- */

static bool conn_reading(const struct evc_p2p_conn *c) {
  return c->state == CONN_HELLO || c->state == CONN_AUTH || c->state == CONN_OPEN;
}

/* Checks a frame's announced length against what this stage allows. */
static int frame_begin(struct evc_p2p_conn *c) {
  uint32_t size = ((uint32_t)c->header[0] << 24) | ((uint32_t)c->header[1] << 16) |
                  ((uint32_t)c->header[2] << 8) | c->header[3];
  uint32_t min = 0, max = 0;
  const char *stage = NULL;
  evc_p2p_frame_bounds(c->state == CONN_HELLO  ? EVC_P2P_STAGE_HELLO
                       : c->state == CONN_AUTH ? EVC_P2P_STAGE_AUTH
                                               : EVC_P2P_STAGE_OPEN,
                       &min, &max, &stage);
  if (size < min || size > max) {
    conn_fail(c, EVC_EPEER, EVC_LOG_WARN,
              "a frame of %" PRIu32 " bytes where %s of %" PRIu32 "..%" PRIu32 " bytes belongs",
              size, stage, min, max);
    return EVC_EPEER;
  }
  c->frame_size = size;
  c->frame_have = 0;
  return 0;
}

/* Grows the frame buffer as bytes arrive (not when a length is announced), doubling. */
static int frame_reserve(struct evc_p2p_conn *c, size_t need) {
  if (need <= c->frame_capacity) return 0;
  size_t capacity = c->frame_capacity * 2;
  if (capacity < need) capacity = need;
  if (capacity > c->frame_size) capacity = c->frame_size;
  EVC_ASSERT(capacity >= need);
  uint8_t *bytes = realloc(c->frame, capacity);
  if (bytes == NULL) {
    conn_fail(c, EVC_ENOMEM, EVC_LOG_ERROR, "out of memory for a frame of %" PRIu32 " bytes",
              c->frame_size);
    return EVC_ENOMEM;
  }
  c->frame = bytes;
  c->frame_capacity = capacity;
  return 0;
}

static void frame_process(struct evc_p2p_conn *c) {
  switch (c->state) {
    case CONN_HELLO: on_hello(c); break;
    case CONN_AUTH: on_auth(c); break;
    case CONN_OPEN: on_message(c); break;
    default: EVC_UNREACHABLE();
  }
  if (c->frame_capacity > FRAME_KEEP_CAPACITY) {
    free(c->frame);
    c->frame = NULL;
    c->frame_capacity = 0;
  }
}

static void conn_feed(struct evc_p2p_conn *c, const uint8_t *bytes, size_t size) {
  size_t offset = 0;
  while (offset < size && conn_reading(c)) {
    size_t left = size - offset;
    if (c->header_have < sizeof c->header) {
      size_t n = sizeof c->header - c->header_have;
      if (n > left) n = left;
      memcpy(c->header + c->header_have, bytes + offset, n);
      c->header_have += n;
      offset += n;
      if (c->header_have == sizeof c->header && frame_begin(c) != 0) return;
      continue;
    }
    size_t n = c->frame_size - c->frame_have;
    if (n > left) n = left;
    if (frame_reserve(c, c->frame_have + n) != 0) return;
    memcpy(c->frame + c->frame_have, bytes + offset, n);
    c->frame_have += n;
    offset += n;
    if (c->frame_have == c->frame_size) {
      c->header_have = 0;
      frame_process(c);
    }
  }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  struct evc_p2p_conn *c = stream->data;
  if (!conn_reading(c) || nread == 0) return;
  if (nread < 0) {
    if (nread == UV_EOF) {
      conn_fail(c, EVC_ECLOSED, EVC_LOG_INFO, "the peer closed the connection");
    } else {
      conn_fail(c, EVC_ECLOSED, EVC_LOG_INFO, "read failed: %s", uv_strerror((int)nread));
    }
    return;
  }
  conn_feed(c, (const uint8_t *)buf->base, (size_t)nread);
}

/* ---- dialling -------------------------------------------------------------------------- */

static void on_connected(uv_connect_t *req, int status) {
  struct evc_p2p_conn *c = req->data;
  c->pending--;
  if (c->state == CONN_CLOSING) {
    conn_maybe_free(c);
    return;
  }
  if (status < 0) {
    conn_fail(c, status == UV_ETIMEDOUT ? EVC_ETIMEDOUT : EVC_ECLOSED, EVC_LOG_INFO,
              "cannot connect: %s", uv_strerror(status));
    return;
  }
  conn_start(c);
}

static void conn_connect(struct evc_p2p_conn *c, const struct sockaddr *addr) {
  c->state = CONN_CONNECTING;
  if (format_sockaddr(addr, c->remote, sizeof c->remote) != 0) c->remote[0] = '\0';
  int rc = uv_tcp_connect(&c->connect_req, &c->tcp, addr, on_connected);
  if (rc != 0) {
    conn_fail(c, EVC_ECLOSED, EVC_LOG_INFO, "cannot connect: %s", uv_strerror(rc));
    return;
  }
  c->pending++;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  struct evc_p2p_conn *c = req->data;
  c->pending--;
  c->resolving = false;
  if (c->state == CONN_CLOSING) {
    uv_freeaddrinfo(res);
    conn_maybe_free(c);
    return;
  }
  if (status < 0 || res == NULL) {
    conn_fail(c, EVC_ENOTFOUND, EVC_LOG_INFO, "cannot resolve the host: %s",
              status < 0 ? uv_strerror(status) : "no address");
  } else {
    conn_connect(c, res->ai_addr);
  }
  uv_freeaddrinfo(res);
}

static void dial_start(struct evc_p2p_conn *c, const char *host, uint16_t port) {
  struct evc_p2p_tcp *t = c->t;
  if (c->has_expected && memcmp(c->expected, t->node_key.pubkey, EVC_NODE_ID_SIZE) == 0) {
    conn_fail(c, EVC_EINVAL, EVC_LOG_INFO, "the address names our own node id");
    return;
  }
  if (c->has_expected && find_open(t, c->expected) != NULL) {
    conn_fail(c, EVC_EEXIST, EVC_LOG_INFO, "already connected to this node");
    return;
  }
  struct sockaddr_storage ss;
  if (literal_sockaddr(host, port, &ss) == 0) {
    conn_connect(c, (const struct sockaddr *)&ss);
    return;
  }
  char port_text[8];
  snprintf(port_text, sizeof port_text, "%u", (unsigned)port);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  c->state = CONN_RESOLVING;
  int rc = uv_getaddrinfo(t->loop, &c->resolve_req, on_resolved, host, port_text, &hints);
  if (rc != 0) {
    conn_fail(c, EVC_ENOTFOUND, EVC_LOG_INFO, "cannot resolve the host: %s", uv_strerror(rc));
    return;
  }
  c->resolving = true;
  c->pending++;
}

int evc_p2p_tcp_dial(struct evc_p2p_tcp *t, const char *address) {
  EVC_ASSERT(t != NULL);
  if (t->closing) return EVC_ESTATE;
  if (address == NULL || strlen(address) > EVC_ADDRESS_TEXT_MAX) return EVC_EINVAL;
  const char *host_port = address;
  bool has_expected = false;
  uint8_t expected[EVC_NODE_ID_SIZE];
  const char *at = strchr(address, '@');
  if (at != NULL) {
    if (evc_hex_decode(address, (size_t)(at - address), expected, sizeof expected) != 0) {
      return EVC_EINVAL;
    }
    has_expected = true;
    host_port = at + 1;
  }
  char host[EVC_ADDRESS_TEXT_MAX + 1];
  uint16_t port = 0;
  int rc = parse_host_port(host_port, host, sizeof host, &port, false);
  if (rc != 0) return rc;
  if (t->conn_count >= t->options.connections_max) return EVC_EFULL;
  struct evc_p2p_conn *c = NULL;
  rc = conn_new(t, false, &c);
  if (rc != 0) return rc;
  snprintf(c->dial_address, sizeof c->dial_address, "%s", address);
  snprintf(c->peer_address, sizeof c->peer_address, "%s", host_port);
  c->has_expected = has_expected;
  if (has_expected) memcpy(c->expected, expected, sizeof expected);
  dial_start(c, host, port);
  return 0;
}

/* ---- accepting ------------------------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status) {
  struct evc_p2p_tcp *t = server->data;
  if (status < 0) {
    tcp_log(t, EVC_LOG_WARN, "event=p2p_accept_failed reason=\"%s\"", uv_strerror(status));
    return;
  }
  struct evc_p2p_conn *c = NULL;
  int rc = conn_new(t, true, &c);
  if (rc != 0) {
    tcp_log(t, EVC_LOG_ERROR, "event=p2p_accept_failed error=%s", evc_errname(rc));
    return;
  }
  rc = uv_accept(server, (uv_stream_t *)&c->tcp);
  if (rc != 0) {
    conn_fail(c, EVC_EIO, EVC_LOG_WARN, "accept failed: %s", uv_strerror(rc));
    return;
  }
  if (t->conn_count > t->options.connections_max) {
    conn_note_remote(c);
    conn_fail(c, EVC_EFULL, EVC_LOG_WARN, "too many connections (at most %" PRIu32 ")",
              t->options.connections_max);
    return;
  }
  conn_start(c);
}

/* ---- the transport --------------------------------------------------------------------- */

void evc_p2p_tcp_options_default(struct evc_p2p_tcp_options *options) {
  memset(options, 0, sizeof *options);
  options->listen_address = "127.0.0.1:0";
  options->advertised = NULL;
  options->handshake_timeout_ms = EVC_P2P_HANDSHAKE_TIMEOUT_MS_DEFAULT;
  options->send_queue_bytes_max = EVC_P2P_SEND_QUEUE_BYTES_MAX_DEFAULT;
  options->send_queue_count_max = EVC_P2P_SEND_QUEUE_COUNT_MAX_DEFAULT;
  options->connections_max = EVC_P2P_CONNECTIONS_MAX_DEFAULT;
}

int evc_p2p_tcp_init(struct evc_p2p_tcp *t, uv_loop_t *loop, const struct evc_keypair *node_key,
                     const char *listen_address, const char *advertised,
                     const struct evc_p2p_callbacks *cb) {
  struct evc_p2p_tcp_options options;
  evc_p2p_tcp_options_default(&options);
  options.listen_address = listen_address;
  options.advertised = advertised;
  return evc_p2p_tcp_init_options(t, loop, node_key, &options, cb);
}

static int options_check(const struct evc_p2p_tcp_options *o) {
  if (o->listen_address == NULL || strlen(o->listen_address) > EVC_ADDRESS_TEXT_MAX) {
    return EVC_EINVAL;
  }
  if (o->advertised != NULL) {
    size_t size = strlen(o->advertised);
    if (size > EVC_ADDRESS_TEXT_MAX) return EVC_EINVAL;
    if (!evc_p2p_printable((const uint8_t *)o->advertised, size)) return EVC_EINVAL;
  }
  if (o->handshake_timeout_ms == 0 || o->send_queue_count_max == 0) return EVC_EINVAL;
  if (o->send_queue_bytes_max < EVC_P2P_FRAME_SIZE_MAX + 4u || o->connections_max == 0) {
    return EVC_EINVAL;
  }
  return 0;
}

static void on_listener_closed(uv_handle_t *handle) {
  struct evc_p2p_tcp *t = handle->data;
  free(handle);
  if (t == NULL) return; /* a failed init: nobody waits for it */
  t->listener = NULL;
  maybe_closed(t);
}

static bool sockaddr_unspecified(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET) {
    return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
  }
  const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
  return sodium_is_zero(sin6->sin6_addr.s6_addr, sizeof sin6->sin6_addr.s6_addr) != 0;
}

/* Binds and listens on t->listen_text; on failure the handle closes on its own. */
static int listener_open(struct evc_p2p_tcp *t, const struct sockaddr_storage *ss) {
  uv_tcp_t *listener = malloc(sizeof *listener);
  if (listener == NULL) return EVC_ENOMEM;
  int rc = uv_tcp_init(t->loop, listener);
  if (rc != 0) {
    free(listener);
    return EVC_EIO;
  }
  listener->data = t;
  rc = uv_tcp_bind(listener, (const struct sockaddr *)ss, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)listener, LISTEN_BACKLOG, on_connection);
  if (rc != 0) {
    tcp_log(t, EVC_LOG_ERROR, "event=p2p_listen_failed address=%s reason=\"%s\"",
            t->listen_text, uv_strerror(rc));
    listener->data = NULL;
    uv_close((uv_handle_t *)listener, on_listener_closed);
    return EVC_EIO;
  }
  t->listener = listener;
  return 0;
}

int evc_p2p_tcp_init_options(struct evc_p2p_tcp *t, uv_loop_t *loop,
                             const struct evc_keypair *node_key,
                             const struct evc_p2p_tcp_options *options,
                             const struct evc_p2p_callbacks *cb) {
  EVC_ASSERT(t != NULL);
  EVC_ASSERT(loop != NULL);
  EVC_ASSERT(node_key != NULL);
  EVC_ASSERT(options != NULL);
  EVC_ASSERT(cb != NULL);
  memset(t, 0, sizeof *t);
  t->cb = *cb;
  int rc = options_check(options);
  if (rc != 0) return rc;
  if (evc_crypto_init() != 0) return EVC_EIO;
  char host[EVC_ADDRESS_TEXT_MAX + 1];
  uint16_t port = 0;
  struct sockaddr_storage ss;
  if (parse_host_port(options->listen_address, host, sizeof host, &port, true) != 0 ||
      literal_sockaddr(host, port, &ss) != 0) {
    tcp_log(t, EVC_LOG_ERROR, "event=p2p_listen_failed address=%s reason=\"%s\"",
            options->listen_address, "not an ip:port or [ipv6]:port address");
    return EVC_EINVAL;
  }
  t->loop = loop;
  t->node_key = *node_key;
  t->options = *options;
  snprintf(t->listen_text, sizeof t->listen_text, "%s", options->listen_address);
  t->options.listen_address = t->listen_text;
  rc = listener_open(t, &ss);
  if (rc != 0) {
    sodium_memzero(&t->node_key, sizeof t->node_key);
    return rc;
  }
  if (options->advertised != NULL) {
    snprintf(t->advertised, sizeof t->advertised, "%s", options->advertised);
  } else if (!sockaddr_unspecified(&ss)) {
    (void)evc_p2p_tcp_bound_address(t, t->advertised, sizeof t->advertised);
  }
  t->options.advertised = t->advertised;
  tcp_log(t, EVC_LOG_INFO, "event=p2p_listening address=%s advertised=%s", t->listen_text,
          t->advertised[0] != '\0' ? t->advertised : "-");
  return 0;
}

int evc_p2p_tcp_bound_address(const struct evc_p2p_tcp *t, char *out, size_t size) {
  EVC_ASSERT(t != NULL);
  EVC_ASSERT(out != NULL);
  if (t->listener == NULL) return EVC_ESTATE;
  struct sockaddr_storage ss;
  int len = (int)sizeof ss;
  if (uv_tcp_getsockname(t->listener, (struct sockaddr *)&ss, &len) != 0) return EVC_EIO;
  return format_sockaddr((const struct sockaddr *)&ss, out, size);
}

int evc_p2p_tcp_send(struct evc_p2p_tcp *t, const struct evc_peer_id *peer, const uint8_t *bytes,
                     size_t size) {
  EVC_ASSERT(t != NULL);
  if (peer == NULL || (bytes == NULL && size > 0)) return EVC_EINVAL;
  if (size > EVC_P2P_MESSAGE_SIZE_MAX) return EVC_ETOOBIG;
  if (t->closing) return EVC_ENOTFOUND;
  struct evc_p2p_conn *c = find_open(t, peer->key);
  if (c == NULL) return EVC_ENOTFOUND;
  size_t frame = 4u + size + EVC_P2P_FRAME_OVERHEAD;
  EVC_ASSERT(c->queued_bytes <= t->options.send_queue_bytes_max);
  if (c->queued_count >= t->options.send_queue_count_max ||
      frame > t->options.send_queue_bytes_max - c->queued_bytes) {
    return EVC_EFULL;
  }
  return write_frame(c, bytes, size, true, true);
}

void evc_p2p_tcp_disconnect(struct evc_p2p_tcp *t, const struct evc_peer_id *peer) {
  EVC_ASSERT(t != NULL);
  EVC_ASSERT(peer != NULL);
  if (t->closing) return;
  struct evc_p2p_conn *c = find_open(t, peer->key);
  if (c == NULL) return;
  conn_fail(c, EVC_ECLOSED, EVC_LOG_INFO, "this node asked to disconnect");
}

void evc_p2p_tcp_close(struct evc_p2p_tcp *t, void (*closed)(void *arg), void *arg) {
  EVC_ASSERT(t != NULL);
  EVC_ASSERT(!t->closing);
  EVC_ASSERT(t->listener != NULL);
  tcp_log(t, EVC_LOG_INFO, "event=p2p_closing connections=%" PRIu32, t->conn_count);
  t->closing = true;
  t->closed = closed;
  t->closed_arg = arg;
  uv_close((uv_handle_t *)t->listener, on_listener_closed);
  for (struct evc_p2p_conn *c = t->conns; c != NULL; c = c->next) conn_close(c);
  sodium_memzero(&t->node_key, sizeof t->node_key);
}
