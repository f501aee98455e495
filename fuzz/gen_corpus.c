/* Seed generator: writes the small valid and invalid inputs of fuzz/corpus/{codec,genesis,
 * catchup,p2p,da,rpc}/ (scenario seeds are copies of the scenarios/ files). Run once after a
 * format change:
 *   evc-fuzz-gen-corpus fuzz/corpus
 * It must stay deterministic (fixed key, fixed contents) so regenerated seeds do not churn. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fixture.h"
#include "node/common/assert.h"
#include "node/crypto/sign_state.h"
#include "node/live/da_json.h"
#include "node/live/p2p_handshake.h"
#include "node/live/rpc_handler.h"
#include "node/p2p/messages.h"

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
  /* buf has one byte more than the longest signed header: the trailing-byte seed. */
  uint8_t data[SEED_SIZE_MAX], hash[EVC_HASH_SIZE], buf[EVC_SIGNED_HEADER_SIZE_MAX + 1];
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

/* P2P seeds start with the harness' mode byte (fuzz/fuzz_p2p.c, enum p2p_mode). */
enum { P2P_MESSAGE, P2P_HANDSHAKE };

static void write_p2p_seed(const char *name, uint8_t mode, const uint8_t *bytes, size_t size) {
  static uint8_t seed[SEED_SIZE_MAX];
  EVC_ASSERT(size + 1 <= sizeof seed);
  seed[0] = mode;
  if (size > 0) memcpy(seed + 1, bytes, size);
  write_seed("p2p", name, seed, size + 1);
}

/* Message seeds: one encoded message of every type, then a few that must fail. */
static void write_p2p(const char *name, const struct evc_p2p_message *m) {
  uint8_t *bytes = NULL;
  size_t size = 0;
  EVC_ASSERT(evc_p2p_encode(m, &bytes, &size) == 0);
  write_p2p_seed(name, P2P_MESSAGE, bytes, size);
  free(bytes);
}

static void gen_p2p(const struct evc_keypair *kp) {
  static uint8_t data[2][SEED_SIZE_MAX], header[2][EVC_SIGNED_HEADER_SIZE_MAX];
  static struct evc_p2p_message m;
  size_t data_size[2], header_size[2];
  for (int i = 0; i < 2; i++) {
    uint8_t hash[EVC_HASH_SIZE];
    struct evc_signed_header sh;
    data_size[i] = make_data(7 + (uint64_t)i, (uint32_t)(i + 1), data[i], sizeof data[i], hash);
    make_header(kp, EVC_FUZZ_CHAIN_ID, 7 + (uint64_t)i, hash, &sh);
    EVC_ASSERT(evc_signed_header_encode(&sh, header[i], sizeof header[i], &header_size[i]) == 0);
  }
  memset(&m, 0, sizeof m);
  m.type = EVC_P2P_STATUS_REQUEST;
  write_p2p("status-request", &m);
  m.type = EVC_P2P_STATUS;
  m.height = 0;
  m.da_included_height = 0;
  write_p2p("status-without-head", &m);
  m.height = 8;
  m.has_head = true;
  m.head = header[1];
  m.head_size = header_size[1];
  m.da_included_height = 3;
  write_p2p("status-with-head", &m);
  memset(&m, 0, sizeof m);
  m.type = EVC_P2P_GET_BLOCKS;
  m.from = 7;
  m.count = 2;
  write_p2p("get-blocks", &m);
  m.count = EVC_P2P_RANGE_BLOCKS_MAX;
  write_p2p("get-blocks-max", &m);
  m.type = EVC_P2P_BLOCKS;
  m.count = 0;
  write_p2p("blocks-none", &m);
  m.count = 2;
  for (int i = 0; i < 2; i++) {
    m.blocks[i] = (struct evc_p2p_block){header[i], header_size[i], data[i], data_size[i],
                                         (uint64_t)i};
  }
  write_p2p("blocks-two", &m);
  m.type = EVC_P2P_NEW_BLOCK;
  m.count = 1;
  m.blocks[0].da_height_hint = 0;
  write_p2p("new-block", &m);

  static const uint8_t count_zero[] = {1, 3, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0};
  static const uint8_t count_over[] = {1, 3, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 65};
  static const uint8_t version_2[] = {2, 2};
  static const uint8_t unknown_type[] = {1, 6};
  static const uint8_t trailing[] = {1, 2, 0};
  static const uint8_t empty_blob[] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 0};
  write_p2p_seed("get-blocks-count-zero", P2P_MESSAGE, count_zero, sizeof count_zero);
  write_p2p_seed("get-blocks-count-over", P2P_MESSAGE, count_over, sizeof count_over);
  write_p2p_seed("version-2", P2P_MESSAGE, version_2, sizeof version_2);
  write_p2p_seed("unknown-type", P2P_MESSAGE, unknown_type, sizeof unknown_type);
  write_p2p_seed("status-request-trailing", P2P_MESSAGE, trailing, sizeof trailing);
  write_p2p_seed("status-empty-head", P2P_MESSAGE, empty_blob, sizeof empty_blob);
}

/* Handshake seeds (mode 1): flags (bit 0: the harness dialed; bit 1: a plaintext signature
 * follows, else the auth frame's body), the remote side's hello as a frame (4-byte length
 * prefix), then the signature or the auth frame. Valid ones are signed by the remote side of
 * fuzz/fixture.h over the transcript with the harness's own hello. */
#define HS_WE_DIALED 0x01u
#define HS_PLAIN_SIGNATURE 0x02u

struct hs_side {
  struct evc_keypair node;
  uint8_t eph_pk[EVC_P2P_KX_KEY_SIZE];
  uint8_t eph_sk[EVC_P2P_KX_KEY_SIZE];
  uint8_t hello[EVC_P2P_HELLO_SIZE_MAX];
  size_t hello_size;
};

static void hs_side(enum evc_fuzz_p2p_side which, const char *address, struct hs_side *out) {
  evc_fuzz_p2p_keys(which, &out->node, out->eph_pk, out->eph_sk);
  struct evc_p2p_hello h;
  memset(&h, 0, sizeof h);
  memcpy(h.node_id, out->node.pubkey, EVC_NODE_ID_SIZE);
  memcpy(h.eph_pk, out->eph_pk, sizeof h.eph_pk);
  h.address_size = strlen(address);
  memcpy(h.address, address, h.address_size + 1);
  EVC_ASSERT(evc_p2p_hello_encode(&h, out->hello, &out->hello_size) == 0);
}

/* flags, then hello (announced as announced bytes), then tail. */
static void write_hs(const char *name, uint8_t flags, const uint8_t *hello, size_t hello_size,
                     uint32_t announced, const uint8_t *tail, size_t tail_size) {
  static uint8_t seed[SEED_SIZE_MAX];
  size_t size = 0;
  EVC_ASSERT(1 + 4 + hello_size + tail_size <= sizeof seed);
  seed[size++] = (uint8_t)flags;
  seed[size++] = (uint8_t)(announced >> 24);
  seed[size++] = (uint8_t)(announced >> 16);
  seed[size++] = (uint8_t)(announced >> 8);
  seed[size++] = (uint8_t)announced;
  memcpy(seed + size, hello, hello_size);
  size += hello_size;
  if (tail_size > 0) memcpy(seed + size, tail, tail_size);
  size += tail_size;
  write_p2p_seed(name, P2P_HANDSHAKE, seed, size);
}

/* The remote side's signature over the transcript with the local hello, and its auth frame
 * body as it sends it (sealed with its tx key, frame number 0). */
static void hs_auth(const struct hs_side *local, const struct hs_side *remote, bool we_dialed,
                    uint8_t sig[EVC_SIG_SIZE], uint8_t frame[EVC_P2P_AUTH_FRAME_SIZE]) {
  uint8_t transcript[EVC_P2P_TRANSCRIPT_SIZE];
  if (we_dialed) {
    evc_p2p_transcript(local->hello, local->hello_size, remote->hello, remote->hello_size,
                       transcript);
  } else {
    evc_p2p_transcript(remote->hello, remote->hello_size, local->hello, local->hello_size,
                       transcript);
  }
  evc_p2p_auth_sign(&remote->node, !we_dialed, transcript, sig);
  uint8_t rx[EVC_P2P_SESSION_KEY_SIZE], tx[EVC_P2P_SESSION_KEY_SIZE];
  EVC_ASSERT(evc_p2p_session_keys(!we_dialed, remote->eph_pk, remote->eph_sk, local->eph_pk,
                                  rx, tx) == 0);
  uint8_t sealed[EVC_P2P_FRAME_PREFIX_SIZE + EVC_P2P_AUTH_FRAME_SIZE];
  evc_p2p_frame_seal(tx, 0, sig, EVC_SIG_SIZE, sealed);
  memcpy(frame, sealed + EVC_P2P_FRAME_PREFIX_SIZE, EVC_P2P_AUTH_FRAME_SIZE);
}

static void gen_p2p_handshake(void) {
  struct hs_side local, remote, remote_quiet;
  hs_side(EVC_FUZZ_P2P_LOCAL, EVC_FUZZ_P2P_ADVERTISED, &local);
  hs_side(EVC_FUZZ_P2P_REMOTE, "10.0.0.2:26656", &remote);
  hs_side(EVC_FUZZ_P2P_REMOTE, "", &remote_quiet);
  uint8_t sig[EVC_SIG_SIZE], frame[EVC_P2P_AUTH_FRAME_SIZE];
  uint32_t n = (uint32_t)remote.hello_size;

  hs_auth(&local, &remote, false, sig, frame);
  write_hs("hs-accepted-signature", HS_PLAIN_SIGNATURE, remote.hello, n, n, sig, sizeof sig);
  write_hs("hs-accepted-frame", 0, remote.hello, n, n, frame, sizeof frame);
  write_hs("hs-accepted-frame-truncated", 0, remote.hello, n, n, frame, sizeof frame - 1);
  sig[5] ^= 0x10;
  write_hs("hs-accepted-bad-signature", HS_PLAIN_SIGNATURE, remote.hello, n, n, sig,
           sizeof sig);
  frame[20] ^= 0x01;
  write_hs("hs-accepted-frame-tampered", 0, remote.hello, n, n, frame, sizeof frame);

  hs_auth(&local, &remote, true, sig, frame);
  write_hs("hs-dialed-frame", HS_WE_DIALED, remote.hello, n, n, frame, sizeof frame);
  /* the acceptor's signature presented as the dialer's: the labels differ */
  write_hs("hs-accepted-wrong-role", HS_PLAIN_SIGNATURE, remote.hello, n, n, sig, sizeof sig);

  uint32_t q = (uint32_t)remote_quiet.hello_size;
  hs_auth(&local, &remote_quiet, true, sig, frame);
  write_hs("hs-dialed-no-address", HS_WE_DIALED | HS_PLAIN_SIGNATURE, remote_quiet.hello, q, q,
           sig, sizeof sig);

  uint8_t bad[EVC_P2P_HELLO_SIZE_MAX];
  memcpy(bad, remote.hello, n);
  bad[0] = 'E';
  write_hs("hs-hello-bad-magic", 0, bad, n, n, NULL, 0);
  memcpy(bad, remote.hello, n);
  bad[7] = 2;
  write_hs("hs-hello-version-2", 0, bad, n, n, NULL, 0);
  memcpy(bad, remote.hello, n);
  bad[EVC_P2P_HELLO_FIXED_SIZE - 1]++;
  write_hs("hs-hello-address-length", 0, bad, n, n, NULL, 0);
  memcpy(bad, remote.hello, n);
  bad[EVC_P2P_HELLO_FIXED_SIZE] = ' ';
  write_hs("hs-hello-address-space", 0, bad, n, n, NULL, 0);
  write_hs("hs-hello-short", 0, remote.hello, EVC_P2P_HELLO_FIXED_SIZE - 1,
           EVC_P2P_HELLO_FIXED_SIZE - 1, NULL, 0);
  write_hs("hs-hello-announced-longer", 0, remote.hello, n, 0xffffffffu, NULL, 0);
  /* an all-zero ephemeral key: X25519 gives the all-zero secret, so no session keys */
  memcpy(bad, remote.hello, n);
  memset(bad + EVC_P2P_HELLO_MAGIC_SIZE + 2 + EVC_NODE_ID_SIZE, 0, EVC_P2P_KX_KEY_SIZE);
  write_hs("hs-hello-zero-eph-key", HS_PLAIN_SIGNATURE, bad, n, n, sig, sizeof sig);
}

/* DA seeds start with the harness' mode byte (fuzz/fuzz_da.c, enum da_mode); replies answer
 * request id 1. */
enum { DA_SUBMIT_REPLY, DA_GET_ALL_REPLY, DA_HEADER_REPLY, DA_REQUEST };

static void write_da(const char *name, uint8_t mode, const char *text) {
  static uint8_t seed[SEED_SIZE_MAX];
  size_t size = strlen(text);
  EVC_ASSERT(size + 1 <= sizeof seed);
  seed[0] = mode;
  memcpy(seed + 1, text, size);
  write_seed("da", name, seed, size + 1);
}

/* A built text seed: writes *text (read here, after the builder in rc's argument ran) and
 * frees it. */
static void write_da_built(const char *name, uint8_t mode, int rc, char **text) {
  EVC_ASSERT(rc == 0);
  write_da(name, mode, *text);
  free(*text);
  *text = NULL;
}

/* ev-node's namespace from a name: version 0, 18 zero bytes, SHA-256(name)[0..10). */
static void namespace_from(const char *name, uint8_t ns[EVC_NAMESPACE_SIZE]) {
  uint8_t h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, (const uint8_t *)name, strlen(name));
  memset(ns, 0, EVC_NAMESPACE_SIZE);
  memcpy(ns + 19, h, 10);
}

static void gen_da_built(void) {
  struct evc_da_blob blobs[2];
  memset(blobs, 0, sizeof blobs);
  namespace_from("rollkit-headers", blobs[0].namespace_id);
  namespace_from("rollkit-data", blobs[1].namespace_id);
  blobs[0].bytes = (const uint8_t *)"header bytes";
  blobs[0].size = 12;
  blobs[1].bytes = (const uint8_t *)"\x00\x01\x02" "data";
  blobs[1].size = 7;
  blobs[1].index = 4;
  uint8_t namespaces[2][EVC_NAMESPACE_SIZE];
  memcpy(namespaces[0], blobs[0].namespace_id, EVC_NAMESPACE_SIZE);
  memcpy(namespaces[1], blobs[1].namespace_id, EVC_NAMESPACE_SIZE);
  char *t = NULL;
  size_t n = 0;
  write_da_built("submit-request", DA_REQUEST, evc_da_json_submit_request(1, blobs, 2, &t, &n), &t);
  const uint8_t(*ns)[EVC_NAMESPACE_SIZE] = (const uint8_t(*)[EVC_NAMESPACE_SIZE])namespaces;
  write_da_built("get-all-request", DA_REQUEST,
                 evc_da_json_get_all_request(2, 67374, ns, 2, &t, &n), &t);
  write_da_built("network-head-request", DA_REQUEST,
                 evc_da_json_network_head_request(3, &t, &n), &t);
  write_da_built("get-by-height-request", DA_REQUEST,
                 evc_da_json_get_by_height_request(4, 9, &t, &n), &t);
  write_da_built("get-all-reply", DA_GET_ALL_REPLY, evc_da_json_blobs_reply("1", blobs, 2, &t, &n),
                 &t);
  write_da_built("get-all-reply-null", DA_GET_ALL_REPLY,
                 evc_da_json_blobs_reply("1", blobs, 0, &t, &n), &t);
  struct evc_da_json_header h = {.height = 67374, .time_ns = EVC_FUZZ_GENESIS_TIME_NS};
  memset(h.data_hash, 0xd4, sizeof h.data_hash);
  write_da_built("header-reply", DA_HEADER_REPLY, evc_da_json_header_reply("1", &h, &t, &n), &t);
  write_da_built("submit-reply", DA_SUBMIT_REPLY, evc_da_json_height_reply("1", 67374, &t, &n),
                 &t);
}

static void gen_da_text(void) {
  static const struct {
    const char *name;
    uint8_t mode;
    const char *text;
  } seeds[] = {
      {"submit-reply-string", DA_SUBMIT_REPLY,
       "{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"result\":\"12\"}"},
      {"submit-reply-too-large", DA_SUBMIT_REPLY,
       "{\"id\":1,\"error\":{\"code\":1,\"message\":\"blob: over size limit\"}}"},
      {"submit-reply-timed-out", DA_SUBMIT_REPLY,
       "{\"id\":1,\"error\":{\"code\":1,\"message\":\"timed out waiting for tx to be "
       "included in a block\"}}"},
      {"submit-reply-wrong-id", DA_SUBMIT_REPLY, "{\"id\":2,\"result\":5}"},
      {"submit-reply-null", DA_SUBMIT_REPLY, "{\"id\":null,\"result\":null}"},
      {"get-all-reply-not-found", DA_GET_ALL_REPLY,
       "{\"id\":1,\"error\":{\"code\":1,\"message\":\"blob: not found\"}}"},
      {"get-all-reply-future", DA_GET_ALL_REPLY,
       "{\"id\":1,\"error\":{\"code\":1,\"message\":\"header: given height is from the "
       "future: networkHeight: 5, requestedHeight: 9\"}}"},
      {"get-all-reply-duplicate-index", DA_GET_ALL_REPLY,
       "{\"id\":1,\"result\":[{\"namespace\":\"AAAAAAAAAAAAAAAAAAAAAAAAAPpQktRXn4P8kpY=\","
       "\"data\":\"YQ==\",\"share_version\":0,\"index\":\"3\"},{\"namespace\":"
       "\"AAAAAAAAAAAAAAAAAAAAAAAAAIoEQ/AHIco4J0A=\",\"data\":\"\",\"index\":3}]}"},
      {"header-reply-celestia", DA_HEADER_REPLY,
       "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"header\":{\"version\":{\"block\":"
       "\"11\",\"app\":\"6\"},\"chain_id\":\"mocha-4\",\"height\":\"67374\",\"time\":"
       "\"2026-08-01T00:00:00.000000000Z\"},\"commit\":{},\"validator_set\":{},\"dah\":{}}}"},
      {"header-reply-number", DA_HEADER_REPLY,
       "{\"id\":1,\"result\":{\"header\":{\"height\":9}}}"},
      {"header-reply-below-tail", DA_HEADER_REPLY,
       "{\"id\":1,\"error\":{\"code\":1,\"message\":\"requested header (2) is below Tail "
       "(9)\"}}"},
      {"header-reply-no-header", DA_HEADER_REPLY, "{\"id\":1,\"result\":{\"height\":9}}"},
      {"request-string-id", DA_REQUEST,
       "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"header.GetByHeight\","
       "\"params\":[\"18446744073709551615\"]}"},
      {"request-unknown-method", DA_REQUEST,
       "{\"id\":7,\"method\":\"blob.Subscribe\",\"params\":[]}"},
      {"request-params-object", DA_REQUEST,
       "{\"id\":7,\"method\":\"blob.GetAll\",\"params\":{\"height\":1}}"},
      {"request-submit-null-options", DA_REQUEST,
       "{\"id\":7,\"method\":\"blob.Submit\",\"params\":[[{\"namespace\":"
       "\"AAAAAAAAAAAAAAAAAAAAAAAAAPpQktRXn4P8kpY=\",\"data\":\"YQ==\"}],null]}"},
      {"request-submit-no-blobs", DA_REQUEST,
       "{\"id\":7,\"method\":\"blob.Submit\",\"params\":[[],{}]}"},
      {"request-bad-namespace", DA_REQUEST,
       "{\"id\":7,\"method\":\"blob.GetAll\",\"params\":[1,[\"AAAA\"]]}"},
      {"request-not-json", DA_REQUEST, "{\"id\":7,\"method\":"},
  };
  for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
    write_da(seeds[i].name, seeds[i].mode, seeds[i].text);
  }
}

/* RPC seeds (fuzz/fuzz_rpc.c): node flags, the node's answers, DA reached and head, then
 * "METHOD PATH\nBODY". Flags: bit 0 not available, bit 1 full node, bits 2..4 the mode,
 * bit 5 waiting_for, bit 6 failure, bit 7 valid block data. */
enum { RPC_UNAVAILABLE = 0x01, RPC_FULL = 0x02, RPC_WAITING = 0x20, RPC_FAILURE = 0x40,
       RPC_VALID_DATA = 0x80 };
#define RPC_MODE(m) ((uint8_t)((m) << 2))
#define RPC_SUBMIT(i) ((uint8_t)(i))        /* 0 ok, 1 ESTATE, 2 EFULL, 3 EINVAL, 5 EIO */
#define RPC_GET_BLOCK(i) ((uint8_t)((i) << 3)) /* 0 ok, 1 ENOTFOUND, 2 ESTATE, 3 EIO */

static void write_rpc(const char *name, uint8_t flags, uint8_t answers, uint8_t da_reached,
                      uint8_t da_head, const char *request) {
  static uint8_t seed[SEED_SIZE_MAX];
  size_t size = strlen(request);
  EVC_ASSERT(size + 4 <= sizeof seed);
  seed[0] = flags;
  seed[1] = answers;
  seed[2] = da_reached;
  seed[3] = da_head;
  memcpy(seed + 4, request, size);
  write_seed("rpc", name, seed, size + 4);
}

static void gen_rpc(void) {
  const uint8_t producing = RPC_MODE(EVC_MODE_PRODUCING), syncing = RPC_MODE(EVC_MODE_SYNCING);
  write_rpc("status", producing, 0, 0, 0, "GET /status");
  write_rpc("status-catching-up", RPC_MODE(EVC_MODE_CATCHING_UP) | RPC_WAITING, 0, 3, 9,
            "GET /status\n");
  write_rpc("status-failed", RPC_MODE(EVC_MODE_FAILED) | RPC_FAILURE, 0, 0, 0, "GET /status");
  write_rpc("status-stopping", RPC_UNAVAILABLE, 0, 0, 0, "GET /status");
  write_rpc("status-delete", producing, 0, 0, 0, "DELETE /status");
  write_rpc("block", producing | RPC_VALID_DATA, 0, 0, 0, "GET /block/12\nkey=value");
  write_rpc("block-head", syncing | RPC_VALID_DATA, 0, 0, 0, "HEAD /block/0\na=1");
  write_rpc("block-bad-data", producing, 0, 0, 0, "GET /block/7\n\x01\x02");
  write_rpc("block-not-found", producing, RPC_GET_BLOCK(1), 0, 0, "GET /block/99");
  write_rpc("block-store-closed", producing, RPC_GET_BLOCK(2), 0, 0, "GET /block/1");
  write_rpc("block-malformed", producing, 0, 0, 0, "GET /block/12a");
  write_rpc("block-overflow", producing, 0, 0, 0, "GET /block/18446744073709551616");
  write_rpc("block-max", producing, RPC_GET_BLOCK(3), 0, 0, "GET /block/18446744073709551615");
  write_rpc("live", RPC_UNAVAILABLE, 0, 0, 0, "GET /health/live");
  write_rpc("ready-producing", producing, 0, 0, 0, "GET /health/ready");
  write_rpc("ready-syncing", syncing, 0, 5, 6, "GET /health/ready");
  write_rpc("ready-behind", syncing | RPC_WAITING, 0, 2, 9, "GET /health/ready");
  write_rpc("ready-failed", RPC_MODE(EVC_MODE_FAILED), 0, 0, 0, "GET /health/ready");
  write_rpc("ready-stopping", RPC_UNAVAILABLE, 0, 0, 0, "GET /health/ready");
  write_rpc("metrics", RPC_MODE(EVC_MODE_CATCHING_UP), 0, 1, 4, "HEAD /metrics");
  write_rpc("tx", producing, RPC_SUBMIT(0), 0, 0, "POST /tx\nkey=value");
  write_rpc("tx-full-mempool", producing, RPC_SUBMIT(2), 0, 0, "POST /tx\nk=v");
  write_rpc("tx-not-producing", RPC_MODE(EVC_MODE_CATCHING_UP), RPC_SUBMIT(1), 0, 0,
            "POST /tx\nk=v");
  write_rpc("tx-malformed", producing, RPC_SUBMIT(3), 0, 0, "POST /tx\nno-equals");
  write_rpc("tx-io", producing, RPC_SUBMIT(5), 0, 0, "POST /tx\nk=v");
  write_rpc("tx-empty", producing, 0, 0, 0, "POST /tx\n");
  write_rpc("tx-full-node", syncing | RPC_FULL, 0, 0, 0, "POST /tx\nk=v");
  write_rpc("tx-stopping", RPC_UNAVAILABLE, 0, 0, 0, "POST /tx\nk=v");
  write_rpc("tx-get", producing, 0, 0, 0, "GET /tx");
  write_rpc("unknown-path", producing, 0, 0, 0, "GET /blocks");
  write_rpc("no-path", producing, 0, 0, 0, "GET");
  /* A body one byte over EVC_RPC_BODY_SIZE_MAX: 413, never submitted. */
  static uint8_t big[4 + 9 + EVC_RPC_BODY_SIZE_MAX + 1];
  memcpy(big, (const uint8_t[]){producing, 0, 0, 0}, 4);
  memcpy(big + 4, "POST /tx\n", 9);
  memset(big + 13, 'x', EVC_RPC_BODY_SIZE_MAX + 1);
  big[13] = 'k';
  big[14] = '=';
  write_seed("rpc", "tx-too-large", big, sizeof big);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR (with codec/, genesis/, catchup/, p2p/, da/, rpc/ "
            "and empty/ in it)\n", argv[0]);
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
  gen_p2p(&kp);
  gen_p2p_handshake();
  gen_da_built();
  gen_da_text();
  gen_rpc();
  write_text_seed("empty", "one-byte", "x");
  return 0;
}
