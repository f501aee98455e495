/* The Celestia JSON-RPC text layer (node/live/da_json.c): every reply shape of
 * ../shared/celestia-api.md, the quirks (heights as strings, null vs "blob: not found"),
 * error classification, and clean errors for malformed and truncated input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/error.h"
#include "node/live/da_json.h"

#define S(text) text, strlen(text)

/* ev-node's namespace derivation: version 0, 18 zero bytes, first 10 bytes of SHA-256. */
static void ns_from(const char *name, uint8_t ns[EVC_NAMESPACE_SIZE]) {
  uint8_t h[32];
  crypto_hash_sha256(h, (const uint8_t *)name, strlen(name));
  memset(ns, 0, EVC_NAMESPACE_SIZE);
  memcpy(ns + 19, h, 10);
}

static void submit_request_has_object_options_and_known_namespace(void **state) {
  uint8_t ns[EVC_NAMESPACE_SIZE];
  ns_from("rollkit-headers", ns);
  struct evc_da_blob blob = {.bytes = (const uint8_t *)"hello", .size = 5};
  memcpy(blob.namespace_id, ns, sizeof ns);
  char *text = NULL;
  size_t size = 0;
  assert_int_equal(evc_da_json_submit_request(9, &blob, 1, &text, &size), 0);
  cJSON *root = cJSON_Parse(text);
  assert_non_null(root);
  assert_string_equal(cJSON_GetObjectItem(root, "method")->valuestring, "blob.Submit");
  assert_int_equal(cJSON_GetObjectItem(root, "id")->valueint, 9);
  cJSON *params = cJSON_GetObjectItem(root, "params");
  assert_true(cJSON_IsObject(cJSON_GetArrayItem(params, 1)));
  cJSON *b = cJSON_GetArrayItem(cJSON_GetArrayItem(params, 0), 0);
  assert_string_equal(cJSON_GetObjectItem(b, "namespace")->valuestring,
                      "AAAAAAAAAAAAAAAAAAAAAAAAAPpQktRXn4P8kpY=");
  assert_string_equal(cJSON_GetObjectItem(b, "data")->valuestring, "aGVsbG8=");
  assert_int_equal(cJSON_GetObjectItem(b, "share_version")->valueint, 0);
  assert_null(cJSON_GetObjectItem(b, "signer"));
  cJSON_Delete(root);

  /* evc-da reads back what the client wrote. */
  struct evc_da_json_request req;
  struct evc_da_json_error err;
  assert_int_equal(evc_da_json_parse_request(text, size, &req, &err), 0);
  assert_int_equal(req.method, EVC_DA_METHOD_SUBMIT);
  assert_string_equal(req.id, "9");
  assert_int_equal(req.submit.count, 1);
  assert_memory_equal(req.submit.blobs[0].namespace_id, ns, sizeof ns);
  assert_int_equal(req.submit.blobs[0].size, 5);
  assert_memory_equal(req.submit.blobs[0].bytes, "hello", 5);
  evc_da_json_request_free(&req);
  free(text);
}

static void submit_reply_height_as_number_or_string(void **state) {
  struct evc_da_json_error err;
  uint64_t h = 0;
  assert_int_equal(evc_da_json_parse_submit_reply(S("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":67374}"),
                                                  7, &h, &err), 0);
  assert_int_equal(h, 67374);
  assert_int_equal(evc_da_json_parse_submit_reply(S("{\"id\":7,\"result\":\"18446744073709551615\"}"),
                                                  7, &h, &err), 0);
  assert_int_equal(h, UINT64_MAX);
  assert_int_equal(evc_da_json_parse_submit_reply(S("{\"id\":7,\"result\":\"18446744073709551616\"}"),
                                                  7, &h, &err), EVC_EDECODE);
  assert_int_equal(evc_da_json_parse_submit_reply(S("{\"id\":7,\"result\":1.5}"), 7, &h, &err),
                   EVC_EDECODE);
  assert_int_equal(evc_da_json_parse_submit_reply(S("{\"id\":7,\"result\":-3}"), 7, &h, &err),
                   EVC_EDECODE);
  assert_int_equal(evc_da_json_parse_submit_reply(S("{\"id\":7,\"result\":null}"), 7, &h, &err),
                   EVC_EDECODE);
  assert_int_equal(evc_da_json_parse_submit_reply(S("{\"id\":8,\"result\":5}"), 7, &h, &err),
                   EVC_EDECODE);
  assert_int_equal(evc_da_json_parse_submit_reply(S("{\"id\":7}"), 7, &h, &err), EVC_EDECODE);
}

static int submit_error(const char *message, struct evc_da_json_error *err) {
  char text[512];
  snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1,\"message\":\"%s\"}}",
           message);
  uint64_t h = 0;
  return evc_da_json_parse_submit_reply(text, strlen(text), 1, &h, err);
}

static void submit_errors_are_classified_by_message(void **state) {
  struct evc_da_json_error err;
  assert_int_equal(submit_error("blob: over size limit", &err), EVC_ETOOBIG);
  assert_int_equal(submit_error("tx too large", &err), EVC_ETOOBIG);
  assert_int_equal(submit_error("timed out waiting for tx to be included in a block", &err),
                   EVC_ETIMEDOUT);
  assert_int_equal(submit_error("data can not be empty", &err), EVC_EDA);
  assert_int_equal(err.code, 1);
  assert_string_equal(err.message, "data can not be empty");
  assert_int_equal(submit_error("incorrect account sequence", &err), EVC_EDA);
  /* GetAll's "future" is not a Submit status */
  assert_int_equal(submit_error("given height is from the future", &err), EVC_EDA);
}

static void header_reply_reads_string_height_and_future_error(void **state) {
  struct evc_da_json_error err;
  uint64_t h = 0;
  const char *real = "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"header\":{\"version\":{\"block\":"
                     "\"11\",\"app\":\"6\"},\"chain_id\":\"mocha-4\",\"height\":\"67374\",\"time\":"
                     "\"2026-01-01T00:00:00Z\"},\"commit\":{},\"validator_set\":{},\"dah\":{}}}";
  assert_int_equal(evc_da_json_parse_header_reply(S(real), 3, &h, &err), 0);
  assert_int_equal(h, 67374);
  assert_int_equal(evc_da_json_parse_header_reply(S("{\"id\":3,\"result\":{\"header\":{\"height\":12}}}"),
                                                  3, &h, &err), 0);
  assert_int_equal(h, 12);
  assert_int_equal(evc_da_json_parse_header_reply(S("{\"id\":3,\"result\":{\"height\":\"12\"}}"), 3,
                                                  &h, &err), EVC_EDECODE);
  assert_int_equal(evc_da_json_parse_header_reply(S("{\"id\":3,\"result\":{\"header\":{\"height\":\"1x\"}}}"),
                                                  3, &h, &err), EVC_EDECODE);
  const char *future = "{\"id\":3,\"error\":{\"code\":1,\"message\":\"header: given height is from "
                       "the future: networkHeight: 5, requestedHeight: 9\"}}";
  assert_int_equal(evc_da_json_parse_header_reply(S(future), 3, &h, &err), EVC_EFUTURE);
  assert_non_null(strstr(err.message, "networkHeight: 5"));
}

static void get_all_empty_height_shapes(void **state) {
  struct evc_da_json_error err;
  struct evc_da_json_blobs b;
  assert_int_equal(evc_da_json_parse_get_all_reply(S("{\"id\":1,\"result\":null}"), 1, &b, &err), 0);
  assert_int_equal(b.count, 0);
  assert_int_equal(evc_da_json_parse_get_all_reply(S("{\"id\":1,\"result\":[]}"), 1, &b, &err), 0);
  assert_int_equal(b.count, 0);
  const char *nf = "{\"id\":1,\"error\":{\"code\":1,\"message\":\"blob: not found\"}}";
  assert_int_equal(evc_da_json_parse_get_all_reply(S(nf), 1, &b, &err), 0);
  assert_int_equal(b.count, 0);
  const char *future = "{\"id\":1,\"error\":{\"code\":1,\"message\":\"header: given height is from "
                       "the future: networkHeight: 1, requestedHeight: 2\"}}";
  assert_int_equal(evc_da_json_parse_get_all_reply(S(future), 1, &b, &err), EVC_EFUTURE);
  /* a garbled or inconsistent "future" claim is a DA error, never "caught up" */
  const char *garbled = "{\"id\":1,\"error\":{\"code\":1,\"message\":\"header: given height is "
                        "from the future: networkHeight: x, requestedHeight: \"}}";
  assert_int_equal(evc_da_json_parse_get_all_reply(S(garbled), 1, &b, &err), EVC_EDA);
  const char *backwards = "{\"id\":1,\"error\":{\"code\":1,\"message\":\"header: given height is "
                          "from the future: networkHeight: 9, requestedHeight: 2\"}}";
  assert_int_equal(evc_da_json_parse_get_all_reply(S(backwards), 1, &b, &err), EVC_EDA);
  const char *bare = "{\"id\":1,\"error\":{\"code\":1,\"message\":\"given height is from the "
                     "future\"}}";
  assert_int_equal(evc_da_json_parse_get_all_reply(S(bare), 1, &b, &err), EVC_EFUTURE);
  const char *other = "{\"id\":1,\"error\":{\"code\":1,\"message\":\"missing permission to invoke "
                      "'GetAll' (need 'read')\"}}";
  assert_int_equal(evc_da_json_parse_get_all_reply(S(other), 1, &b, &err), EVC_EDA);
  assert_non_null(strstr(err.message, "missing permission"));
  assert_int_equal(evc_da_json_parse_get_all_reply(S("{\"id\":1,\"result\":{}}"), 1, &b, &err),
                   EVC_EDECODE);
}

#define NS_A "AAAAAAAAAAAAAAAAAAAAAAAAAPpQktRXn4P8kpY="
#define NS_B "AAAAAAAAAAAAAAAAAAAAAAAAAIoEQ/AHIco4J0A="

static void get_all_blobs_come_sorted_by_index(void **state) {
  struct evc_da_json_error err;
  struct evc_da_json_blobs b;
  const char *text = "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":["
                     "{\"namespace\":\"" NS_A "\",\"data\":\"d29ybGQ=\",\"share_version\":0,"
                     "\"commitment\":\"\",\"index\":\"12\"},"
                     "{\"namespace\":\"" NS_B "\",\"data\":\"aGVsbG8=\",\"share_version\":0,"
                     "\"commitment\":\"\",\"index\":3},"
                     "{\"namespace\":\"" NS_B "\",\"data\":\"\",\"index\":4}]}";
  assert_int_equal(evc_da_json_parse_get_all_reply(S(text), 4, &b, &err), 0);
  assert_int_equal(b.count, 3);
  assert_int_equal(b.blobs[0].index, 3);
  assert_int_equal(b.blobs[0].size, 5);
  assert_memory_equal(b.blobs[0].bytes, "hello", 5);
  assert_int_equal(b.blobs[1].index, 4);
  assert_int_equal(b.blobs[1].size, 0);
  assert_int_equal(b.blobs[2].index, 12);
  assert_memory_equal(b.blobs[2].bytes, "world", 5);
  uint8_t ns[EVC_NAMESPACE_SIZE];
  ns_from("rollkit-data", ns);
  assert_memory_equal(b.blobs[0].namespace_id, ns, sizeof ns);
  evc_da_json_blobs_free(&b);
}

static void get_all_malformed_blobs_are_refused(void **state) {
  static const char *bad[] = {
      "{\"id\":1,\"result\":[{\"namespace\":\"" NS_A "\",\"data\":\"aGVsbG8=\"}]}", /* no index */
      "{\"id\":1,\"result\":[{\"namespace\":\"" NS_A "\",\"data\":\"aGVsbG8=\",\"index\":-1}]}",
      "{\"id\":1,\"result\":[{\"namespace\":\"AAAA\",\"data\":\"aGVsbG8=\",\"index\":0}]}",
      "{\"id\":1,\"result\":[{\"namespace\":\"" NS_A "\",\"data\":\"a$$$\",\"index\":0}]}",
      "{\"id\":1,\"result\":[{\"namespace\":\"" NS_A "\",\"data\":5,\"index\":0}]}",
      "{\"id\":1,\"result\":[{\"namespace\":\"" NS_A "\",\"data\":\"\",\"index\":4294967296}]}",
      "{\"id\":1,\"result\":[{\"namespace\":\"" NS_A "\",\"data\":\"\",\"share_version\":1,"
      "\"index\":0}]}",
      "{\"id\":1,\"result\":[{\"namespace\":\"" NS_A "\",\"data\":\"\",\"index\":2},"
      "{\"namespace\":\"" NS_B "\",\"data\":\"\",\"index\":2}]}", /* duplicate index */
      "{\"id\":1,\"result\":[7]}",
      "{\"id\":1,\"result\":null} trailing",
      "[]",
      "",
      "{\"id\":1,\"error\":\"boom\"}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct evc_da_json_error err;
    struct evc_da_json_blobs b;
    int rc = evc_da_json_parse_get_all_reply(S(bad[i]), 1, &b, &err);
    if (rc != EVC_EDECODE) fail_msg("case %zu: %s -> %d", i, bad[i], rc);
    assert_true(strlen(err.message) > 0);
    assert_null(b.blobs);
  }
}

static void every_truncation_is_a_clean_error(void **state) {
  uint8_t ns[EVC_NAMESPACE_SIZE];
  ns_from("rollkit-data", ns);
  struct evc_da_blob blobs[2] = {{.bytes = (const uint8_t *)"abc", .size = 3, .index = 0},
                                 {.bytes = (const uint8_t *)"defg", .size = 4, .index = 1}};
  memcpy(blobs[0].namespace_id, ns, sizeof ns);
  memcpy(blobs[1].namespace_id, ns, sizeof ns);
  char *text = NULL;
  size_t size = 0;
  assert_int_equal(evc_da_json_blobs_reply("5", blobs, 2, &text, &size), 0);
  struct evc_da_json_error err;
  struct evc_da_json_blobs b;
  assert_int_equal(evc_da_json_parse_get_all_reply(text, size, 5, &b, &err), 0);
  assert_int_equal(b.count, 2);
  assert_memory_equal(b.blobs[1].bytes, "defg", 4);
  evc_da_json_blobs_free(&b);
  for (size_t cut = 0; cut < size; cut++) {
    char *copy = malloc(cut + 1); /* exact-size copy: ASan sees any read past the cut */
    memcpy(copy, text, cut);
    copy[cut] = '\0';
    assert_int_equal(evc_da_json_parse_get_all_reply(copy, cut, 5, &b, &err), EVC_EDECODE);
    uint64_t h = 0;
    assert_int_not_equal(evc_da_json_parse_submit_reply(copy, cut, 5, &h, &err), 0);
    assert_int_not_equal(evc_da_json_parse_header_reply(copy, cut, 5, &h, &err), 0);
    struct evc_da_json_request req;
    assert_int_equal(evc_da_json_parse_request(copy, cut, &req, &err), EVC_EDECODE);
    free(copy);
  }
  free(text);
}

static void server_requests_and_their_errors(void **state) {
  struct evc_da_json_request req;
  struct evc_da_json_error err;
  assert_int_equal(evc_da_json_parse_request(S("{garbage"), &req, &err), EVC_EDECODE);
  assert_int_equal(err.code, EVC_DA_RPC_PARSE_ERROR);
  assert_string_equal(req.id, "null");
  assert_int_equal(evc_da_json_parse_request(S("{\"id\":\"a\",\"method\":\"blob.Nope\"}"), &req,
                                             &err), EVC_EDECODE);
  assert_int_equal(err.code, EVC_DA_RPC_METHOD_NOT_FOUND);
  assert_string_equal(req.id, "\"a\"");
  const char *null_options = "{\"id\":1,\"method\":\"blob.Submit\",\"params\":[[{\"namespace\":\""
                             NS_A "\",\"data\":\"aGk=\"}],null]}";
  assert_int_equal(evc_da_json_parse_request(S(null_options), &req, &err), EVC_EDECODE);
  assert_int_equal(err.code, EVC_DA_RPC_INVALID_PARAMS);
  const char *none = "{\"id\":1,\"method\":\"blob.Submit\",\"params\":[[],{}]}";
  assert_int_equal(evc_da_json_parse_request(S(none), &req, &err), EVC_EDECODE);
  assert_string_equal(err.message, "state: no blobs provided");
  const char *get = "{\"id\":2,\"method\":\"blob.GetAll\",\"params\":[\"42\",[\"" NS_A "\",\""
                    NS_B "\"]]}";
  assert_int_equal(evc_da_json_parse_request(S(get), &req, &err), 0);
  assert_int_equal(req.method, EVC_DA_METHOD_GET_ALL);
  assert_int_equal(req.height, 42);
  assert_int_equal(req.namespace_count, 2);
  evc_da_json_request_free(&req);
  assert_int_equal(evc_da_json_parse_request(S("{\"id\":3,\"method\":\"header.GetByHeight\","
                                               "\"params\":[7]}"), &req, &err), 0);
  assert_int_equal(req.height, 7);
  assert_int_equal(evc_da_json_parse_request(S("{\"id\":3,\"method\":\"header.GetByHeight\","
                                               "\"params\":[]}"), &req, &err), EVC_EDECODE);
  assert_int_equal(evc_da_json_parse_request(S("{\"id\":{},\"method\":\"header.NetworkHead\"}"),
                                             &req, &err), EVC_EDECODE);
  assert_int_equal(err.code, EVC_DA_RPC_INVALID_REQUEST);
}

static void server_replies_parse_back(void **state) {
  char *text = NULL;
  size_t size = 0;
  struct evc_da_json_error err;
  uint64_t h = 0;
  assert_int_equal(evc_da_json_height_reply("11", 99, &text, &size), 0);
  assert_int_equal(evc_da_json_parse_submit_reply(text, size, 11, &h, &err), 0);
  assert_int_equal(h, 99);
  free(text);
  struct evc_da_json_header hdr = {.height = 1234, .time_ns = 1700000000123456789ull};
  assert_int_equal(evc_da_json_header_reply("12", &hdr, &text, &size), 0);
  assert_non_null(strstr(text, "\"height\":\"1234\""));
  assert_non_null(strstr(text, "\"time\":\"2023-11-14T22:13:20.123456789Z\""));
  assert_int_equal(evc_da_json_parse_header_reply(text, size, 12, &h, &err), 0);
  assert_int_equal(h, 1234);
  free(text);
  assert_int_equal(evc_da_json_blobs_reply("13", NULL, 0, &text, &size), 0);
  assert_string_equal(text, "{\"jsonrpc\":\"2.0\",\"id\":13,\"result\":null}");
  free(text);
  assert_int_equal(evc_da_json_error_reply("null", -32700, "parse error", &text, &size), 0);
  assert_string_equal(text, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
                            "\"message\":\"parse error\"}}");
  free(text);
}

static void namespaces_are_validated(void **state) {
  uint8_t ns[EVC_NAMESPACE_SIZE];
  ns_from("rollkit-headers", ns);
  assert_true(evc_da_namespace_valid(ns));
  uint8_t bad[EVC_NAMESPACE_SIZE];
  memcpy(bad, ns, sizeof bad);
  bad[0] = 1; /* version */
  assert_false(evc_da_namespace_valid(bad));
  memcpy(bad, ns, sizeof bad);
  bad[5] = 1; /* within the 18 zero bytes */
  assert_false(evc_da_namespace_valid(bad));
  memset(bad, 0, sizeof bad);
  bad[28] = 0xff; /* reserved: 0x00...00FF */
  assert_false(evc_da_namespace_valid(bad));
  bad[27] = 1; /* 0x00...01FF: first non-reserved range */
  assert_true(evc_da_namespace_valid(bad));
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(submit_request_has_object_options_and_known_namespace),
      cmocka_unit_test(submit_reply_height_as_number_or_string),
      cmocka_unit_test(submit_errors_are_classified_by_message),
      cmocka_unit_test(header_reply_reads_string_height_and_future_error),
      cmocka_unit_test(get_all_empty_height_shapes),
      cmocka_unit_test(get_all_blobs_come_sorted_by_index),
      cmocka_unit_test(get_all_malformed_blobs_are_refused),
      cmocka_unit_test(every_truncation_is_a_clean_error),
      cmocka_unit_test(server_requests_and_their_errors),
      cmocka_unit_test(server_replies_parse_back),
      cmocka_unit_test(namespaces_are_validated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
