/* evc-bench: the measurements behind ci/bench (docs/performance.md). `limit` times ed25519
 * verification on one core, `gen` writes a signed chain file, `sync` drives a full node over
 * it into an on-disk store and reports blocks/s and peak RSS. One JSON object per run on
 * stdout; it never edits a store it did not create for this run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench/bench.h"
#include "node/common/error.h"
#include "node/crypto/crypto.h"

static int usage(void) {
  fprintf(stderr,
          "usage: evc-bench limit [--seconds S]\n"
          "       evc-bench gen --out FILE [--blocks N] [--per-da K] [--txs T]\n"
          "       evc-bench sync --chain FILE --store PATH [--threaded] [--blocks N]\n");
  return 2;
}

static bool parse_u64(const char *text, uint64_t max, uint64_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v == 0 || v > max) return false;
  *out = v;
  return true;
}

static long max_rss_kib(void) {
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* Verifications of one header-sized message per second on this thread, for about S s. */
static int cmd_limit(int argc, char **argv) {
  uint64_t seconds = 2;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc &&
        parse_u64(argv[i + 1], 600, &seconds)) {
      i++;
    } else {
      return usage();
    }
  }
  uint8_t seed[EVC_SEED_SIZE] = {1};
  struct evc_keypair kp;
  evc_keypair_from_seed(seed, &kp);
  uint8_t msg[200]; /* about one encoded header */
  for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)i;
  uint8_t sig[EVC_SIG_SIZE];
  evc_sign(&kp, msg, sizeof msg, sig);
  uint64_t count = 0;
  double t0 = bench_now(), t = t0;
  while (t - t0 < (double)seconds) {
    for (int i = 0; i < 256; i++) {
      msg[0] = (uint8_t)i; /* a bad signature costs as much as a good one; keep it honest */
      if (i == 0 && evc_verify(kp.pubkey, msg, sizeof msg, sig) != 0) return 1;
      if (i != 0) (void)evc_verify(kp.pubkey, msg, sizeof msg, sig);
    }
    count += 256;
    t = bench_now();
  }
  printf("{\"verify_per_s\": %.0f, \"us_per_verify\": %.2f}\n", (double)count / (t - t0),
         (t - t0) * 1e6 / (double)count);
  return 0;
}

static int cmd_gen(int argc, char **argv) {
  struct bench_chain_params p = {.blocks = 100000, .per_da = 16, .txs = 3};
  memset(p.seed, 0x42, sizeof p.seed);
  const char *out = NULL;
  for (int i = 0; i + 1 < argc; i += 2) {
    uint64_t v = 0;
    if (strcmp(argv[i], "--out") == 0) {
      out = argv[i + 1];
    } else if (strcmp(argv[i], "--blocks") == 0 && parse_u64(argv[i + 1], BENCH_BLOCKS_MAX, &v)) {
      p.blocks = v;
    } else if (strcmp(argv[i], "--per-da") == 0 && parse_u64(argv[i + 1], BENCH_PER_DA_MAX, &v)) {
      p.per_da = (uint32_t)v;
    } else if (strcmp(argv[i], "--txs") == 0 && parse_u64(argv[i + 1], BENCH_TXS_MAX, &v)) {
      p.txs = (uint32_t)v;
    } else {
      return usage();
    }
  }
  if (out == NULL || argc % 2 != 0) return usage();
  double t0 = bench_now();
  int rc = bench_chain_generate(out, &p);
  if (rc != 0) {
    fprintf(stderr, "evc-bench: cannot generate chain '%s': %s\n", out, evc_strerror(rc));
    return 1;
  }
  printf("{\"generated_blocks\": %llu, \"seconds\": %.3f}\n", (unsigned long long)p.blocks,
         bench_now() - t0);
  return 0;
}

/* Removes a store left by an earlier run, so every sync starts from an empty store. */
static void remove_store(const char *path) {
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
    char name[600];
    snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
    unlink(name);
  }
}

static int sync_run(const struct bench_chain *chain, const char *store, bool threaded,
                    uint64_t target, struct bench_run_result *res) {
  struct evc_node_config cfg;
  evc_node_config_defaults(&cfg);
  cfg.aggregator = false;
  cfg.genesis = chain->genesis;
  struct bench_env *b = NULL;
  int rc = bench_env_new(chain, store, threaded, &b);
  struct evc_node *node = NULL;
  if (rc == 0) rc = evc_node_new(bench_env_env(b), &cfg, &node);
  if (rc == 0) rc = bench_env_run(b, node, target, res);
  evc_node_free(node);
  bench_env_free(b);
  return rc;
}

static int cmd_sync(int argc, char **argv) {
  const char *chain_path = NULL, *store = NULL;
  bool threaded = false;
  uint64_t target = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--threaded") == 0) {
      threaded = true;
    } else if (i + 1 < argc && strcmp(argv[i], "--chain") == 0) {
      chain_path = argv[++i];
    } else if (i + 1 < argc && strcmp(argv[i], "--store") == 0) {
      store = argv[++i];
    } else if (i + 1 < argc && strcmp(argv[i], "--blocks") == 0 &&
               parse_u64(argv[i + 1], BENCH_BLOCKS_MAX, &target)) {
      i++;
    } else {
      return usage();
    }
  }
  if (chain_path == NULL || store == NULL) return usage();
  struct bench_chain chain;
  int rc = bench_chain_open(chain_path, &chain);
  if (rc != 0) {
    fprintf(stderr, "evc-bench: cannot read chain '%s': %s\n", chain_path, evc_strerror(rc));
    return 1;
  }
  if (target == 0 || target > chain.params.blocks) target = chain.params.blocks;
  remove_store(store);
  struct bench_run_result res;
  rc = sync_run(&chain, store, threaded, target, &res);
  bench_chain_close(&chain);
  if (rc != 0 || res.exit_code != 0 || res.height < target) {
    fprintf(stderr, "evc-bench: sync stopped at height %llu of %llu: %s %s\n",
            (unsigned long long)res.height, (unsigned long long)target,
            rc != 0 ? evc_strerror(rc) : "", res.reason);
    return 1;
  }
  printf("{\"blocks\": %llu, \"seconds\": %.3f, \"blocks_per_s\": %.0f, \"threaded\": %s, "
         "\"verify_batches\": %llu, \"wait_s\": %.3f, \"max_rss_kib\": %ld}\n",
         (unsigned long long)res.height, res.seconds, (double)res.height / res.seconds,
         threaded ? "true" : "false", (unsigned long long)res.verify_batches, res.wait_seconds,
         max_rss_kib());
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  if (evc_crypto_init() != 0) {
    fprintf(stderr, "evc-bench: cannot initialise libsodium\n");
    return 1;
  }
  if (strcmp(argv[1], "limit") == 0) return cmd_limit(argc - 2, argv + 2);
  if (strcmp(argv[1], "gen") == 0) return cmd_gen(argc - 2, argv + 2);
  if (strcmp(argv[1], "sync") == 0) return cmd_sync(argc - 2, argv + 2);
  return usage();
}
