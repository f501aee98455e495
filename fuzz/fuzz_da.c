/* DA harness: the Celestia JSON-RPC text layer (node/live/da_json.h) on arbitrary bytes: the
 * client's three reply parsers and evc-da's request parser, then the replies evc-da builds for
 * a parsed request, read back by the client's parsers. It must never crash, leak, or read past
 * the input (which is not NUL-terminated), and asserts only what da_json.h promises.
 *
 * Input: data[0] selects the parser (mod DA_MODE_COUNT), data[1..] is the JSON text. Replies
 * are parsed as the answer to request id DA_REPLY_ID. */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/live/da_json.h"

enum da_mode {
  DA_SUBMIT_REPLY,
  DA_GET_ALL_REPLY,
  DA_HEADER_REPLY,
  DA_REQUEST,
  DA_MODE_COUNT,
};

#define DA_REPLY_ID 1u
#define DA_REPLY_ID_TEXT "1"
/* A JSON number is exact up to 2^53: evc-da writes heights as numbers (celestia-api.md). */
#define DA_JSON_EXACT_MAX 9007199254740992ull

/* err after a failure: a terminated message; a malformed reply has code 0 and says why. */
static void check_error(int rc, const struct evc_da_json_error *err) {
  EVC_ASSERT(memchr(err->message, '\0', sizeof err->message) != NULL);
  if (rc == EVC_EDECODE || rc == EVC_ENOMEM) {
    EVC_ASSERT(err->code == 0);
    EVC_ASSERT(err->message[0] != '\0');
  }
}

static bool blob_equal(const struct evc_da_blob *a, const struct evc_da_blob *b) {
  return memcmp(a->namespace_id, b->namespace_id, EVC_NAMESPACE_SIZE) == 0 &&
         a->size == b->size && a->index == b->index &&
         (a->size == 0 || memcmp(a->bytes, b->bytes, a->size) == 0);
}

/* What evc-da's blobs reply says, the client's GetAll parser reads back: same blobs, same
 * order (the input must be sorted by index, as a parsed reply is). */
static void check_blobs_round_trip(const char *id_text, uint64_t id,
                                   const struct evc_da_blob *blobs, size_t count) {
  char *text = NULL;
  size_t size = 0;
  EVC_ASSERT(evc_da_json_blobs_reply(id_text, blobs, count, &text, &size) == 0);
  EVC_ASSERT(strlen(text) == size);
  struct evc_da_json_blobs back;
  struct evc_da_json_error err;
  memset(&err, 0, sizeof err);
  EVC_ASSERT(evc_da_json_parse_get_all_reply(text, size, id, &back, &err) == 0);
  EVC_ASSERT(back.count == count);
  for (size_t i = 0; i < count; i++) EVC_ASSERT(blob_equal(&blobs[i], &back.blobs[i]));
  evc_da_json_blobs_free(&back);
  free(text);
}

static void check_submit_reply(const char *text, size_t size) {
  struct evc_da_json_error err;
  memset(&err, 0, sizeof err);
  uint64_t height = 0;
  int rc = evc_da_json_parse_submit_reply(text, size, DA_REPLY_ID, &height, &err);
  if (rc != 0) {
    EVC_ASSERT(rc == EVC_EDA || rc == EVC_EDECODE || rc == EVC_ENOMEM || rc == EVC_ETOOBIG ||
               rc == EVC_ETIMEDOUT);
    check_error(rc, &err);
    return;
  }
  EVC_ASSERT(height >= 1);
  if (height > DA_JSON_EXACT_MAX) return;
  char *reply = NULL;
  size_t reply_size = 0;
  uint64_t back = 0;
  EVC_ASSERT(evc_da_json_height_reply(DA_REPLY_ID_TEXT, height, &reply, &reply_size) == 0);
  EVC_ASSERT(evc_da_json_parse_submit_reply(reply, reply_size, DA_REPLY_ID, &back, &err) == 0);
  EVC_ASSERT(back == height);
  free(reply);
}

static void check_get_all_reply(const char *text, size_t size) {
  struct evc_da_json_error err;
  memset(&err, 0, sizeof err);
  struct evc_da_json_blobs blobs;
  int rc = evc_da_json_parse_get_all_reply(text, size, DA_REPLY_ID, &blobs, &err);
  if (rc != 0) {
    EVC_ASSERT(rc == EVC_EDA || rc == EVC_EDECODE || rc == EVC_ENOMEM || rc == EVC_EFUTURE);
    check_error(rc, &err);
    /* Nothing for the caller to free after a failure. */
    EVC_ASSERT(blobs.count == 0 && blobs.blobs == NULL && blobs.storage == NULL);
    return;
  }
  EVC_ASSERT(blobs.count <= EVC_DA_JSON_BLOBS_MAX);
  size_t total = 0;
  for (size_t i = 0; i < blobs.count; i++) {
    const struct evc_da_blob *b = &blobs.blobs[i];
    if (i > 0) EVC_ASSERT(b->index > blobs.blobs[i - 1].index); /* sorted, unique */
    EVC_ASSERT(b->size <= size);
    EVC_ASSERT(b->size == 0 || b->bytes != NULL);
    total += b->size;
  }
  EVC_ASSERT(total <= size); /* base64 text is longer than what it decodes to */
  check_blobs_round_trip(DA_REPLY_ID_TEXT, DA_REPLY_ID, blobs.blobs, blobs.count);
  evc_da_json_blobs_free(&blobs);
  EVC_ASSERT(blobs.count == 0 && blobs.blobs == NULL && blobs.storage == NULL);
}

/* The client's header parser reads back the height of evc-da's extended header reply. */
static void check_header_round_trip(const char *id_text, uint64_t id, uint64_t height) {
  struct evc_da_json_header h;
  memset(&h, 0, sizeof h);
  h.height = height;
  h.time_ns = height; /* any value formats */
  memset(h.data_hash, 0xd4, sizeof h.data_hash);
  char *text = NULL;
  size_t size = 0;
  EVC_ASSERT(evc_da_json_header_reply(id_text, &h, &text, &size) == 0);
  EVC_ASSERT(strlen(text) == size);
  struct evc_da_json_error err;
  memset(&err, 0, sizeof err);
  uint64_t back = 0;
  EVC_ASSERT(evc_da_json_parse_header_reply(text, size, id, &back, &err) == 0);
  EVC_ASSERT(back == height);
  free(text);
}

static void check_header_reply(const char *text, size_t size) {
  struct evc_da_json_error err;
  memset(&err, 0, sizeof err);
  uint64_t height = 0;
  int rc = evc_da_json_parse_header_reply(text, size, DA_REPLY_ID, &height, &err);
  if (rc != 0) {
    EVC_ASSERT(rc == EVC_EDA || rc == EVC_EDECODE || rc == EVC_ENOMEM || rc == EVC_EFUTURE);
    check_error(rc, &err);
    return;
  }
  check_header_round_trip(DA_REPLY_ID_TEXT, DA_REPLY_ID, height);
}

/* A reply evc-da built for request id id_text: one JSON object, version 2.0, the same id. */
static cJSON *reply_root(const char *text, size_t size, const char *id_text) {
  EVC_ASSERT(text != NULL && strlen(text) == size);
  cJSON *root = cJSON_ParseWithLength(text, size);
  EVC_ASSERT(root != NULL && cJSON_IsObject(root));
  const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
  EVC_ASSERT(cJSON_IsString(version) && strcmp(version->valuestring, "2.0") == 0);
  char *id = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(root, "id"));
  EVC_ASSERT(id != NULL && strcmp(id, id_text) == 0);
  free(id);
  return root;
}

/* The request id as the client parsers take it, when they can: absent/null or a plain
 * number that fits. Other ids (strings, fractions) only get the JSON checks. */
static bool client_id(const char *id_text, uint64_t *id_out) {
  if (strcmp(id_text, "null") == 0) {
    *id_out = 0;
    return true;
  }
  size_t len = strlen(id_text);
  if (len == 0 || len > 15) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (id_text[i] < '0' || id_text[i] > '9') return false;
    v = v * 10 + (uint64_t)(id_text[i] - '0');
  }
  *id_out = v;
  return true;
}

/* A request that fails gets an error reply with its JSON-RPC code and message. */
static void check_request_error(int rc, const struct evc_da_json_request *req,
                                const struct evc_da_json_error *err) {
  EVC_ASSERT(rc == EVC_EDECODE || rc == EVC_ENOMEM);
  EVC_ASSERT(memchr(err->message, '\0', sizeof err->message) != NULL);
  EVC_ASSERT(err->message[0] != '\0');
  EVC_ASSERT(err->code == EVC_DA_RPC_SERVICE_ERROR || err->code == EVC_DA_RPC_PARSE_ERROR ||
             err->code == EVC_DA_RPC_INVALID_REQUEST || err->code == EVC_DA_RPC_METHOD_NOT_FOUND ||
             err->code == EVC_DA_RPC_INVALID_PARAMS);
  char *text = NULL;
  size_t size = 0;
  EVC_ASSERT(evc_da_json_error_reply(req->id, err->code, err->message, &text, &size) == 0);
  cJSON *root = reply_root(text, size, req->id);
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
  const cJSON *message = cJSON_GetObjectItemCaseSensitive(e, "message");
  EVC_ASSERT(cJSON_IsNumber(code) && code->valuedouble == (double)err->code);
  EVC_ASSERT(cJSON_IsString(message) && strcmp(message->valuestring, err->message) == 0);
  cJSON_Delete(root);
  uint64_t id = 0;
  if (client_id(req->id, &id)) {
    struct evc_da_json_error back;
    memset(&back, 0, sizeof back);
    uint64_t height = 0;
    int back_rc = evc_da_json_parse_submit_reply(text, size, id, &height, &back);
    EVC_ASSERT(back_rc == EVC_EDA || back_rc == EVC_ETOOBIG || back_rc == EVC_ETIMEDOUT);
    EVC_ASSERT(back.code == err->code && strcmp(back.message, err->message) == 0);
  }
  free(text);
}

/* blob.Submit: bounded blobs; evc-da answers a height, and could serve them in GetAll. */
static void check_submit_request(struct evc_da_json_request *req, size_t size, bool has_id,
                                 uint64_t id) {
  struct evc_da_json_blobs *s = &req->submit;
  EVC_ASSERT(s->count >= 1 && s->count <= EVC_DA_JSON_BLOBS_MAX && s->blobs != NULL);
  size_t total = 0;
  for (size_t i = 0; i < s->count; i++) {
    EVC_ASSERT(s->blobs[i].size <= size);
    total += s->blobs[i].size;
    (void)evc_da_namespace_valid(s->blobs[i].namespace_id);
    s->blobs[i].index = (uint32_t)i; /* as evc-da places them */
  }
  EVC_ASSERT(total <= size);
  char *text = NULL;
  size_t text_size = 0;
  EVC_ASSERT(evc_da_json_height_reply(req->id, s->count, &text, &text_size) == 0);
  cJSON_Delete(reply_root(text, text_size, req->id));
  if (has_id) {
    struct evc_da_json_error err;
    memset(&err, 0, sizeof err);
    uint64_t height = 0;
    EVC_ASSERT(evc_da_json_parse_submit_reply(text, text_size, id, &height, &err) == 0);
    EVC_ASSERT(height == s->count);
  }
  free(text);
  EVC_ASSERT(evc_da_json_blobs_reply(req->id, s->blobs, s->count, &text, &text_size) == 0);
  cJSON_Delete(reply_root(text, text_size, req->id));
  free(text);
  if (has_id) check_blobs_round_trip(req->id, id, s->blobs, s->count);
}

/* blob.GetAll: bounded namespaces; one blob per namespace read back in order. */
static void check_get_all_request(const struct evc_da_json_request *req, bool has_id,
                                  uint64_t id) {
  EVC_ASSERT(req->namespace_count <= EVC_DA_JSON_NAMESPACES_MAX);
  EVC_ASSERT(req->namespace_count == 0 || req->namespaces != NULL);
  struct evc_da_blob blobs[EVC_DA_JSON_NAMESPACES_MAX];
  for (size_t i = 0; i < req->namespace_count; i++) {
    memcpy(blobs[i].namespace_id, req->namespaces[i], EVC_NAMESPACE_SIZE);
    blobs[i].bytes = req->namespaces[i];
    blobs[i].size = i % 2 == 0 ? EVC_NAMESPACE_SIZE : 0; /* empty data too */
    blobs[i].index = (uint32_t)(2 * i);
  }
  char *text = NULL;
  size_t size = 0;
  EVC_ASSERT(evc_da_json_blobs_reply(req->id, blobs, req->namespace_count, &text, &size) == 0);
  cJSON_Delete(reply_root(text, size, req->id));
  free(text);
  if (has_id) check_blobs_round_trip(req->id, id, blobs, req->namespace_count);
}

static void check_request(const char *text, size_t size) {
  struct evc_da_json_request req;
  struct evc_da_json_error err;
  memset(&err, 0, sizeof err);
  int rc = evc_da_json_parse_request(text, size, &req, &err);
  EVC_ASSERT(memchr(req.id, '\0', sizeof req.id) != NULL && req.id[0] != '\0');
  if (rc != 0) {
    check_request_error(rc, &req, &err);
    evc_da_json_request_free(&req); /* harmless after a failure */
    return;
  }
  uint64_t id = 0;
  bool has_id = client_id(req.id, &id);
  switch (req.method) {
  case EVC_DA_METHOD_SUBMIT: check_submit_request(&req, size, has_id, id); break;
  case EVC_DA_METHOD_GET_ALL: check_get_all_request(&req, has_id, id); break;
  case EVC_DA_METHOD_NETWORK_HEAD:
  case EVC_DA_METHOD_GET_BY_HEIGHT: {
    char *reply = NULL;
    size_t reply_size = 0;
    struct evc_da_json_header h;
    memset(&h, 0, sizeof h);
    h.height = req.height;
    EVC_ASSERT(evc_da_json_header_reply(req.id, &h, &reply, &reply_size) == 0);
    cJSON_Delete(reply_root(reply, reply_size, req.id));
    free(reply);
    if (has_id) check_header_round_trip(req.id, id, req.height);
    break;
  }
  }
  evc_da_json_request_free(&req);
  EVC_ASSERT(req.namespaces == NULL && req.submit.blobs == NULL && req.submit.storage == NULL);
}

int evc_fuzz_da(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  /* An exact-size copy without a NUL: under ASan a parser that reads past the length it was
   * given is a report, where the drivers' larger buffers would hide it. */
  size_t text_size = size - 1;
  char *text = malloc(text_size > 0 ? text_size : 1);
  EVC_ASSERT(text != NULL);
  if (text_size > 0) memcpy(text, data + 1, text_size);
  switch ((enum da_mode)(data[0] % DA_MODE_COUNT)) {
  case DA_SUBMIT_REPLY: check_submit_reply(text, text_size); break;
  case DA_GET_ALL_REPLY: check_get_all_reply(text, text_size); break;
  case DA_HEADER_REPLY: check_header_reply(text, text_size); break;
  case DA_REQUEST: check_request(text, text_size); break;
  case DA_MODE_COUNT: EVC_UNREACHABLE();
  }
  free(text);
  return 0;
}
