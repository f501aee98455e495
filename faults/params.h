/* Strict reader of one fault's JSON parameters: every key must be known, every number an
 * integer in its range, every node name a node of the simulation. Internal to faults/; it
 * never prints: the first problem is kept as a message naming the fault and the key. */
#ifndef EVC_FAULTS_PARAMS_H
#define EVC_FAULTS_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sim/sim.h"

#define EVC_FAULT_PARAMS_KEYS_MAX 16u

struct evc_fault_params {
  const char *fault;
  cJSON *root;                 /* owned */
  struct evc_sim *sim;
  const char *seen[EVC_FAULT_PARAMS_KEYS_MAX];
  size_t seen_count;
  bool failed;
  char *err;
  size_t err_size;
};

/* Parses json (NULL or "" = {}); false with a message when it is not a JSON object. */
bool evc_fault_params_open(struct evc_fault_params *p, struct evc_sim *sim, const char *fault,
                           const char *json, char *err, size_t err_size);
void evc_fault_params_close(struct evc_fault_params *p);
/* Records the first failure (later ones are dropped). Always returns false. */
bool evc_fault_params_fail(struct evc_fault_params *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An integer in [min, max]; absent: *out = fallback, or a failure when required. */
bool evc_fault_params_u64(struct evc_fault_params *p, const char *key, bool required,
                          uint64_t fallback, uint64_t min, uint64_t max, uint64_t *out);
bool evc_fault_params_i64(struct evc_fault_params *p, const char *key, bool required,
                          int64_t fallback, int64_t min, int64_t max, int64_t *out);
bool evc_fault_params_bool(struct evc_fault_params *p, const char *key, bool fallback,
                           bool *out);
/* A string key, borrowed from the parsed tree (valid until close). */
bool evc_fault_params_str(struct evc_fault_params *p, const char *key, bool required,
                          const char *fallback, const char **out);
/* A node name that the simulation knows. */
bool evc_fault_params_node(struct evc_fault_params *p, const char *key,
                           struct evc_sim_node **out);
/* The raw item of a key (arrays), marked as seen; NULL when absent. */
cJSON *evc_fault_params_item(struct evc_fault_params *p, const char *key);
/* After every key was read: false when the object has a key nobody read, or a failure. */
bool evc_fault_params_done(struct evc_fault_params *p);

#endif
