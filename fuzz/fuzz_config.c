/* Config harness: evc_live_config_parse_json (node/live/config.h) on arbitrary bytes, copied
 * into an exact-size buffer (the text is not NUL-terminated, so ASan sees a read past it).
 * Properties: a failure is EVC_ECONFIG (or EVC_ENOMEM) with a message naming config.json; a
 * config that parses is emitted by evc_live_config_to_json as JSON that parses back, over the
 * defaults, to a config that emits exactly the same text (every setting survives the trip). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/live/config.h"

/* Static: the struct holds 32 peer addresses and a 4 KiB token; it is refilled per input. */
static struct evc_live_config config_first;
static struct evc_live_config config_back;

static void check_failure(int rc, const char *err) {
  EVC_ASSERT(rc == EVC_ECONFIG || rc == EVC_ENOMEM);
  EVC_ASSERT(memchr(err, '\0', EVC_LIVE_ERR_SIZE) != NULL);
  if (rc == EVC_ECONFIG) EVC_ASSERT(strncmp(err, "config.json: ", 13) == 0);
}

int evc_fuzz_config(const uint8_t *data, size_t size) {
  char *text = malloc(size > 0 ? size : 1);
  EVC_ASSERT(text != NULL);
  if (size > 0) memcpy(text, data, size);
  char err[EVC_LIVE_ERR_SIZE];
  err[0] = '\0';
  evc_live_config_defaults(&config_first);
  int rc = evc_live_config_parse_json(text, size, &config_first, err, sizeof err);
  free(text);
  if (rc != 0) {
    check_failure(rc, err);
    return 0;
  }
  char *json = NULL;
  EVC_ASSERT(evc_live_config_to_json(&config_first, &json) == 0);
  evc_live_config_defaults(&config_back);
  rc = evc_live_config_parse_json(json, strlen(json), &config_back, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "fuzz config: emitted config.json does not parse back: %s\n", err);
    EVC_ASSERT(rc == 0);
  }
  char *again = NULL;
  EVC_ASSERT(evc_live_config_to_json(&config_back, &again) == 0);
  EVC_ASSERT(strcmp(json, again) == 0);
  free(again);
  free(json);
  return 0;
}
