/* Tests for node/live/p2p_tcp.c: transports and raw TCP clients on one uv loop over
 * 127.0.0.1. The raw client speaks the handshake of docs/p2p.md on its own, so the tests
 * also check that the document is enough to interoperate. Every wait runs the loop until a
 * condition holds or a deadline timer fires; nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>
#include <uv.h>

#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/crypto/crypto.h"
#include "node/live/p2p_tcp.h"

#define WAIT_MS 5000u
#define RECEIVED_MAX 512
#define RAW_IN_MAX 8192

struct received {
  size_t size;
  uint8_t hash[32];
};

struct side {
  struct fixture *f;
  struct evc_p2p_tcp t;
  struct evc_keypair key;
  char address[EVC_ADDRESS_TEXT_MAX + 1];
  int open;
  int closed;
  int in_call; /* set while the test calls into the transport: callbacks must not run then */
  int connected;
  int connected_inbound;
  int disconnected;
  int dial_failed;
  int messages;
  int warnings;
  struct evc_peer_id last_peer;
  struct evc_peer_id last_down;
  char last_address[EVC_ADDRESS_TEXT_MAX + 1];
  bool last_inbound;
  char failed_address[EVC_ADDRESS_TEXT_MAX + 1];
  int failed_status;
  char last_warning[512];
  struct received received[RECEIVED_MAX];
};

struct raw {
  struct fixture *f;
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  int used;
  int connected;
  int eof;
  int closed;
  bool handshake; /* speak the protocol (as a dialer) rather than raw bytes */
  struct evc_keypair key;
  const char *label;                /* signed label: NULL for the right one */
  const struct evc_keypair *signer; /* signing key: NULL for key */
  uint8_t expected_server[32];
  uint8_t eph_pk[32];
  uint8_t eph_sk[32];
  uint8_t hello[256];
  size_t hello_size;
  uint8_t in[RAW_IN_MAX];
  size_t in_have;
  int frames_in;
  int handshaked;
  int messages;
  uint8_t rx[32];
  uint8_t tx[32];
  uint64_t rx_counter;
  uint64_t tx_counter;
  uint8_t transcript[32];
  uint8_t last_message[64];
  size_t last_message_size;
};

struct fixture {
  uv_loop_t loop;
  uv_timer_t deadline;
  int expired;
  struct side sides[3];
  struct raw raws[3];
};

/* ---- waiting ------------------------------------------------------------------------ */

static void on_deadline(uv_timer_t *timer) {
  struct fixture *f = timer->data;
  f->expired = 1;
}

typedef bool (*condition_fn)(void *ctx);

/* Runs the loop until cond holds or timeout_ms passes; returns whether cond holds. */
static bool run_until(struct fixture *f, condition_fn cond, void *ctx, uint64_t timeout_ms) {
  f->expired = 0;
  uv_timer_start(&f->deadline, on_deadline, timeout_ms, 0);
  while (!cond(ctx) && !f->expired) uv_run(&f->loop, UV_RUN_ONCE);
  uv_timer_stop(&f->deadline);
  return cond(ctx);
}

struct count_target {
  const int *counter;
  int target;
};

static bool count_reached(void *ctx) {
  const struct count_target *c = ctx;
  return *c->counter >= c->target;
}

static bool wait_count(struct fixture *f, const int *counter, int target) {
  struct count_target c = {counter, target};
  return run_until(f, count_reached, &c, WAIT_MS);
}

/* Runs the loop for ms and reports nothing: to show that something does NOT happen. */
static bool never(void *ctx) {
  (void)ctx;
  return false;
}

static void run_for(struct fixture *f, uint64_t ms) { (void)run_until(f, never, NULL, ms); }

/* ---- transport sides ---------------------------------------------------------------- */

static void side_connected(void *arg, const struct evc_peer_id *peer, const char *address,
                           bool inbound) {
  struct side *s = arg;
  assert_false(s->in_call);
  s->connected++;
  if (inbound) s->connected_inbound++;
  s->last_peer = *peer;
  snprintf(s->last_address, sizeof s->last_address, "%s", address);
  s->last_inbound = inbound;
}

static void side_disconnected(void *arg, const struct evc_peer_id *peer) {
  struct side *s = arg;
  assert_false(s->in_call);
  s->disconnected++;
  s->last_down = *peer;
}

static void side_dial_failed(void *arg, const char *address, int status) {
  struct side *s = arg;
  assert_false(s->in_call);
  s->dial_failed++;
  snprintf(s->failed_address, sizeof s->failed_address, "%s", address);
  s->failed_status = status;
}

static void side_message(void *arg, const struct evc_peer_id *peer, const uint8_t *bytes,
                         size_t size) {
  struct side *s = arg;
  assert_false(s->in_call);
  if (s->messages < RECEIVED_MAX) {
    s->received[s->messages].size = size;
    crypto_hash_sha256(s->received[s->messages].hash, bytes, size);
  }
  s->messages++;
}

static void side_log(void *arg, int level, const char *line) {
  struct side *s = arg;
  if (getenv("EVC_TEST_VERBOSE") != NULL) fprintf(stderr, "[%d] %s\n", level, line);
  if (level >= EVC_LOG_WARN) {
    s->warnings++;
    snprintf(s->last_warning, sizeof s->last_warning, "%s", line);
  }
}

static void side_open_with(struct fixture *f, int index, struct evc_p2p_tcp_options *options) {
  struct side *s = &f->sides[index];
  s->f = f;
  assert_int_equal(evc_keypair_generate(&s->key), 0);
  struct evc_p2p_callbacks cb = {s, side_connected, side_disconnected, side_dial_failed,
                                 side_message, side_log};
  assert_int_equal(evc_p2p_tcp_init_options(&s->t, &f->loop, &s->key, options, &cb), 0);
  assert_int_equal(evc_p2p_tcp_bound_address(&s->t, s->address, sizeof s->address), 0);
  s->open = 1;
}

static struct side *side_open(struct fixture *f, int index) {
  struct evc_p2p_tcp_options options;
  evc_p2p_tcp_options_default(&options);
  side_open_with(f, index, &options);
  return &f->sides[index];
}

static void side_closed(void *arg) {
  struct side *s = arg;
  s->closed++;
}

static void side_close(struct side *s) {
  s->in_call = 1;
  evc_p2p_tcp_close(&s->t, side_closed, s);
  s->in_call = 0;
  s->open = 0;
}

static int side_dial(struct side *s, const char *address) {
  s->in_call = 1;
  int rc = evc_p2p_tcp_dial(&s->t, address);
  s->in_call = 0;
  return rc;
}

static int side_send(struct side *s, const struct side *to, const uint8_t *bytes, size_t size) {
  s->in_call = 1;
  int rc = evc_p2p_tcp_send(&s->t, (const struct evc_peer_id *)to->key.pubkey, bytes, size);
  s->in_call = 0;
  return rc;
}

static void id_address(const struct side *to, char *out, size_t size) {
  char hex[65];
  evc_hex_encode(to->key.pubkey, 32, hex);
  snprintf(out, size, "%s@%s", hex, to->address);
}

/* Dials to's listen address with its id and waits until both ends report the connection. */
static void connect_pair(struct fixture *f, struct side *from, struct side *to) {
  char address[256];
  id_address(to, address, sizeof address);
  int from_before = from->connected;
  int to_before = to->connected;
  assert_int_equal(side_dial(from, address), 0);
  assert_true(wait_count(f, &from->connected, from_before + 1));
  assert_true(wait_count(f, &to->connected, to_before + 1));
}

/* ---- the raw client ----------------------------------------------------------------- */

static void raw_put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void on_raw_written(uv_write_t *req, int status) {
  (void)status;
  free(req);
}

static void raw_write(struct raw *r, const uint8_t *bytes, size_t size) {
  uv_write_t *req = malloc(sizeof *req + size);
  assert_non_null(req);
  uint8_t *copy = (uint8_t *)(req + 1);
  memcpy(copy, bytes, size);
  uv_buf_t buf = uv_buf_init((char *)copy, (unsigned int)size);
  assert_int_equal(uv_write(req, (uv_stream_t *)&r->tcp, &buf, 1, on_raw_written), 0);
}

static void raw_nonce(uint64_t counter, uint8_t nonce[24]) {
  memset(nonce, 0, 24);
  for (int i = 0; i < 8; i++) nonce[23 - i] = (uint8_t)(counter >> (8 * i));
}

/* Writes one encrypted frame as docs/p2p.md describes it. */
static void raw_send_encrypted(struct raw *r, const uint8_t *plain, size_t size) {
  uint8_t *frame = malloc(4 + size + 16);
  assert_non_null(frame);
  raw_put_u32(frame, (uint32_t)(size + 16));
  uint8_t nonce[24];
  raw_nonce(r->tx_counter++, nonce);
  unsigned long long out = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(frame + 4, &out, plain, size, frame, 4, NULL, nonce,
                                             r->tx);
  raw_write(r, frame, 4 + size + 16);
  free(frame);
}

static void raw_hello(struct raw *r, const char *advertised) {
  crypto_kx_keypair(r->eph_pk, r->eph_sk);
  uint8_t *p = r->hello;
  memcpy(p, "evcp2p", 6);
  p[6] = 0;
  p[7] = 1;
  memcpy(p + 8, r->key.pubkey, 32);
  memcpy(p + 40, r->eph_pk, 32);
  size_t n = strlen(advertised);
  p[72] = (uint8_t)n;
  memcpy(p + 73, advertised, n);
  r->hello_size = 73 + n;
  uint8_t frame[4 + 256];
  raw_put_u32(frame, (uint32_t)r->hello_size);
  memcpy(frame + 4, r->hello, r->hello_size);
  raw_write(r, frame, 4 + r->hello_size);
}

static void raw_on_server_hello(struct raw *r, const uint8_t *h, size_t size) {
  assert_true(size >= 73);
  assert_memory_equal(h, "evcp2p\0\1", 8);
  assert_memory_equal(h + 8, r->expected_server, 32);
  assert_int_equal(crypto_kx_client_session_keys(r->rx, r->tx, r->eph_pk, r->eph_sk, h + 40), 0);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, r->hello, r->hello_size);
  crypto_hash_sha256_update(&st, h, size);
  crypto_hash_sha256_final(&st, r->transcript);
  const char *label = r->label != NULL ? r->label : "evc-p2p v1 dialer";
  size_t label_size = strlen(label);
  uint8_t message[64];
  assert_true(label_size + 32 <= sizeof message);
  memcpy(message, label, label_size);
  memcpy(message + label_size, r->transcript, 32);
  uint8_t sig[64];
  evc_sign(r->signer != NULL ? r->signer : &r->key, message, label_size + 32, sig);
  raw_send_encrypted(r, sig, sizeof sig);
}

static void raw_on_frame(struct raw *r, uint8_t *frame, size_t size) {
  int index = r->frames_in++;
  if (index == 0) {
    raw_on_server_hello(r, frame, size);
    return;
  }
  uint8_t ad[4], nonce[24];
  raw_put_u32(ad, (uint32_t)size);
  raw_nonce(r->rx_counter++, nonce);
  unsigned long long plain = 0;
  assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(frame, &plain, NULL, frame, size,
                                                              ad, 4, nonce, r->rx),
                   0);
  if (index == 1) {
    uint8_t message[19 + 32];
    memcpy(message, "evc-p2p v1 acceptor", 19);
    memcpy(message + 19, r->transcript, 32);
    assert_int_equal(plain, 64);
    assert_int_equal(evc_verify(r->expected_server, message, sizeof message, frame), 0);
    r->handshaked = 1;
    return;
  }
  r->messages++;
  r->last_message_size = (size_t)plain;
  memcpy(r->last_message, frame, plain < sizeof r->last_message ? plain : sizeof r->last_message);
}

static void raw_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  struct raw *r = handle->data;
  *buf = uv_buf_init((char *)r->in + r->in_have, (unsigned int)(sizeof r->in - r->in_have));
}

static void raw_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  struct raw *r = stream->data;
  if (nread < 0) {
    r->eof = 1;
    uv_read_stop(stream);
    return;
  }
  r->in_have += (size_t)nread;
  assert_true(r->in_have < sizeof r->in);
  while (r->handshake && r->in_have >= 4) {
    size_t size = ((size_t)r->in[0] << 24) | ((size_t)r->in[1] << 16) |
                  ((size_t)r->in[2] << 8) | r->in[3];
    assert_true(size + 4 <= sizeof r->in);
    if (r->in_have < 4 + size) break;
    raw_on_frame(r, r->in + 4, size);
    memmove(r->in, r->in + 4 + size, r->in_have - 4 - size);
    r->in_have -= 4 + size;
  }
  if (!r->handshake) r->in_have = 0;
}

static void raw_on_connect(uv_connect_t *req, int status) {
  struct raw *r = req->data;
  if (status != 0) return;
  r->connected = 1;
  assert_int_equal(uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read), 0);
  if (r->handshake) raw_hello(r, "192.0.2.7:26656");
}

/* Opens a TCP connection to side s; with handshake, runs the protocol as node key, signing
 * label with signer (NULL, NULL: the right ones). */
static struct raw *raw_open_signing(struct fixture *f, int index, const struct side *s,
                                    bool handshake, const char *label,
                                    const struct evc_keypair *signer) {
  struct raw *r = &f->raws[index];
  memset(r, 0, sizeof *r);
  r->f = f;
  r->used = 1;
  r->handshake = handshake;
  r->label = label;
  r->signer = signer;
  assert_int_equal(evc_keypair_generate(&r->key), 0);
  memcpy(r->expected_server, s->key.pubkey, 32);
  const char *colon = strrchr(s->address, ':');
  assert_non_null(colon);
  struct sockaddr_in sin;
  assert_int_equal(uv_ip4_addr("127.0.0.1", atoi(colon + 1), &sin), 0);
  assert_int_equal(uv_tcp_init(&f->loop, &r->tcp), 0);
  r->tcp.data = r;
  r->connect_req.data = r;
  assert_int_equal(
      uv_tcp_connect(&r->connect_req, &r->tcp, (const struct sockaddr *)&sin, raw_on_connect), 0);
  assert_true(wait_count(f, &r->connected, 1));
  return r;
}

static struct raw *raw_open(struct fixture *f, int index, const struct side *s, bool handshake) {
  return raw_open_signing(f, index, s, handshake, NULL, NULL);
}

static void raw_closed(uv_handle_t *handle) {
  struct raw *r = handle->data;
  r->closed = 1;
}

static void raw_close(struct raw *r) {
  if (r->used && !uv_is_closing((uv_handle_t *)&r->tcp)) {
    uv_close((uv_handle_t *)&r->tcp, raw_closed);
  }
}

/* ---- fixture ------------------------------------------------------------------------ */

static int setup(void **state) {
  assert_int_equal(evc_crypto_init(), 0);
  struct fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(uv_timer_init(&f->loop, &f->deadline), 0);
  f->deadline.data = f;
  *state = f;
  return 0;
}

static bool all_closed(void *ctx) {
  struct fixture *f = ctx;
  for (int i = 0; i < 3; i++) {
    if (f->sides[i].f != NULL && f->sides[i].closed == 0) return false;
    if (f->raws[i].used && !f->raws[i].closed) return false;
  }
  return true;
}

/* Closes everything still open and checks that no handle is left on the loop. */
static int teardown(void **state) {
  struct fixture *f = *state;
  for (int i = 0; i < 3; i++) {
    if (f->sides[i].open) side_close(&f->sides[i]);
    raw_close(&f->raws[i]);
  }
  assert_true(run_until(f, all_closed, f, WAIT_MS));
  for (int i = 0; i < 3; i++) {
    if (f->sides[i].f != NULL) assert_int_equal(f->sides[i].closed, 1);
  }
  uv_close((uv_handle_t *)&f->deadline, NULL);
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  free(f);
  return 0;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_connect_reports_ids_directions_and_addresses(void **state) {
  struct fixture *f = *state;
  struct side *a = side_open(f, 0);
  struct side *b = side_open(f, 1);
  connect_pair(f, a, b);
  assert_int_equal(a->connected, 1);
  assert_false(a->last_inbound);
  assert_memory_equal(a->last_peer.key, b->key.pubkey, 32);
  assert_string_equal(a->last_address, b->address); /* the dialled host:port, no id */
  assert_int_equal(b->connected, 1);
  assert_true(b->last_inbound);
  assert_memory_equal(b->last_peer.key, a->key.pubkey, 32);
  assert_string_equal(b->last_address, a->address); /* what a advertised: its bound address */
  assert_int_equal(a->warnings + b->warnings, 0);
}

static void fill(uint8_t *bytes, size_t size, uint32_t seed) {
  for (size_t i = 0; i < size; i++) bytes[i] = (uint8_t)((i * 31u + seed * 7u) ^ (i >> 9));
}

/* from sends count messages of varied sizes (the first empty); to must see them in order. */
static void check_stream(struct fixture *f, struct side *from, struct side *to, int count) {
  static uint8_t buf[70000];
  int before = to->messages;
  for (int i = 0; i < count; i++) {
    size_t size = (size_t)i * 997u % sizeof buf;
    fill(buf, size, (uint32_t)i);
    assert_int_equal(side_send(from, to, buf, size), 0);
  }
  assert_true(wait_count(f, &to->messages, before + count));
  for (int i = 0; i < count; i++) {
    size_t size = (size_t)i * 997u % sizeof buf;
    fill(buf, size, (uint32_t)i);
    uint8_t hash[32];
    crypto_hash_sha256(hash, buf, size);
    assert_int_equal(to->received[before + i].size, size);
    assert_memory_equal(to->received[before + i].hash, hash, 32);
  }
}

static void test_messages_flow_both_ways_in_order(void **state) {
  struct fixture *f = *state;
  struct side *a = side_open(f, 0);
  struct side *b = side_open(f, 1);
  connect_pair(f, a, b);
  check_stream(f, a, b, 200);
  check_stream(f, b, a, 200);
  /* The largest message, then one byte more. */
  uint8_t *big = malloc(EVC_P2P_MESSAGE_SIZE_MAX + 1);
  assert_non_null(big);
  fill(big, EVC_P2P_MESSAGE_SIZE_MAX, 99);
  int before = b->messages;
  assert_int_equal(side_send(a, b, big, EVC_P2P_MESSAGE_SIZE_MAX), 0);
  assert_int_equal(side_send(a, b, big, EVC_P2P_MESSAGE_SIZE_MAX + 1), EVC_ETOOBIG);
  assert_int_equal(side_send(a, b, (const uint8_t *)"after", 5), 0);
  assert_true(wait_count(f, &b->messages, before + 2));
  uint8_t hash[32];
  crypto_hash_sha256(hash, big, EVC_P2P_MESSAGE_SIZE_MAX);
  assert_int_equal(b->received[before].size, EVC_P2P_MESSAGE_SIZE_MAX);
  assert_memory_equal(b->received[before].hash, hash, 32);
  assert_int_equal(b->received[before + 1].size, 5);
  free(big);
  /* A peer we are not connected to. */
  struct side *c = side_open(f, 2);
  assert_int_equal(side_send(a, c, (const uint8_t *)"x", 1), EVC_ENOTFOUND);
  assert_int_equal(a->warnings + b->warnings, 0);
}

static void test_send_queue_full_returns_efull(void **state) {
  struct fixture *f = *state;
  struct evc_p2p_tcp_options options;
  evc_p2p_tcp_options_default(&options);
  options.send_queue_count_max = 4;
  side_open_with(f, 0, &options);
  struct side *a = &f->sides[0];
  struct side *b = side_open(f, 1);
  connect_pair(f, a, b);
  /* Write callbacks only run from the loop, so four queued frames stay queued here. */
  for (int i = 0; i < 4; i++) assert_int_equal(side_send(a, b, (const uint8_t *)"m", 1), 0);
  assert_int_equal(side_send(a, b, (const uint8_t *)"m", 1), EVC_EFULL);
  assert_true(wait_count(f, &b->messages, 4));
  assert_int_equal(side_send(a, b, (const uint8_t *)"m", 1), 0); /* drained: room again */
  assert_true(wait_count(f, &b->messages, 5));
}

static void test_disconnect_seen_by_both_sides(void **state) {
  struct fixture *f = *state;
  struct side *a = side_open(f, 0);
  struct side *b = side_open(f, 1);
  connect_pair(f, a, b);
  a->in_call = 1;
  evc_p2p_tcp_disconnect(&a->t, (const struct evc_peer_id *)b->key.pubkey);
  evc_p2p_tcp_disconnect(&a->t, (const struct evc_peer_id *)a->key.pubkey); /* unknown: no-op */
  a->in_call = 0;
  assert_int_equal(a->disconnected, 0); /* never from inside the call */
  assert_true(wait_count(f, &a->disconnected, 1));
  assert_true(wait_count(f, &b->disconnected, 1));
  assert_memory_equal(a->last_down.key, b->key.pubkey, 32);
  assert_memory_equal(b->last_down.key, a->key.pubkey, 32);
  assert_int_equal(side_send(a, b, (const uint8_t *)"x", 1), EVC_ENOTFOUND);
  /* The core may dial again. */
  connect_pair(f, a, b);
  check_stream(f, a, b, 3);
}

static void test_dial_to_closed_port_fails(void **state) {
  struct fixture *f = *state;
  struct side *a = side_open(f, 0);
  struct side *gone = side_open(f, 1);
  char address[EVC_ADDRESS_TEXT_MAX + 1];
  snprintf(address, sizeof address, "%s", gone->address);
  side_close(gone);
  assert_true(wait_count(f, &gone->closed, 1));
  assert_int_equal(side_dial(a, address), 0);
  assert_int_equal(a->dial_failed, 0);
  assert_true(wait_count(f, &a->dial_failed, 1));
  assert_int_equal(a->failed_status, EVC_ECLOSED);
  assert_string_equal(a->failed_address, address);
  assert_int_equal(a->connected, 0);
}

static void test_dial_with_wrong_node_id_fails_with_epeer(void **state) {
  struct fixture *f = *state;
  struct side *a = side_open(f, 0);
  struct side *b = side_open(f, 1);
  struct side *c = side_open(f, 2);
  char address[256];
  char hex[65];
  evc_hex_encode(c->key.pubkey, 32, hex);
  snprintf(address, sizeof address, "%s@%s", hex, b->address); /* c's id, b's address */
  assert_int_equal(side_dial(a, address), 0);
  assert_true(wait_count(f, &a->dial_failed, 1));
  assert_int_equal(a->failed_status, EVC_EPEER);
  assert_string_equal(a->failed_address, address);
  run_for(f, 50);
  assert_int_equal(a->connected + b->connected, 0);
  connect_pair(f, a, b); /* b still serves */
}

static void test_dial_to_ourselves_is_refused(void **state) {
  struct fixture *f = *state;
  struct side *a = side_open(f, 0);
  assert_int_equal(side_dial(a, a->address), 0); /* found out by the handshake */
  assert_true(wait_count(f, &a->dial_failed, 1));
  assert_int_equal(a->failed_status, EVC_EINVAL);
  char address[256];
  id_address(a, address, sizeof address);
  assert_int_equal(side_dial(a, address), 0); /* known before connecting */
  assert_true(wait_count(f, &a->dial_failed, 2));
  assert_int_equal(a->failed_status, EVC_EINVAL);
  run_for(f, 50);
  assert_int_equal(a->connected, 0);
}

static void test_dial_to_connected_node_fails_with_eexist(void **state) {
  struct fixture *f = *state;
  struct side *a = side_open(f, 0);
  struct side *b = side_open(f, 1);
  connect_pair(f, a, b);
  char address[256];
  id_address(b, address, sizeof address);
  assert_int_equal(side_dial(a, address), 0);
  assert_true(wait_count(f, &a->dial_failed, 1));
  assert_int_equal(a->failed_status, EVC_EEXIST);
  run_for(f, 50);
  assert_int_equal(a->connected, 1);
  assert_int_equal(a->disconnected + b->disconnected, 0);
  check_stream(f, a, b, 3);
}

struct pair {
  struct side *a;
  struct side *b;
};

/* Settled: one connection left on each side, every dial accounted for. */
static bool settled(void *ctx) {
  struct pair *p = ctx;
  return p->a->t.conn_count == 1 && p->b->t.conn_count == 1 &&
         p->a->connected - p->a->disconnected == 1 && p->b->connected - p->b->disconnected == 1;
}

static void test_simultaneous_dials_keep_the_same_connection(void **state) {
  struct fixture *f = *state;
  struct side *a = side_open(f, 0);
  struct side *b = side_open(f, 1);
  for (int round = 0; round < 10; round++) {
    assert_int_equal(side_dial(a, b->address), 0);
    assert_int_equal(side_dial(b, a->address), 0);
    struct pair p = {a, b};
    assert_true(run_until(f, settled, &p, WAIT_MS));
    run_for(f, 20);
    assert_true(settled(&p));
    check_stream(f, a, b, 2);
    check_stream(f, b, a, 2);
    int a_down = a->disconnected, b_down = b->disconnected;
    a->in_call = 1;
    evc_p2p_tcp_disconnect(&a->t, (const struct evc_peer_id *)b->key.pubkey);
    a->in_call = 0;
    assert_true(wait_count(f, &a->disconnected, a_down + 1));
    assert_true(wait_count(f, &b->disconnected, b_down + 1));
  }
}

static void test_garbage_client_is_dropped_while_others_are_served(void **state) {
  struct fixture *f = *state;
  struct side *a = side_open(f, 0);
  struct side *b = side_open(f, 1);
  connect_pair(f, a, b);
  struct raw *http = raw_open(f, 0, b, false);
  const char *request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  raw_write(http, (const uint8_t *)request, strlen(request));
  assert_true(wait_count(f, &http->eof, 1));
  assert_true(b->warnings >= 1);
  assert_non_null(strstr(b->last_warning, "EVC_EPEER"));
  /* A well-sized hello with the wrong magic. */
  struct raw *junk = raw_open(f, 1, b, false);
  uint8_t frame[4 + 100];
  randombytes_buf(frame, sizeof frame);
  raw_put_u32(frame, 100);
  raw_write(junk, frame, sizeof frame);
  assert_true(wait_count(f, &junk->eof, 1));
  check_stream(f, a, b, 5);
  check_stream(f, b, a, 5);
  assert_int_equal(b->connected, 1);
  assert_int_equal(b->disconnected, 0);
}

static void test_truncated_hello_times_out(void **state) {
  struct fixture *f = *state;
  struct evc_p2p_tcp_options options;
  evc_p2p_tcp_options_default(&options);
  options.handshake_timeout_ms = 200;
  side_open_with(f, 0, &options);
  struct side *b = &f->sides[0];
  struct raw *silent = raw_open(f, 0, b, false);
  struct raw *partial = raw_open(f, 1, b, false);
  uint8_t frame[4 + 50];
  memset(frame, 0, sizeof frame);
  raw_put_u32(frame, 100); /* announces 100 bytes, sends 50 */
  raw_write(partial, frame, sizeof frame);
  uint64_t start = uv_now(&f->loop);
  assert_true(wait_count(f, &silent->eof, 1));
  assert_true(wait_count(f, &partial->eof, 1));
  assert_true(uv_now(&f->loop) - start >= 150);
  assert_non_null(strstr(b->last_warning, "EVC_ETIMEDOUT"));
  /* A client that gives up halfway leaves nothing behind. */
  struct raw *quitter = raw_open(f, 2, b, false);
  raw_write(quitter, frame, sizeof frame);
  raw_close(quitter);
  assert_true(wait_count(f, &quitter->closed, 1));
  struct side *a = side_open(f, 1);
  connect_pair(f, a, b);
  assert_int_equal(b->t.conn_count, 1);
}

/* Never accepts: the kernel completes the TCP handshake, nobody speaks. */
static void on_mute_connection(uv_stream_t *server, int status) {
  (void)server;
  (void)status;
}

static void test_outbound_handshake_timeout_reports_etimedout(void **state) {
  struct fixture *f = *state;
  struct evc_p2p_tcp_options options;
  evc_p2p_tcp_options_default(&options);
  options.handshake_timeout_ms = 200;
  side_open_with(f, 0, &options);
  struct side *a = &f->sides[0];
  /* A listener that accepts at the TCP level (backlog) but never speaks. */
  uv_tcp_t mute;
  assert_int_equal(uv_tcp_init(&f->loop, &mute), 0);
  struct sockaddr_in sin;
  assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sin), 0);
  assert_int_equal(uv_tcp_bind(&mute, (const struct sockaddr *)&sin, 0), 0);
  assert_int_equal(uv_listen((uv_stream_t *)&mute, 4, on_mute_connection), 0);
  struct sockaddr_storage ss;
  int len = sizeof ss;
  assert_int_equal(uv_tcp_getsockname(&mute, (struct sockaddr *)&ss, &len), 0);
  char address[64];
  snprintf(address, sizeof address, "127.0.0.1:%d",
           ntohs(((struct sockaddr_in *)&ss)->sin_port));
  assert_int_equal(side_dial(a, address), 0);
  assert_true(wait_count(f, &a->dial_failed, 1));
  assert_int_equal(a->failed_status, EVC_ETIMEDOUT);
  uv_close((uv_handle_t *)&mute, NULL);
  run_for(f, 1);
}

static void test_handshaken_client_sending_garbage_is_dropped(void **state) {
  struct fixture *f = *state;
  struct side *b = side_open(f, 0);
  struct raw *r = raw_open(f, 0, b, true);
  assert_true(wait_count(f, &r->handshaked, 1));
  assert_true(wait_count(f, &b->connected, 1));
  assert_true(b->last_inbound);
  assert_memory_equal(b->last_peer.key, r->key.pubkey, 32);
  assert_string_equal(b->last_address, "192.0.2.7:26656");
  /* A well-formed message both ways proves the frame format of docs/p2p.md. */
  raw_send_encrypted(r, (const uint8_t *)"hello from raw", 14);
  assert_true(wait_count(f, &b->messages, 1));
  assert_int_equal(b->received[0].size, 14);
  b->in_call = 1;
  assert_int_equal(evc_p2p_tcp_send(&b->t, (const struct evc_peer_id *)r->key.pubkey,
                                    (const uint8_t *)"welcome", 7),
                   0);
  b->in_call = 0;
  assert_true(wait_count(f, &r->messages, 1));
  assert_int_equal(r->last_message_size, 7);
  assert_memory_equal(r->last_message, "welcome", 7);
  /* Then random bytes in a well-sized frame: decryption fails, b drops the peer. */
  uint8_t frame[4 + 100];
  randombytes_buf(frame, sizeof frame);
  raw_put_u32(frame, 100);
  raw_write(r, frame, sizeof frame);
  assert_true(wait_count(f, &b->disconnected, 1));
  assert_true(wait_count(f, &r->eof, 1));
  assert_non_null(strstr(b->last_warning, "decrypt"));
}

static void test_bad_or_reflected_handshake_signature_is_refused(void **state) {
  struct fixture *f = *state;
  struct side *b = side_open(f, 0);
  struct evc_keypair other;
  assert_int_equal(evc_keypair_generate(&other), 0);
  /* Signed by a key other than the one in the hello. */
  struct raw *forger = raw_open_signing(f, 0, b, true, NULL, &other);
  assert_true(wait_count(f, &forger->eof, 1));
  assert_non_null(strstr(b->last_warning, "bad handshake signature"));
  /* The right key, but the acceptor's label: a reflected signature. */
  struct raw *reflector = raw_open_signing(f, 1, b, true, "evc-p2p v1 acceptor", NULL);
  assert_true(wait_count(f, &reflector->eof, 1));
  assert_int_equal(b->warnings, 2);
  assert_int_equal(reflector->handshaked, 1); /* b finished its side; the check is b's */
  assert_int_equal(b->connected, 0);
  /* The same client done right is accepted. */
  struct raw *honest = raw_open(f, 2, b, true);
  assert_true(wait_count(f, &b->connected, 1));
  assert_memory_equal(b->last_peer.key, honest->key.pubkey, 32);
}

static void test_frame_over_the_limit_is_dropped(void **state) {
  struct fixture *f = *state;
  struct side *b = side_open(f, 0);
  struct raw *r = raw_open(f, 0, b, true);
  assert_true(wait_count(f, &b->connected, 1));
  uint8_t header[4];
  raw_put_u32(header, EVC_P2P_FRAME_SIZE_MAX + 1);
  raw_write(r, header, sizeof header);
  assert_true(wait_count(f, &b->disconnected, 1));
  assert_true(wait_count(f, &r->eof, 1));
  assert_non_null(strstr(b->last_warning, "EVC_EPEER"));
}

static void test_inbound_over_the_connection_limit_is_refused(void **state) {
  struct fixture *f = *state;
  struct evc_p2p_tcp_options options;
  evc_p2p_tcp_options_default(&options);
  options.connections_max = 1;
  side_open_with(f, 0, &options);
  struct side *b = &f->sides[0];
  struct side *a = side_open(f, 1);
  struct side *c = side_open(f, 2);
  connect_pair(f, a, b);
  assert_int_equal(side_dial(c, b->address), 0);
  assert_true(wait_count(f, &c->dial_failed, 1));
  assert_int_equal(c->failed_status, EVC_ECLOSED);
  assert_int_equal(side_dial(b, c->address), EVC_EFULL); /* and no outbound beyond it */
  check_stream(f, a, b, 2);
}

static void test_malformed_addresses_are_refused(void **state) {
  struct fixture *f = *state;
  struct side *a = side_open(f, 0);
  const char *bad[] = {"", "nohost", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                       ":26656", "::1:26656", "[::1]26656", "127.0.0.1:12a", "zz@127.0.0.1:1",
                       "abcd@127.0.0.1:1", "127.0.0.1:1 ", "ho st:1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(side_dial(a, bad[i]), EVC_EINVAL);
  }
  run_for(f, 20);
  assert_int_equal(a->dial_failed, 0);
  /* A listen address in use, or not an ip:port, fails init with nothing left to close. */
  struct side *b = &f->sides[1];
  struct evc_keypair key;
  assert_int_equal(evc_keypair_generate(&key), 0);
  struct evc_p2p_callbacks cb = {b, NULL, NULL, NULL, NULL, side_log};
  assert_int_equal(evc_p2p_tcp_init(&b->t, &f->loop, &key, a->address, NULL, &cb), EVC_EIO);
  assert_int_equal(evc_p2p_tcp_init(&b->t, &f->loop, &key, "localhost:0", NULL, &cb),
                   EVC_EINVAL);
  assert_int_equal(evc_p2p_tcp_init(&b->t, &f->loop, &key, "127.0.0.1:0", "bad address", &cb),
                   EVC_EINVAL);
}

static void test_close_with_open_connections_is_clean(void **state) {
  struct fixture *f = *state;
  struct side *a = side_open(f, 0);
  struct side *b = side_open(f, 1);
  connect_pair(f, a, b);
  check_stream(f, a, b, 3);
  struct raw *r = raw_open(f, 0, a, false); /* mid-handshake */
  assert_int_equal(side_dial(a, b->address), 0); /* a dial in flight */
  assert_int_equal(side_dial(a, "localhost:1"), 0); /* a name being resolved */
  uint8_t big[100000];
  fill(big, sizeof big, 5);
  assert_int_equal(side_send(a, b, big, sizeof big), 0); /* a frame in flight */
  int a_events = a->connected + a->disconnected + a->dial_failed + a->messages;
  side_close(a);
  assert_int_equal(side_dial(a, b->address), EVC_ESTATE);
  assert_true(wait_count(f, &a->closed, 1));
  assert_int_equal(a->connected + a->disconnected + a->dial_failed + a->messages, a_events);
  assert_true(wait_count(f, &b->disconnected, 1));
  assert_true(wait_count(f, &r->eof, 1));
  side_close(b);
  assert_true(wait_count(f, &b->closed, 1));
  run_for(f, 20);
  assert_int_equal(a->closed, 1);
  assert_int_equal(b->closed, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_connect_reports_ids_directions_and_addresses, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_messages_flow_both_ways_in_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_queue_full_returns_efull, setup, teardown),
      cmocka_unit_test_setup_teardown(test_disconnect_seen_by_both_sides, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dial_to_closed_port_fails, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dial_with_wrong_node_id_fails_with_epeer, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_dial_to_ourselves_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dial_to_connected_node_fails_with_eexist, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_simultaneous_dials_keep_the_same_connection, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_garbage_client_is_dropped_while_others_are_served,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated_hello_times_out, setup, teardown),
      cmocka_unit_test_setup_teardown(test_outbound_handshake_timeout_reports_etimedout, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_handshaken_client_sending_garbage_is_dropped, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bad_or_reflected_handshake_signature_is_refused,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_frame_over_the_limit_is_dropped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_inbound_over_the_connection_limit_is_refused, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_malformed_addresses_are_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_with_open_connections_is_clean, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
