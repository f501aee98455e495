/* Tests for node/live/rpc_handler.c: routes, statuses, headers and bodies of the node RPC
 * against a fake node, and when the node's submit is (not) called. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/common/error.h"
#include "node/live/rpc_handler.h"

struct fake {
  bool available;
  enum evc_mode mode;
  const char *failure;
  int submit_rc;
  int get_block_rc;
  int submits;
  int released;
};

static bool fake_available(void *arg) { return ((struct fake *)arg)->available; }

static void fake_status(void *arg, struct evc_node_status *out) {
  memset(out, 0, sizeof *out);
  out->mode = ((struct fake *)arg)->mode;
  out->failure = ((struct fake *)arg)->failure;
  out->height = 9;
}

static int fake_get_block(void *arg, uint64_t height, struct evc_node_block *out) {
  struct fake *f = arg;
  if (f->get_block_rc != 0) return f->get_block_rc;
  memset(out, 0, sizeof *out);
  out->sh.header.height = height;
  out->data = malloc(1);
  out->data_size = 1; /* not a data encoding */
  return 0;
}

static void fake_release(void *arg, struct evc_node_block *b) {
  ((struct fake *)arg)->released++;
  free(b->data);
}

static int fake_submit(void *arg, const uint8_t *tx, size_t size, uint8_t hash[EVC_HASH_SIZE]) {
  (void)tx;
  (void)size;
  struct fake *f = arg;
  f->submits++;
  memset(hash, 0xaa, EVC_HASH_SIZE);
  return f->submit_rc;
}

static struct evc_live_metrics metrics;

static void ask(struct fake *f, bool aggregator, const char *method, const char *path,
                const char *body, struct evc_rpc_response *out) {
  struct evc_rpc_node node = {.arg = f, .available = fake_available, .status = fake_status,
                              .get_block = fake_get_block, .release_block = fake_release,
                              .submit_tx = fake_submit, .chain_id = "evc-test",
                              .aggregator = aggregator, .known_peers = 2, .metrics = &metrics};
  evc_rpc_handle(&node, method, strlen(method), path, strlen(path), (const uint8_t *)body,
                 body != NULL ? strlen(body) : 0, out);
}

static void expect(struct evc_rpc_response *r, int status, const char *body_part) {
  assert_int_equal(r->status, status);
  char *text = malloc(r->body_size + 1);
  assert_non_null(text);
  memcpy(text, r->body, r->body_size);
  text[r->body_size] = '\0';
  if (strstr(text, body_part) == NULL) fail_msg("body %s lacks %s", text, body_part);
  free(text);
  evc_rpc_response_release(r);
}

static void routes_and_methods(void **state) {
  (void)state;
  struct fake f = {.available = true, .mode = EVC_MODE_PRODUCING};
  struct evc_rpc_response r;
  ask(&f, true, "GET", "/status", NULL, &r);
  assert_string_equal(r.content_type, EVC_RPC_CONTENT_JSON);
  expect(&r, 200, "\"chain_id\":\"evc-test\"");
  ask(&f, true, "HEAD", "/health/live", NULL, &r);
  assert_string_equal(r.content_type, EVC_RPC_CONTENT_TEXT);
  expect(&r, 200, "ok\n");
  ask(&f, true, "GET", "/health/ready", NULL, &r);
  expect(&r, 200, "ready\n");
  ask(&f, true, "GET", "/metrics", NULL, &r);
  assert_string_equal(r.content_type, EVC_RPC_CONTENT_METRICS);
  expect(&r, 200, "evc_");
  ask(&f, true, "PUT", "/status", NULL, &r);
  assert_string_equal(r.header_name, "Allow");
  assert_string_equal(r.header_value, "GET");
  expect(&r, 405, "\"error\":\"method not allowed: use GET\"");
  ask(&f, true, "GET", "/tx", NULL, &r);
  assert_string_equal(r.header_value, "POST");
  expect(&r, 405, "use POST");
  ask(&f, true, "GET", "/status/", NULL, &r);
  expect(&r, 404, "unknown path");
  f.mode = EVC_MODE_CATCHING_UP;
  ask(&f, true, "GET", "/health/ready", NULL, &r);
  expect(&r, 503, "catching up: DA 0/0, peers 0/2\n");
  /* a failure text with line breaks still makes one line (fuzz regression) */
  f.mode = EVC_MODE_FAILED;
  f.failure = "store:\nread\r\x01" "failed";
  ask(&f, true, "GET", "/health/ready", NULL, &r);
  assert_int_equal(r.body_size, strlen("failed: store: read  failed\n"));
  expect(&r, 503, "failed: store: read  failed\n");
  f.available = false;
  ask(&f, true, "GET", "/health/ready", NULL, &r);
  expect(&r, 503, "stopping\n");
  ask(&f, true, "GET", "/status", NULL, &r);
  expect(&r, 503, "the node is stopping");
}

static void blocks(void **state) {
  (void)state;
  struct fake f = {.available = true, .mode = EVC_MODE_SYNCING};
  struct evc_rpc_response r;
  ask(&f, false, "GET", "/block/x1", NULL, &r);
  expect(&r, 400, "malformed height");
  ask(&f, false, "GET", "/block/18446744073709551616", NULL, &r);
  expect(&r, 400, "malformed height");
  ask(&f, false, "GET", "/block/3", NULL, &r);
  expect(&r, 500, "does not decode");
  assert_int_equal(f.released, 1);
  f.get_block_rc = EVC_ENOTFOUND;
  ask(&f, false, "GET", "/block/3", NULL, &r);
  expect(&r, 404, "no block at that height");
  f.get_block_rc = EVC_ESTATE;
  ask(&f, false, "GET", "/block/3", NULL, &r);
  expect(&r, 503, "cannot read the block");
  assert_int_equal(f.released, 1);
}

static void transactions(void **state) {
  (void)state;
  struct fake f = {.available = true, .mode = EVC_MODE_PRODUCING};
  struct evc_rpc_response r;
  ask(&f, true, "POST", "/tx", "k=v", &r);
  expect(&r, 200, "\"hash\":\"aaaa");
  assert_int_equal(f.submits, 1);
  ask(&f, true, "POST", "/tx", "", &r);
  expect(&r, 400, "malformed transaction");
  assert_int_equal(f.submits, 1);
  ask(&f, false, "POST", "/tx", "k=v", &r);
  expect(&r, 405, "this is a full node");
  assert_null(r.header_name);
  assert_int_equal(f.submits, 1);
  f.submit_rc = EVC_EFULL;
  ask(&f, true, "POST", "/tx", "k=v", &r);
  assert_string_equal(r.header_name, "Retry-After");
  expect(&r, 429, "mempool is full");
  f.submit_rc = EVC_ESTATE;
  f.mode = EVC_MODE_DRAINING;
  ask(&f, true, "POST", "/tx", "k=v", &r);
  expect(&r, 503, "while draining");
  assert_int_equal(f.submits, 3);

  char *big = malloc(EVC_RPC_BODY_SIZE_MAX + 2);
  assert_non_null(big);
  memset(big, 'x', EVC_RPC_BODY_SIZE_MAX + 1);
  big[EVC_RPC_BODY_SIZE_MAX + 1] = '\0';
  ask(&f, true, "POST", "/tx", big, &r);
  expect(&r, 413, "over 65536 bytes");
  assert_int_equal(f.submits, 3);
  free(big);
}

int main(void) {
  evc_live_metrics_init(&metrics);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(routes_and_methods),
      cmocka_unit_test(blocks),
      cmocka_unit_test(transactions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
