/* Seed generator: writes the small valid and invalid inputs of fuzz/corpus/{codec,genesis,
 * catchup}/ (scenario seeds are copies of the scenarios/ files). Run once after a format change:
 *   evc-fuzz-gen-corpus fuzz/corpus
 * It must stay deterministic (fixed key, fixed contents) so regenerated seeds do not churn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fixture.h"
#include "node/common/assert.h"
#include "node/crypto/sign_state.h"

/* Codec seeds start with the harness' mode byte (fuzz/fuzz_codec.c, enum codec_mode). */
enum { MODE_HEADER, MODE_SIGNED_HEADER, MODE_DATA, MODE_SIGN_STATE, MODE_SIGN_STATE_RESUM };

#define SEED_SIZE_MAX 8192u

static const char *out_dir;

static void write_seed(const char *harness, const char *name, const void *bytes, size_t size) {
  char path[1024];
  int n = snprintf(path, sizeof path, "%s/%s/%s", out_dir, harness, name);
  EVC_ASSERT(n > 0 && (size_t)n < sizeof path);
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    fprintf(stderr, "gen_corpus: cannot write '%s': does the directory exist?\n", path);
    exit(1);
  }
  EVC_ASSERT(fwrite(bytes, 1, size, f) == size);
  EVC_ASSERT(fclose(f) == 0);
}

/* A codec seed: the mode byte, then the encoding. */
static void write_codec(const char *name, uint8_t mode, const uint8_t *bytes, size_t size) {
  static uint8_t seed[SEED_SIZE_MAX];
  EVC_ASSERT(size + 1 <= sizeof seed);
  seed[0] = mode;
  memcpy(seed + 1, bytes, size);
  write_seed("codec", name, seed, size + 1);
}

static void make_header(const struct evc_keypair *kp, const char *chain_id, uint64_t height,
                        const uint8_t data_hash[EVC_HASH_SIZE], struct evc_signed_header *out) {
  memset(out, 0, sizeof *out);
  out->header.version = EVC_HEADER_VERSION;
  EVC_ASSERT(evc_chain_id_set(&out->header.chain_id, chain_id, strlen(chain_id)) == 0);
  out->header.height = height;
  out->header.time_ns = EVC_FUZZ_GENESIS_TIME_NS + height * 1000000000ull;
  memcpy(out->header.data_hash, data_hash, EVC_HASH_SIZE);
  memset(out->header.app_hash, 0xa5, EVC_HASH_SIZE);
  evc_address_from_pubkey(kp->pubkey, out->header.proposer);
  EVC_ASSERT(evc_signed_header_sign(out, kp->seckey) == 0);
}

static size_t make_data(uint64_t height, uint32_t tx_count, uint8_t *out, size_t capacity,
                        uint8_t hash_out[EVC_HASH_SIZE]) {
  static const uint8_t tx_bytes[3][8] = {"a=1", "key=val", "z=26"};
  struct evc_tx txs[3];
  EVC_ASSERT(tx_count <= 3);
  for (uint32_t i = 0; i < tx_count; i++) {
    txs[i].bytes = tx_bytes[i];
    txs[i].size = (uint32_t)strlen((const char *)tx_bytes[i]);
  }
  struct evc_data d;
  memset(&d, 0, sizeof d);
  EVC_ASSERT(evc_chain_id_set(&d.chain_id, EVC_FUZZ_CHAIN_ID, strlen(EVC_FUZZ_CHAIN_ID)) == 0);
  d.height = height;
  d.tx_count = tx_count;
  d.txs = txs;
  size_t size = 0;
  EVC_ASSERT(evc_data_encode(&d, out, capacity, &size) == 0);
  EVC_ASSERT(evc_data_hash(&d, hash_out) == 0);
  return size;
}

static void gen_codec_types(const struct evc_keypair *kp) {
  uint8_t data[SEED_SIZE_MAX], hash[EVC_HASH_SIZE], buf[EVC_SIGNED_HEADER_SIZE_MAX];
  size_t data_size = make_data(7, 2, data, sizeof data, hash), size = 0;
  write_codec("data-2-txs", MODE_DATA, data, data_size);
  write_codec("data-truncated", MODE_DATA, data, data_size - 1);
  data_size = make_data(1, 0, data, sizeof data, hash);
  write_codec("data-empty", MODE_DATA, data, data_size);

  struct evc_signed_header sh;
  make_header(kp, EVC_FUZZ_CHAIN_ID, 7, hash, &sh);
  EVC_ASSERT(evc_header_encode(&sh.header, buf, sizeof buf, &size) == 0);
  write_codec("header", MODE_HEADER, buf, size);
  buf[1] = 2; /* version 2: EVC_EVERSION */
  write_codec("header-version-2", MODE_HEADER, buf, size);
  EVC_ASSERT(evc_signed_header_encode(&sh, buf, sizeof buf, &size) == 0);
  write_codec("signed-header", MODE_SIGNED_HEADER, buf, size);
  buf[size - 1] ^= 1; /* still decodes; the signature no longer verifies */
  write_codec("signed-header-bad-sig", MODE_SIGNED_HEADER, buf, size);
  write_codec("signed-header-as-header", MODE_HEADER, buf, size);

  char long_id[EVC_CHAIN_ID_SIZE_MAX + 1];
  memset(long_id, 'c', EVC_CHAIN_ID_SIZE_MAX);
  long_id[EVC_CHAIN_ID_SIZE_MAX] = '\0';
  make_header(kp, long_id, UINT64_MAX, hash, &sh);
  EVC_ASSERT(evc_signed_header_encode(&sh, buf, sizeof buf, &size) == 0);
  write_codec("signed-header-longest", MODE_SIGNED_HEADER, buf, size);
  buf[size] = 0;
  write_codec("signed-header-trailing", MODE_SIGNED_HEADER, buf, size + 1);
}

static void write_sign_state(const char *name, const struct evc_sign_state *s) {
  uint8_t *bytes = NULL;
  size_t size = 0;
  EVC_ASSERT(evc_sign_state_encode(s, &bytes, &size) == 0);
  char resum_name[128];
  snprintf(resum_name, sizeof resum_name, "%s-resum", name);
  write_codec(name, MODE_SIGN_STATE, bytes, size);
  write_codec(resum_name, MODE_SIGN_STATE_RESUM, bytes, size);
  bytes[12 + 7] ^= 1; /* height: the checksum no longer matches */
  snprintf(resum_name, sizeof resum_name, "%s-bad-checksum", name);
  write_codec(resum_name, MODE_SIGN_STATE, bytes, size);
  free(bytes);
}

static void gen_codec_sign_state(const struct evc_keypair *kp) {
  struct evc_sign_state s;
  EVC_ASSERT(evc_sign_state_init_empty(EVC_FUZZ_INITIAL_HEIGHT - 1, &s) == 0);
  write_sign_state("sign-state-empty", &s);

  uint8_t data[SEED_SIZE_MAX], hash[EVC_HASH_SIZE], header[EVC_SIGNED_HEADER_SIZE_MAX];
  size_t data_size = make_data(9, 3, data, sizeof data, hash), header_size = 0;
  struct evc_signed_header sh;
  make_header(kp, EVC_FUZZ_CHAIN_ID, 9, hash, &sh);
  EVC_ASSERT(evc_signed_header_encode(&sh, header, sizeof header, &header_size) == 0);
  EVC_ASSERT(evc_sign_state_init_block(header, header_size, data, data_size, &s) == 0);
  write_sign_state("sign-state-block", &s);
  evc_sign_state_release(&s);

  /* Well formed, but signed by another key: EVC_EVALIDATE. */
  struct evc_keypair other;
  uint8_t seed[EVC_SEED_SIZE];
  memset(seed, 0x01, sizeof seed);
  evc_keypair_from_seed(seed, &other);
  make_header(&other, EVC_FUZZ_CHAIN_ID, 9, hash, &sh);
  EVC_ASSERT(evc_signed_header_encode(&sh, header, sizeof header, &header_size) == 0);
  EVC_ASSERT(evc_sign_state_init_block(header, header_size, data, data_size, &s) == 0);
  write_sign_state("sign-state-foreign-key", &s);
  evc_sign_state_release(&s);
}

static void write_text_seed(const char *harness, const char *name, const char *text) {
  write_seed(harness, name, text, strlen(text));
}

static void gen_genesis(const struct evc_genesis *g) {
  char *json = NULL;
  EVC_ASSERT(evc_genesis_to_json(g, &json) == 0);
  write_text_seed("genesis", "valid", json);
  free(json);
  struct evc_genesis big = *g;
  big.initial_height = 9007199254740993ull; /* above 2^53: emitted as a string */
  big.da_start_height = 18446744073709551615ull;
  big.genesis_time_ns = 0;
  EVC_ASSERT(evc_genesis_to_json(&big, &json) == 0);
  write_text_seed("genesis", "valid-large-numbers", json);
  free(json);
  write_text_seed("genesis", "empty-object", "{}");
  write_text_seed("genesis", "not-an-object", "[1, \"chain_id\", null, true, 1.5e3]");
  write_text_seed("genesis", "truncated", "{\"chain_id\": \"evc-fuzz-1\", \"initial_hei");
  write_text_seed("genesis", "duplicate-key",
                  "{\"chain_id\": \"a\", \"chain_id\": \"b\", \"initial_height\": -1}");
  write_text_seed("genesis", "unknown-key", "{\"chain_idx\": \"a\", \"proposer_pubkey\": \"zz\"}");
}

/* Catchup seeds: boot bytes (flags, S, H, known peers), then events (fuzz/fuzz_catchup.c). */
static void gen_catchup(void) {
  /* intact at S = H = 10: DA caught up (1), peek (7) -> drain */
  static const uint8_t restart[] = {0x01, 10, 10, 0, 1, 7};
  /* intact S = 10, H = 9: caught up -> apply signed block -> peek -> drain */
  static const uint8_t one_behind[] = {0x01, 10, 9, 1, 1, 7};
  /* intact S = 10, H = 3: settle (4), p2p timeout (5) -> fail closed; da_only -> override */
  static const uint8_t pending_lost[] = {0x01, 10, 3, 1, 1, 4, 5};
  static const uint8_t pending_lost_da_only[] = {0x11, 10, 3, 1, 1, 4, 5};
  /* absent, 2 known peers: both answer (8), one proves a height (10 +2) and sends blocks
   * (11), caught up, settle -> drain */
  static const uint8_t lost_machine[] = {0x00, 0, 5, 2, 8, 8, 10, 2, 11, 11, 11, 1, 4};
  /* absent, no known peers: inbound grace (6), an inbound answer (9), caught up, settle */
  static const uint8_t no_peers[] = {0x00, 0, 5, 0, 6, 9, 1, 4};
  /* intact S = 4 but DA holds blocks above it (3): stale, then as absent */
  static const uint8_t stale[] = {0x01, 4, 4, 0, 3, 9, 0, 12, 1, 6, 4};
  static const uint8_t invalid[] = {0x02, 4, 4, 0, 1, 7};
  static const uint8_t stop_and_fatal[] = {0x00, 0, 0, 1, 14, 0x01, 3, 3, 0, 15};
  static const uint8_t conflict[] = {0x01, 4, 4, 0, 13, 1, 7};
  write_seed("catchup", "restart", restart, sizeof restart);
  write_seed("catchup", "one-behind", one_behind, sizeof one_behind);
  write_seed("catchup", "pending-lost", pending_lost, sizeof pending_lost);
  write_seed("catchup", "pending-lost-da-only", pending_lost_da_only, sizeof pending_lost_da_only);
  write_seed("catchup", "lost-machine", lost_machine, sizeof lost_machine);
  write_seed("catchup", "no-known-peers", no_peers, sizeof no_peers);
  write_seed("catchup", "stale", stale, sizeof stale);
  write_seed("catchup", "invalid", invalid, sizeof invalid);
  write_seed("catchup", "stop-then-fatal", stop_and_fatal, sizeof stop_and_fatal);
  write_seed("catchup", "sign-block-conflict", conflict, sizeof conflict);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR (with codec/, genesis/, catchup/ and empty/ in it)\n",
            argv[0]);
    return 2;
  }
  out_dir = argv[1];
  struct evc_keypair kp;
  struct evc_genesis genesis;
  evc_fuzz_fixture(&kp, &genesis);
  gen_codec_types(&kp);
  gen_codec_sign_state(&kp);
  gen_genesis(&genesis);
  gen_catchup();
  write_text_seed("empty", "one-byte", "x");
  return 0;
}
