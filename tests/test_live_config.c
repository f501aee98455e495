/* evc-node settings: durations, flags and config.json fields, each error naming the flag or the
 * field, expect-head and peer-list parsing, and a config.json round trip. Pure parsing: no
 * files, no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/common/error.h"
#include "node/live/config.h"

#define MS 1000000ull
#define SEC 1000000000ull

static struct evc_live_config cfg; /* large: keep it off the stack */
static char err[EVC_LIVE_ERR_SIZE];

static int setup(void **state) {
  (void)state;
  evc_live_config_defaults(&cfg);
  err[0] = '\0';
  return 0;
}

static void durations_take_ms_s_and_m(void **state) {
  (void)state;
  uint64_t ns = 1;
  assert_int_equal(evc_live_parse_duration("500ms", &ns), 0);
  assert_true(ns == 500 * MS);
  assert_int_equal(evc_live_parse_duration("2s", &ns), 0);
  assert_true(ns == 2 * SEC);
  assert_int_equal(evc_live_parse_duration("3m", &ns), 0);
  assert_true(ns == 180 * SEC);
  assert_int_equal(evc_live_parse_duration("0s", &ns), 0);
  assert_true(ns == 0);
}

static void durations_without_a_unit_or_with_junk_are_refused(void **state) {
  (void)state;
  uint64_t ns = 7;
  const char *bad[] = {"", "10", "s", "1.5s", "-1s", "1h", "1 s", "1sec", "+1s", "1ms2"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(evc_live_parse_duration(bad[i], &ns), EVC_EINVAL);
  }
  assert_true(ns == 7);
  assert_int_equal(evc_live_parse_duration("99999999999999999999m", &ns), EVC_ERANGE);
  assert_int_equal(evc_live_parse_duration("999999999999999m", &ns), EVC_ERANGE);
}

static void durations_format_in_the_largest_exact_unit(void **state) {
  (void)state;
  char text[32];
  evc_live_format_duration(30 * SEC, text, sizeof text);
  assert_string_equal(text, "30s");
  evc_live_format_duration(1500 * MS, text, sizeof text);
  assert_string_equal(text, "1500ms");
  evc_live_format_duration(120 * SEC, text, sizeof text);
  assert_string_equal(text, "2m");
  evc_live_format_duration(0, text, sizeof text);
  assert_string_equal(text, "0s");
}

static void flags_override_defaults(void **state) {
  (void)state;
  assert_int_equal(evc_live_config_apply_flag(&cfg, "catchup.p2p-timeout", "5s", err, sizeof err),
                   0);
  assert_true(cfg.catchup_p2p_timeout_ns == 5 * SEC);
  assert_int_equal(evc_live_config_apply_flag(&cfg, "aggregator", NULL, err, sizeof err), 0);
  assert_true(cfg.aggregator);
  assert_int_equal(evc_live_config_apply_flag(&cfg, "catchup.da-only", NULL, err, sizeof err), 0);
  assert_true(cfg.catchup_da_only);
  assert_int_equal(evc_live_config_apply_flag(&cfg, "da.mempool-ttl", "12", err, sizeof err), 0);
  assert_int_equal(cfg.da_mempool_ttl_blocks, 12);
  assert_int_equal(evc_live_config_apply_flag(&cfg, "rpc.listen", "127.0.0.1:0", err, sizeof err),
                   0);
  assert_string_equal(cfg.rpc_listen, "127.0.0.1:0");
  assert_int_equal(evc_live_config_apply_flag(&cfg, "p2p.listen", "[::1]:26656", err, sizeof err),
                   0);
  assert_true(evc_live_config_flag_is_bool("aggregator"));
  assert_false(evc_live_config_flag_is_bool("block-time"));
}

static void bad_flag_values_name_the_flag(void **state) {
  (void)state;
  struct {
    const char *flag;
    const char *value;
  } bad[] = {
      {"block-time", "fast"},         {"catchup.p2p-timeout", "30"},
      {"da.mempool-ttl", "0"},        {"da.mempool-ttl", "ten"},
      {"rpc.listen", "localhost:80"}, {"p2p.listen", "127.0.0.1:70000"},
      {"da.address", "ftp://x"},      {"catchup.expect-head", "12"},
      {"p2p.peers", "a,,b"},          {"log-level", "loud"},
      {"block-time", NULL},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    assert_int_equal(evc_live_config_apply_flag(&cfg, bad[i].flag, bad[i].value, err, sizeof err),
                     EVC_EINVAL);
    char want[80];
    snprintf(want, sizeof want, "--%s: ", bad[i].flag);
    assert_non_null(strstr(err, want));
  }
  assert_int_equal(evc_live_config_apply_flag(&cfg, "no-such-flag", "1", err, sizeof err),
                   EVC_ENOTFOUND);
  assert_non_null(strstr(err, "--no-such-flag"));
}

static void config_json_applies_every_field(void **state) {
  (void)state;
  const char *json =
      "{\"aggregator\": true, \"block_time\": \"250ms\", \"catchup\": {\"p2p_timeout\": \"3s\","
      " \"da_only\": true}, \"p2p\": {\"peers\": [\"127.0.0.1:1\", \"127.0.0.1:2\"]},"
      " \"da\": {\"mempool_ttl\": 7, \"address\": \"https://da.example:443\"},"
      " \"limits\": {\"block_txs_max\": 8}}";
  assert_int_equal(evc_live_config_parse_json(json, strlen(json), &cfg, err, sizeof err), 0);
  assert_true(cfg.aggregator);
  assert_true(cfg.block_time_ns == 250 * MS);
  assert_true(cfg.catchup_p2p_timeout_ns == 3 * SEC);
  assert_true(cfg.catchup_da_only);
  assert_int_equal(cfg.peer_count, 2);
  assert_string_equal(cfg.peers[1], "127.0.0.1:2");
  assert_int_equal(cfg.da_mempool_ttl_blocks, 7);
  assert_string_equal(cfg.da_address, "https://da.example:443");
  assert_int_equal(cfg.block_txs_max, 8);
}

static void config_json_errors_name_the_field(void **state) {
  (void)state;
  struct {
    const char *json;
    const char *field;
  } bad[] = {
      {"{\"block_time\": 5}", "config.json: block_time: "},
      {"{\"catchup\": {\"p2p_timeout\": \"soon\"}}", "config.json: catchup.p2p_timeout: "},
      {"{\"catchup\": {\"typo\": 1}}", "config.json: catchup.typo: unknown field"},
      {"{\"bogus\": 1}", "config.json: bogus: unknown field"},
      {"{\"da\": {\"mempool_ttl\": 1.5}}", "config.json: da.mempool_ttl: "},
      {"{\"da\": {\"mempool_ttl\": -1}}", "config.json: da.mempool_ttl: "},
      {"{\"p2p\": {\"peers\": \"127.0.0.1:1\"}}", "config.json: p2p.peers: "},
      {"{\"p2p\": {\"peers\": [\"nohost\"]}}", "config.json: p2p.peers: "},
      {"{\"aggregator\": \"yes\"}", "config.json: aggregator: "},
      {"{\"rpc\": 3}", "config.json: rpc: must be an object"},
      {"{\"block_time\": \"1s\", \"block_time\": \"2s\"}",
       "config.json: block_time: appears twice"},
      {"{\"limits\": {\"block_txs_max\": 65}}", "config.json: limits.block_txs_max: "},
      {"[1]", "config.json: the top level must be an object"},
      {"{\"block_time\": ", "config.json: not valid JSON"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    evc_live_config_defaults(&cfg);
    assert_int_equal(
        evc_live_config_parse_json(bad[i].json, strlen(bad[i].json), &cfg, err, sizeof err),
        EVC_ECONFIG);
    if (strstr(err, bad[i].field) == NULL) fail_msg("'%s' lacks '%s'", err, bad[i].field);
  }
}

static void config_json_round_trips(void **state) {
  (void)state;
  cfg.aggregator = true;
  cfg.catchup_peek_timeout_ns = 1500 * MS;
  assert_int_equal(evc_live_parse_peers("127.0.0.1:5,127.0.0.1:6", &cfg, err, sizeof err), 0);
  assert_int_equal(evc_live_config_apply_flag(
                       &cfg, "catchup.expect-head",
                       "9:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", err,
                       sizeof err),
                   0);
  char *json = NULL;
  assert_int_equal(evc_live_config_to_json(&cfg, &json), 0);
  static struct evc_live_config back;
  evc_live_config_defaults(&back);
  assert_int_equal(evc_live_config_parse_json(json, strlen(json), &back, err, sizeof err), 0);
  free(json);
  assert_memory_equal(&cfg, &back, sizeof cfg);
}

static void expect_head_parses_height_and_hash(void **state) {
  (void)state;
  uint64_t height = 0;
  uint8_t hash[32];
  const char *hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
  char text[128];
  snprintf(text, sizeof text, "1234:%s", hex);
  assert_int_equal(evc_live_parse_expect_head(text, &height, hash, err, sizeof err), 0);
  assert_true(height == 1234);
  assert_int_equal(hash[0], 0x00);
  assert_int_equal(hash[31], 0xff);
  const char *bad[] = {"1234", "0:00", ":abcd", "x:00112233", "12:zz", "-1:00"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(evc_live_parse_expect_head(bad[i], &height, hash, err, sizeof err),
                     EVC_EINVAL);
  }
  snprintf(text, sizeof text, "0:%s", hex);
  assert_int_equal(evc_live_parse_expect_head(text, &height, hash, err, sizeof err), EVC_EINVAL);
  snprintf(text, sizeof text, "5:%s0", hex);
  assert_int_equal(evc_live_parse_expect_head(text, &height, hash, err, sizeof err), EVC_EINVAL);
}

static void peer_lists_parse_ids_hosts_and_ports(void **state) {
  (void)state;
  char list[512];
  snprintf(list, sizeof list, "%064d@127.0.0.1:26656,node.example:1,[::1]:9", 0);
  assert_int_equal(evc_live_parse_peers(list, &cfg, err, sizeof err), 0);
  assert_int_equal(cfg.peer_count, 3);
  assert_string_equal(cfg.peers[1], "node.example:1");
  assert_int_equal(evc_live_parse_peers("", &cfg, err, sizeof err), 0);
  assert_int_equal(cfg.peer_count, 0);
  const char *bad[] = {"127.0.0.1", "127.0.0.1:0", ":5", "abc@127.0.0.1:5", "h:1,,h:2",
                       "h:1,h:1", "h:99999", "h:1,", "::1:5"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    assert_int_equal(evc_live_parse_peers(bad[i], &cfg, err, sizeof err), EVC_EINVAL);
    assert_true(strlen(err) > 0);
  }
  /* more than EVC_NODE_PEERS_MAX entries */
  size_t used = 0;
  for (int i = 0; i <= EVC_NODE_PEERS_MAX; i++) {
    used += (size_t)snprintf(list + used, sizeof list - used, "%sh:%d", i ? "," : "", i + 1);
  }
  assert_int_equal(evc_live_parse_peers(list, &cfg, err, sizeof err), EVC_EINVAL);
  assert_non_null(strstr(err, "more than"));
}

static void config_check_refuses_zero_block_times(void **state) {
  (void)state;
  assert_int_equal(evc_live_config_check(&cfg, err, sizeof err), 0);
  assert_int_equal(evc_live_config_apply_flag(&cfg, "block-time", "0s", err, sizeof err), 0);
  assert_int_equal(evc_live_config_check(&cfg, err, sizeof err), EVC_ECONFIG);
  assert_non_null(strstr(err, "--block-time"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(durations_take_ms_s_and_m, setup),
      cmocka_unit_test_setup(durations_without_a_unit_or_with_junk_are_refused, setup),
      cmocka_unit_test_setup(durations_format_in_the_largest_exact_unit, setup),
      cmocka_unit_test_setup(flags_override_defaults, setup),
      cmocka_unit_test_setup(bad_flag_values_name_the_flag, setup),
      cmocka_unit_test_setup(config_json_applies_every_field, setup),
      cmocka_unit_test_setup(config_json_errors_name_the_field, setup),
      cmocka_unit_test_setup(config_json_round_trips, setup),
      cmocka_unit_test_setup(expect_head_parses_height_and_hash, setup),
      cmocka_unit_test_setup(peer_lists_parse_ids_hosts_and_ports, setup),
      cmocka_unit_test_setup(config_check_refuses_zero_block_times, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
