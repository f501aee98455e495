/* Reads and writes ed25519 key files: JSON with the type, the public key and the seed in hex,
 * mode 0600, created once and never overwritten. Live runtime and CLIs only; a key file that
 * others can read, or whose public key does not match its seed, is refused, never repaired. */
#include "node/os/keyfile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <sodium.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/os/fsutil.h"

#define KEYFILE_TYPE "ed25519"
#define KEYFILE_TEXT_SIZE_MAX 256u

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t err_size,
                                                          const char *fmt, ...) {
  if (err == NULL || err_size == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_size, fmt, ap);
  va_end(ap);
}

int evc_keyfile_write(const char *path, const struct evc_keypair *kp) {
  EVC_ASSERT(path != NULL);
  EVC_ASSERT(kp != NULL);
  uint8_t seed[EVC_SEED_SIZE];
  evc_keypair_seed(kp, seed);
  struct evc_keypair check;
  evc_keypair_from_seed(seed, &check);
  EVC_ASSERT(memcmp(check.pubkey, kp->pubkey, EVC_PUBKEY_SIZE) == 0);
  evc_keypair_wipe(&check);

  char pub_hex[2 * EVC_PUBKEY_SIZE + 1];
  char seed_hex[2 * EVC_SEED_SIZE + 1];
  char text[KEYFILE_TEXT_SIZE_MAX];
  evc_hex_encode(kp->pubkey, EVC_PUBKEY_SIZE, pub_hex);
  evc_hex_encode(seed, EVC_SEED_SIZE, seed_hex);
  int len = snprintf(text, sizeof text,
                     "{\"type\":\"" KEYFILE_TYPE "\",\"public_key\":\"%s\",\"seed\":\"%s\"}\n",
                     pub_hex, seed_hex);
  EVC_ASSERT(len > 0);
  EVC_ASSERT((size_t)len < sizeof text);
  int rc = evc_fs_create_atomic(path, (const uint8_t *)text, (size_t)len, EVC_KEYFILE_MODE);
  sodium_memzero(seed, sizeof seed);
  sodium_memzero(seed_hex, sizeof seed_hex);
  sodium_memzero(text, sizeof text);
  return rc;
}

/* Decodes one of the three string fields; ECORRUPT names the field. */
static int parse_hex_field(const cJSON *item, uint8_t *out, size_t size, const char *path,
                           char *err, size_t err_size) {
  const char *text = item->valuestring;
  if (evc_hex_decode(text, strlen(text), out, size) != 0) {
    set_err(err, err_size, "key file '%s': \"%s\" must be %zu hex digits", path, item->string,
            2 * size);
    return EVC_ECORRUPT;
  }
  return 0;
}

/* Checks the object's keys (each known key exactly once, string-valued) and fills the fields. */
static int parse_fields(const cJSON *root, const char *path, const cJSON *fields[3], char *err,
                        size_t err_size) {
  static const char *const names[3] = {"type", "public_key", "seed"};
  const cJSON *item;
  cJSON_ArrayForEach(item, root) {
    size_t i = 0;
    while (i < 3 && strcmp(item->string, names[i]) != 0) i++;
    if (i == 3 || fields[i] != NULL || !cJSON_IsString(item)) {
      set_err(err, err_size, "key file '%s': unexpected, duplicate or non-string key \"%s\"",
              path, item->string);
      return EVC_ECORRUPT;
    }
    fields[i] = item;
  }
  for (size_t i = 0; i < 3; i++) {
    if (fields[i] == NULL) {
      set_err(err, err_size, "key file '%s': missing \"%s\"", path, names[i]);
      return EVC_ECORRUPT;
    }
  }
  if (strcmp(fields[0]->valuestring, KEYFILE_TYPE) != 0) {
    set_err(err, err_size, "key file '%s': type must be \"" KEYFILE_TYPE "\"", path);
    return EVC_ECORRUPT;
  }
  return 0;
}

static int parse_key(const cJSON *root, const char *path, struct evc_keypair *out, char *err,
                     size_t err_size) {
  if (!cJSON_IsObject(root)) {
    set_err(err, err_size, "key file '%s' is not a JSON object", path);
    return EVC_ECORRUPT;
  }
  const cJSON *fields[3] = {NULL, NULL, NULL};
  int rc = parse_fields(root, path, fields, err, err_size);
  uint8_t pubkey[EVC_PUBKEY_SIZE];
  uint8_t seed[EVC_SEED_SIZE];
  if (rc == 0) rc = parse_hex_field(fields[1], pubkey, sizeof pubkey, path, err, err_size);
  if (rc == 0) rc = parse_hex_field(fields[2], seed, sizeof seed, path, err, err_size);
  if (rc == 0) {
    evc_keypair_from_seed(seed, out);
    if (memcmp(out->pubkey, pubkey, sizeof pubkey) != 0) {
      set_err(err, err_size, "key file '%s': public_key does not match the seed", path);
      evc_keypair_wipe(out);
      rc = EVC_ECORRUPT;
    }
  }
  if (fields[2] != NULL) sodium_memzero(fields[2]->valuestring, strlen(fields[2]->valuestring));
  sodium_memzero(seed, sizeof seed);
  return rc;
}

/* Parses exactly one JSON value; only whitespace may follow it. */
static cJSON *parse_json(const uint8_t *bytes, size_t size) {
  const char *text = (const char *)bytes;
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, size, &end, 0);
  if (root == NULL) return NULL;
  EVC_ASSERT(end >= text);
  EVC_ASSERT((size_t)(end - text) <= size);
  for (size_t i = (size_t)(end - text); i < size; i++) {
    if (strchr(" \t\r\n", text[i]) == NULL || text[i] == '\0') {
      cJSON_Delete(root);
      return NULL;
    }
  }
  return root;
}

static int read_error(int rc, const char *path, char *err, size_t err_size) {
  if (rc == EVC_ENOTFOUND) {
    set_err(err, err_size, "key file '%s' not found", path);
  } else if (rc == EVC_ETOOBIG) {
    set_err(err, err_size, "key file '%s' is larger than %u bytes", path, EVC_KEYFILE_SIZE_MAX);
  } else {
    set_err(err, err_size, "cannot read key file '%s': %s", path, evc_strerror(rc));
  }
  return rc;
}

int evc_keyfile_read(const char *path, struct evc_keypair *out, char *err, size_t err_size) {
  EVC_ASSERT(path != NULL);
  EVC_ASSERT(out != NULL);
  memset(out, 0, sizeof *out);
  if (err != NULL && err_size > 0) err[0] = '\0';
  uint8_t *bytes = NULL;
  size_t size = 0;
  unsigned mode = 0;
  int rc = evc_fs_read_file_mode(path, EVC_KEYFILE_SIZE_MAX, &bytes, &size, &mode);
  if (rc != 0) return read_error(rc, path, err, err_size);
  if ((mode & 0066u) != 0) {
    set_err(err, err_size,
            "key file '%s' has mode %04o: it must not be readable or writable by group or "
            "others; run chmod 600 '%s'",
            path, mode, path);
    rc = EVC_EPERM;
  }
  if (rc == 0) {
    cJSON *root = parse_json(bytes, size);
    if (root == NULL) {
      set_err(err, err_size, "key file '%s' is not valid JSON", path);
      rc = EVC_ECORRUPT;
    } else {
      rc = parse_key(root, path, out, err, err_size);
      cJSON_Delete(root);
    }
  }
  sodium_memzero(bytes, size);
  free(bytes);
  return rc;
}
