/* Generates a benchmark chain fast (signed with the sequencer key directly, no block times)
 * and serves it back one DA height at a time. The app hash is computed from the key/value
 * executor's documented formula (node/exec/exec.h); the node under test recomputes it with
 * the real executor, so a mistake here shows as a failed sync, never as a faster one. */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/crypto/crypto.h"

#define FILE_HEADER_SIZE 80
#define GENESIS_TIME_NS (1704067200ull * 1000000000ull)
#define VALUE_SIZE_MAX 32

void bench_genesis(const uint8_t seed[32], struct evc_genesis *out) {
  memset(out, 0, sizeof *out);
  int rc = evc_chain_id_set(&out->chain_id, "bench", 5);
  EVC_ASSERT(rc == 0);
  out->initial_height = 1;
  out->genesis_time_ns = GENESIS_TIME_NS;
  struct evc_keypair kp;
  evc_keypair_from_seed(seed, &kp);
  memcpy(out->proposer_pubkey, kp.pubkey, EVC_PUBKEY_SIZE);
  evc_keypair_wipe(&kp);
  out->da_start_height = 1;
  evc_namespace_from_string("bench-headers", out->header_namespace);
  evc_namespace_from_string("bench-data", out->data_namespace);
}

/* ---- the key/value state, after the formula in node/exec/exec.h ---- */

struct kv_model {
  uint8_t acc[EVC_HASH_SIZE];
  uint64_t entry_count;
  uint8_t values[BENCH_KEYSPACE][VALUE_SIZE_MAX];
  uint8_t value_sizes[BENCH_KEYSPACE];
  bool present[BENCH_KEYSPACE];
};

static void be32(uint32_t v, uint8_t out[4]) {
  for (int i = 0; i < 4; i++) out[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void entry_hash(const uint8_t *key, size_t key_size, const uint8_t *value,
                       size_t value_size, uint8_t out[EVC_HASH_SIZE]) {
  static const char domain[] = "evc-kv-entry";
  uint8_t len[4];
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, (const uint8_t *)domain, sizeof domain - 1);
  be32((uint32_t)key_size, len);
  crypto_hash_sha256_update(&st, len, 4);
  crypto_hash_sha256_update(&st, key, key_size);
  be32((uint32_t)value_size, len);
  crypto_hash_sha256_update(&st, len, 4);
  crypto_hash_sha256_update(&st, value, value_size);
  crypto_hash_sha256_final(&st, out);
}

static void acc_add(uint8_t acc[EVC_HASH_SIZE], const uint8_t x[EVC_HASH_SIZE], bool subtract) {
  unsigned carry = 0;
  for (int i = EVC_HASH_SIZE - 1; i >= 0; i--) {
    unsigned sum = subtract ? (unsigned)acc[i] + 256u - x[i] - carry
                            : (unsigned)acc[i] + x[i] + carry;
    acc[i] = (uint8_t)sum;
    carry = subtract ? (sum < 256u) : (sum >> 8);
  }
}

static void kv_state_hash(const struct kv_model *m, uint8_t out[EVC_HASH_SIZE]) {
  static const char domain[] = "evc-kv-state-v1";
  uint8_t count[8];
  for (int i = 0; i < 8; i++) count[i] = (uint8_t)(m->entry_count >> (56 - 8 * i));
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, (const uint8_t *)domain, sizeof domain - 1);
  crypto_hash_sha256_update(&st, m->acc, EVC_HASH_SIZE);
  crypto_hash_sha256_update(&st, count, sizeof count);
  crypto_hash_sha256_final(&st, out);
}

/* Writes tx i of block height as "k<j>=v<height>.<i>" into tx (64 bytes) and applies it. */
static uint32_t kv_tx(struct kv_model *m, uint64_t height, uint32_t i, uint8_t tx[64]) {
  uint32_t j = (uint32_t)((height * 7u + i * 131u) % BENCH_KEYSPACE);
  char key[16];
  int key_size = snprintf(key, sizeof key, "k%u", j);
  char value[VALUE_SIZE_MAX];
  int value_size = snprintf(value, sizeof value, "v%llu.%u", (unsigned long long)height, i);
  EVC_ASSERT(key_size > 0 && value_size > 0 && value_size < VALUE_SIZE_MAX);
  uint8_t h[EVC_HASH_SIZE];
  if (m->present[j]) {
    entry_hash((const uint8_t *)key, (size_t)key_size, m->values[j], m->value_sizes[j], h);
    acc_add(m->acc, h, true);
  } else {
    m->entry_count++;
  }
  entry_hash((const uint8_t *)key, (size_t)key_size, (const uint8_t *)value, (size_t)value_size, h);
  acc_add(m->acc, h, false);
  m->present[j] = true;
  memcpy(m->values[j], value, (size_t)value_size);
  m->value_sizes[j] = (uint8_t)value_size;
  int n = snprintf((char *)tx, 64, "%s=%s", key, value);
  EVC_ASSERT(n > 0 && n < 64);
  return (uint32_t)n;
}

/* ---- generation ---- */

struct gen {
  const struct bench_chain_params *p;
  const struct evc_genesis *g;
  uint64_t time_step_ns;
  struct evc_keypair kp;
  uint8_t proposer[EVC_ADDRESS_SIZE];
  uint8_t last_hash[EVC_HASH_SIZE];
  struct kv_model kv;
  uint8_t *record;
  size_t record_size;
};

static void put_u32(uint8_t *out, uint32_t v) { memcpy(out, &v, 4); }

/* Appends block height (header and data, sizes first) to the current DA record. */
static int gen_block(struct gen *gn, uint64_t height) {
  uint8_t txbuf[BENCH_TXS_MAX][64];
  struct evc_tx txs[BENCH_TXS_MAX];
  for (uint32_t i = 0; i < gn->p->txs; i++) {
    txs[i].bytes = txbuf[i];
    txs[i].size = kv_tx(&gn->kv, height, i, txbuf[i]);
  }
  struct evc_data d = {.chain_id = gn->g->chain_id, .height = height, .tx_count = gn->p->txs,
                       .txs = txs};
  struct evc_signed_header sh;
  memset(&sh, 0, sizeof sh);
  struct evc_header *h = &sh.header;
  h->version = EVC_HEADER_VERSION;
  h->chain_id = gn->g->chain_id;
  h->height = height;
  h->time_ns = gn->g->genesis_time_ns + height * gn->time_step_ns;
  memcpy(h->last_header_hash, gn->last_hash, EVC_HASH_SIZE);
  int rc = evc_data_hash(&d, h->data_hash);
  if (rc != 0) return rc;
  kv_state_hash(&gn->kv, h->app_hash);
  memcpy(h->proposer, gn->proposer, EVC_ADDRESS_SIZE);
  rc = evc_signed_header_sign(&sh, gn->kp.seckey);
  if (rc == 0) rc = evc_header_hash(h, gn->last_hash);
  if (rc != 0) return rc;
  uint8_t *at = gn->record + gn->record_size;
  size_t header_size = 0, data_size = 0;
  rc = evc_signed_header_encode(&sh, at + 4, EVC_SIGNED_HEADER_SIZE_MAX, &header_size);
  if (rc != 0) return rc;
  put_u32(at, (uint32_t)header_size);
  at += 4 + header_size;
  rc = evc_data_encode(&d, at + 4, 4096, &data_size);
  if (rc != 0) return rc;
  put_u32(at, (uint32_t)data_size);
  gn->record_size += 8 + header_size + data_size;
  return 0;
}

static bool params_ok(const struct bench_chain_params *p) {
  return p->blocks != 0 && p->blocks <= BENCH_BLOCKS_MAX && p->per_da != 0 &&
         p->per_da <= BENCH_PER_DA_MAX && p->txs != 0 && p->txs <= BENCH_TXS_MAX;
}

int bench_chain_build(const struct evc_genesis *g, const struct bench_chain_params *p,
                      uint64_t time_step_ns, bench_emit_fn emit, void *arg) {
  if (!params_ok(p) || time_step_ns == 0 ||
      time_step_ns > (UINT64_MAX - g->genesis_time_ns) / (p->blocks + 1)) {
    return EVC_EINVAL;
  }
  uint64_t da_heights = (p->blocks + p->per_da - 1) / p->per_da;
  struct gen *gn = calloc(1, sizeof *gn);
  uint8_t *record = malloc(BENCH_DA_RECORD_MAX);
  int rc = gn && record ? 0 : EVC_ENOMEM;
  if (rc == 0) {
    gn->p = p;
    gn->g = g;
    gn->time_step_ns = time_step_ns;
    gn->record = record;
    evc_keypair_from_seed(p->seed, &gn->kp);
    evc_address_from_pubkey(gn->kp.pubkey, gn->proposer);
  }
  uint64_t height = 1;
  for (uint64_t k = 0; rc == 0 && k < da_heights; k++) {
    gn->record_size = 0;
    for (uint32_t i = 0; rc == 0 && i < p->per_da && height <= p->blocks; i++, height++) {
      rc = gen_block(gn, height);
    }
    if (rc == 0) rc = emit(arg, k + 1, record, gn->record_size);
  }
  if (gn != NULL) evc_keypair_wipe(&gn->kp);
  free(gn);
  free(record);
  return rc;
}

/* ---- the chain file ---- */

static int write_header(FILE *f, const struct bench_chain_params *p, uint64_t da_heights,
                        uint64_t index_at) {
  uint8_t hdr[FILE_HEADER_SIZE];
  memset(hdr, 0, sizeof hdr);
  memcpy(hdr, BENCH_CHAIN_MAGIC, 8);
  memcpy(hdr + 8, &p->blocks, 8);
  memcpy(hdr + 16, &p->per_da, 4);
  memcpy(hdr + 20, &p->txs, 4);
  memcpy(hdr + 24, &da_heights, 8);
  memcpy(hdr + 32, &index_at, 8);
  memcpy(hdr + 40, p->seed, 32);
  if (fseek(f, 0, SEEK_SET) != 0 || fwrite(hdr, 1, sizeof hdr, f) != sizeof hdr) return EVC_EIO;
  return 0;
}

struct file_out {
  FILE *f;
  uint64_t *index; /* da_heights + 1 offsets */
  uint64_t offset;
};

static int emit_to_file(void *arg, uint64_t da_height, const uint8_t *record, size_t size) {
  struct file_out *o = arg;
  o->index[da_height - 1] = o->offset;
  if (fwrite(record, 1, size, o->f) != size) return EVC_EIO;
  o->offset += size;
  return 0;
}

int bench_chain_generate(const char *path, const struct bench_chain_params *p) {
  if (!params_ok(p)) return EVC_EINVAL;
  uint64_t da_heights = (p->blocks + p->per_da - 1) / p->per_da;
  struct evc_genesis g;
  bench_genesis(p->seed, &g);
  struct file_out o = {.index = calloc(da_heights + 1, 8), .offset = FILE_HEADER_SIZE};
  o.f = fopen(path, "wb");
  int rc = o.index != NULL ? 0 : EVC_ENOMEM;
  if (rc == 0 && o.f == NULL) rc = EVC_EIO;
  if (rc == 0 && fseek(o.f, FILE_HEADER_SIZE, SEEK_SET) != 0) rc = EVC_EIO;
  if (rc == 0) rc = bench_chain_build(&g, p, BENCH_TIME_STEP_NS, emit_to_file, &o);
  if (rc == 0) {
    o.index[da_heights] = o.offset;
    if (fwrite(o.index, 8, da_heights + 1, o.f) != da_heights + 1) rc = EVC_EIO;
  }
  if (rc == 0) rc = write_header(o.f, p, da_heights, o.offset);
  if (o.f != NULL && fclose(o.f) != 0 && rc == 0) rc = EVC_EIO;
  free(o.index);
  return rc;
}

/* ---- reading ---- */

int bench_chain_open(const char *path, struct bench_chain *out) {
  memset(out, 0, sizeof *out);
  out->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (out->fd < 0) return EVC_EIO;
  uint8_t hdr[FILE_HEADER_SIZE];
  if (pread(out->fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr ||
      memcmp(hdr, BENCH_CHAIN_MAGIC, 8) != 0) {
    bench_chain_close(out);
    return EVC_EDECODE;
  }
  memcpy(&out->params.blocks, hdr + 8, 8);
  memcpy(&out->params.per_da, hdr + 16, 4);
  memcpy(&out->params.txs, hdr + 20, 4);
  memcpy(&out->da_heights, hdr + 24, 8);
  memcpy(&out->index_at, hdr + 32, 8);
  memcpy(out->params.seed, hdr + 40, 32);
  const struct bench_chain_params *p = &out->params;
  if (p->blocks == 0 || p->blocks > BENCH_BLOCKS_MAX || p->per_da == 0 ||
      p->per_da > BENCH_PER_DA_MAX || out->da_heights != (p->blocks + p->per_da - 1) / p->per_da) {
    bench_chain_close(out);
    return EVC_EDECODE;
  }
  bench_genesis(p->seed, &out->genesis);
  return 0;
}

void bench_chain_close(struct bench_chain *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
}

static bool get_u32(const uint8_t *buf, size_t size, size_t *at, uint32_t *v) {
  if (size - *at < 4) return false;
  memcpy(v, buf + *at, 4);
  *at += 4;
  return *v <= size - *at;
}

int bench_chain_read(const struct bench_chain *c, uint64_t da_height, uint8_t *buf,
                     struct evc_da_blob *blobs, size_t *count_out) {
  *count_out = 0;
  if (da_height == 0 || da_height > c->da_heights) return EVC_EFUTURE;
  uint64_t range[2];
  if (pread(c->fd, range, sizeof range, (off_t)(c->index_at + 8 * (da_height - 1))) !=
      (ssize_t)sizeof range) {
    return EVC_EIO;
  }
  if (range[1] < range[0] || range[1] - range[0] > BENCH_DA_RECORD_MAX) return EVC_EDECODE;
  size_t size = (size_t)(range[1] - range[0]);
  if (pread(c->fd, buf, size, (off_t)range[0]) != (ssize_t)size) return EVC_EIO;
  return bench_record_blobs(&c->genesis, c->params.per_da, buf, size, blobs, count_out);
}

int bench_record_blobs(const struct evc_genesis *g, uint32_t per_da, const uint8_t *record,
                       size_t size, struct evc_da_blob *blobs, size_t *count_out) {
  *count_out = 0;
  size_t at = 0, count = 0;
  while (at < size && count + 2 <= 2u * per_da) {
    for (int part = 0; part < 2; part++) {
      uint32_t n = 0;
      if (!get_u32(record, size, &at, &n)) return EVC_EDECODE;
      struct evc_da_blob *b = &blobs[count];
      memcpy(b->namespace_id, part == 0 ? g->header_namespace : g->data_namespace,
             EVC_NAMESPACE_SIZE);
      b->bytes = record + at;
      b->size = n;
      b->index = (uint32_t)count;
      at += n;
      count++;
    }
  }
  if (at != size) return EVC_EDECODE;
  *count_out = count;
  return 0;
}
