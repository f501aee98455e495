/* Genesis harness: evc_genesis_parse_json on arbitrary bytes (not NUL-terminated).
 * Properties: a failure names what is wrong (non-empty message); a genesis that parses is
 * one the emitter accepts, and its JSON parses back to an equal genesis, emitted the same. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/types/types.h"

#define GENESIS_ERR_SIZE 256

static bool genesis_equal(const struct evc_genesis *a, const struct evc_genesis *b) {
  return evc_chain_id_equal(&a->chain_id, &b->chain_id) &&
         strcmp(a->chain_id.text, b->chain_id.text) == 0 &&
         a->initial_height == b->initial_height && a->genesis_time_ns == b->genesis_time_ns &&
         memcmp(a->proposer_pubkey, b->proposer_pubkey, EVC_PUBKEY_SIZE) == 0 &&
         a->da_start_height == b->da_start_height &&
         memcmp(a->header_namespace, b->header_namespace, EVC_NAMESPACE_SIZE) == 0 &&
         memcmp(a->data_namespace, b->data_namespace, EVC_NAMESPACE_SIZE) == 0;
}

int evc_fuzz_genesis(const uint8_t *data, size_t size) {
  struct evc_genesis g, back;
  char err[GENESIS_ERR_SIZE];
  int rc = evc_genesis_parse_json((const char *)data, size, &g, err, sizeof err);
  if (rc != 0) {
    EVC_ASSERT(rc < 0);
    EVC_ASSERT(err[0] != '\0');
    return 0;
  }
  EVC_ASSERT(g.initial_height >= 1);
  EVC_ASSERT(g.da_start_height >= 1);
  char *json = NULL;
  EVC_ASSERT(evc_genesis_to_json(&g, &json) == 0);
  EVC_ASSERT(evc_genesis_parse_json(json, strlen(json), &back, err, sizeof err) == 0);
  EVC_ASSERT(genesis_equal(&g, &back));
  uint8_t hash[EVC_HASH_SIZE], back_hash[EVC_HASH_SIZE];
  evc_genesis_hash(&g, hash);
  evc_genesis_hash(&back, back_hash);
  EVC_ASSERT(memcmp(hash, back_hash, EVC_HASH_SIZE) == 0);
  char *again = NULL;
  EVC_ASSERT(evc_genesis_to_json(&back, &again) == 0);
  EVC_ASSERT(strcmp(json, again) == 0);
  free(again);
  free(json);
  return 0;
}
