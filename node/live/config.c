/* evc-node settings: one table maps each setting to its config.json field and its `start` flag,
 * and one text parser per kind serves both, so both spellings accept exactly the same values.
 * Never reads a file and never guesses: a bad value is an error naming where it came from. */
#include "node/live/config.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"

#define MS_NS 1000000ull
#define SEC_NS 1000000000ull
#define MIN_NS (60ull * SEC_NS)
#define DURATION_TEXT_MAX 32
#define FIELD_TEXT_MAX 64
#define REASON_MAX 384
#define NODE_ID_HEX_SIZE (2 * EVC_NODE_ID_SIZE)
#define HASH_HEX_SIZE (2 * EVC_HASH_SIZE)

enum kind {
  K_BOOL,
  K_DURATION,
  K_U32,
  K_LISTEN,
  K_PEERS,
  K_EXPECT_HEAD,
  K_URL,
  K_TOKEN,
  K_LOG_LEVEL,
};

struct setting {
  const char *section; /* NULL: top level of config.json */
  const char *key;
  const char *flag; /* NULL: config.json only */
  enum kind kind;
  size_t offset;
  uint32_t min; /* K_U32 */
  uint32_t max;
};

#define OFF(field) offsetof(struct evc_live_config, field)

static const struct setting settings[] = {
    {NULL, "aggregator", "aggregator", K_BOOL, OFF(aggregator), 0, 0},
    {NULL, "block_time", "block-time", K_DURATION, OFF(block_time_ns), 0, 0},
    {NULL, "shutdown_timeout", "shutdown-timeout", K_DURATION, OFF(shutdown_timeout_ns), 0, 0},
    {NULL, "log_level", "log-level", K_LOG_LEVEL, OFF(log_level), 0, 0},
    {"catchup", "p2p_timeout", "catchup.p2p-timeout", K_DURATION, OFF(catchup_p2p_timeout_ns), 0,
     0},
    {"catchup", "inbound_grace", "catchup.inbound-grace", K_DURATION,
     OFF(catchup_inbound_grace_ns), 0, 0},
    {"catchup", "peek_timeout", "catchup.peek-timeout", K_DURATION, OFF(catchup_peek_timeout_ns),
     0, 0},
    {"catchup", "da_only", "catchup.da-only", K_BOOL, OFF(catchup_da_only), 0, 0},
    {"catchup", "expect_head", "catchup.expect-head", K_EXPECT_HEAD, 0, 0, 0},
    {"p2p", "listen", "p2p.listen", K_LISTEN, OFF(p2p_listen), 0, 0},
    {"p2p", "peers", "p2p.peers", K_PEERS, 0, 0, 0},
    {"da", "address", "da.address", K_URL, OFF(da_address), 0, 0},
    {"da", "auth_token", "da.auth-token", K_TOKEN, OFF(da_auth_token), 0, 0},
    {"da", "block_time", "da.block-time", K_DURATION, OFF(da_block_time_ns), 0, 0},
    {"da", "mempool_ttl", "da.mempool-ttl", K_U32, OFF(da_mempool_ttl_blocks), 1, 100000},
    {"da", "request_timeout", "da.request-timeout", K_DURATION, OFF(da_request_timeout_ns), 0, 0},
    {"rpc", "listen", "rpc.listen", K_LISTEN, OFF(rpc_listen), 0, 0},
    {"limits", "mempool_txs_max", NULL, K_U32, OFF(mempool_txs_max), 1, 10000000},
    {"limits", "mempool_bytes_max", NULL, K_U32, OFF(mempool_bytes_max), 4096, 1u << 30},
    {"limits", "block_txs_max", NULL, K_U32, OFF(block_txs_max), 1, 64},
    {"limits", "da_batch_bytes_max", NULL, K_U32, OFF(da_batch_bytes_max),
     2 * EVC_SIGNED_HEADER_SIZE_MAX, 64u << 20},
    {"limits", "da_read_ahead", NULL, K_U32, OFF(da_read_ahead), 1, 1024},
    {"limits", "rollback_depth_max", NULL, K_U32, OFF(rollback_depth_max), 1, 1000000},
};
#define SETTING_COUNT (sizeof settings / sizeof settings[0])

static const char *const sections[] = {"catchup", "p2p", "da", "rpc", "limits"};
#define SECTION_COUNT (sizeof sections / sizeof sections[0])

static const char *const level_names[] = {"debug", "info", "warn", "error"};


void evc_live_config_defaults(struct evc_live_config *cfg) {
  struct evc_node_config node;
  evc_node_config_defaults(&node);
  memset(cfg, 0, sizeof *cfg);
  cfg->block_time_ns = node.block_time_ns;
  cfg->shutdown_timeout_ns = node.shutdown_timeout_ns;
  cfg->log_level = EVC_LOG_INFO;
  cfg->catchup_p2p_timeout_ns = node.catchup_p2p_timeout_ns;
  cfg->catchup_inbound_grace_ns = node.catchup_inbound_grace_ns;
  cfg->catchup_peek_timeout_ns = node.catchup_peek_timeout_ns;
  snprintf(cfg->p2p_listen, sizeof cfg->p2p_listen, "127.0.0.1:26656");
  snprintf(cfg->da_address, sizeof cfg->da_address, "http://127.0.0.1:26658");
  cfg->da_block_time_ns = node.da_block_time_ns;
  cfg->da_mempool_ttl_blocks = node.da_mempool_ttl_blocks;
  cfg->da_request_timeout_ns = 60 * SEC_NS;
  snprintf(cfg->rpc_listen, sizeof cfg->rpc_listen, "127.0.0.1:7331");
  cfg->mempool_txs_max = node.mempool_txs_max;
  cfg->mempool_bytes_max = node.mempool_bytes_max;
  cfg->block_txs_max = node.block_txs_max;
  cfg->da_batch_bytes_max = node.da_batch_bytes_max;
  cfg->da_read_ahead = node.da_read_ahead;
  cfg->rollback_depth_max = node.rollback_depth_max;
}

/* ---- value parsers (shared by flags and config.json) ---- */

/* Parses a decimal u64 of the whole text: digits only, no sign, no overflow. */
static int parse_u64(const char *text, size_t size, uint64_t *out) {
  if (size == 0 || size > 20) return EVC_EINVAL;
  uint64_t v = 0;
  for (size_t i = 0; i < size; i++) {
    if (text[i] < '0' || text[i] > '9') return EVC_EINVAL;
    uint64_t d = (uint64_t)(text[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return EVC_ERANGE;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

int evc_live_parse_duration(const char *text, uint64_t *ns_out) {
  EVC_ASSERT(text != NULL);
  EVC_ASSERT(ns_out != NULL);
  size_t size = strlen(text);
  size_t digits = 0;
  while (digits < size && text[digits] >= '0' && text[digits] <= '9') digits++;
  const char *unit = text + digits;
  uint64_t scale;
  if (strcmp(unit, "ms") == 0) {
    scale = MS_NS;
  } else if (strcmp(unit, "s") == 0) {
    scale = SEC_NS;
  } else if (strcmp(unit, "m") == 0) {
    scale = MIN_NS;
  } else {
    return EVC_EINVAL;
  }
  uint64_t v;
  int rc = parse_u64(text, digits, &v);
  if (rc != 0) return rc;
  if (v > UINT64_MAX / scale) return EVC_ERANGE;
  *ns_out = v * scale;
  return 0;
}

void evc_live_format_duration(uint64_t ns, char *out, size_t out_size) {
  if (ns != 0 && ns % MIN_NS == 0) {
    snprintf(out, out_size, "%llum", (unsigned long long)(ns / MIN_NS));
  } else if (ns % SEC_NS == 0) {
    snprintf(out, out_size, "%llus", (unsigned long long)(ns / SEC_NS));
  } else {
    /* sub-millisecond remainders cannot come from the parser; round down to ms */
    snprintf(out, out_size, "%llums", (unsigned long long)(ns / MS_NS));
  }
}

int evc_live_parse_expect_head(const char *text, uint64_t *height_out,
                               uint8_t hash_out[EVC_HASH_SIZE], char *err, size_t err_size) {
  const char *colon = strchr(text, ':');
  if (colon == NULL) {
    return evc_errorf(err, err_size, EVC_EINVAL, "'%.80s' is not HEIGHT:HASH (e.g. 1200:<64 hex>)",
                text);
  }
  uint64_t height;
  if (parse_u64(text, (size_t)(colon - text), &height) != 0 || height == 0) {
    return evc_errorf(err, err_size, EVC_EINVAL, "the height in '%.80s' must be a decimal number >= 1",
                text);
  }
  const char *hex = colon + 1;
  if (strlen(hex) != HASH_HEX_SIZE || evc_hex_decode(hex, HASH_HEX_SIZE, hash_out,
                                                     EVC_HASH_SIZE) != 0) {
    return evc_errorf(err, err_size, EVC_EINVAL, "the hash in '%.80s' must be 64 hex digits", text);
  }
  *height_out = height;
  return 0;
}

/* Splits "HOST:PORT" at the last colon; IPv6 hosts come in brackets. */
static int split_host_port(const char *text, char *host, size_t host_size, uint64_t *port,
                           char *err, size_t err_size) {
  const char *colon = strrchr(text, ':');
  if (colon == NULL || colon == text || colon[1] == '\0') {
    return evc_errorf(err, err_size, EVC_EINVAL, "'%.80s' is not HOST:PORT", text);
  }
  const char *h = text;
  size_t h_size = (size_t)(colon - text);
  if (h[0] == '[') {
    if (h_size < 3 || h[h_size - 1] != ']') {
      return evc_errorf(err, err_size, EVC_EINVAL, "'%.80s': write an IPv6 host as [::1]:PORT", text);
    }
    h++;
    h_size -= 2;
  } else if (memchr(h, ':', h_size) != NULL) {
    return evc_errorf(err, err_size, EVC_EINVAL, "'%.80s': write an IPv6 host as [::1]:PORT", text);
  }
  if (h_size == 0 || h_size >= host_size) {
    return evc_errorf(err, err_size, EVC_EINVAL, "'%.80s': bad host", text);
  }
  if (parse_u64(colon + 1, strlen(colon + 1), port) != 0 || *port > 65535) {
    return evc_errorf(err, err_size, EVC_EINVAL, "'%.80s': the port must be a number 0..65535", text);
  }
  memcpy(host, h, h_size);
  host[h_size] = '\0';
  for (size_t i = 0; i < h_size; i++) {
    if (host[i] <= ' ' || host[i] >= 0x7f || host[i] == '@' || host[i] == ',') {
      return evc_errorf(err, err_size, EVC_EINVAL, "'%.80s': bad character in the host", text);
    }
  }
  return 0;
}

static bool is_ip_literal(const char *host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int evc_live_check_listen(const char *text, char *err, size_t err_size) {
  char host[EVC_ADDRESS_TEXT_MAX];
  uint64_t port;
  if (strlen(text) >= EVC_ADDRESS_TEXT_MAX) {
    return evc_errorf(err, err_size, EVC_EINVAL, "longer than %d characters", EVC_ADDRESS_TEXT_MAX - 1);
  }
  int rc = split_host_port(text, host, sizeof host, &port, err, err_size);
  if (rc != 0) return rc;
  if (!is_ip_literal(host)) {
    return evc_errorf(err, err_size, EVC_EINVAL,
                "'%.80s': the host must be an IP address such as 127.0.0.1 or [::1]", text);
  }
  return 0;
}

int evc_live_check_peer(const char *text, char *err, size_t err_size) {
  if (strlen(text) >= EVC_ADDRESS_TEXT_MAX) {
    return evc_errorf(err, err_size, EVC_EINVAL, "peer '%.40s...' is longer than %d characters", text,
                EVC_ADDRESS_TEXT_MAX - 1);
  }
  const char *at = strchr(text, '@');
  const char *addr = text;
  if (at != NULL) {
    uint8_t id[EVC_NODE_ID_SIZE];
    if ((size_t)(at - text) != NODE_ID_HEX_SIZE ||
        evc_hex_decode(text, NODE_ID_HEX_SIZE, id, sizeof id) != 0) {
      return evc_errorf(err, err_size, EVC_EINVAL,
                  "peer '%.100s': the NODE_ID before '@' must be 64 hex digits", text);
    }
    addr = at + 1;
  }
  char host[EVC_ADDRESS_TEXT_MAX];
  uint64_t port;
  int rc = split_host_port(addr, host, sizeof host, &port, err, err_size);
  if (rc != 0) return rc;
  if (port == 0) {
    return evc_errorf(err, err_size, EVC_EINVAL, "peer '%.100s': port 0 cannot be dialled", text);
  }
  return 0;
}

static int add_peer(struct evc_live_config *cfg, const char *text, size_t size, char *err,
                    size_t err_size) {
  if (size >= EVC_ADDRESS_TEXT_MAX) {
    return evc_errorf(err, err_size, EVC_EINVAL, "peer '%.40s...' is longer than %d characters", text,
                EVC_ADDRESS_TEXT_MAX - 1);
  }
  if (cfg->peer_count >= EVC_NODE_PEERS_MAX) {
    return evc_errorf(err, err_size, EVC_EINVAL, "more than %d peers", EVC_NODE_PEERS_MAX);
  }
  char *slot = cfg->peers[cfg->peer_count];
  memcpy(slot, text, size);
  slot[size] = '\0';
  int rc = evc_live_check_peer(slot, err, err_size);
  if (rc != 0) return rc;
  for (uint32_t i = 0; i < cfg->peer_count; i++) {
    if (strcmp(cfg->peers[i], slot) == 0) {
      return evc_errorf(err, err_size, EVC_EINVAL, "peer '%.100s' is listed twice", slot);
    }
  }
  cfg->peer_count++;
  return 0;
}

int evc_live_parse_peers(const char *text, struct evc_live_config *cfg, char *err,
                         size_t err_size) {
  cfg->peer_count = 0;
  memset(cfg->peers, 0, sizeof cfg->peers);
  if (text[0] == '\0') return 0;
  const char *p = text;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t size = comma != NULL ? (size_t)(comma - p) : strlen(p);
    if (size == 0) {
      return evc_errorf(err, err_size, EVC_EINVAL, "empty entry in the peer list '%.100s'", text);
    }
    int rc = add_peer(cfg, p, size, err, err_size);
    if (rc != 0) return rc;
    if (comma == NULL) return 0;
    p = comma + 1;
  }
}

static int check_url(const char *text, char *err, size_t err_size) {
  if (strncmp(text, "http://", 7) != 0 && strncmp(text, "https://", 8) != 0) {
    return evc_errorf(err, err_size, EVC_EINVAL, "'%.100s' must start with http:// or https://", text);
  }
  const char *host = strstr(text, "//") + 2;
  if (host[0] == '\0' || host[0] == '/' || host[0] == ':') {
    return evc_errorf(err, err_size, EVC_EINVAL, "'%.100s' has no host", text);
  }
  for (const char *c = text; *c != '\0'; c++) {
    if (*c <= ' ' || *c >= 0x7f) {
      return evc_errorf(err, err_size, EVC_EINVAL, "'%.100s' contains a space or control character",
                  text);
    }
  }
  return 0;
}

static int copy_text(char *dst, size_t dst_size, const char *text, char *err, size_t err_size) {
  size_t size = strlen(text);
  if (size >= dst_size) {
    return evc_errorf(err, err_size, EVC_EINVAL, "longer than %zu characters", dst_size - 1);
  }
  memcpy(dst, text, size + 1);
  return 0;
}

static int set_u32(const struct setting *s, uint64_t v, struct evc_live_config *cfg, char *err,
                   size_t err_size) {
  if (v < s->min || v > s->max) {
    return evc_errorf(err, err_size, EVC_EINVAL, "%llu is out of range: use %u..%u",
                (unsigned long long)v, s->min, s->max);
  }
  *(uint32_t *)((char *)cfg + s->offset) = (uint32_t)v;
  return 0;
}

static int set_log_level(const char *text, struct evc_live_config *cfg, char *err,
                         size_t err_size) {
  for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
    if (strcmp(text, level_names[i]) == 0) {
      cfg->log_level = (enum evc_log_level)i;
      return 0;
    }
  }
  return evc_errorf(err, err_size, EVC_EINVAL, "'%.40s' is not one of debug, info, warn, error", text);
}

static int set_expect_head(const char *text, struct evc_live_config *cfg, char *err,
                           size_t err_size) {
  if (text[0] == '\0') {
    cfg->expect_head = false;
    cfg->expect_head_height = 0;
    memset(cfg->expect_head_hash, 0, EVC_HASH_SIZE);
    return 0;
  }
  int rc = evc_live_parse_expect_head(text, &cfg->expect_head_height, cfg->expect_head_hash, err,
                                      err_size);
  if (rc == 0) cfg->expect_head = true;
  return rc;
}

static int set_bool_text(const struct setting *s, const char *text, struct evc_live_config *cfg,
                         char *err, size_t err_size) {
  bool *b = (bool *)((char *)cfg + s->offset);
  if (text == NULL || strcmp(text, "true") == 0) {
    *b = true;
  } else if (strcmp(text, "false") == 0) {
    *b = false;
  } else {
    return evc_errorf(err, err_size, EVC_EINVAL, "'%.40s' is not true or false", text);
  }
  return 0;
}

/* Sets a setting from its text form (a flag's value, or a config.json string). */
static int set_from_text(const struct setting *s, const char *text, struct evc_live_config *cfg,
                         char *err, size_t err_size) {
  char *field = (char *)cfg + s->offset;
  uint64_t v;
  int rc;
  switch (s->kind) {
  case K_BOOL:
    return set_bool_text(s, text, cfg, err, err_size);
  case K_DURATION:
    rc = evc_live_parse_duration(text, &v);
    if (rc == EVC_ERANGE) return evc_errorf(err, err_size, EVC_EINVAL, "'%.40s' is too long", text);
    if (rc != 0) {
      return evc_errorf(err, err_size, EVC_EINVAL,
                  "'%.40s' is not a duration: use an integer with ms, s or m (e.g. 500ms, 2s, 1m)",
                  text);
    }
    *(uint64_t *)(void *)field = v;
    return 0;
  case K_U32:
    if (parse_u64(text, strlen(text), &v) != 0 || v > UINT32_MAX) {
      return evc_errorf(err, err_size, EVC_EINVAL, "'%.40s' is not a number in %u..%u", text, s->min,
                  s->max);
    }
    return set_u32(s, v, cfg, err, err_size);
  case K_LISTEN:
    rc = evc_live_check_listen(text, err, err_size);
    return rc != 0 ? rc : copy_text(field, EVC_ADDRESS_TEXT_MAX, text, err, err_size);
  case K_PEERS:
    return evc_live_parse_peers(text, cfg, err, err_size);
  case K_EXPECT_HEAD:
    return set_expect_head(text, cfg, err, err_size);
  case K_URL:
    rc = check_url(text, err, err_size);
    return rc != 0 ? rc : copy_text(field, EVC_LIVE_URL_SIZE_MAX, text, err, err_size);
  case K_TOKEN:
    return copy_text(field, EVC_LIVE_TOKEN_SIZE_MAX, text, err, err_size);
  case K_LOG_LEVEL:
    return set_log_level(text, cfg, err, err_size);
  }
  EVC_UNREACHABLE();
}

/* ---- flags ---- */

static const struct setting *find_flag(const char *name) {
  for (size_t i = 0; i < SETTING_COUNT; i++) {
    if (settings[i].flag != NULL && strcmp(settings[i].flag, name) == 0) return &settings[i];
  }
  return NULL;
}

bool evc_live_config_flag_is_bool(const char *name) {
  const struct setting *s = find_flag(name);
  return s != NULL && s->kind == K_BOOL;
}

int evc_live_config_apply_flag(struct evc_live_config *cfg, const char *name, const char *value,
                               char *err, size_t err_size) {
  const struct setting *s = find_flag(name);
  if (s == NULL) return evc_errorf(err, err_size, EVC_ENOTFOUND, "--%.60s: unknown flag", name);
  if (value == NULL && s->kind != K_BOOL) {
    return evc_errorf(err, err_size, EVC_EINVAL, "--%s: needs a value", s->flag);
  }
  char reason[REASON_MAX];
  int rc = set_from_text(s, value, cfg, reason, sizeof reason);
  if (rc != 0) return evc_errorf(err, err_size, EVC_EINVAL, "--%s: %s", s->flag, reason);
  return 0;
}

/* ---- config.json ---- */

static void field_name(const struct setting *s, char out[FIELD_TEXT_MAX]) {
  if (s->section != NULL) {
    snprintf(out, FIELD_TEXT_MAX, "%s.%s", s->section, s->key);
  } else {
    snprintf(out, FIELD_TEXT_MAX, "%s", s->key);
  }
}

static int set_peers_json(const cJSON *item, struct evc_live_config *cfg, char *err,
                          size_t err_size) {
  if (!cJSON_IsArray(item)) {
    return evc_errorf(err, err_size, EVC_EINVAL, "must be an array of \"[NODE_ID@]HOST:PORT\" strings");
  }
  cfg->peer_count = 0;
  memset(cfg->peers, 0, sizeof cfg->peers);
  const cJSON *p;
  cJSON_ArrayForEach(p, item) {
    if (!cJSON_IsString(p)) return evc_errorf(err, err_size, EVC_EINVAL, "every peer must be a string");
    int rc = add_peer(cfg, p->valuestring, strlen(p->valuestring), err, err_size);
    if (rc != 0) return rc;
  }
  return 0;
}

static int set_from_json(const struct setting *s, const cJSON *item, struct evc_live_config *cfg,
                         char *err, size_t err_size) {
  if (s->kind == K_BOOL) {
    if (!cJSON_IsBool(item)) return evc_errorf(err, err_size, EVC_EINVAL, "must be true or false");
    *(bool *)((char *)cfg + s->offset) = cJSON_IsTrue(item);
    return 0;
  }
  if (s->kind == K_U32) {
    double d = item->valuedouble;
    if (!cJSON_IsNumber(item) || d < 0 || d > (double)UINT32_MAX || d != (double)(uint64_t)d) {
      return evc_errorf(err, err_size, EVC_EINVAL, "must be an integer in %u..%u", s->min, s->max);
    }
    return set_u32(s, (uint64_t)d, cfg, err, err_size);
  }
  if (s->kind == K_PEERS) return set_peers_json(item, cfg, err, err_size);
  if (!cJSON_IsString(item)) {
    return evc_errorf(err, err_size, EVC_EINVAL, "must be a string%s",
                s->kind == K_DURATION ? " such as \"2s\"" : "");
  }
  return set_from_text(s, item->valuestring, cfg, err, err_size);
}

static const struct setting *find_field(const char *section, const char *key) {
  for (size_t i = 0; i < SETTING_COUNT; i++) {
    const struct setting *s = &settings[i];
    bool same_section = (section == NULL && s->section == NULL) ||
                        (section != NULL && s->section != NULL && strcmp(section, s->section) == 0);
    if (same_section && strcmp(s->key, key) == 0) return s;
  }
  return NULL;
}

static bool is_section(const char *key) {
  for (size_t i = 0; i < SECTION_COUNT; i++) {
    if (strcmp(sections[i], key) == 0) return true;
  }
  return false;
}

/* A duplicate key is refused: with two values an operator cannot tell which one is used. */
static const char *duplicate_key(const cJSON *object) {
  for (const cJSON *a = object->child; a != NULL; a = a->next) {
    for (const cJSON *b = a->next; b != NULL; b = b->next) {
      if (strcmp(a->string, b->string) == 0) return a->string;
    }
  }
  return NULL;
}

static int apply_object(const cJSON *object, const char *section, struct evc_live_config *cfg,
                        char *err, size_t err_size) {
  const char *prefix = section != NULL ? section : "";
  const char *dot = section != NULL ? "." : "";
  const char *dup = duplicate_key(object);
  if (dup != NULL) {
    return evc_errorf(err, err_size, EVC_ECONFIG, "config.json: %s%s%.60s: appears twice", prefix, dot,
                dup);
  }
  for (const cJSON *item = object->child; item != NULL; item = item->next) {
    if (section == NULL && is_section(item->string)) {
      if (!cJSON_IsObject(item)) {
        return evc_errorf(err, err_size, EVC_ECONFIG, "config.json: %s: must be an object",
                    item->string);
      }
      int rc = apply_object(item, item->string, cfg, err, err_size);
      if (rc != 0) return rc;
      continue;
    }
    const struct setting *s = find_field(section, item->string);
    if (s == NULL) {
      return evc_errorf(err, err_size, EVC_ECONFIG, "config.json: %s%s%.60s: unknown field", prefix,
                  dot, item->string);
    }
    char reason[REASON_MAX];
    if (set_from_json(s, item, cfg, reason, sizeof reason) != 0) {
      char name[FIELD_TEXT_MAX];
      field_name(s, name);
      return evc_errorf(err, err_size, EVC_ECONFIG, "config.json: %s: %s", name, reason);
    }
  }
  return 0;
}

int evc_live_config_parse_json(const char *json, size_t size, struct evc_live_config *cfg,
                               char *err, size_t err_size) {
  if (size > EVC_LIVE_CONFIG_JSON_SIZE_MAX) {
    return evc_errorf(err, err_size, EVC_ECONFIG, "config.json: larger than %u bytes",
                EVC_LIVE_CONFIG_JSON_SIZE_MAX);
  }
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(json, size, &end, false);
  if (root == NULL) {
    size_t at = end != NULL && end >= json ? (size_t)(end - json) : 0;
    return evc_errorf(err, err_size, EVC_ECONFIG, "config.json: not valid JSON (near byte %zu)", at);
  }
  int rc;
  if (!cJSON_IsObject(root)) {
    rc = evc_errorf(err, err_size, EVC_ECONFIG, "config.json: the top level must be an object");
  } else {
    rc = apply_object(root, NULL, cfg, err, err_size);
  }
  cJSON_Delete(root);
  return rc;
}

static bool add_setting_json(cJSON *obj, const struct setting *s,
                             const struct evc_live_config *cfg) {
  const char *field = (const char *)cfg + s->offset;
  char text[HASH_HEX_SIZE + 32];
  switch (s->kind) {
  case K_BOOL:
    return cJSON_AddBoolToObject(obj, s->key, *(const bool *)field) != NULL;
  case K_DURATION:
    evc_live_format_duration(*(const uint64_t *)(const void *)field, text, sizeof text);
    return cJSON_AddStringToObject(obj, s->key, text) != NULL;
  case K_U32:
    return cJSON_AddNumberToObject(obj, s->key, *(const uint32_t *)(const void *)field) != NULL;
  case K_LISTEN:
  case K_URL:
  case K_TOKEN:
    return cJSON_AddStringToObject(obj, s->key, field) != NULL;
  case K_PEERS: {
    cJSON *arr = cJSON_AddArrayToObject(obj, s->key);
    for (uint32_t i = 0; arr != NULL && i < cfg->peer_count; i++) {
      cJSON *p = cJSON_CreateString(cfg->peers[i]);
      if (p == NULL || !cJSON_AddItemToArray(arr, p)) return false;
    }
    return arr != NULL;
  }
  case K_EXPECT_HEAD:
    text[0] = '\0';
    if (cfg->expect_head) {
      int n = snprintf(text, sizeof text, "%llu:", (unsigned long long)cfg->expect_head_height);
      EVC_ASSERT(n > 0 && (size_t)n + HASH_HEX_SIZE < sizeof text);
      evc_hex_encode(cfg->expect_head_hash, EVC_HASH_SIZE, text + n);
    }
    return cJSON_AddStringToObject(obj, s->key, text) != NULL;
  case K_LOG_LEVEL:
    return cJSON_AddStringToObject(obj, s->key, level_names[cfg->log_level]) != NULL;
  }
  EVC_UNREACHABLE();
}

int evc_live_config_to_json(const struct evc_live_config *cfg, char **json_out) {
  *json_out = NULL;
  cJSON *root = cJSON_CreateObject();
  bool ok = root != NULL;
  for (size_t i = 0; ok && i < SETTING_COUNT; i++) {
    const struct setting *s = &settings[i];
    cJSON *obj = root;
    if (s->section != NULL) {
      obj = cJSON_GetObjectItemCaseSensitive(root, s->section);
      if (obj == NULL) obj = cJSON_AddObjectToObject(root, s->section);
    }
    ok = obj != NULL && add_setting_json(obj, s, cfg);
  }
  char *text = ok ? cJSON_Print(root) : NULL;
  cJSON_Delete(root);
  if (text == NULL) return EVC_ENOMEM;
  size_t size = strlen(text);
  char *out = malloc(size + 2);
  if (out == NULL) {
    cJSON_free(text);
    return EVC_ENOMEM;
  }
  memcpy(out, text, size);
  out[size] = '\n';
  out[size + 1] = '\0';
  cJSON_free(text);
  *json_out = out;
  return 0;
}

int evc_live_config_check(const struct evc_live_config *cfg, char *err, size_t err_size) {
  if (cfg->block_time_ns == 0) {
    return evc_errorf(err, err_size, EVC_ECONFIG, "block_time (--block-time) must be above 0");
  }
  if (cfg->da_block_time_ns == 0) {
    return evc_errorf(err, err_size, EVC_ECONFIG, "da.block_time (--da.block-time) must be above 0");
  }
  if (cfg->da_request_timeout_ns < MS_NS) {
    return evc_errorf(err, err_size, EVC_ECONFIG, "da.request_timeout must be at least 1ms");
  }
  if (cfg->aggregator && cfg->block_txs_max == 0) {
    return evc_errorf(err, err_size, EVC_ECONFIG, "limits.block_txs_max must be above 0");
  }
  return 0;
}

void evc_live_config_to_node(const struct evc_live_config *cfg, struct evc_node_config *out) {
  out->aggregator = cfg->aggregator;
  out->block_time_ns = cfg->block_time_ns;
  out->da_block_time_ns = cfg->da_block_time_ns;
  out->da_mempool_ttl_blocks = cfg->da_mempool_ttl_blocks;
  out->catchup_p2p_timeout_ns = cfg->catchup_p2p_timeout_ns;
  out->catchup_inbound_grace_ns = cfg->catchup_inbound_grace_ns;
  out->catchup_peek_timeout_ns = cfg->catchup_peek_timeout_ns;
  out->shutdown_timeout_ns = cfg->shutdown_timeout_ns;
  out->catchup_da_only = cfg->catchup_da_only;
  out->expect_head = cfg->expect_head;
  out->expect_head_height = cfg->expect_head_height;
  memcpy(out->expect_head_hash, cfg->expect_head_hash, EVC_HASH_SIZE);
  out->peer_count = cfg->peer_count;
  memcpy(out->peers, cfg->peers, sizeof out->peers);
  out->mempool_txs_max = cfg->mempool_txs_max;
  out->mempool_bytes_max = cfg->mempool_bytes_max;
  out->block_txs_max = cfg->block_txs_max;
  out->da_batch_bytes_max = cfg->da_batch_bytes_max;
  out->da_read_ahead = cfg->da_read_ahead;
  out->rollback_depth_max = cfg->rollback_depth_max;
}
