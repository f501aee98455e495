/* genesis.json: a strict parser whose errors name the field, the emitter, and the genesis hash
 * that identifies the chain (docs/wire-format.md). The parser must never crash or read past
 * its input whatever the bytes, and never accept a field it does not know or a duplicate. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/buf.h"
#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/types/sha256.h"
#include "node/types/types.h"

/* Largest genesis.json accepted, in bytes. */
#define GENESIS_JSON_SIZE_MAX (1024u * 1024u)
/* Largest integer a JSON number may carry: 2^53 - 1. Above it a double cannot tell
 * neighbouring integers apart, so larger values must be written as decimal strings. */
#define JSON_INTEGER_MAX 9007199254740991ull
/* Longest decimal text of a u64 (18446744073709551615). */
#define U64_DIGITS_MAX 20
/* How much of an unknown key an error message quotes. */
#define KEY_QUOTE_SIZE_MAX 64
/* The genesis hash starts with this domain string (no length, no NUL). */
#define GENESIS_HASH_DOMAIN "evc.genesis.v1"
/* domain, chain id, three u64, pubkey, two namespaces */
#define GENESIS_HASH_INPUT_SIZE_MAX                                                   \
  (sizeof(GENESIS_HASH_DOMAIN) - 1 + 1 + EVC_CHAIN_ID_SIZE_MAX + 3 * 8 + EVC_PUBKEY_SIZE + \
   2 * EVC_NAMESPACE_SIZE)
/* Version byte plus 18 zero bytes: the fixed prefix of a version-0 namespace. */
#define NAMESPACE_PREFIX_SIZE 19

_Static_assert(JSON_INTEGER_MAX == (1ull << 53) - 1, "the largest exact double integer");

enum genesis_field {
  FIELD_CHAIN_ID,
  FIELD_INITIAL_HEIGHT,
  FIELD_GENESIS_TIME_NS,
  FIELD_PROPOSER_PUBKEY,
  FIELD_DA_START_HEIGHT,
  FIELD_HEADER_NAMESPACE,
  FIELD_DATA_NAMESPACE,
  FIELD_COUNT,
};

static const char *const field_names[FIELD_COUNT] = {
    [FIELD_CHAIN_ID] = "chain_id",
    [FIELD_INITIAL_HEIGHT] = "initial_height",
    [FIELD_GENESIS_TIME_NS] = "genesis_time_ns",
    [FIELD_PROPOSER_PUBKEY] = "proposer_pubkey",
    [FIELD_DA_START_HEIGHT] = "da_start_height",
    [FIELD_HEADER_NAMESPACE] = "header_namespace",
    [FIELD_DATA_NAMESPACE] = "data_namespace",
};


static int field_index(const char *key) {
  for (int f = 0; f < FIELD_COUNT; f++) {
    if (strcmp(key, field_names[f]) == 0) return f;
  }
  return -1;
}

/* Copies a key for an error message: bounded, with anything unprintable shown as '?'. */
static void quote_key(const char *key, char out[KEY_QUOTE_SIZE_MAX + 4]) {
  size_t i = 0;
  for (; key[i] != '\0' && i < KEY_QUOTE_SIZE_MAX; i++) {
    unsigned char c = (unsigned char)key[i];
    out[i] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
  }
  if (key[i] != '\0') {
    memcpy(out + i, "...", 3);
    i += 3;
  }
  out[i] = '\0';
}

/* ---- field values ---- */

/* Decimal digits only, no sign, no leading zero except "0", must fit a u64. */
static bool parse_u64_text(const char *text, uint64_t *out) {
  size_t len = strlen(text);
  if (len == 0 || len > U64_DIGITS_MAX) return false;
  if (len > 1 && text[0] == '0') return false;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] < '0' || text[i] > '9') return false;
    uint64_t digit = (uint64_t)(text[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *out = v;
  return true;
}

/* Returns NULL and sets *out, or a message saying what the value must be. */
static const char *parse_u64(const cJSON *item, uint64_t *out) {
  if (cJSON_IsString(item)) {
    if (parse_u64_text(item->valuestring, out)) return NULL;
    return "must be a decimal string of digits, without sign or leading zeros, below 2^64";
  }
  if (cJSON_IsNumber(item)) {
    double d = item->valuedouble;
    /* Written so that NaN fails too. */
    if (!(d >= 0.0 && d <= (double)JSON_INTEGER_MAX)) {
      return "must be a JSON integer between 0 and 2^53-1 (write larger values as a string)";
    }
    uint64_t v = (uint64_t)d;
    if ((double)v != d) return "must be an integer, not a fraction";
    *out = v;
    return NULL;
  }
  return "must be an integer (a JSON number or a decimal string)";
}

static const char *parse_height(const cJSON *item, uint64_t *out) {
  static const char why[] = "must be an integer >= 1";
  uint64_t v = 0;
  if (parse_u64(item, &v) != NULL || v == 0) return why;
  *out = v;
  return NULL;
}

static const char *parse_hex(const cJSON *item, uint8_t *out, size_t size, const char *why) {
  if (!cJSON_IsString(item)) return why;
  const char *text = item->valuestring;
  if (evc_hex_decode(text, strlen(text), out, size) != 0) return why;
  return NULL;
}

static bool namespace_valid(const uint8_t ns[EVC_NAMESPACE_SIZE]) {
  for (size_t i = 0; i < NAMESPACE_PREFIX_SIZE; i++) {
    if (ns[i] != 0) return false;
  }
  return true;
}

static const char *parse_namespace(const cJSON *item, uint8_t out[EVC_NAMESPACE_SIZE]) {
  static const char why[] =
      "must be a version-0 namespace: 58 hex digits of which the first 38 are zeros";
  if (parse_hex(item, out, EVC_NAMESPACE_SIZE, why) != NULL) return why;
  if (!namespace_valid(out)) return why;
  return NULL;
}

static const char *parse_chain_id(const cJSON *item, struct evc_chain_id *out) {
  static const char why[] = "must be a string of 1 to 64 characters from [A-Za-z0-9._-]";
  if (!cJSON_IsString(item)) return why;
  const char *text = item->valuestring;
  if (evc_chain_id_set(out, text, strlen(text)) != 0) return why;
  return NULL;
}

static const char *parse_field(int f, const cJSON *item, struct evc_genesis *g) {
  switch (f) {
  case FIELD_CHAIN_ID:
    return parse_chain_id(item, &g->chain_id);
  case FIELD_INITIAL_HEIGHT:
    return parse_height(item, &g->initial_height);
  case FIELD_GENESIS_TIME_NS:
    return parse_u64(item, &g->genesis_time_ns);
  case FIELD_PROPOSER_PUBKEY:
    return parse_hex(item, g->proposer_pubkey, EVC_PUBKEY_SIZE, "must be 64 hex digits");
  case FIELD_DA_START_HEIGHT:
    return parse_height(item, &g->da_start_height);
  case FIELD_HEADER_NAMESPACE:
    return parse_namespace(item, g->header_namespace);
  case FIELD_DATA_NAMESPACE:
    return parse_namespace(item, g->data_namespace);
  default:
    EVC_UNREACHABLE();
  }
}

/* ---- the document ---- */

static int parse_object(const cJSON *root, struct evc_genesis *out, char *err, size_t err_size) {
  if (!cJSON_IsObject(root)) {
    return evc_errorf(err, err_size, EVC_ECONFIG, "genesis: the top level must be a JSON object");
  }
  const cJSON *items[FIELD_COUNT] = {0};
  for (const cJSON *it = root->child; it != NULL; it = it->next) {
    EVC_ASSERT(it->string != NULL);
    int f = field_index(it->string);
    if (f < 0) {
      char quoted[KEY_QUOTE_SIZE_MAX + 4];
      quote_key(it->string, quoted);
      return evc_errorf(err, err_size, EVC_ECONFIG, "genesis: unknown field \"%s\"", quoted);
    }
    if (items[f] != NULL) {
      return evc_errorf(err, err_size, EVC_ECONFIG, "genesis: field \"%s\": appears twice",
                  field_names[f]);
    }
    items[f] = it;
  }
  for (int f = 0; f < FIELD_COUNT; f++) {
    if (items[f] == NULL) {
      return evc_errorf(err, err_size, EVC_ECONFIG, "genesis: field \"%s\": missing", field_names[f]);
    }
  }
  for (int f = 0; f < FIELD_COUNT; f++) {
    const char *why = parse_field(f, items[f], out);
    if (why != NULL) {
      return evc_errorf(err, err_size, EVC_ECONFIG, "genesis: field \"%s\": %s", field_names[f], why);
    }
  }
  return 0;
}

/* Refuses NUL in the text: cJSON would stop at a raw NUL and shorten strings at \u0000,
 * which would let two different documents mean the same genesis. */
static int check_no_nul(const char *text, size_t size, char *err, size_t err_size) {
  const char *nul = memchr(text, '\0', size);
  if (nul != NULL) {
    return evc_errorf(err, err_size, EVC_EDECODE, "genesis: NUL byte at offset %zu",
                (size_t)(nul - text));
  }
  for (size_t i = 0; i + 6 <= size; i++) {
    if (memcmp(text + i, "\\u0000", 6) == 0) {
      return evc_errorf(err, err_size, EVC_ECONFIG, "genesis: \\u0000 at offset %zu is not allowed", i);
    }
  }
  return 0;
}

static int parse_text(const char *text, size_t size, struct evc_genesis *out, char *err,
                      size_t err_size) {
  EVC_ASSERT(text[size] == '\0');
  int rc = check_no_nul(text, size, err, err_size);
  if (rc != 0) return rc;
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
  if (root == NULL) {
    size_t offset = (end != NULL && end >= text && end <= text + size) ? (size_t)(end - text) : 0;
    return evc_errorf(err, err_size, EVC_EDECODE, "genesis: invalid JSON near offset %zu", offset);
  }
  rc = parse_object(root, out, err, err_size);
  cJSON_Delete(root);
  return rc;
}

int evc_genesis_parse_json(const char *json, size_t size, struct evc_genesis *out, char *err,
                           size_t err_size) {
  EVC_ASSERT(out != NULL);
  EVC_ASSERT(json != NULL || size == 0);
  memset(out, 0, sizeof *out);
  if (err != NULL && err_size > 0) err[0] = '\0';
  if (size > GENESIS_JSON_SIZE_MAX) {
    return evc_errorf(err, err_size, EVC_ETOOBIG, "genesis: %zu bytes, more than the %u byte limit",
                size, GENESIS_JSON_SIZE_MAX);
  }
  /* The input need not be NUL-terminated: parse a bounded, terminated copy. */
  char *text = malloc(size + 1);
  if (text == NULL) return evc_errorf(err, err_size, EVC_ENOMEM, "genesis: out of memory");
  if (size > 0) memcpy(text, json, size);
  text[size] = '\0';
  int rc = parse_text(text, size, out, err, err_size);
  free(text);
  if (rc != 0) memset(out, 0, sizeof *out);
  return rc;
}

/* ---- emitting and hashing ---- */

static bool genesis_valid(const struct evc_genesis *g) {
  struct evc_chain_id check;
  if (g->chain_id.size == 0 || g->chain_id.size > EVC_CHAIN_ID_SIZE_MAX) return false;
  if (g->chain_id.text[g->chain_id.size] != '\0') return false;
  if (evc_chain_id_set(&check, g->chain_id.text, g->chain_id.size) != 0) return false;
  if (g->initial_height == 0 || g->da_start_height == 0) return false;
  return namespace_valid(g->header_namespace) && namespace_valid(g->data_namespace);
}

/* A u64 as a JSON number when exact as one, else as a decimal string (the parser takes both). */
static bool add_u64(cJSON *obj, const char *key, uint64_t v, bool as_number) {
  char text[U64_DIGITS_MAX + 1];
  snprintf(text, sizeof text, "%" PRIu64, v);
  if (as_number && v <= JSON_INTEGER_MAX) return cJSON_AddRawToObject(obj, key, text) != NULL;
  return cJSON_AddStringToObject(obj, key, text) != NULL;
}

static bool add_hex(cJSON *obj, const char *key, const uint8_t *bytes, size_t size) {
  char text[2 * EVC_PUBKEY_SIZE + 1];
  EVC_ASSERT(2 * size + 1 <= sizeof text);
  evc_hex_encode(bytes, size, text);
  return cJSON_AddStringToObject(obj, key, text) != NULL;
}

static bool add_fields(cJSON *obj, const struct evc_genesis *g) {
  return cJSON_AddStringToObject(obj, "chain_id", g->chain_id.text) != NULL &&
         add_u64(obj, "initial_height", g->initial_height, true) &&
         add_u64(obj, "genesis_time_ns", g->genesis_time_ns, false) &&
         add_hex(obj, "proposer_pubkey", g->proposer_pubkey, EVC_PUBKEY_SIZE) &&
         add_u64(obj, "da_start_height", g->da_start_height, true) &&
         add_hex(obj, "header_namespace", g->header_namespace, EVC_NAMESPACE_SIZE) &&
         add_hex(obj, "data_namespace", g->data_namespace, EVC_NAMESPACE_SIZE);
}

int evc_genesis_to_json(const struct evc_genesis *g, char **json_out) {
  EVC_ASSERT(g != NULL);
  EVC_ASSERT(json_out != NULL);
  *json_out = NULL;
  if (!genesis_valid(g)) return EVC_EINVAL;
  cJSON *root = cJSON_CreateObject();
  if (root == NULL) return EVC_ENOMEM;
  char *printed = add_fields(root, g) ? cJSON_Print(root) : NULL;
  cJSON_Delete(root);
  if (printed == NULL) return EVC_ENOMEM;
  /* Copied so that the caller frees with free() whatever allocator cJSON was given. */
  size_t len = strlen(printed);
  char *json = malloc(len + 2);
  if (json != NULL) {
    memcpy(json, printed, len);
    json[len] = '\n';
    json[len + 1] = '\0';
  }
  cJSON_free(printed);
  if (json == NULL) return EVC_ENOMEM;
  *json_out = json;
  return 0;
}

void evc_genesis_hash(const struct evc_genesis *g, uint8_t out[EVC_HASH_SIZE]) {
  EVC_ASSERT(g != NULL);
  EVC_ASSERT(out != NULL);
  EVC_ASSERT(g->chain_id.size >= 1);
  EVC_ASSERT(g->chain_id.size <= EVC_CHAIN_ID_SIZE_MAX);
  uint8_t buf[GENESIS_HASH_INPUT_SIZE_MAX];
  struct evc_writer w;
  evc_writer_init(&w, buf, sizeof buf);
  evc_write_bytes(&w, GENESIS_HASH_DOMAIN, sizeof(GENESIS_HASH_DOMAIN) - 1);
  evc_write_u8(&w, g->chain_id.size);
  evc_write_bytes(&w, g->chain_id.text, g->chain_id.size);
  evc_write_u64(&w, g->initial_height);
  evc_write_u64(&w, g->genesis_time_ns);
  evc_write_bytes(&w, g->proposer_pubkey, EVC_PUBKEY_SIZE);
  evc_write_u64(&w, g->da_start_height);
  evc_write_bytes(&w, g->header_namespace, EVC_NAMESPACE_SIZE);
  evc_write_bytes(&w, g->data_namespace, EVC_NAMESPACE_SIZE);
  EVC_ASSERT(w.error == 0);
  evc_sha256(buf, w.offset, out);
}
