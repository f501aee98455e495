/* RPC harness: the node RPC's request handling (evc_rpc_handle, node/live/rpc_handler.h) on
 * arbitrary requests against a fake node whose state and answers the input also chooses.
 * Properties: the status is one of the documented set and matches the route and the node's
 * answer; JSON bodies parse as a JSON object, and every error carries a non-empty message;
 * POST /tx reaches the node's submit exactly once, with exactly the body, when the request
 * may be submitted (aggregator, node available, 1..EVC_RPC_BODY_SIZE_MAX bytes) and never
 * otherwise; every block the node lends is released once; nothing is left allocated (cJSON's
 * allocations are counted; ASan's leak check covers the rest in the sanitizer replay).
 *
 * Input: data[0] node flags (bit 0: not available, bit 1: full node, bits 2..4: mode mod
 * EVC_MODE_COUNT, bit 5: waiting_for set, bit 6: failure set, bit 7: a stored block's data
 * is a valid encoding with the body as its one tx, else the body's raw bytes); data[1] the
 * node's answers (bits 0..2: submit's code, bits 3..4: get_block's code); data[2], data[3]
 * the DA height reached and the DA head; then the request, "METHOD PATH\nBODY" (no space:
 * the whole line is the method and the path is empty; no newline: the body is empty). */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/live/rpc_handler.h"

#define RPC_HEADER_SIZE 4u
#define RPC_CHAIN_ID "evc-fuzz-1"
#define RPC_KNOWN_PEERS 3u
#define RPC_JSON_EXACT_MAX 9007199254740992ull /* 2^53 */
/* The largest answer: a block of EVC_DATA_SIZE_MAX in base64 plus its fields, or metrics. */
#define RPC_BODY_OUT_MAX (2u * EVC_DATA_SIZE_MAX)

static const int submit_codes[8] = {0, EVC_ESTATE, EVC_EFULL, EVC_EINVAL,
                                    EVC_ETOOBIG, EVC_EIO, EVC_ENOMEM, EVC_EDECODE};
static const int get_block_codes[4] = {0, EVC_ENOTFOUND, EVC_ESTATE, EVC_EIO};

/* ---- cJSON allocations, counted ---- */

static long cjson_live;

static void *count_malloc(size_t size) {
  void *p = malloc(size);
  if (p != NULL) cjson_live++;
  return p;
}

static void count_free(void *p) {
  if (p != NULL) cjson_live--;
  free(p);
}

/* ---- the fake node ---- */

struct fake {
  bool available;
  bool aggregator;
  enum evc_mode mode;
  bool waiting;
  bool failure;
  bool valid_data;
  int submit_rc;
  int get_block_rc;
  uint64_t da_reached;
  uint64_t da_head;
  const uint8_t *body; /* the request body: the block data the node stores, the tx */
  size_t body_size;
  /* what the handler did */
  unsigned submits;
  const uint8_t *submitted;
  size_t submitted_size;
  unsigned status_calls;
  unsigned blocks_lent;
  unsigned blocks_released;
  uint64_t block_height;
  bool node_called_unavailable; /* a call other than available() while unavailable */
};

static bool fake_available(void *arg) { return ((struct fake *)arg)->available; }

static void fake_status(void *arg, struct evc_node_status *out) {
  struct fake *f = arg;
  if (!f->available) f->node_called_unavailable = true;
  f->status_calls++;
  memset(out, 0, sizeof *out);
  out->mode = f->mode;
  out->aggregator = f->aggregator;
  out->height = 42;
  memset(out->last_hash, 0xab, sizeof out->last_hash);
  out->da_included_height = 7;
  out->da_height_reached = f->da_reached;
  out->da_head = f->da_head;
  out->p2p_target_height = 50;
  out->peer_count = 2;
  out->mempool_tx_count = 1;
  out->waiting_for = f->waiting ? "da_caught_up" : NULL;
  out->failure = f->failure ? "the \"sign\" state\nis invalid" : NULL;
}

static int fake_get_block(void *arg, uint64_t height, struct evc_node_block *out) {
  struct fake *f = arg;
  if (!f->available) f->node_called_unavailable = true;
  if (f->get_block_rc != 0) return f->get_block_rc;
  memset(out, 0, sizeof *out);
  out->sh.header.height = height;
  out->sh.header.time_ns = height * 1000000007ull; /* any u64: the time format must cope */
  memset(out->hash, 0x11, sizeof out->hash);
  out->final = height % 2 == 0;
  if (f->valid_data && f->body_size >= 1 && f->body_size <= EVC_TX_SIZE_MAX) {
    struct evc_tx tx = {.bytes = f->body, .size = (uint32_t)f->body_size};
    struct evc_data d;
    memset(&d, 0, sizeof d);
    EVC_ASSERT(evc_chain_id_set(&d.chain_id, RPC_CHAIN_ID, strlen(RPC_CHAIN_ID)) == 0);
    d.height = height > 0 ? height : 1; /* a data encoding needs a height */
    d.tx_count = 1;
    d.txs = &tx;
    size_t capacity = f->body_size + 256;
    out->data = malloc(capacity);
    EVC_ASSERT(out->data != NULL);
    EVC_ASSERT(evc_data_encode(&d, out->data, capacity, &out->data_size) == 0);
  } else {
    out->data = malloc(f->body_size > 0 ? f->body_size : 1);
    EVC_ASSERT(out->data != NULL);
    if (f->body_size > 0) memcpy(out->data, f->body, f->body_size);
    out->data_size = f->body_size;
  }
  f->blocks_lent++;
  f->block_height = height;
  return 0;
}

static void fake_release_block(void *arg, struct evc_node_block *b) {
  struct fake *f = arg;
  f->blocks_released++;
  free(b->data);
  memset(b, 0, sizeof *b);
}

static int fake_submit(void *arg, const uint8_t *tx, size_t size,
                       uint8_t hash_out[EVC_HASH_SIZE]) {
  struct fake *f = arg;
  if (!f->available) f->node_called_unavailable = true;
  f->submits++;
  f->submitted = tx;
  f->submitted_size = size;
  if (f->submit_rc == 0) memset(hash_out, 0x5e, EVC_HASH_SIZE);
  return f->submit_rc;
}

/* ---- the request ---- */

struct request {
  const char *method;
  size_t method_size;
  const char *path;
  size_t path_size;
  const uint8_t *body;
  size_t body_size;
};

static void split_request(const uint8_t *text, size_t size, struct request *r) {
  const uint8_t *nl = memchr(text, '\n', size);
  size_t line = nl != NULL ? (size_t)(nl - text) : size;
  const uint8_t *sp = memchr(text, ' ', line);
  r->method = (const char *)text;
  r->method_size = sp != NULL ? (size_t)(sp - text) : line;
  r->path = sp != NULL ? (const char *)sp + 1 : (const char *)text + line;
  r->path_size = sp != NULL ? line - r->method_size - 1 : 0;
  r->body = nl != NULL ? nl + 1 : text + size;
  r->body_size = nl != NULL ? size - line - 1 : 0;
}

static bool equals(const char *bytes, size_t size, const char *text) {
  return size == strlen(text) && memcmp(bytes, text, size) == 0;
}

static bool is_height(const char *text, size_t size) {
  if (size == 0 || size > 20) return false;
  for (size_t i = 0; i < size; i++) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return size < 20 || memcmp(text, "18446744073709551615", 20) <= 0;
}

static uint64_t height_of(const char *text, size_t size) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; i++) v = v * 10 + (uint64_t)(text[i] - '0');
  return v;
}

/* ---- the answer ---- */

/* A JSON body: an object; a non-200 one has a non-empty "error" string. Returns it parsed. */
static cJSON *check_json(const struct evc_rpc_response *res) {
  EVC_ASSERT(strcmp(res->content_type, EVC_RPC_CONTENT_JSON) == 0);
  cJSON *doc = cJSON_ParseWithLength(res->body, res->body_size);
  EVC_ASSERT(doc != NULL && cJSON_IsObject(doc));
  if (res->status != 200) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
    EVC_ASSERT(cJSON_IsString(e) && e->valuestring[0] != '\0');
  }
  return doc;
}

static void check_status_reply(const struct fake *f, const cJSON *doc) {
  const cJSON *chain = cJSON_GetObjectItemCaseSensitive(doc, "chain_id");
  EVC_ASSERT(cJSON_IsString(chain) && strcmp(chain->valuestring, RPC_CHAIN_ID) == 0);
  const cJSON *mode = cJSON_GetObjectItemCaseSensitive(doc, "mode");
  EVC_ASSERT(cJSON_IsString(mode) && strcmp(mode->valuestring, evc_mode_name(f->mode)) == 0);
  const cJSON *height = cJSON_GetObjectItemCaseSensitive(doc, "height");
  EVC_ASSERT(cJSON_IsNumber(height) && height->valuedouble == 42);
  bool catching_up = f->mode == EVC_MODE_CATCHING_UP;
  EVC_ASSERT(cJSON_HasObjectItem(doc, "catchup") == catching_up);
  EVC_ASSERT(cJSON_HasObjectItem(doc, "failure") == f->failure);
}

static void check_block_reply(const struct fake *f, const cJSON *doc) {
  const cJSON *height = cJSON_GetObjectItemCaseSensitive(doc, "height");
  EVC_ASSERT(cJSON_IsNumber(height));
  /* A JSON number is exact up to 2^53 only: above it cJSON prints 15 significant digits
   * when they read back within its tolerance (1e16 + 2 prints as 1e+16). */
  if (f->block_height <= RPC_JSON_EXACT_MAX) {
    EVC_ASSERT(height->valuedouble == (double)f->block_height);
  }
  const cJSON *hash = cJSON_GetObjectItemCaseSensitive(doc, "hash");
  EVC_ASSERT(cJSON_IsString(hash) && strlen(hash->valuestring) == 2 * EVC_HASH_SIZE);
  const cJSON *txs = cJSON_GetObjectItemCaseSensitive(doc, "txs");
  EVC_ASSERT(cJSON_IsArray(txs));
  if (f->valid_data && f->body_size >= 1 && f->body_size <= EVC_TX_SIZE_MAX) {
    EVC_ASSERT(cJSON_GetArraySize(txs) == 1);
  }
}

/* POST /tx: exactly one submit of exactly the body when it may be submitted, else none;
 * the status follows submit's code. */
static void check_tx(const struct fake *f, const struct request *rq,
                     const struct evc_rpc_response *res) {
  bool post = equals(rq->method, rq->method_size, "POST");
  bool too_big = rq->body_size > EVC_RPC_BODY_SIZE_MAX;
  bool submittable = post && !too_big && f->available && f->aggregator && rq->body_size > 0;
  if (!submittable) {
    EVC_ASSERT(f->submits == 0);
    int expect = !post ? 405 : too_big ? 413 : !f->available ? 503 : !f->aggregator ? 405 : 400;
    EVC_ASSERT(res->status == expect);
    if (!post) {
      EVC_ASSERT(res->header_name != NULL && strcmp(res->header_name, "Allow") == 0 &&
                 strcmp(res->header_value, "POST") == 0);
    }
    return;
  }
  EVC_ASSERT(f->submits == 1);
  EVC_ASSERT(f->submitted == rq->body && f->submitted_size == rq->body_size);
  switch (f->submit_rc) {
  case 0: EVC_ASSERT(res->status == 200); break;
  case EVC_ESTATE: EVC_ASSERT(res->status == 503); break;
  case EVC_EFULL:
    EVC_ASSERT(res->status == 429);
    EVC_ASSERT(res->header_name != NULL && strcmp(res->header_name, "Retry-After") == 0);
    break;
  case EVC_EINVAL:
  case EVC_ETOOBIG: EVC_ASSERT(res->status == 400); break;
  default: EVC_ASSERT(res->status == 500); break;
  }
}

static void check_answer(const struct fake *f, const struct request *rq,
                         const struct evc_rpc_response *res) {
  int s = res->status;
  EVC_ASSERT(s == 200 || s == 400 || s == 404 || s == 405 || s == 413 || s == 429 ||
             s == 500 || s == 503);
  EVC_ASSERT(res->reason != NULL && res->reason[0] != '\0');
  EVC_ASSERT(res->content_type != NULL);
  EVC_ASSERT(res->body != NULL && res->body_size >= 1 && res->body_size <= RPC_BODY_OUT_MAX);
  EVC_ASSERT((res->header_name == NULL) == (res->header_value == NULL));
  EVC_ASSERT(!f->node_called_unavailable);
  EVC_ASSERT(f->blocks_released == f->blocks_lent && f->blocks_lent <= 1);

  bool get = equals(rq->method, rq->method_size, "GET") ||
             equals(rq->method, rq->method_size, "HEAD");
  bool on_tx = equals(rq->path, rq->path_size, "/tx");
  bool on_block = rq->path_size >= 7 && memcmp(rq->path, "/block/", 7) == 0;
  bool known = on_tx || on_block || equals(rq->path, rq->path_size, "/status") ||
               equals(rq->path, rq->path_size, "/health/live") ||
               equals(rq->path, rq->path_size, "/health/ready") ||
               equals(rq->path, rq->path_size, "/metrics");
  if (!on_tx) EVC_ASSERT(f->submits == 0);
  if (!known) EVC_ASSERT(s == 404);
  if (known && !on_tx && !get) {
    EVC_ASSERT(s == 405 && res->header_name != NULL && strcmp(res->header_name, "Allow") == 0 &&
               strcmp(res->header_value, "GET") == 0);
  }
  if (!known || (!on_tx && !get)) {
    EVC_ASSERT(f->status_calls == 0 && f->blocks_lent == 0);
  }

  if (strcmp(res->content_type, EVC_RPC_CONTENT_TEXT) == 0) {
    EVC_ASSERT(get && (equals(rq->path, rq->path_size, "/health/live") ||
                       equals(rq->path, rq->path_size, "/health/ready")));
    EVC_ASSERT(s == 200 || s == 503);
    EVC_ASSERT(res->body[res->body_size - 1] == '\n');
    EVC_ASSERT(memchr(res->body, '\n', res->body_size) == res->body + res->body_size - 1);
    if (equals(rq->path, rq->path_size, "/health/ready") && f->available) {
      bool caught_up = f->da_head > 0 && f->da_reached + 1 >= f->da_head;
      bool ready = f->mode == EVC_MODE_PRODUCING || (f->mode == EVC_MODE_SYNCING && caught_up);
      EVC_ASSERT((s == 200) == ready);
    }
    if (s == 200 || !f->available) EVC_ASSERT(res->body_size <= 9); /* ok, ready, stopping */
  } else if (strcmp(res->content_type, EVC_RPC_CONTENT_METRICS) == 0) {
    EVC_ASSERT(s == 200 && get && equals(rq->path, rq->path_size, "/metrics") && f->available);
  } else {
    cJSON *doc = check_json(res);
    if (s == 200 && equals(rq->path, rq->path_size, "/status")) check_status_reply(f, doc);
    if (s == 200 && on_block) check_block_reply(f, doc);
    if (s == 200 && on_tx) {
      const cJSON *hash = cJSON_GetObjectItemCaseSensitive(doc, "hash");
      char expect[2 * EVC_HASH_SIZE + 1];
      memset(expect, '5', sizeof expect - 1);
      for (size_t i = 1; i < sizeof expect - 1; i += 2) expect[i] = 'e';
      expect[sizeof expect - 1] = '\0';
      EVC_ASSERT(cJSON_IsString(hash) && strcmp(hash->valuestring, expect) == 0);
    }
    cJSON_Delete(doc);
  }
  if (on_tx) check_tx(f, rq, res);
  if (on_block && get) {
    const char *arg = rq->path + 7;
    size_t arg_size = rq->path_size - 7;
    if (!is_height(arg, arg_size)) {
      EVC_ASSERT(s == 400 && f->blocks_lent == 0);
    } else if (!f->available) {
      EVC_ASSERT(s == 503);
    } else {
      EVC_ASSERT(f->get_block_rc != 0 || f->block_height == height_of(arg, arg_size));
      int expect = f->get_block_rc == EVC_ENOTFOUND ? 404
                   : f->get_block_rc == EVC_ESTATE  ? 503
                   : f->get_block_rc != 0           ? 500
                                                    : -1;
      if (expect != -1) EVC_ASSERT(s == expect);
      else EVC_ASSERT(s == 200 || s == 500); /* 500: the stored data does not decode */
      if (s == 200) EVC_ASSERT(f->blocks_lent == 1);
    }
  }
  if (known && get && !on_tx && !on_block &&
      !equals(rq->path, rq->path_size, "/health/live") && !f->available) {
    EVC_ASSERT(s == 503);
  }
}

int evc_fuzz_rpc(const uint8_t *data, size_t size) {
  static bool hooked;
  static struct evc_live_metrics metrics;
  if (!hooked) {
    cJSON_Hooks hooks = {.malloc_fn = count_malloc, .free_fn = count_free};
    cJSON_InitHooks(&hooks);
    evc_live_metrics_init(&metrics);
    hooked = true;
  }
  if (size < RPC_HEADER_SIZE) return 0;
  /* An exact-size copy: under ASan a read past the request is a report. */
  size_t text_size = size - RPC_HEADER_SIZE;
  uint8_t *text = malloc(text_size > 0 ? text_size : 1);
  EVC_ASSERT(text != NULL);
  if (text_size > 0) memcpy(text, data + RPC_HEADER_SIZE, text_size);
  struct request rq;
  split_request(text, text_size, &rq);

  struct fake f;
  memset(&f, 0, sizeof f);
  f.available = (data[0] & 0x01) == 0;
  f.aggregator = (data[0] & 0x02) == 0;
  f.mode = (enum evc_mode)(((data[0] >> 2) & 0x07) % EVC_MODE_COUNT);
  f.waiting = (data[0] & 0x20) != 0;
  f.failure = (data[0] & 0x40) != 0;
  f.valid_data = (data[0] & 0x80) != 0;
  f.submit_rc = submit_codes[data[1] & 0x07];
  f.get_block_rc = get_block_codes[(data[1] >> 3) & 0x03];
  f.da_reached = data[2];
  f.da_head = data[3];
  f.body = rq.body;
  f.body_size = rq.body_size;
  struct evc_rpc_node node = {.arg = &f, .available = fake_available, .status = fake_status,
                              .get_block = fake_get_block, .release_block = fake_release_block,
                              .submit_tx = fake_submit, .chain_id = RPC_CHAIN_ID,
                              .aggregator = f.aggregator, .known_peers = RPC_KNOWN_PEERS,
                              .metrics = &metrics};
  long cjson_before = cjson_live;
  struct evc_rpc_response res;
  evc_rpc_handle(&node, rq.method, rq.method_size, rq.path, rq.path_size, rq.body,
                 rq.body_size, &res);
  check_answer(&f, &rq, &res);
  evc_rpc_response_release(&res);
  EVC_ASSERT(res.body == NULL && res.body_size == 0);
  EVC_ASSERT(cjson_live == cjson_before);
  free(text);
  return 0;
}
