/* The Celestia node JSON-RPC subset as text, both directions (see da_json.h). Everything
 * read here comes from another process: every length is bounded and every field checked,
 * and a defect is an error with a message, never an assertion. No I/O, no globals. */
#include "node/live/da_json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"

#define B64 sodium_base64_VARIANT_ORIGINAL
#define HEIGHT_JSON_MAX 9007199254740992.0 /* 2^53: above it a JSON number loses digits */

_Static_assert(EVC_DA_JSON_REQUEST_SIZE_MAX <= EVC_DA_JSON_REPLY_SIZE_MAX,
               "a request evc-da accepts must fit in a reply the client accepts");

/* ---- small helpers ---- */

__attribute__((format(printf, 4, 5))) static int fail(struct evc_da_json_error *err,
                                                       int status, int code, const char *fmt,
                                                       ...) {
  va_list ap;
  va_start(ap, fmt);
  err->code = code;
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return status;
}

bool evc_da_namespace_valid(const uint8_t ns[EVC_NAMESPACE_SIZE]) {
  if (ns[0] != 0) return false;
  for (size_t i = 1; i <= 18; i++) {
    if (ns[i] != 0) return false;
  }
  for (size_t i = 19; i < EVC_NAMESPACE_SIZE - 1; i++) {
    if (ns[i] != 0) return true; /* above 0x00...00FF: not reserved */
  }
  return false;
}

void evc_da_commitment(const uint8_t ns[EVC_NAMESPACE_SIZE], const uint8_t *data, size_t size,
                       uint8_t out[EVC_DA_COMMITMENT_SIZE]) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, ns, EVC_NAMESPACE_SIZE);
  if (size > 0) crypto_hash_sha256_update(&st, data, size);
  crypto_hash_sha256_final(&st, out);
}

/* Parses text as exactly one JSON value (trailing whitespace allowed). */
static cJSON *parse_exact(const char *text, size_t size) {
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, size, &end, false);
  if (root == NULL) return NULL;
  while (end != NULL && end < text + size && (*end == ' ' || *end == '\n' || *end == '\r' ||
                                               *end == '\t')) {
    end++;
  }
  if (end == NULL || (end < text + size && *end != '\0')) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}

/* A height as the DA writes it: a JSON number or a decimal string (64-bit values are
 * strings in Celestia's JSON). */
static int json_height(const cJSON *item, uint64_t *out) {
  if (cJSON_IsNumber(item)) {
    double v = item->valuedouble;
    if (!isfinite(v) || v < 0 || v > HEIGHT_JSON_MAX || floor(v) != v) return EVC_EDECODE;
    *out = (uint64_t)v;
    return 0;
  }
  if (!cJSON_IsString(item) || item->valuestring == NULL) return EVC_EDECODE;
  const char *s = item->valuestring;
  size_t len = strlen(s);
  if (len == 0 || len > 20) return EVC_EDECODE;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return EVC_EDECODE;
    uint64_t d = (uint64_t)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return EVC_EDECODE;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

/* Decodes standard base64 text into out (capacity cap); EVC_EDECODE on any defect. */
static int b64_decode(const char *text, uint8_t *out, size_t cap, size_t *size_out) {
  size_t len = strlen(text);
  const char *end = NULL;
  size_t size = 0;
  if (len == 0) {
    *size_out = 0;
    return 0;
  }
  if (sodium_base642bin(out, cap, text, len, NULL, &size, &end, B64) != 0) return EVC_EDECODE;
  if (end != text + len) return EVC_EDECODE;
  *size_out = size;
  return 0;
}

static int b64_namespace(const cJSON *item, uint8_t out[EVC_NAMESPACE_SIZE]) {
  if (!cJSON_IsString(item) || item->valuestring == NULL) return EVC_EDECODE;
  if (strlen(item->valuestring) != sodium_base64_ENCODED_LEN(EVC_NAMESPACE_SIZE, B64) - 1) {
    return EVC_EDECODE;
  }
  size_t size = 0;
  int rc = b64_decode(item->valuestring, out, EVC_NAMESPACE_SIZE, &size);
  if (rc != 0) return rc;
  return size == EVC_NAMESPACE_SIZE ? 0 : EVC_EDECODE;
}

static cJSON *b64_string(const uint8_t *bytes, size_t size) {
  size_t cap = sodium_base64_ENCODED_LEN(size, B64);
  char *text = malloc(cap);
  if (text == NULL) return NULL;
  sodium_bin2base64(text, cap, bytes, size, B64);
  cJSON *s = cJSON_CreateString(text);
  free(text);
  return s;
}

/* Prints root without whitespace into *text_out, bounded by EVC_DA_JSON_REPLY_SIZE_MAX. */
static int print_doc(cJSON *root, size_t size_max, char **text_out, size_t *size_out) {
  char *text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (text == NULL) return EVC_ENOMEM;
  size_t size = strlen(text);
  if (size > size_max) {
    free(text);
    return EVC_ETOOBIG;
  }
  *text_out = text;
  *size_out = size;
  return 0;
}

/* {"jsonrpc":"2.0","id":id,"method":method,"params":params}; takes params. */
static int request_doc(uint64_t id, const char *method, cJSON *params, char **text_out,
                       size_t *size_out) {
  cJSON *root = cJSON_CreateObject();
  if (root == NULL || params == NULL) {
    cJSON_Delete(root);
    cJSON_Delete(params);
    return EVC_ENOMEM;
  }
  cJSON_AddItemToObject(root, "params", params);
  if (cJSON_AddStringToObject(root, "jsonrpc", "2.0") == NULL ||
      cJSON_AddNumberToObject(root, "id", (double)id) == NULL ||
      cJSON_AddStringToObject(root, "method", method) == NULL) {
    cJSON_Delete(root);
    return EVC_ENOMEM;
  }
  return print_doc(root, EVC_DA_JSON_REQUEST_SIZE_MAX, text_out, size_out);
}

/* ---- client: requests ---- */

/* A blob as Celestia's JSON carries it, in a Submit request (index -1: not placed yet) and in
 * a GetAll reply (its index in the DA block). */
static cJSON *blob_object(const struct evc_da_blob *b, double index) {
  uint8_t commitment[EVC_DA_COMMITMENT_SIZE];
  evc_da_commitment(b->namespace_id, b->bytes, b->size, commitment);
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) return NULL;
  cJSON_AddItemToObject(o, "namespace", b64_string(b->namespace_id, EVC_NAMESPACE_SIZE));
  cJSON_AddItemToObject(o, "data", b64_string(b->bytes, b->size));
  cJSON_AddNumberToObject(o, "share_version", 0);
  cJSON_AddItemToObject(o, "commitment", b64_string(commitment, sizeof commitment));
  cJSON_AddNumberToObject(o, "index", index);
  if (cJSON_GetArraySize(o) != 5) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

int evc_da_json_submit_request(uint64_t id, const struct evc_da_blob *blobs, size_t count,
                               char **text_out, size_t *size_out) {
  if (count == 0 || count > EVC_DA_JSON_BLOBS_MAX) return EVC_EINVAL;
  size_t total = 0;
  for (size_t i = 0; i < count; i++) {
    if (blobs[i].size > EVC_DA_JSON_REQUEST_SIZE_MAX) return EVC_ETOOBIG;
    total += blobs[i].size;
    if (total > EVC_DA_JSON_REQUEST_SIZE_MAX) return EVC_ETOOBIG; /* base64 only grows */
  }
  cJSON *params = cJSON_CreateArray();
  cJSON *list = cJSON_CreateArray();
  /* Options are always an object: a null value breaks real nodes. */
  cJSON *options = cJSON_CreateObject();
  if (params == NULL || list == NULL || options == NULL) {
    cJSON_Delete(params);
    cJSON_Delete(list);
    cJSON_Delete(options);
    return EVC_ENOMEM;
  }
  cJSON_AddItemToArray(params, list);
  cJSON_AddItemToArray(params, options);
  for (size_t i = 0; i < count; i++) {
    cJSON *b = blob_object(&blobs[i], -1);
    if (b == NULL) {
      cJSON_Delete(params);
      return EVC_ENOMEM;
    }
    cJSON_AddItemToArray(list, b);
  }
  return request_doc(id, "blob.Submit", params, text_out, size_out);
}

int evc_da_json_get_all_request(uint64_t id, uint64_t height,
                                const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE],
                                size_t namespace_count, char **text_out, size_t *size_out) {
  if (namespace_count == 0 || namespace_count > EVC_DA_JSON_NAMESPACES_MAX) return EVC_EINVAL;
  if ((double)height > HEIGHT_JSON_MAX) return EVC_ERANGE;
  cJSON *params = cJSON_CreateArray();
  cJSON *list = cJSON_CreateArray();
  if (params == NULL || list == NULL) {
    cJSON_Delete(params);
    cJSON_Delete(list);
    return EVC_ENOMEM;
  }
  cJSON_AddItemToArray(params, cJSON_CreateNumber((double)height));
  cJSON_AddItemToArray(params, list);
  for (size_t i = 0; i < namespace_count; i++) {
    cJSON_AddItemToArray(list, b64_string(namespaces[i], EVC_NAMESPACE_SIZE));
  }
  if (cJSON_GetArraySize(list) != (int)namespace_count || cJSON_GetArraySize(params) != 2) {
    cJSON_Delete(params);
    return EVC_ENOMEM;
  }
  return request_doc(id, "blob.GetAll", params, text_out, size_out);
}

int evc_da_json_network_head_request(uint64_t id, char **text_out, size_t *size_out) {
  return request_doc(id, "header.NetworkHead", cJSON_CreateArray(), text_out, size_out);
}

int evc_da_json_get_by_height_request(uint64_t id, uint64_t height, char **text_out,
                                      size_t *size_out) {
  if ((double)height > HEIGHT_JSON_MAX) return EVC_ERANGE;
  cJSON *params = cJSON_CreateArray();
  if (params == NULL) return EVC_ENOMEM;
  cJSON *h = cJSON_CreateNumber((double)height);
  if (h == NULL) {
    cJSON_Delete(params);
    return EVC_ENOMEM;
  }
  cJSON_AddItemToArray(params, h);
  return request_doc(id, "header.GetByHeight", params, text_out, size_out);
}

/* ---- client: replies ---- */

/* Reads the envelope. Returns 0 with *result_out (may be JSON null), EVC_EDA when the DA
 * answered an error (message in err), or EVC_EDECODE. *root_out owns everything. */
static int envelope(const char *text, size_t size, uint64_t id, cJSON **root_out,
                    const cJSON **result_out, struct evc_da_json_error *err) {
  *root_out = NULL;
  if (text == NULL || size == 0) return fail(err, EVC_EDECODE, 0, "empty reply");
  if (size > EVC_DA_JSON_REPLY_SIZE_MAX) return fail(err, EVC_EDECODE, 0, "reply too big");
  cJSON *root = parse_exact(text, size);
  if (root == NULL) return fail(err, EVC_EDECODE, 0, "reply is not valid JSON");
  *root_out = root;
  if (!cJSON_IsObject(root)) return fail(err, EVC_EDECODE, 0, "reply is not an object");
  const cJSON *rid = cJSON_GetObjectItemCaseSensitive(root, "id");
  uint64_t got = 0;
  if (rid != NULL && !cJSON_IsNull(rid) && (json_height(rid, &got) != 0 || got != id)) {
    return fail(err, EVC_EDECODE, 0, "reply id does not match the request");
  }
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
  if (e != NULL && !cJSON_IsNull(e)) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    if (!cJSON_IsObject(e) || !cJSON_IsString(m) || m->valuestring == NULL) {
      return fail(err, EVC_EDECODE, 0, "reply has a malformed error object");
    }
    int code = cJSON_IsNumber(c) && fabs(c->valuedouble) < 1e9 ? (int)c->valuedouble : 0;
    return fail(err, EVC_EDA, code, "%s", m->valuestring);
  }
  const cJSON *result = cJSON_GetObjectItemCaseSensitive(root, "result");
  if (result == NULL) return fail(err, EVC_EDECODE, 0, "reply has neither result nor error");
  *result_out = result;
  return 0;
}

static bool has(const char *message, const char *needle) {
  return strstr(message, needle) != NULL;
}

/* Reads the decimal number after `label` in message; false when absent or malformed. */
static bool number_after(const char *message, const char *label, uint64_t *out) {
  const char *p = strstr(message, label);
  if (p == NULL) return false;
  p += strlen(label);
  while (*p == ' ') p++;
  if (*p < '0' || *p > '9') return false;
  uint64_t v = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  *out = v;
  return true;
}

/* "given height is from the future" means: caught up. Trust it only when it is consistent:
 * when the message names the heights (as Celestia's does), the network height must be below
 * the requested one; a garbled claim is a DA error, never a reason to stop catching up. */
static bool future_claim(const char *message) {
  if (!has(message, "given height is from the future")) return false;
  if (!has(message, "networkHeight") && !has(message, "requestedHeight")) return true;
  uint64_t network = 0, requested = 0;
  return number_after(message, "networkHeight:", &network) &&
         number_after(message, "requestedHeight:", &requested) && network < requested;
}

int evc_da_json_parse_submit_reply(const char *text, size_t size, uint64_t id,
                                   uint64_t *height_out, struct evc_da_json_error *err) {
  cJSON *root = NULL;
  const cJSON *result = NULL;
  int rc = envelope(text, size, id, &root, &result, err);
  if (rc == EVC_EDA) {
    const char *m = err->message;
    if (has(m, "over size limit") || has(m, "too large")) rc = EVC_ETOOBIG;
    if (has(m, "timed out waiting for tx to be included")) rc = EVC_ETIMEDOUT;
  } else if (rc == 0) {
    uint64_t h = 0;
    if (json_height(result, &h) != 0 || h == 0) {
      rc = fail(err, EVC_EDECODE, 0, "submit result is not a DA height");
    } else {
      *height_out = h;
    }
  }
  cJSON_Delete(root);
  return rc;
}

int evc_da_json_parse_header_reply(const char *text, size_t size, uint64_t id,
                                   uint64_t *height_out, struct evc_da_json_error *err) {
  cJSON *root = NULL;
  const cJSON *result = NULL;
  int rc = envelope(text, size, id, &root, &result, err);
  if (rc == EVC_EDA && future_claim(err->message)) rc = EVC_EFUTURE;
  if (rc == 0) {
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(result, "header");
    const cJSON *height = cJSON_GetObjectItemCaseSensitive(h, "height");
    uint64_t v = 0;
    if (!cJSON_IsObject(h) || json_height(height, &v) != 0) {
      rc = fail(err, EVC_EDECODE, 0, "reply has no header.height");
    } else {
      *height_out = v;
    }
  }
  cJSON_Delete(root);
  return rc;
}

static int index_compare(const void *a, const void *b) {
  const struct evc_da_blob *x = a;
  const struct evc_da_blob *y = b;
  if (x->index != y->index) return x->index < y->index ? -1 : 1;
  return 0;
}

/* Decodes one blob object into out, its data appended at storage + *used. */
static int decode_blob(const cJSON *o, uint8_t *storage, size_t cap, size_t *used,
                       struct evc_da_blob *out, bool want_index) {
  const cJSON *ns = cJSON_GetObjectItemCaseSensitive(o, "namespace");
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "data");
  const cJSON *sv = cJSON_GetObjectItemCaseSensitive(o, "share_version");
  if (!cJSON_IsObject(o) || b64_namespace(ns, out->namespace_id) != 0) return EVC_EDECODE;
  if (!cJSON_IsString(data) || data->valuestring == NULL) return EVC_EDECODE;
  if (sv != NULL && !cJSON_IsNull(sv) && (!cJSON_IsNumber(sv) || sv->valuedouble != 0)) {
    return EVC_EDECODE;
  }
  size_t size = 0;
  if (b64_decode(data->valuestring, storage + *used, cap - *used, &size) != 0) {
    return EVC_EDECODE;
  }
  out->bytes = storage + *used;
  out->size = size;
  *used += size;
  out->index = 0;
  if (want_index) {
    uint64_t index = 0;
    if (json_height(cJSON_GetObjectItemCaseSensitive(o, "index"), &index) != 0 ||
        index > UINT32_MAX) {
      return EVC_EDECODE;
    }
    out->index = (uint32_t)index;
  }
  return 0;
}

/* Decodes an array of blob objects; want_index reads each "index" (replies). */
static int decode_blobs(const cJSON *list, bool want_index, struct evc_da_json_blobs *out) {
  memset(out, 0, sizeof *out);
  int n = cJSON_GetArraySize(list);
  if (n <= 0) return 0;
  if ((size_t)n > EVC_DA_JSON_BLOBS_MAX) return EVC_ETOOBIG;
  size_t cap = 1; /* decoded bytes are at most 3/4 of the text: bound by the text */
  const cJSON *it = NULL;
  cJSON_ArrayForEach(it, list) {
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "data");
    if (cJSON_IsString(d) && d->valuestring != NULL) cap += strlen(d->valuestring) / 4 * 3 + 3;
  }
  out->blobs = calloc((size_t)n, sizeof *out->blobs);
  out->storage = malloc(cap);
  if (out->blobs == NULL || out->storage == NULL) {
    evc_da_json_blobs_free(out);
    return EVC_ENOMEM;
  }
  size_t used = 0;
  cJSON_ArrayForEach(it, list) {
    int rc = decode_blob(it, out->storage, cap, &used, &out->blobs[out->count], want_index);
    if (rc != 0) {
      evc_da_json_blobs_free(out);
      return rc;
    }
    out->count++;
  }
  return 0;
}

int evc_da_json_parse_get_all_reply(const char *text, size_t size, uint64_t id,
                                    struct evc_da_json_blobs *blobs_out,
                                    struct evc_da_json_error *err) {
  memset(blobs_out, 0, sizeof *blobs_out);
  cJSON *root = NULL;
  const cJSON *result = NULL;
  int rc = envelope(text, size, id, &root, &result, err);
  if (rc == EVC_EDA && future_claim(err->message)) rc = EVC_EFUTURE;
  if (rc == EVC_EDA && has(err->message, "blob: not found")) rc = 0; /* older nodes: empty */
  if (rc == 0 && result != NULL && !cJSON_IsNull(result)) {
    if (!cJSON_IsArray(result)) {
      rc = fail(err, EVC_EDECODE, 0, "GetAll result is not an array");
    } else {
      rc = decode_blobs(result, true, blobs_out);
      if (rc == EVC_ENOMEM) fail(err, rc, 0, "out of memory decoding blobs");
      if (rc != 0 && rc != EVC_ENOMEM) {
        rc = fail(err, EVC_EDECODE, 0, "GetAll result has a malformed blob");
      }
    }
  }
  cJSON_Delete(root);
  if (rc != 0 || blobs_out->count < 2) return rc;
  qsort(blobs_out->blobs, blobs_out->count, sizeof *blobs_out->blobs, index_compare);
  for (size_t i = 1; i < blobs_out->count; i++) {
    if (blobs_out->blobs[i].index == blobs_out->blobs[i - 1].index) {
      evc_da_json_blobs_free(blobs_out);
      return fail(err, EVC_EDECODE, 0, "GetAll result repeats a blob index");
    }
  }
  return 0;
}

void evc_da_json_blobs_free(struct evc_da_json_blobs *blobs) {
  free(blobs->blobs);
  free(blobs->storage);
  memset(blobs, 0, sizeof *blobs);
}

/* ---- server: requests ---- */

static int read_id(const cJSON *root, struct evc_da_json_request *req) {
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
  if (id == NULL || cJSON_IsNull(id)) return 0;
  if (cJSON_IsString(id) && id->valuestring != NULL &&
      strlen(id->valuestring) > EVC_DA_JSON_ID_MAX / 2) {
    return EVC_EDECODE;
  }
  if (!cJSON_IsNumber(id) && !cJSON_IsString(id)) return EVC_EDECODE;
  char *text = cJSON_PrintUnformatted(id);
  if (text == NULL) return EVC_ENOMEM;
  size_t len = strlen(text);
  int rc = len < sizeof req->id ? 0 : EVC_EDECODE;
  if (rc == 0) memcpy(req->id, text, len + 1);
  free(text);
  return rc;
}

static int params_submit(const cJSON *params, struct evc_da_json_request *req,
                         struct evc_da_json_error *err) {
  const cJSON *list = cJSON_GetArrayItem(params, 0);
  const cJSON *options = cJSON_GetArrayItem(params, 1);
  if (!cJSON_IsArray(list)) {
    return fail(err, EVC_EDECODE, EVC_DA_RPC_INVALID_PARAMS, "blob.Submit wants [[blobs], "
                "options]");
  }
  if (options != NULL && !cJSON_IsObject(options)) {
    return fail(err, EVC_EDECODE, EVC_DA_RPC_INVALID_PARAMS, "blob.Submit options must be an "
                "object");
  }
  if (cJSON_GetArraySize(list) == 0) {
    return fail(err, EVC_EDECODE, EVC_DA_RPC_SERVICE_ERROR, "state: no blobs provided");
  }
  int rc = decode_blobs(list, false, &req->submit);
  if (rc == EVC_ETOOBIG) {
    return fail(err, EVC_EDECODE, EVC_DA_RPC_SERVICE_ERROR, "blob: over size limit");
  }
  if (rc != 0) {
    return fail(err, EVC_EDECODE, EVC_DA_RPC_INVALID_PARAMS, "blob.Submit: malformed blob (want "
                "base64 namespace of 29 bytes, base64 data, share_version 0)");
  }
  return 0;
}

static int params_get_all(const cJSON *params, struct evc_da_json_request *req,
                          struct evc_da_json_error *err) {
  const cJSON *list = cJSON_GetArrayItem(params, 1);
  int n = cJSON_GetArraySize(list);
  if (json_height(cJSON_GetArrayItem(params, 0), &req->height) != 0 || !cJSON_IsArray(list)) {
    return fail(err, EVC_EDECODE, EVC_DA_RPC_INVALID_PARAMS, "blob.GetAll wants [height, "
                "[namespaces]]");
  }
  if (n > EVC_DA_JSON_NAMESPACES_MAX) {
    return fail(err, EVC_EDECODE, EVC_DA_RPC_INVALID_PARAMS, "blob.GetAll: too many "
                "namespaces");
  }
  if (n == 0) return 0;
  req->namespaces = calloc((size_t)n, sizeof *req->namespaces);
  if (req->namespaces == NULL) return fail(err, EVC_ENOMEM, 1, "out of memory");
  const cJSON *it = NULL;
  cJSON_ArrayForEach(it, list) {
    if (b64_namespace(it, req->namespaces[req->namespace_count]) != 0) {
      return fail(err, EVC_EDECODE, EVC_DA_RPC_INVALID_PARAMS, "blob.GetAll: a namespace is "
                  "not 29 bytes of base64");
    }
    req->namespace_count++;
  }
  return 0;
}

static int read_method(const cJSON *m, struct evc_da_json_request *req,
                       struct evc_da_json_error *err) {
  static const struct {
    const char *name;
    enum evc_da_method method;
  } methods[] = {{"blob.Submit", EVC_DA_METHOD_SUBMIT},
                 {"blob.GetAll", EVC_DA_METHOD_GET_ALL},
                 {"header.NetworkHead", EVC_DA_METHOD_NETWORK_HEAD},
                 {"header.GetByHeight", EVC_DA_METHOD_GET_BY_HEIGHT}};
  if (!cJSON_IsString(m) || m->valuestring == NULL) {
    return fail(err, EVC_EDECODE, EVC_DA_RPC_INVALID_REQUEST, "request has no method");
  }
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    if (strcmp(m->valuestring, methods[i].name) == 0) {
      req->method = methods[i].method;
      return 0;
    }
  }
  char name[64];
  snprintf(name, sizeof name, "%s", m->valuestring);
  return fail(err, EVC_EDECODE, EVC_DA_RPC_METHOD_NOT_FOUND, "method '%s' not found", name);
}

static int read_params(const cJSON *params, struct evc_da_json_request *req,
                       struct evc_da_json_error *err) {
  if (params != NULL && !cJSON_IsArray(params)) {
    return fail(err, EVC_EDECODE, EVC_DA_RPC_INVALID_PARAMS, "params must be an array");
  }
  switch (req->method) {
  case EVC_DA_METHOD_SUBMIT:
    return params_submit(params, req, err);
  case EVC_DA_METHOD_GET_ALL:
    return params_get_all(params, req, err);
  case EVC_DA_METHOD_GET_BY_HEIGHT:
    if (json_height(cJSON_GetArrayItem(params, 0), &req->height) != 0) {
      return fail(err, EVC_EDECODE, EVC_DA_RPC_INVALID_PARAMS, "header.GetByHeight wants "
                  "[height]");
    }
    return 0;
  case EVC_DA_METHOD_NETWORK_HEAD:
    return 0;
  }
  EVC_UNREACHABLE();
}

int evc_da_json_parse_request(const char *text, size_t size, struct evc_da_json_request *req,
                              struct evc_da_json_error *err) {
  memset(req, 0, sizeof *req);
  memcpy(req->id, "null", 5);
  if (size > EVC_DA_JSON_REQUEST_SIZE_MAX) {
    return fail(err, EVC_EDECODE, EVC_DA_RPC_INVALID_REQUEST, "request too big");
  }
  cJSON *root = size == 0 ? NULL : parse_exact(text, size);
  if (root == NULL) return fail(err, EVC_EDECODE, EVC_DA_RPC_PARSE_ERROR, "parse error");
  int rc = 0;
  if (!cJSON_IsObject(root)) {
    rc = fail(err, EVC_EDECODE, EVC_DA_RPC_INVALID_REQUEST, "request is not an object");
  } else if (read_id(root, req) != 0) {
    rc = fail(err, EVC_EDECODE, EVC_DA_RPC_INVALID_REQUEST, "request id must be a short "
              "number or string");
  } else {
    rc = read_method(cJSON_GetObjectItemCaseSensitive(root, "method"), req, err);
    if (rc == 0) rc = read_params(cJSON_GetObjectItemCaseSensitive(root, "params"), req, err);
  }
  cJSON_Delete(root);
  if (rc != 0) {
    char id[EVC_DA_JSON_ID_MAX];
    memcpy(id, req->id, sizeof id);
    evc_da_json_request_free(req);
    memcpy(req->id, id, sizeof id);
  }
  return rc;
}

void evc_da_json_request_free(struct evc_da_json_request *req) {
  free(req->namespaces);
  evc_da_json_blobs_free(&req->submit);
  memset(req, 0, sizeof *req);
  memcpy(req->id, "null", 5);
}

/* ---- server: replies ---- */

/* {"jsonrpc":"2.0","id":<id>,key:value}; takes value. */
static int reply_doc(const char *id, const char *key, cJSON *value, char **text_out,
                     size_t *size_out) {
  cJSON *root = cJSON_CreateObject();
  if (root == NULL || value == NULL) {
    cJSON_Delete(root);
    cJSON_Delete(value);
    return EVC_ENOMEM;
  }
  if (cJSON_AddStringToObject(root, "jsonrpc", "2.0") == NULL ||
      cJSON_AddRawToObject(root, "id", id) == NULL) {
    cJSON_Delete(root);
    cJSON_Delete(value);
    return EVC_ENOMEM;
  }
  cJSON_AddItemToObject(root, key, value);
  return print_doc(root, EVC_DA_JSON_REPLY_SIZE_MAX, text_out, size_out);
}

int evc_da_json_error_reply(const char *id, int code, const char *message, char **text_out,
                            size_t *size_out) {
  cJSON *e = cJSON_CreateObject();
  if (e == NULL) return EVC_ENOMEM;
  if (cJSON_AddNumberToObject(e, "code", code) == NULL ||
      cJSON_AddStringToObject(e, "message", message) == NULL) {
    cJSON_Delete(e);
    return EVC_ENOMEM;
  }
  return reply_doc(id, "error", e, text_out, size_out);
}

int evc_da_json_height_reply(const char *id, uint64_t height, char **text_out,
                             size_t *size_out) {
  return reply_doc(id, "result", cJSON_CreateNumber((double)height), text_out, size_out);
}

int evc_da_json_blobs_reply(const char *id, const struct evc_da_blob *blobs, size_t count,
                            char **text_out, size_t *size_out) {
  if (count == 0) return reply_doc(id, "result", cJSON_CreateNull(), text_out, size_out);
  cJSON *list = cJSON_CreateArray();
  if (list == NULL) return EVC_ENOMEM;
  for (size_t i = 0; i < count; i++) {
    cJSON *b = blob_object(&blobs[i], blobs[i].index);
    if (b == NULL) {
      cJSON_Delete(list);
      return EVC_ENOMEM;
    }
    cJSON_AddItemToArray(list, b);
  }
  return reply_doc(id, "result", list, text_out, size_out);
}

static void format_time(uint64_t time_ns, char out[96]) {
  time_t secs = (time_t)(time_ns / 1000000000u);
  struct tm tm;
  if (gmtime_r(&secs, &tm) == NULL) memset(&tm, 0, sizeof tm);
  snprintf(out, 96, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(time_ns % 1000000000u));
}

static cJSON *header_object(const struct evc_da_json_header *h, const char *height) {
  char time_text[96];
  char data_hash[2 * EVC_HASH_SIZE + 1];
  char last_hash[2 * EVC_HASH_SIZE + 1];
  format_time(h->time_ns, time_text);
  evc_hex_encode(h->data_hash, EVC_HASH_SIZE, data_hash);
  evc_hex_encode(h->last_hash, EVC_HASH_SIZE, last_hash);
  cJSON *o = cJSON_CreateObject();
  cJSON *version = cJSON_AddObjectToObject(o, "version");
  cJSON_AddStringToObject(version, "block", "11");
  cJSON_AddStringToObject(version, "app", "1");
  cJSON_AddStringToObject(o, "chain_id", "evc-da");
  cJSON_AddStringToObject(o, "height", height);
  cJSON_AddStringToObject(o, "time", time_text);
  cJSON *last = cJSON_AddObjectToObject(o, "last_block_id");
  cJSON_AddStringToObject(last, "hash", last_hash);
  cJSON_AddStringToObject(o, "data_hash", data_hash);
  return o;
}

int evc_da_json_header_reply(const char *id, const struct evc_da_json_header *header,
                             char **text_out, size_t *size_out) {
  char height[24];
  snprintf(height, sizeof height, "%llu", (unsigned long long)header->height);
  cJSON *result = cJSON_CreateObject();
  cJSON_AddItemToObject(result, "header", header_object(header, height));
  cJSON *commit = cJSON_AddObjectToObject(result, "commit");
  cJSON_AddStringToObject(commit, "height", height);
  cJSON_AddArrayToObject(commit, "signatures");
  cJSON *vset = cJSON_AddObjectToObject(result, "validator_set");
  cJSON_AddArrayToObject(vset, "validators");
  cJSON *dah = cJSON_AddObjectToObject(result, "dah");
  cJSON_AddArrayToObject(dah, "row_roots");
  cJSON_AddArrayToObject(dah, "column_roots");
  /* Each Add returns NULL on allocation failure; one check over the finished shape. */
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(result, "header");
  if (result == NULL || cJSON_GetArraySize(result) != 4 || cJSON_GetArraySize(h) != 6 ||
      dah == NULL || cJSON_GetArraySize(dah) != 2 || cJSON_GetArraySize(commit) != 2 ||
      vset == NULL) {
    cJSON_Delete(result);
    return EVC_ENOMEM;
  }
  return reply_doc(id, "result", result, text_out, size_out);
}
