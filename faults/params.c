/* Strict fault parameter reading (see params.h). It must never accept a key it did not
 * read: a typo in a scenario's fault would silently test nothing. */
#include "faults/params.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node/common/assert.h"

#define JSON_INT_MAX 9007199254740992.0 /* 2^53: integers beyond are not exact in JSON */

bool evc_fault_params_fail(struct evc_fault_params *p, const char *fmt, ...) {
  if (p->failed) return false;
  p->failed = true;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (p->err != NULL && p->err_size > 0) {
    snprintf(p->err, p->err_size, "fault \"%s\": %s", p->fault, msg);
  }
  return false;
}

bool evc_fault_params_open(struct evc_fault_params *p, struct evc_sim *sim, const char *fault,
                           const char *json, char *err, size_t err_size) {
  memset(p, 0, sizeof *p);
  p->fault = fault;
  p->sim = sim;
  p->err = err;
  p->err_size = err_size;
  p->root = cJSON_Parse(json == NULL || json[0] == '\0' ? "{}" : json);
  if (p->root == NULL || !cJSON_IsObject(p->root)) {
    return evc_fault_params_fail(p, "params must be a JSON object");
  }
  return true;
}

void evc_fault_params_close(struct evc_fault_params *p) {
  cJSON_Delete(p->root);
  p->root = NULL;
}

static cJSON *take(struct evc_fault_params *p, const char *key) {
  if (p->root == NULL) return NULL;
  EVC_ASSERT(p->seen_count < EVC_FAULT_PARAMS_KEYS_MAX);
  p->seen[p->seen_count++] = key;
  return cJSON_GetObjectItemCaseSensitive(p->root, key);
}

cJSON *evc_fault_params_item(struct evc_fault_params *p, const char *key) { return take(p, key); }

static bool integral(const cJSON *item, double lo, double hi) {
  if (!cJSON_IsNumber(item)) return false;
  double v = item->valuedouble;
  return v >= lo && v <= hi && v == (double)(int64_t)v;
}

bool evc_fault_params_u64(struct evc_fault_params *p, const char *key, bool required,
                          uint64_t fallback, uint64_t min, uint64_t max, uint64_t *out) {
  cJSON *item = take(p, key);
  *out = fallback;
  if (item == NULL) {
    if (required) return evc_fault_params_fail(p, "\"%s\" is required", key);
    return !p->failed;
  }
  if (!integral(item, 0, JSON_INT_MAX) || (uint64_t)item->valuedouble < min ||
      (uint64_t)item->valuedouble > max) {
    return evc_fault_params_fail(p, "\"%s\": expected an integer from %llu to %llu", key,
                                 (unsigned long long)min, (unsigned long long)max);
  }
  *out = (uint64_t)item->valuedouble;
  return !p->failed;
}

bool evc_fault_params_i64(struct evc_fault_params *p, const char *key, bool required,
                          int64_t fallback, int64_t min, int64_t max, int64_t *out) {
  cJSON *item = take(p, key);
  *out = fallback;
  if (item == NULL) {
    if (required) return evc_fault_params_fail(p, "\"%s\" is required", key);
    return !p->failed;
  }
  if (!integral(item, -JSON_INT_MAX, JSON_INT_MAX) || (int64_t)item->valuedouble < min ||
      (int64_t)item->valuedouble > max) {
    return evc_fault_params_fail(p, "\"%s\": expected an integer from %lld to %lld", key,
                                 (long long)min, (long long)max);
  }
  *out = (int64_t)item->valuedouble;
  return !p->failed;
}

bool evc_fault_params_bool(struct evc_fault_params *p, const char *key, bool fallback,
                           bool *out) {
  cJSON *item = take(p, key);
  *out = fallback;
  if (item == NULL) return !p->failed;
  if (!cJSON_IsBool(item)) return evc_fault_params_fail(p, "\"%s\": expected true or false", key);
  *out = cJSON_IsTrue(item);
  return !p->failed;
}

bool evc_fault_params_str(struct evc_fault_params *p, const char *key, bool required,
                          const char *fallback, const char **out) {
  cJSON *item = take(p, key);
  *out = fallback;
  if (item == NULL) {
    if (required) return evc_fault_params_fail(p, "\"%s\" is required", key);
    return !p->failed;
  }
  if (!cJSON_IsString(item)) return evc_fault_params_fail(p, "\"%s\": expected a string", key);
  *out = item->valuestring;
  return !p->failed;
}

bool evc_fault_params_node(struct evc_fault_params *p, const char *key,
                           struct evc_sim_node **out) {
  const char *name = NULL;
  *out = NULL;
  if (!evc_fault_params_str(p, key, true, NULL, &name)) return false;
  *out = evc_sim_node_find(p->sim, name);
  if (*out == NULL) return evc_fault_params_fail(p, "\"%s\": unknown node \"%.32s\"", key, name);
  return true;
}

bool evc_fault_params_done(struct evc_fault_params *p) {
  if (p->failed || p->root == NULL) return false;
  const cJSON *child = NULL;
  cJSON_ArrayForEach(child, p->root) {
    bool known = false;
    for (size_t i = 0; i < p->seen_count && !known; i++) {
      known = strcmp(p->seen[i], child->string) == 0;
    }
    if (!known) return evc_fault_params_fail(p, "unknown key \"%.40s\"", child->string);
  }
  return true;
}
