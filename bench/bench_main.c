/* evc-bench: the measurements behind ci/bench (docs/performance.md). `limit` times ed25519
 * verification on one core, `gen` writes a signed chain file, `sync` drives a full node over
 * it into an on-disk store and reports blocks/s and peak RSS, `gen-da` writes a chain into an
 * evc-da store for an `evc-node init` HOME (P2, live recovery). One JSON object per run on
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
          "       evc-bench gen-da --home HOME --da-store PATH [--blocks N] [--per-da K]\n"
          "                        [--txs T]\n"
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

/* gen and gen-da: --out, or --home and --da-store, and the chain's shape. */
struct gen_args {
  struct bench_chain_params p;
  const char *out;
  const char *home;
  const char *da_store;
};

static bool parse_gen(int argc, char **argv, struct gen_args *a) {
  memset(a, 0, sizeof *a);
  a->p = (struct bench_chain_params){.blocks = 100000, .per_da = 16, .txs = 3};
  memset(a->p.seed, 0x42, sizeof a->p.seed);
  struct bench_chain_params *p = &a->p;
  for (int i = 0; i + 1 < argc; i += 2) {
    uint64_t v = 0;
    if (strcmp(argv[i], "--out") == 0) {
      a->out = argv[i + 1];
    } else if (strcmp(argv[i], "--home") == 0) {
      a->home = argv[i + 1];
    } else if (strcmp(argv[i], "--da-store") == 0) {
      a->da_store = argv[i + 1];
    } else if (strcmp(argv[i], "--blocks") == 0 && parse_u64(argv[i + 1], BENCH_BLOCKS_MAX, &v)) {
      p->blocks = v;
    } else if (strcmp(argv[i], "--per-da") == 0 && parse_u64(argv[i + 1], BENCH_PER_DA_MAX, &v)) {
      p->per_da = (uint32_t)v;
    } else if (strcmp(argv[i], "--txs") == 0 && parse_u64(argv[i + 1], BENCH_TXS_MAX, &v)) {
      p->txs = (uint32_t)v;
    } else {
      return false;
    }
  }
  return argc % 2 == 0;
}

static int cmd_gen(int argc, char **argv) {
  struct gen_args a;
  if (!parse_gen(argc, argv, &a) || a.out == NULL || a.home != NULL || a.da_store != NULL) {
    return usage();
  }
  const struct bench_chain_params p = a.p;
  const char *out = a.out;
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

static int cmd_gen_da(int argc, char **argv) {
  struct gen_args a;
  if (!parse_gen(argc, argv, &a) || a.out != NULL || a.home == NULL || a.da_store == NULL) {
    return usage();
  }
  double t0 = bench_now();
  uint64_t da_heights = 0;
  char err[512];
  int rc = bench_gen_da(a.home, a.da_store, &a.p, &da_heights, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "evc-bench gen-da: %s\n", err[0] != '\0' ? err : evc_strerror(rc));
    return 1;
  }
  printf("{\"generated_blocks\": %llu, \"da_heights\": %llu, \"sign_height\": %llu, "
         "\"seconds\": %.3f}\n",
         (unsigned long long)a.p.blocks, (unsigned long long)da_heights,
         (unsigned long long)a.p.blocks, bench_now() - t0);
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
  if (strcmp(argv[1], "gen-da") == 0) return cmd_gen_da(argc - 2, argv + 2);
  if (strcmp(argv[1], "sync") == 0) return cmd_sync(argc - 2, argv + 2);
  return usage();
}
