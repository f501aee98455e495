/* The DA client against a real evc-da on 127.0.0.1 port 0: submit, head, get with indexes,
 * future heights, size limits, a restart that keeps the blobs, the auth token, garbage
 * requests; and the server library in-process for the mempool TTL. Every wait has a
 * deadline; every process started here is stopped here. argv[1]: the evc-da binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "node/common/error.h"
#include "node/da_server/da_server.h"
#include "node/live/da_client.h"
#include "node/os/fsutil.h"

#define WAIT_MS 10000u
#define CLIENT_TIMEOUT_MS 8000u

static const char *da_bin;
static pid_t live_pid; /* the evc-da a failed test left running: the teardown kills it */

struct da_proc {
  pid_t pid;
  char home[256];
  char url[128];
};

/* ---- processes ---- */

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void pause_ms(unsigned ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Reads "url" from HOME/addresses.json once evc-da wrote it. */
static bool read_url(struct da_proc *p) {
  char path[300];
  snprintf(path, sizeof path, "%s/addresses.json", p->home);
  FILE *f = fopen(path, "r");
  if (f == NULL) return false;
  char text[512] = {0};
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  const char *u = strstr(text, "\"url\": \"");
  if (n == 0 || u == NULL) return false;
  u += 8;
  const char *end = strchr(u, '"');
  if (end == NULL || (size_t)(end - u) >= sizeof p->url) return false;
  memcpy(p->url, u, (size_t)(end - u));
  p->url[end - u] = '\0';
  return true;
}

static void da_start(struct da_proc *p, const char *extra_flag, const char *extra_value) {
  char log[300];
  snprintf(log, sizeof log, "%s/addresses.json", p->home);
  unlink(log); /* the previous run's file must not be mistaken for this one's */
  snprintf(log, sizeof log, "%s/evc-da.log", p->home);
  p->pid = fork();
  assert_true(p->pid >= 0);
  if (p->pid == 0) {
    FILE *f = freopen(log, "a", stderr);
    (void)f;
    execl(da_bin, da_bin, "start", "--home", p->home, "--listen", "127.0.0.1:0",
          "--block-time", "200ms", extra_flag, extra_value, (char *)NULL);
    _exit(127);
  }
  live_pid = p->pid;
  uint64_t deadline = now_ms() + WAIT_MS;
  while (!read_url(p)) {
    int status = 0;
    if (waitpid(p->pid, &status, WNOHANG) == p->pid) fail_msg("evc-da exited early, see %s", log);
    if (now_ms() > deadline) fail_msg("evc-da wrote no addresses.json within %u ms", WAIT_MS);
    pause_ms(10);
  }
}

/* SIGTERM, then waits (with a deadline) for a clean exit; SIGKILL if it hangs. */
static void da_stop(struct da_proc *p) {
  if (p->pid <= 0) return;
  kill(p->pid, SIGTERM);
  uint64_t deadline = now_ms() + WAIT_MS;
  int status = 0;
  while (waitpid(p->pid, &status, WNOHANG) != p->pid) {
    if (now_ms() > deadline) {
      kill(p->pid, SIGKILL);
      waitpid(p->pid, &status, 0);
      p->pid = 0;
      live_pid = 0;
      fail_msg("evc-da did not stop within %u ms of SIGTERM", WAIT_MS);
    }
    pause_ms(10);
  }
  p->pid = 0;
  live_pid = 0;
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

static void make_home(struct da_proc *p) {
  memset(p, 0, sizeof *p);
  snprintf(p->home, sizeof p->home, "/tmp/evc-da-live-XXXXXX");
  assert_non_null(mkdtemp(p->home));
}

/* ---- the client on a loop, with deadlines ---- */

struct result {
  bool done;
  bool in_call; /* set while the starting call runs: a callback then is a bug */
  int status;
  uint64_t height;
  size_t count;
  struct evc_da_blob blobs[8];
  uint8_t data[8][64];
};

static void run_until(uv_loop_t *loop, const bool *flag) {
  uint64_t deadline = now_ms() + WAIT_MS;
  while (!*flag) {
    if (now_ms() > deadline) fail_msg("no answer within %u ms", WAIT_MS);
    uv_run(loop, UV_RUN_ONCE);
  }
}

static void on_submit(void *arg, int status, uint64_t height) {
  struct result *r = arg;
  assert_false(r->in_call);
  r->done = true;
  r->status = status;
  r->height = height;
}

static void on_head(void *arg, int status, uint64_t head) {
  on_submit(arg, status, head);
}

static void on_get(void *arg, int status, const struct evc_da_blob *blobs, size_t count) {
  struct result *r = arg;
  assert_false(r->in_call);
  r->done = true;
  r->status = status;
  r->count = count;
  for (size_t i = 0; i < count && i < 8; i++) {
    r->blobs[i] = blobs[i];
    size_t n = blobs[i].size < 64 ? blobs[i].size : 64;
    memcpy(r->data[i], blobs[i].bytes, n);
    r->blobs[i].bytes = NULL; /* compare data[i]: the result is copied around */
  }
}

static void ns_from(const char *name, uint8_t ns[EVC_NAMESPACE_SIZE]) {
  uint8_t h[32];
  crypto_hash_sha256(h, (const uint8_t *)name, strlen(name));
  memset(ns, 0, EVC_NAMESPACE_SIZE);
  memcpy(ns + 19, h, 10);
}

static int submit_sync(struct evc_da_client *c, uv_loop_t *loop, const struct evc_da_blob *b,
                       size_t count, uint64_t *height) {
  struct result r = {.in_call = true};
  assert_int_equal(evc_da_client_submit(c, b, count, on_submit, &r), 0);
  r.in_call = false;
  assert_false(r.done);
  run_until(loop, &r.done);
  *height = r.height;
  return r.status;
}

static int head_sync(struct evc_da_client *c, uv_loop_t *loop, uint64_t *head) {
  struct result r = {.in_call = true};
  assert_int_equal(evc_da_client_head(c, on_head, &r), 0);
  r.in_call = false;
  run_until(loop, &r.done);
  *head = r.height;
  return r.status;
}

static struct result get_sync(struct evc_da_client *c, uv_loop_t *loop, uint64_t height,
                              const uint8_t (*ns)[EVC_NAMESPACE_SIZE], size_t ns_count) {
  struct result r = {.in_call = true};
  assert_int_equal(evc_da_client_get(c, height, ns, ns_count, on_get, &r), 0);
  r.in_call = false;
  run_until(loop, &r.done);
  return r;
}

static void client_closed(void *arg) {
  *(bool *)arg = true;
}

static void client_close_sync(struct evc_da_client *c, uv_loop_t *loop) {
  bool closed = false;
  evc_da_client_close(c, client_closed, &closed);
  run_until(loop, &closed);
}

/* POSTs body with plain blocking libcurl (no evc code) and returns the reply. */
static long raw_post(const char *url, const char *body, char *reply, size_t cap);

struct sink {
  char *buf;
  size_t cap;
  size_t len;
};

static size_t sink_write(char *p, size_t size, size_t n, void *arg) {
  struct sink *s = arg;
  size_t bytes = size * n;
  size_t room = s->cap - 1 - s->len;
  size_t take = bytes < room ? bytes : room;
  memcpy(s->buf + s->len, p, take);
  s->len += take;
  s->buf[s->len] = '\0';
  return bytes;
}

static long raw_post(const char *url, const char *body, char *reply, size_t cap) {
  CURL *e = curl_easy_init();
  assert_non_null(e);
  struct sink s = {.buf = reply, .cap = cap};
  reply[0] = '\0';
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)WAIT_MS);
  assert_int_equal(curl_easy_perform(e), CURLE_OK);
  long http = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &http);
  curl_easy_cleanup(e);
  return http;
}

/* ---- tests against the evc-da process ---- */

static void submit_get_head_future_restart(void **state) {
  struct da_proc p;
  make_home(&p);
  da_start(&p, NULL, NULL);
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct evc_da_client c;
  assert_int_equal(evc_da_client_init(&c, &loop, p.url, NULL, CLIENT_TIMEOUT_MS), 0);

  uint8_t ns[2][EVC_NAMESPACE_SIZE];
  ns_from("rollkit-headers", ns[0]);
  ns_from("rollkit-data", ns[1]); /* sorts before rollkit-headers (0x8a < 0xfa) */
  struct evc_da_blob b[2] = {{.bytes = (const uint8_t *)"header-1", .size = 8},
                             {.bytes = (const uint8_t *)"data-1", .size = 6}};
  memcpy(b[0].namespace_id, ns[0], EVC_NAMESPACE_SIZE);
  memcpy(b[1].namespace_id, ns[1], EVC_NAMESPACE_SIZE);
  uint64_t head0 = 0;
  assert_int_equal(head_sync(&c, &loop, &head0), 0);
  assert_true(head0 >= 1);
  uint64_t h = 0;
  assert_int_equal(submit_sync(&c, &loop, b, 2, &h), 0);
  assert_true(h > head0);
  const uint64_t landed = h;
  uint64_t head1 = 0;
  assert_int_equal(head_sync(&c, &loop, &head1), 0);
  assert_true(head1 >= h);

  struct result r = get_sync(&c, &loop, landed, (const uint8_t(*)[EVC_NAMESPACE_SIZE])ns, 2);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.count, 2);
  assert_int_equal(r.blobs[0].index, 0); /* namespace order: data first */
  assert_memory_equal(r.data[0], "data-1", 6);
  assert_int_equal(r.blobs[1].index, 1);
  assert_memory_equal(r.data[1], "header-1", 8);
  r = get_sync(&c, &loop, landed, (const uint8_t(*)[EVC_NAMESPACE_SIZE])ns, 1);
  assert_int_equal(r.count, 1);
  assert_int_equal(r.blobs[0].index, 1);
  r = get_sync(&c, &loop, landed + 1000000, (const uint8_t(*)[EVC_NAMESPACE_SIZE])ns, 2);
  assert_int_equal(r.status, EVC_EFUTURE);
  r = get_sync(&c, &loop, head0, (const uint8_t(*)[EVC_NAMESPACE_SIZE])ns, 2);
  assert_int_equal(r.status, 0); /* an empty height */
  assert_int_equal(r.count, 0);

  /* Refusals: empty data, a blob over the 2 MiB limit, a reserved namespace. */
  struct evc_da_blob empty = b[0];
  empty.size = 0;
  assert_int_equal(submit_sync(&c, &loop, &empty, 1, &h), EVC_EDA);
  assert_non_null(strstr(evc_da_client_last_error(&c), "data can not be empty"));
  size_t big_size = 3u * 1024 * 1024;
  uint8_t *big = calloc(1, big_size);
  struct evc_da_blob bigb = b[0];
  bigb.bytes = big;
  bigb.size = big_size;
  assert_int_equal(submit_sync(&c, &loop, &bigb, 1, &h), EVC_ETOOBIG);
  bigb.size = EVC_DA_JSON_REQUEST_SIZE_MAX; /* over the client's own request cap */
  big = realloc(big, bigb.size);
  memset(big, 0, bigb.size);
  bigb.bytes = big;
  assert_int_equal(submit_sync(&c, &loop, &bigb, 1, &h), EVC_ETOOBIG);
  free(big);
  struct evc_da_blob reserved = b[0];
  memset(reserved.namespace_id, 0, EVC_NAMESPACE_SIZE);
  reserved.namespace_id[28] = 1;
  assert_int_equal(submit_sync(&c, &loop, &reserved, 1, &h), EVC_EDA);
  assert_non_null(strstr(evc_da_client_last_error(&c), "blob.Submit"));

  /* Garbage gets a JSON-RPC error and the server keeps serving. */
  char reply[1024];
  assert_int_equal(raw_post(p.url, "{not json", reply, sizeof reply), 200);
  assert_non_null(strstr(reply, "-32700"));
  assert_int_equal(raw_post(p.url, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"blob.Nope\"}",
                            reply, sizeof reply), 200);
  assert_non_null(strstr(reply, "-32601"));
  uint64_t head2 = 0;
  assert_int_equal(head_sync(&c, &loop, &head2), 0);
  assert_true(head2 >= head1);
  client_close_sync(&c, &loop);

  /* A restart keeps every block and blob. */
  da_stop(&p);
  da_start(&p, NULL, NULL);
  assert_int_equal(evc_da_client_init(&c, &loop, p.url, "", CLIENT_TIMEOUT_MS), 0);
  uint64_t head3 = 0;
  assert_int_equal(head_sync(&c, &loop, &head3), 0);
  assert_true(head3 >= head2);
  r = get_sync(&c, &loop, landed, (const uint8_t(*)[EVC_NAMESPACE_SIZE])ns, 2);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.count, 2);
  assert_memory_equal(r.data[0], "data-1", 6);
  assert_memory_equal(r.data[1], "header-1", 8);
  client_close_sync(&c, &loop);
  da_stop(&p);
  uv_loop_close(&loop);
  evc_fs_remove_tree(p.home);
}

static void auth_token_is_required_when_configured(void **state) {
  struct da_proc p;
  make_home(&p);
  da_start(&p, "--auth-token", "s3cret");
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct evc_da_client c;
  uint64_t head = 0;
  assert_int_equal(evc_da_client_init(&c, &loop, p.url, NULL, CLIENT_TIMEOUT_MS), 0);
  assert_int_equal(head_sync(&c, &loop, &head), EVC_EDA);
  assert_non_null(strstr(evc_da_client_last_error(&c), "HTTP 401"));
  client_close_sync(&c, &loop);
  assert_int_equal(evc_da_client_init(&c, &loop, p.url, "wrong", CLIENT_TIMEOUT_MS), 0);
  assert_int_equal(head_sync(&c, &loop, &head), EVC_EDA);
  client_close_sync(&c, &loop);
  assert_int_equal(evc_da_client_init(&c, &loop, p.url, "s3cret", CLIENT_TIMEOUT_MS), 0);
  assert_int_equal(head_sync(&c, &loop, &head), 0);
  assert_true(head >= 1);
  client_close_sync(&c, &loop);
  da_stop(&p);
  uv_loop_close(&loop);
  evc_fs_remove_tree(p.home);
}

static void unreachable_da_is_a_clean_error(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct evc_da_client c;
  uint64_t head = 0;
  /* port 1 on loopback: nothing listens there */
  assert_int_equal(evc_da_client_init(&c, &loop, "http://127.0.0.1:1", NULL, 2000), 0);
  assert_int_equal(head_sync(&c, &loop, &head), EVC_EDA);
  assert_non_null(strstr(evc_da_client_last_error(&c), "header.NetworkHead"));
  client_close_sync(&c, &loop);
  struct evc_da_client other;
  assert_int_equal(evc_da_client_init(&other, &loop, "ftp://x", NULL, 2000), EVC_EINVAL);
  assert_int_equal(evc_da_client_init(&other, &loop, "http://x", "bad\r\ntoken", 2000),
                   EVC_EINVAL);
  uv_loop_close(&loop);
}

/* ---- the server library in-process: the mempool TTL ---- */

static void server_stopped(void *arg) {
  *(bool *)arg = true;
}

static void submission_past_its_ttl_times_out(void **state) {
  struct da_proc p;
  make_home(&p);
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct evc_da_server_config cfg;
  evc_da_server_config_default(&cfg);
  cfg.home = p.home;
  cfg.listen_port = 0;
  cfg.block_time_ms = 300;
  cfg.mempool_ttl_blocks = 1;
  cfg.blob_bytes_max = 600; /* one 600-byte call fills a block */
  cfg.call_bytes_max = 600;
  cfg.block_bytes_max = 1000;
  struct evc_da_server *server = NULL;
  assert_int_equal(evc_da_server_new(&loop, &cfg, &server), 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u", evc_da_server_port(server));
  struct evc_da_client c;
  assert_int_equal(evc_da_client_init(&c, &loop, url, NULL, CLIENT_TIMEOUT_MS), 0);
  uint8_t data[600] = {1};
  struct evc_da_blob b = {.bytes = data, .size = sizeof data};
  ns_from("ttl", b.namespace_id);
  bool seen = false;
  for (int attempt = 0; attempt < 5 && !seen; attempt++) {
    struct result r1 = {0};
    struct result r2 = {0};
    assert_int_equal(evc_da_client_submit(&c, &b, 1, on_submit, &r1), 0);
    assert_int_equal(evc_da_client_submit(&c, &b, 1, on_submit, &r2), 0);
    run_until(&loop, &r1.done);
    run_until(&loop, &r2.done);
    /* Both in one block interval: one lands, the other misses its only block. A block tick
     * between the two arrivals lands both (at different heights): try again. */
    if (r1.status == 0 && r2.status == 0) {
      assert_int_not_equal(r1.height, r2.height);
      continue;
    }
    assert_int_equal(r1.status == 0 ? r2.status : r1.status, EVC_ETIMEDOUT);
    assert_int_equal(r1.status == 0 ? r1.status : r2.status, 0);
    seen = true;
  }
  assert_true(seen);
  client_close_sync(&c, &loop);
  bool stopped = false;
  evc_da_server_stop(server, server_stopped, &stopped);
  run_until(&loop, &stopped);
  evc_da_server_free(server);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(uv_loop_close(&loop), 0);
  evc_fs_remove_tree(p.home);
}

static int kill_leftover(void **state) {
  if (live_pid > 0) {
    kill(live_pid, SIGKILL);
    waitpid(live_pid, NULL, 0);
    live_pid = 0;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_da_live PATH/TO/evc-da\n");
    return 2;
  }
  da_bin = argv[1];
  signal(SIGPIPE, SIG_IGN);
  if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(submit_get_head_future_restart, kill_leftover),
      cmocka_unit_test_teardown(auth_token_is_required_when_configured, kill_leftover),
      cmocka_unit_test(unreachable_da_is_a_clean_error),
      cmocka_unit_test(submission_past_its_ttl_times_out),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
