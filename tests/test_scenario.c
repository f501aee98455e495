/* Tests for sim/scenario.c (the scenario file loader) and sim/cli_args.c (evc-sim flags):
 * the DESIGN.md example lands field by field, every error names file, step and key, the
 * DA bound L is exact, defaults apply, and damaged input is rejected without crashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/common/error.h"
#include "sim/cli_args.h"
#include "sim/scenario.h"

#define LABEL "scenarios/x.json"

/* Test JSON is written with ' for " (no test text needs a literal '). */
static char *dequote(const char *q, size_t *size_out) {
  size_t size = strlen(q);
  char *json = malloc(size > 0 ? size : 1); /* exactly size bytes: no NUL to lean on */
  assert_non_null(json);
  for (size_t i = 0; i < size; i++) {
    json[i] = q[i] == '\'' ? '"' : q[i];
  }
  *size_out = size;
  return json;
}

static struct evc_scenario scenario; /* large: kept out of the stack */
static char err[512];

static int parse_q(const char *q) {
  size_t size = 0;
  char *json = dequote(q, &size);
  int rc = evc_scenario_parse(json, size, LABEL, &scenario, err, sizeof err);
  free(json);
  return rc;
}

static void assert_contains(const char *text, const char *needle) {
  if (strstr(text, needle) == NULL) {
    print_error("expected \"%s\" in \"%s\"\n", needle, text);
    fail();
  }
}

static int index_of(const char *name) {
  uint8_t index = 0;
  assert_int_equal(evc_scenario_node_index(&scenario, name, &index), 0);
  return index;
}

/* DESIGN.md's example, verbatim but for quotes and with no trailing newline. */
static const char example_q[] =
    "{\n"
    "  'name': 'recovery_from_da',\n"
    "  'description': 'one line',\n"
    "  'chain': {'block_time_ms': 100, 'da_block_time_ms': 1000, 'txs_per_block': 2,\n"
    "            'da_mempool_ttl_blocks': 10},\n"
    "  'network': {'latency_ms': [2, 40], 'drop_ppm': 0},\n"
    "  'da': {'inclusion_delay_ms': [0, 1500]},\n"
    "  'nodes': [\n"
    "    {'name': 'seq', 'role': 'aggregator'},\n"
    "    {'name': 'full', 'role': 'full', 'peers': ['seq']}\n"
    "  ],\n"
    "  'timeline': [\n"
    "    {'at_ms': 0, 'do': 'start', 'node': 'seq'},\n"
    "    {'at_ms': 0, 'do': 'start', 'node': 'full'},\n"
    "    {'when': {'node': 'seq', 'da_included_gte': 5}, 'do': 'stop', 'node': 'seq'},\n"
    "    {'after_ms': 200, 'do': 'wipe', 'node': 'seq'},\n"
    "    {'after_ms': 0, 'do': 'start', 'node': 'seq', 'catchup_p2p_timeout_ms': 1000}\n"
    "  ],\n"
    "  'expect': {\n"
    "    'within_ms': 60000,\n"
    "    'produced_after_recovery_gte': {'seq': 3},\n"
    "    'same_chain': ['seq', 'full'],\n"
    "    'hazards': {}\n"
    "  }\n"
    "}";

static void test_design_example_fields_land(void **state) {
  (void)state;
  assert_int_equal(parse_q(example_q), 0);
  assert_string_equal(err, "");
  const struct evc_scenario *s = &scenario;
  assert_string_equal(s->name, "recovery_from_da");
  assert_string_equal(s->description, "one line");
  assert_int_equal(s->chain.block_time_ms, 100);
  assert_int_equal(s->chain.da_block_time_ms, 1000);
  assert_int_equal(s->chain.txs_per_block, 2);
  assert_int_equal(s->chain.da_mempool_ttl_blocks, 10);
  assert_int_equal(s->network.latency.min_ms, 2);
  assert_int_equal(s->network.latency.max_ms, 40);
  assert_int_equal(s->network.drop_ppm, 0);
  assert_int_equal(s->da.inclusion_delay.min_ms, 0);
  assert_int_equal(s->da.inclusion_delay.max_ms, 1500);
  assert_int_equal(s->nodes_count, 2);
  assert_string_equal(s->nodes[0].name, "seq");
  assert_string_equal(s->nodes[0].role, "aggregator");
  assert_true(evc_scenario_node_is_aggregator(&s->nodes[0]));
  assert_int_equal(s->nodes[0].peers_count, 0);
  assert_int_equal(s->nodes[0].key_of, EVC_SCENARIO_NODE_NONE);
  assert_string_equal(s->nodes[1].name, "full");
  assert_string_equal(s->nodes[1].role, "full");
  assert_false(evc_scenario_node_is_aggregator(&s->nodes[1]));
  assert_int_equal(s->nodes[1].peers_count, 1);
  assert_int_equal(s->nodes[1].peers[0], 0);
  assert_int_equal(s->steps_count, 5);
  assert_int_equal(s->steps[0].trigger, EVC_SCENARIO_TRIGGER_AT);
  assert_int_equal(s->steps[0].trigger_ms, 0);
  assert_int_equal(s->steps[0].action, EVC_SCENARIO_DO_START);
  assert_int_equal(s->steps[0].node, 0);
  assert_false(s->steps[0].catchup_p2p_timeout_ms.set);
  assert_int_equal(s->steps[1].node, 1);
  assert_int_equal(s->steps[2].trigger, EVC_SCENARIO_TRIGGER_WHEN);
  assert_int_equal(s->steps[2].when.node, 0);
  assert_int_equal(s->steps[2].when.condition, EVC_SCENARIO_COND_DA_INCLUDED_GTE);
  assert_int_equal(s->steps[2].when.value, 5);
  assert_false(s->steps[2].timeout.set);
  assert_int_equal(s->steps[2].action, EVC_SCENARIO_DO_STOP);
  assert_int_equal(s->steps[3].trigger, EVC_SCENARIO_TRIGGER_AFTER);
  assert_int_equal(s->steps[3].trigger_ms, 200);
  assert_int_equal(s->steps[3].action, EVC_SCENARIO_DO_WIPE);
  assert_int_equal(s->steps[4].index, 4);
  assert_int_equal(s->steps[4].action, EVC_SCENARIO_DO_START);
  assert_true(s->steps[4].catchup_p2p_timeout_ms.set);
  assert_int_equal(s->steps[4].catchup_p2p_timeout_ms.value, 1000);
  assert_false(s->steps[4].inbound_grace_ms.set);
  assert_false(s->steps[4].da_only);
  assert_int_equal(s->expect.within_ms, 60000);
  assert_true(s->expect.produced_after_recovery_gte[0].set);
  assert_int_equal(s->expect.produced_after_recovery_gte[0].value, 3);
  assert_false(s->expect.produced_after_recovery_gte[1].set);
  assert_int_equal(s->expect.same_chain_count, 2);
  assert_int_equal(s->expect.same_chain[0], 0);
  assert_int_equal(s->expect.same_chain[1], 1);
  assert_false(s->expect.hazards.crashed_in_mode.set);
  evc_scenario_free(&scenario);
}

/* Every action, condition, expectation and hazard of the schema in one file. */
static const char full_q[] =
    "{'name':'all-keys','nodes':["
    "{'name':'seq','role':'aggregator','peers':['full','liar']},"
    "{'name':'twin','role':'aggregator','key_of':'seq'},"
    "{'name':'full','role':'full','peers':['seq','twin']},"
    "{'name':'liar','role':'liar_height'}],"
    "'timeline':["
    "{'at_ms':5,'do':'start','node':'seq','inbound_grace_ms':7,'da_only':true},"
    "{'when':{'node':'seq','height_gte':4},'timeout_ms':9000,'do':'crash','node':'seq',"
    "'point':'after_next_sign'},"
    "{'when':{'node':'seq','da_pending_eq':0},'do':'snapshot','node':'seq','name':'bk',"
    "'scope':'home'},"
    "{'when':{'node':'seq','da_pending_gte':2},'do':'snapshot','node':'full','name':'d1'},"
    "{'when':{'node':'seq','da_posted_unincluded_gte':3},'do':'restore','node':'twin',"
    "'name':'bk'},"
    "{'when':{'node':'twin','mode':'catching_up'},'do':'partition',"
    "'groups':[['seq','full'],['twin']]},"
    "{'after_ms':10,'do':'heal'},"
    "{'after_ms':11,'do':'da_outage','duration_ms':3000},"
    "{'after_ms':12,'do':'da_slow','duration_ms':4000,'inclusion_delay_ms':[100,9000]},"
    "{'after_ms':13,'do':'fault','name':'disk_torn_write','params':{'ppm':5,'on':['seq']}},"
    "{'after_ms':14,'do':'fault','name':'nothing'},"
    "{'after_ms':15,'do':'lose_machine','node':'twin'},"
    "{'after_ms':16,'do':'stop','node':'full'},"
    "{'when':{'node':'full','da_included_gte':1},'do':'crash','node':'full'}],"
    "'expect':{'within_ms':120000,'produced_after_recovery_gte':{'seq':3},"
    "'produced_after_recovery_lte':{'twin':0,'seq':3},'same_chain':['seq','full'],"
    "'mode':{'twin':'failed','full':'syncing'},"
    "'equivocations_reported':{'full':true,'seq':false},"
    "'hazards':{'p2p_only_blocks_at_crash_gte':1,'crashed_in_mode':'producing',"
    "'late_blobs_landed_gte':2,'soft_blocks_rolled_back_gte':3,'blocks_from_peers_gte':4,"
    "'republished_signed_block':true,'own_key_conflicts_detected_gte':5}}}";

static void test_every_action_and_expectation_lands(void **state) {
  (void)state;
  assert_int_equal(parse_q(full_q), 0);
  const struct evc_scenario *s = &scenario;
  int seq = index_of("seq"), twin = index_of("twin"), full = index_of("full");
  assert_int_equal(s->nodes[twin].key_of, seq);
  assert_string_equal(s->nodes[index_of("liar")].role, "liar_height");
  assert_int_equal(s->nodes[seq].peers_count, 2);
  assert_int_equal(s->nodes[seq].peers[1], index_of("liar"));
  const struct evc_scenario_step *st = s->steps;
  assert_int_equal(s->steps_count, 14);
  assert_true(st[0].inbound_grace_ms.set);
  assert_int_equal(st[0].inbound_grace_ms.value, 7);
  assert_true(st[0].da_only);
  assert_int_equal(st[1].when.condition, EVC_SCENARIO_COND_HEIGHT_GTE);
  assert_int_equal(st[1].when.value, 4);
  assert_true(st[1].timeout.set);
  assert_int_equal(st[1].timeout.value, 9000);
  assert_int_equal(st[1].crash_point, EVC_SCENARIO_CRASH_AFTER_NEXT_SIGN);
  assert_int_equal(st[2].when.condition, EVC_SCENARIO_COND_DA_PENDING_EQ);
  assert_int_equal(st[2].action, EVC_SCENARIO_DO_SNAPSHOT);
  assert_string_equal(st[2].snapshot_name, "bk");
  assert_int_equal(st[2].scope, EVC_SCENARIO_SCOPE_HOME);
  assert_int_equal(st[3].when.condition, EVC_SCENARIO_COND_DA_PENDING_GTE);
  assert_int_equal(st[3].scope, EVC_SCENARIO_SCOPE_DATA);
  assert_int_equal(st[3].node, full);
  assert_int_equal(st[4].when.condition, EVC_SCENARIO_COND_DA_POSTED_UNINCLUDED_GTE);
  assert_int_equal(st[4].action, EVC_SCENARIO_DO_RESTORE);
  assert_int_equal(st[4].node, twin);
  assert_string_equal(st[4].snapshot_name, "bk");
  assert_int_equal(st[5].when.condition, EVC_SCENARIO_COND_MODE);
  assert_int_equal(st[5].when.mode, EVC_SCENARIO_MODE_CATCHING_UP);
  assert_int_equal(st[5].action, EVC_SCENARIO_DO_PARTITION);
  assert_int_equal(st[5].groups_count, 2);
  assert_int_equal(st[5].group_of[seq], 0);
  assert_int_equal(st[5].group_of[full], 0);
  assert_int_equal(st[5].group_of[twin], 1);
  assert_int_equal(st[5].group_of[index_of("liar")], EVC_SCENARIO_GROUP_NONE);
  assert_int_equal(st[6].action, EVC_SCENARIO_DO_HEAL);
  assert_int_equal(st[6].node, EVC_SCENARIO_NODE_NONE);
  assert_int_equal(st[7].action, EVC_SCENARIO_DO_DA_OUTAGE);
  assert_int_equal(st[7].duration_ms, 3000);
  assert_int_equal(st[8].action, EVC_SCENARIO_DO_DA_SLOW);
  assert_int_equal(st[8].duration_ms, 4000);
  assert_int_equal(st[8].inclusion_delay.min_ms, 100);
  assert_int_equal(st[8].inclusion_delay.max_ms, 9000);
  assert_int_equal(st[9].action, EVC_SCENARIO_DO_FAULT);
  assert_string_equal(st[9].fault_name, "disk_torn_write");
  assert_string_equal(st[9].fault_params_json, "{\"ppm\":5,\"on\":[\"seq\"]}");
  assert_string_equal(st[10].fault_params_json, "{}");
  assert_int_equal(st[11].action, EVC_SCENARIO_DO_LOSE_MACHINE);
  assert_int_equal(st[12].action, EVC_SCENARIO_DO_STOP);
  assert_int_equal(st[13].crash_point, EVC_SCENARIO_CRASH_NOW);
  const struct evc_scenario_expect *e = &s->expect;
  assert_int_equal(e->produced_after_recovery_lte[twin].value, 0);
  assert_true(e->produced_after_recovery_lte[twin].set);
  assert_int_equal(e->produced_after_recovery_lte[seq].value, 3);
  assert_int_equal(e->mode[twin].value, EVC_SCENARIO_MODE_FAILED);
  assert_int_equal(e->mode[full].value, EVC_SCENARIO_MODE_SYNCING);
  assert_false(e->mode[seq].set);
  assert_true(e->equivocations_reported[full].set);
  assert_true(e->equivocations_reported[full].value);
  assert_true(e->equivocations_reported[seq].set);
  assert_false(e->equivocations_reported[seq].value);
  const struct evc_scenario_hazards *h = &e->hazards;
  assert_int_equal(h->p2p_only_blocks_at_crash_gte.value, 1);
  assert_int_equal(h->crashed_in_mode.value, EVC_SCENARIO_MODE_PRODUCING);
  assert_int_equal(h->late_blobs_landed_gte.value, 2);
  assert_int_equal(h->soft_blocks_rolled_back_gte.value, 3);
  assert_int_equal(h->blocks_from_peers_gte.value, 4);
  assert_true(h->republished_signed_block.set && h->republished_signed_block.value);
  assert_int_equal(h->own_key_conflicts_detected_gte.value, 5);
  evc_scenario_free(&scenario);
  assert_int_equal(scenario.steps_count, 0);
}

#define NODES2 "{'name':'seq','role':'aggregator'},{'name':'full','role':'full','peers':['seq']}"
#define SCN(top, timeline, expect)                                                     \
  "{'name':'t'," top "'nodes':[" NODES2 "],'timeline':[" timeline "],'expect':{" expect \
  "}}"
#define W "'within_ms':60000"
#define START "{'at_ms':0,'do':'start','node':'seq'}"

static void test_defaults_apply_when_sections_are_absent(void **state) {
  (void)state;
  assert_int_equal(parse_q(SCN("", "", W)), 0);
  assert_string_equal(scenario.description, "");
  assert_int_equal(scenario.chain.block_time_ms, 100);
  assert_int_equal(scenario.chain.da_block_time_ms, 1000);
  assert_int_equal(scenario.chain.txs_per_block, 2);
  assert_int_equal(scenario.chain.da_mempool_ttl_blocks, 10);
  assert_int_equal(scenario.network.latency.min_ms, 2);
  assert_int_equal(scenario.network.latency.max_ms, 40);
  assert_int_equal(scenario.network.drop_ppm, 0);
  assert_int_equal(scenario.da.inclusion_delay.min_ms, 0);
  assert_int_equal(scenario.da.inclusion_delay.max_ms, 1500);
  assert_int_equal(scenario.steps_count, 0);
  evc_scenario_free(&scenario);
  /* a partial section keeps the defaults of the keys it leaves out */
  assert_int_equal(parse_q(SCN("'chain':{'txs_per_block':0},'network':{'drop_ppm':7},", "", W)),
                   0);
  assert_int_equal(scenario.chain.txs_per_block, 0);
  assert_int_equal(scenario.chain.block_time_ms, 100);
  assert_int_equal(scenario.network.drop_ppm, 7);
  assert_int_equal(scenario.network.latency.max_ms, 40);
  evc_scenario_free(&scenario);
}

struct error_case {
  const char *q;
  int code;
  const char *needle1;
  const char *needle2;
};

static const struct error_case error_cases[] = {
    /* the brief's examples */
    {SCN("", START ",{'at_ms':0,'do':'start','nodee':'seq'}", W), EVC_ECONFIG, "timeline[1]",
     "unknown key \"nodee\""},
    {SCN("", START "," START ",{'at_ms':1,'do':'explode'}", W), EVC_ECONFIG,
     "timeline[2]: unknown action \"explode\"", NULL},
    {SCN("", "{'at_ms':0,'do':'start','node':'sq'}", W), EVC_ECONFIG,
     "timeline[0].node: unknown node \"sq\"", NULL},
    {SCN("'chain':{'block_time_ms':0},", "", W), EVC_ECONFIG,
     "chain.block_time_ms: expected a positive integer", NULL},
    {"{'name':'t','nodes':[{'name':'a','role':'full'},{'name':'b','role':'full',"
     "'peers':['x']}],'timeline':[],'expect':{" W "}}",
     EVC_ECONFIG, "nodes[1].peers[0]: unknown node \"x\"", NULL},
    {SCN("", START ",{'at_ms':0,'after_ms':1,'do':'heal'}", W), EVC_ECONFIG,
     "timeline[1]: exactly one of at_ms, after_ms, when is required", NULL},
    {SCN("", START ",{'do':'heal'}", W), EVC_ECONFIG,
     "timeline[1]: exactly one of at_ms, after_ms, when is required", NULL},
    {SCN("", "", W ",'same_chain':['seq','nope']"), EVC_ECONFIG,
     "expect.same_chain[1]: unknown node \"nope\"", NULL},
    /* numbers */
    {SCN("'chain':{'block_time_ms':1.5},", "", W), EVC_ECONFIG, "chain.block_time_ms",
     "positive integer"},
    {SCN("'chain':{'block_time_ms':-1},", "", W), EVC_ECONFIG, "chain.block_time_ms", NULL},
    {SCN("'chain':{'block_time_ms':'100'},", "", W), EVC_ECONFIG, "chain.block_time_ms", NULL},
    {SCN("'chain':{'block_time_ms':1e400},", "", W), EVC_ECONFIG, "chain.block_time_ms", NULL},
    {SCN("", "{'when':{'node':'seq','height_gte':9007199254740994},'do':'heal'}", W),
     EVC_ECONFIG, "timeline[0].when.height_gte", "at most 2^53"},
    {SCN("", "{'when':{'node':'seq','height_gte':-0.5},'do':'heal'}", W), EVC_ECONFIG,
     "timeline[0].when.height_gte: expected a non-negative integer", NULL},
    {SCN("'network':{'drop_ppm':1000001},", "", W), EVC_ECONFIG, "network.drop_ppm", NULL},
    {SCN("'network':{'latency_ms':[40,2]},", "", W), EVC_ECONFIG, "network.latency_ms",
     "larger than max"},
    {SCN("'network':{'latency_ms':[1]},", "", W), EVC_ECONFIG, "network.latency_ms",
     "[min, max]"},
    {SCN("'network':{'latency_ms':[1,'2']},", "", W), EVC_ECONFIG, "network.latency_ms[1]",
     NULL},
    /* unknown and duplicate keys everywhere */
    {SCN("'colour':1,", "", W), EVC_ECONFIG, LABEL ": unknown key \"colour\"", NULL},
    {SCN("'chain':{'blocktime_ms':1},", "", W), EVC_ECONFIG, "chain: unknown key", NULL},
    {SCN("'network':{'drop':1},", "", W), EVC_ECONFIG, "network: unknown key \"drop\"", NULL},
    {SCN("'da':{'delay':1},", "", W), EVC_ECONFIG, "da: unknown key \"delay\"", NULL},
    {SCN("", "{'when':{'node':'seq','heigth_gte':1},'do':'heal'}", W), EVC_ECONFIG,
     "timeline[0].when: unknown key \"heigth_gte\"", NULL},
    {SCN("", START ",{'at_ms':0,'do':'stop','node':'seq','groups':[]}", W), EVC_ECONFIG,
     "timeline[1]: unknown key \"groups\" for action \"stop\"", NULL},
    {SCN("", "", W ",'hazard':{}"), EVC_ECONFIG, "expect: unknown key \"hazard\"", NULL},
    {SCN("", "", W ",'hazards':{'late_blobs':1}"), EVC_ECONFIG,
     "expect.hazards: unknown key \"late_blobs\"", NULL},
    {"{'name':'t','nodes':[{'name':'a','role':'full','colour':'red'}],'timeline':[],"
     "'expect':{" W "}}",
     EVC_ECONFIG, "nodes[0]: unknown key \"colour\"", NULL},
    {SCN("", "{'at_ms':0,'do':'start','node':'seq','node':'full'}", W), EVC_ECONFIG,
     "timeline[0]: duplicate key \"node\"", NULL},
    {SCN("", "", W ",'within_ms':1"), EVC_ECONFIG, "expect: duplicate key \"within_ms\"", NULL},
    /* required keys and shapes */
    {SCN("", "", "'same_chain':['seq','full']"), EVC_ECONFIG,
     "expect: missing key \"within_ms\"", NULL},
    {SCN("", "", "'within_ms':0"), EVC_ECONFIG, "expect.within_ms", "positive integer"},
    {"{'nodes':[" NODES2 "],'timeline':[],'expect':{" W "}}", EVC_ECONFIG,
     "missing key \"name\"", NULL},
    {"{'name':'t','timeline':[],'expect':{" W "}}", EVC_ECONFIG, "missing key \"nodes\"", NULL},
    {"{'name':'t','nodes':[],'timeline':[],'expect':{" W "}}", EVC_ECONFIG, "nodes",
     "at least one node"},
    {SCN("", "{'at_ms':0}", W), EVC_ECONFIG, "timeline[0]: missing key \"do\"", NULL},
    {SCN("", "{'at_ms':0,'do':'start'}", W), EVC_ECONFIG, "timeline[0]: missing key \"node\"",
     NULL},
    {SCN("", "[]", W), EVC_ECONFIG, "timeline[0]: expected an object", NULL},
    {"[]", EVC_ECONFIG, "top level", NULL},
    /* nodes */
    {"{'name':'t','nodes':[{'name':'a','role':'full'},{'name':'a','role':'full'}],"
     "'timeline':[],'expect':{" W "}}",
     EVC_ECONFIG, "nodes[1].name", "already defined by nodes[0]"},
    {"{'name':'t','nodes':[{'name':'a b','role':'full'}],'timeline':[],'expect':{" W "}}",
     EVC_ECONFIG, "nodes[0].name", "not a valid name"},
    {"{'name':'t','nodes':[{'name':'abcdefghijabcdefghijabcdefghijabc','role':'full'}],"
     "'timeline':[],'expect':{" W "}}",
     EVC_ECONFIG, "nodes[0].name", NULL},
    {"{'name':'t','nodes':[{'name':'a','role':'validator'}],'timeline':[],'expect':{" W "}}",
     EVC_ECONFIG, "nodes[0].role: unknown role \"validator\"", NULL},
    {"{'name':'t','nodes':[{'name':'a','role':'full','peers':['a']}],'timeline':[],"
     "'expect':{" W "}}",
     EVC_ECONFIG, "nodes[0].peers[0]", "itself"},
    {"{'name':'t','nodes':[{'name':'a','role':'aggregator','key_of':'a'}],'timeline':[],"
     "'expect':{" W "}}",
     EVC_ECONFIG, "nodes[0].key_of", "own key"},
    {"{'name':'t','nodes':[{'name':'a','role':'aggregator','key_of':'b'},"
     "{'name':'b','role':'full'}],'timeline':[],'expect':{" W "}}",
     EVC_ECONFIG, "nodes[0].key_of", "aggregators"},
    /* steps */
    {SCN("", "{'at_ms':0,'timeout_ms':5,'do':'heal'}", W), EVC_ECONFIG,
     "timeline[0].timeout_ms: allowed only with when", NULL},
    {SCN("", "{'when':{'node':'seq','height_gte':1,'mode':'failed'},'do':'heal'}", W),
     EVC_ECONFIG, "timeline[0].when: exactly one condition", NULL},
    {SCN("", "{'when':{'node':'seq','mode':'sleeping'},'do':'heal'}", W), EVC_ECONFIG,
     "timeline[0].when.mode: unknown mode \"sleeping\"", NULL},
    {SCN("", "{'when':{'node':'sq','mode':'failed'},'do':'heal'}", W), EVC_ECONFIG,
     "timeline[0].when.node: unknown node \"sq\"", NULL},
    {SCN("", "{'at_ms':60001,'do':'heal'}", W), EVC_ECONFIG, "timeline[0].at_ms",
     "within_ms"},
    {SCN("", "{'at_ms':0,'do':'restore','node':'seq','name':'bk'}", W), EVC_ECONFIG,
     "timeline[0].name", "no earlier snapshot"},
    {SCN("", "{'at_ms':0,'do':'snapshot','node':'seq','name':'bk','scope':'all'}", W),
     EVC_ECONFIG, "timeline[0].scope", NULL},
    {SCN("", "{'at_ms':0,'do':'crash','node':'seq','point':'before_sign'}", W), EVC_ECONFIG,
     "timeline[0].point", NULL},
    {SCN("", "{'at_ms':0,'do':'crash','node':'full','point':'after_next_sign'}", W),
     EVC_ECONFIG, "timeline[0].point", "never signs"},
    {SCN("", "{'at_ms':0,'do':'start','node':'full','da_only':true}", W), EVC_ECONFIG,
     "timeline[0]", "only to an aggregator"},
    {SCN("", "{'at_ms':0,'do':'start','node':'seq','da_only':1}", W), EVC_ECONFIG,
     "timeline[0].da_only: expected true or false", NULL},
    {SCN("", "{'at_ms':0,'do':'partition','groups':[['seq'],['seq','full']]}", W), EVC_ECONFIG,
     "timeline[0].groups[1][0]", "already in groups[0]"},
    {SCN("", "{'at_ms':0,'do':'partition','groups':[['seq','full']]}", W), EVC_ECONFIG,
     "timeline[0].groups", "at least two groups"},
    {SCN("", "{'at_ms':0,'do':'partition','groups':[['seq'],['x']]}", W), EVC_ECONFIG,
     "timeline[0].groups[1][0]: unknown node \"x\"", NULL},
    {SCN("", "{'at_ms':0,'do':'da_outage'}", W), EVC_ECONFIG,
     "timeline[0]: missing key \"duration_ms\"", NULL},
    {SCN("", "{'at_ms':0,'do':'fault','name':'x','params':[1]}", W), EVC_ECONFIG,
     "timeline[0].params: expected an object", NULL},
    /* expectations */
    {SCN("", "", W ",'produced_after_recovery_gte':{'sq':1}"), EVC_ECONFIG,
     "expect.produced_after_recovery_gte: unknown node \"sq\"", NULL},
    {SCN("", "", W ",'mode':{'seq':'asleep'}"), EVC_ECONFIG, "expect.mode.seq", "unknown mode"},
    {SCN("", "", W ",'equivocations_reported':{'full':1}"), EVC_ECONFIG,
     "expect.equivocations_reported.full: expected true or false", NULL},
    {SCN("", "", W ",'same_chain':['seq','seq']"), EVC_ECONFIG, "expect.same_chain[1]",
     "listed twice"},
    {SCN("", "", W ",'produced_after_recovery_gte':{'seq':4},"
                   "'produced_after_recovery_lte':{'seq':3}"),
     EVC_ECONFIG, "expect", "can never hold"},
    {SCN("", "", W ",'hazards':{'crashed_in_mode':'upside_down'}"), EVC_ECONFIG,
     "expect.hazards.crashed_in_mode", NULL},
    /* JSON syntax */
    {"{'name':'t',}", EVC_EDECODE, LABEL ": invalid JSON at line 1", NULL},
    {SCN("", "", W) " x", EVC_EDECODE, "trailing bytes", NULL},
    {"", EVC_EDECODE, LABEL, "empty input"},
    {"'\\", EVC_EDECODE, LABEL, NULL},
};

static void test_each_error_names_file_step_and_key(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
    const struct error_case *c = &error_cases[i];
    int rc = parse_q(c->q);
    if (rc != c->code) {
      print_error("case %zu: rc %d (%s), want %d: %s\n", i, rc, err, c->code, c->q);
      fail();
    }
    assert_contains(err, LABEL ": ");
    assert_contains(err, c->needle1);
    if (c->needle2 != NULL) {
      assert_contains(err, c->needle2);
    }
    assert_int_equal(scenario.steps_count, 0); /* a failed parse leaves nothing to free */
  }
}

static void test_fault_params_are_freed_when_a_later_step_fails(void **state) {
  (void)state;
  /* Run under ASan/LSan this also proves the params of step 0 are freed. */
  assert_int_equal(parse_q(SCN("", "{'at_ms':0,'do':'fault','name':'f','params':{'a':[1,2]}},"
                                   "{'at_ms':0,'do':'explode'}",
                               W)),
                   EVC_ECONFIG);
  assert_contains(err, "timeline[1]: unknown action");
}

static void test_da_delay_bound_is_exact(void **state) {
  (void)state;
  /* (ttl 10 - 1) x DA block time 1000 = 9000: accepted; one above is rejected */
  assert_int_equal(parse_q(SCN("'da':{'inclusion_delay_ms':[0,9001]},", "", W)), EVC_ECONFIG);
  assert_contains(err, LABEL ": da.inclusion_delay_ms: max delay 9001 ms can carry a blob past L");
  assert_int_equal(parse_q(SCN("'da':{'inclusion_delay_ms':[0,9000]},", "", W)), 0);
  evc_scenario_free(&scenario);
  /* the same bound for da_slow, with a non-default L and DA block time */
  const char *ok = SCN("'chain':{'da_block_time_ms':300,'da_mempool_ttl_blocks':4},"
                       "'da':{'inclusion_delay_ms':[0,1]},",
                       "{'at_ms':0,'do':'da_slow','duration_ms':5,'inclusion_delay_ms':[0,900]}",
                       W);
  assert_int_equal(parse_q(ok), 0);
  evc_scenario_free(&scenario);
  const char *bad = SCN("'chain':{'da_block_time_ms':300,'da_mempool_ttl_blocks':4},"
                        "'da':{'inclusion_delay_ms':[0,1]},",
                        START ",{'at_ms':0,'do':'da_slow','duration_ms':5,"
                              "'inclusion_delay_ms':[0,901]}",
                        W);
  assert_int_equal(parse_q(bad), EVC_ECONFIG);
  assert_contains(err, "timeline[1].inclusion_delay_ms: max delay 901 ms");
  /* the default delay [0,1500] is checked too: with L = 1 only a zero delay fits */
  assert_int_equal(parse_q(SCN("'chain':{'da_mempool_ttl_blocks':1},", "", W)), EVC_ECONFIG);
  assert_contains(err, "da.inclusion_delay_ms");
}

static void test_every_truncation_of_the_example_is_rejected(void **state) {
  (void)state;
  size_t size = 0;
  char *json = dequote(example_q, &size);
  for (size_t n = 0; n < size; n++) {
    char *prefix = malloc(n > 0 ? n : 1); /* exactly n bytes, so ASan sees any over-read */
    assert_non_null(prefix);
    memcpy(prefix, json, n);
    int rc = evc_scenario_parse(prefix, n, LABEL, &scenario, err, sizeof err);
    free(prefix);
    if (rc == 0) {
      print_error("prefix of %zu bytes parsed\n", n);
      fail();
    }
    assert_int_equal(rc, EVC_EDECODE);
    assert_contains(err, LABEL);
  }
  free(json);
}

static void test_damaged_example_never_crashes(void **state) {
  (void)state;
  static const char alphabet[] = "{}[]\",:\\0123456789.-eE tfn a";
  size_t size = 0;
  char *json = dequote(example_q, &size);
  uint64_t x = 0x9e3779b97f4a7c15u; /* xorshift64: the same cases on every run */
  for (int round = 0; round < 3000; round++) {
    char *copy = malloc(size);
    assert_non_null(copy);
    memcpy(copy, json, size);
    for (int k = 0; k < 1 + round % 4; k++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      copy[x % size] = alphabet[(x >> 32) % (sizeof alphabet - 1)];
    }
    int rc = evc_scenario_parse(copy, size, LABEL, &scenario, err, sizeof err);
    free(copy);
    if (rc == 0) {
      evc_scenario_free(&scenario);
    } else {
      assert_true(rc < 0);
      assert_contains(err, LABEL);
    }
  }
  free(json);
}

static void test_oversize_and_deep_input_are_too_big(void **state) {
  (void)state;
  size_t size = EVC_SCENARIO_FILE_BYTES_MAX + 1;
  char *big = malloc(size);
  assert_non_null(big);
  memset(big, ' ', size);
  big[0] = '{';
  big[size - 1] = '}';
  assert_int_equal(evc_scenario_parse(big, size, LABEL, &scenario, err, sizeof err),
                   EVC_ETOOBIG);
  assert_contains(err, LABEL ": larger than");
  /* 100000 nested arrays inside a fault's params: refused before cJSON recurses */
  size_t depth = 100000;
  char *deep = malloc(2 * depth);
  assert_non_null(deep);
  memset(deep, '[', depth);
  memset(deep + depth, ']', depth);
  assert_int_equal(evc_scenario_parse(deep, 2 * depth, LABEL, &scenario, err, sizeof err),
                   EVC_ETOOBIG);
  assert_contains(err, "nested deeper than");
  free(big);
  free(deep);
  /* brackets inside strings (even after an escaped quote) do not count as nesting */
  char q[400];
  snprintf(q, sizeof q, "%s", SCN("'description':'{\\'[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',",
                                  "", W));
  assert_int_equal(parse_q(q), 0);
  assert_string_equal(scenario.description, "{\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
  evc_scenario_free(&scenario);
}

static void test_load_file_reads_and_names_the_path(void **state) {
  (void)state;
  assert_int_equal(evc_scenario_load_file("/nonexistent/evc/x.json", &scenario, err, sizeof err),
                   EVC_ENOTFOUND);
  assert_contains(err, "/nonexistent/evc/x.json: cannot open");
  char path[] = "/tmp/evc_test_scenario_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  size_t size = 0;
  char *json = dequote(example_q, &size);
  assert_int_equal(write(fd, json, size), (ssize_t)size);
  close(fd);
  free(json);
  assert_int_equal(evc_scenario_load_file(path, &scenario, err, sizeof err), 0);
  assert_string_equal(scenario.name, "recovery_from_da");
  evc_scenario_free(&scenario);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("{\"name\": \"t\", \"nodes\": [{\"name\": \"a\", \"role\": \"full\"}],\n"
        "\"timeline\": [{\"at_ms\": 0, \"do\": \"start\", \"node\": \"b\"}], \"expect\": {}}",
        f);
  fclose(f);
  assert_int_equal(evc_scenario_load_file(path, &scenario, err, sizeof err), EVC_ECONFIG);
  assert_contains(err, path);
  assert_contains(err, "expect: missing key \"within_ms\"");
  f = fopen(path, "w");
  assert_non_null(f);
  for (size_t i = 0; i <= EVC_SCENARIO_FILE_BYTES_MAX; i += 8) {
    fputs("        ", f);
  }
  fclose(f);
  assert_int_equal(evc_scenario_load_file(path, &scenario, err, sizeof err), EVC_ETOOBIG);
  unlink(path);
}

static void test_mode_and_role_tables(void **state) {
  (void)state;
  enum evc_scenario_mode mode;
  for (int m = 0; m < EVC_SCENARIO_MODE_COUNT; m++) {
    assert_int_equal(evc_scenario_mode_from_name(evc_scenario_mode_name(m), &mode), 0);
    assert_int_equal(mode, m);
  }
  assert_string_equal(evc_scenario_mode_name(EVC_SCENARIO_MODE_CATCHING_UP), "catching_up");
  assert_int_equal(evc_scenario_mode_from_name("Producing", &mode), EVC_ENOTFOUND);
  assert_int_equal(evc_scenario_roles_count(), 7);
  assert_string_equal(evc_scenario_role_name(2), "liar_height");
  assert_string_equal(evc_scenario_role_name(6), "byz_flood");
}

/* ---- evc-sim command line ---- */

static struct evc_sim_cli_args cli;

static int cli_parse(int argc, const char *const *argv) {
  return evc_sim_cli_parse(argc, (char *const *)argv, &cli, err, sizeof err);
}

#define ARGV(...) (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
                  ((const char *const[]){__VA_ARGS__})

static void test_cli_run_flags(void **state) {
  (void)state;
  assert_int_equal(cli_parse(ARGV("evc-sim", "run", "s.json")), 0);
  assert_int_equal(cli.command, EVC_SIM_CLI_RUN);
  assert_string_equal(cli.file, "s.json");
  assert_int_equal(cli.seed, EVC_SIM_CLI_SEED_DEFAULT);
  assert_false(cli.seed_set);
  assert_null(cli.trace_path);
  assert_false(cli.check_determinism);
  assert_int_equal(cli_parse(ARGV("evc-sim", "run", "--seed", "18446744073709551615", "s.json",
                                  "--trace=t.txt", "--check-determinism")),
                   0);
  assert_int_equal(cli.seed, UINT64_MAX);
  assert_true(cli.seed_set);
  assert_string_equal(cli.trace_path, "t.txt");
  assert_true(cli.check_determinism);
  assert_string_equal(cli.file, "s.json");
  assert_int_equal(cli_parse(ARGV("evc-sim", "run", "--", "-odd.json")), 0);
  assert_string_equal(cli.file, "-odd.json");
}

static void test_cli_sweep_flags(void **state) {
  (void)state;
  assert_int_equal(cli_parse(ARGV("evc-sim", "sweep", "a.json", "b.json", "--seeds", "1..100")),
                   0);
  assert_int_equal(cli.command, EVC_SIM_CLI_SWEEP);
  assert_int_equal(cli.files_count, 2);
  assert_string_equal(cli.files[1], "b.json");
  assert_int_equal(cli.seed_first, 1);
  assert_int_equal(cli.seed_last, 100);
  assert_int_equal(cli.shard_index, 1);
  assert_int_equal(cli.shard_count, 1);
  assert_int_equal(cli.jobs, 1);
  assert_false(cli.swarm);
  assert_int_equal(cli_parse(ARGV("evc-sim", "sweep", "--seeds=7..7", "--shard", "3/4",
                                  "--swarm", "--jobs", "8", "a.json")),
                   0);
  assert_int_equal(cli.seed_first, 7);
  assert_int_equal(cli.seed_last, 7);
  assert_int_equal(cli.shard_index, 3);
  assert_int_equal(cli.shard_count, 4);
  assert_true(cli.swarm);
  assert_int_equal(cli.jobs, 8);
}

static void test_cli_help(void **state) {
  (void)state;
  assert_int_equal(cli_parse(ARGV("evc-sim", "--help")), 0);
  assert_int_equal(cli.command, EVC_SIM_CLI_HELP);
  assert_int_equal(cli_parse(ARGV("evc-sim", "run", "--bogus", "--help")), 0);
  assert_int_equal(cli.command, EVC_SIM_CLI_RUN);
  assert_true(cli.help);
  assert_contains(evc_sim_cli_help(EVC_SIM_CLI_RUN), "--check-determinism");
  assert_int_equal(cli_parse(ARGV("evc-sim", "help", "sweep")), 0);
  assert_int_equal(cli.command, EVC_SIM_CLI_SWEEP);
  assert_true(cli.help);
  assert_contains(evc_sim_cli_help(EVC_SIM_CLI_SWEEP), "--shard I/N");
  assert_contains(evc_sim_cli_usage(), "evc-sim sweep FILE...");
}

struct cli_error_case {
  int argc;
  const char *const *argv;
  const char *needle;
};

static void test_cli_errors_name_the_flag(void **state) {
  (void)state;
  const struct cli_error_case cases[] = {
      {ARGV("evc-sim"), "missing command"},
      {ARGV("evc-sim", "walk"), "unknown command \"walk\""},
      {ARGV("evc-sim", "run", "s.json", "--sed", "1"), "evc-sim run: unknown flag \"--sed\""},
      {ARGV("evc-sim", "run", "s.json", "-x"), "unknown flag \"-x\""},
      {ARGV("evc-sim", "run", "s.json", "--swarm"), "unknown flag \"--swarm\""},
      {ARGV("evc-sim", "run", "s.json", "--seed"), "--seed needs a value"},
      {ARGV("evc-sim", "run", "s.json", "--trace", "--check-determinism"),
       "--trace needs a value"},
      {ARGV("evc-sim", "run", "s.json", "--seed", "12x"), "--seed: expected a decimal number"},
      {ARGV("evc-sim", "run", "s.json", "--seed", "-1"), "--seed: expected"},
      {ARGV("evc-sim", "run", "s.json", "--seed", "18446744073709551616"), "--seed: expected"},
      {ARGV("evc-sim", "run", "s.json", "--seed", "1", "--seed", "2"), "--seed is given twice"},
      {ARGV("evc-sim", "run", "s.json", "--check-determinism=yes"), "takes no value"},
      {ARGV("evc-sim", "run"), "evc-sim run: missing FILE"},
      {ARGV("evc-sim", "run", "a.json", "b.json"), "unexpected argument \"b.json\""},
      {ARGV("evc-sim", "sweep", "a.json"), "--seeds A..B is required"},
      {ARGV("evc-sim", "sweep", "--seeds", "1..2"), "missing FILE"},
      {ARGV("evc-sim", "sweep", "a.json", "--seeds", "5..3"), "--seeds 5..3: A is larger than B"},
      {ARGV("evc-sim", "sweep", "a.json", "--seeds", "5"), "--seeds: expected A..B"},
      {ARGV("evc-sim", "sweep", "a.json", "--seeds", "1..x"), "--seeds: expected A..B"},
      {ARGV("evc-sim", "sweep", "a.json", "--seeds", "1..2", "--shard", "0/4"),
       "--shard 0/4: I must be from 1 to N (4)"},
      {ARGV("evc-sim", "sweep", "a.json", "--seeds", "1..2", "--shard", "5/4"),
       "--shard 5/4: I must be from 1 to N (4)"},
      {ARGV("evc-sim", "sweep", "a.json", "--seeds", "1..2", "--shard", "1/0"),
       "--shard 1/0: N must be"},
      {ARGV("evc-sim", "sweep", "a.json", "--seeds", "1..2", "--shard", "4"),
       "--shard: expected I/N"},
      {ARGV("evc-sim", "sweep", "a.json", "--seeds", "1..2", "--jobs", "0"), "--jobs: expected"},
      {ARGV("evc-sim", "sweep", "a.json", "--seeds", "1..2", "--jobs", "257"),
       "--jobs: expected"},
      {ARGV("evc-sim", "sweep", "a.json", "--seeds", "1..2", "--seed", "3"),
       "evc-sim sweep: unknown flag \"--seed\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = cli_parse(cases[i].argc, cases[i].argv);
    if (rc != EVC_EINVAL) {
      print_error("cli case %zu: rc %d, want EVC_EINVAL\n", i, rc);
      fail();
    }
    assert_contains(err, cases[i].needle);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_design_example_fields_land),
      cmocka_unit_test(test_every_action_and_expectation_lands),
      cmocka_unit_test(test_defaults_apply_when_sections_are_absent),
      cmocka_unit_test(test_each_error_names_file_step_and_key),
      cmocka_unit_test(test_fault_params_are_freed_when_a_later_step_fails),
      cmocka_unit_test(test_da_delay_bound_is_exact),
      cmocka_unit_test(test_every_truncation_of_the_example_is_rejected),
      cmocka_unit_test(test_damaged_example_never_crashes),
      cmocka_unit_test(test_oversize_and_deep_input_are_too_big),
      cmocka_unit_test(test_load_file_reads_and_names_the_path),
      cmocka_unit_test(test_mode_and_role_tables),
      cmocka_unit_test(test_cli_run_flags),
      cmocka_unit_test(test_cli_sweep_flags),
      cmocka_unit_test(test_cli_help),
      cmocka_unit_test(test_cli_errors_name_the_flag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
