/* Scenario harness: evc_scenario_parse on arbitrary bytes (not NUL-terminated).
 * Properties: it never crashes; it succeeds with a scenario inside its limits, or fails with
 * one of its documented codes and a non-empty message. Nothing may leak either way. */
#include <string.h>

#include "fuzz/fuzz.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "sim/scenario.h"

#define SCENARIO_ERR_SIZE 512

/* A scenario is ~100 KiB: static, so the persistent loop does not page it in per input. */
static struct evc_scenario scenario;

static void check_node_index(uint8_t index, uint8_t nodes_count) {
  EVC_ASSERT(index == EVC_SCENARIO_NODE_NONE || index < nodes_count);
}

static void check_parsed(const struct evc_scenario *s) {
  EVC_ASSERT(s->nodes_count >= 1 && s->nodes_count <= EVC_SCENARIO_NODES_MAX);
  EVC_ASSERT(s->steps_count <= EVC_SCENARIO_STEPS_MAX);
  EVC_ASSERT(s->expect.within_ms > 0);
  EVC_ASSERT(s->expect.same_chain_count <= s->nodes_count);
  for (uint8_t i = 0; i < s->nodes_count; i++) {
    const struct evc_scenario_node *n = &s->nodes[i];
    EVC_ASSERT(memchr(n->name, '\0', sizeof n->name) != NULL);
    EVC_ASSERT(n->peers_count <= EVC_SCENARIO_NODES_MAX);
    for (uint8_t p = 0; p < n->peers_count; p++) EVC_ASSERT(n->peers[p] < s->nodes_count);
    check_node_index(n->key_of, s->nodes_count);
  }
  for (size_t i = 0; i < s->steps_count; i++) {
    const struct evc_scenario_step *st = &s->steps[i];
    check_node_index(st->node, s->nodes_count);
    if (st->trigger == EVC_SCENARIO_TRIGGER_WHEN) {
      EVC_ASSERT(st->when.node < s->nodes_count);
    }
    if (st->action == EVC_SCENARIO_DO_FAULT) EVC_ASSERT(st->fault_params_json != NULL);
    if (st->action == EVC_SCENARIO_DO_DA_SLOW) {
      EVC_ASSERT(st->inclusion_delay.min_ms <= st->inclusion_delay.max_ms);
    }
  }
}

int evc_fuzz_scenario(const uint8_t *data, size_t size) {
  char err[SCENARIO_ERR_SIZE];
  err[0] = '\0';
  int rc = evc_scenario_parse((const char *)data, size, "fuzz.json", &scenario, err, sizeof err);
  if (rc != 0) {
    EVC_ASSERT(rc == EVC_ECONFIG || rc == EVC_EDECODE || rc == EVC_ETOOBIG || rc == EVC_ENOMEM);
    EVC_ASSERT(err[0] != '\0');
    EVC_ASSERT(memchr(err, '\0', sizeof err) != NULL);
    evc_scenario_free(&scenario);
    return 0;
  }
  check_parsed(&scenario);
  evc_scenario_free(&scenario);
  return 0;
}
