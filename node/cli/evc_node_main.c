/* evc-node: the production node binary. `init` creates HOME (config, genesis, keys, sign state),
 * `start` reads it and runs the live runtime, `status` asks a running node over RPC. It never
 * overwrites an existing HOME or key, and never writes a sign state for an imported key. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "node/common/error.h"
#include "node/common/hex.h"
#include "node/crypto/crypto.h"
#include "node/crypto/sign_state.h"
#include "node/live/config.h"
#include "node/live/env_live.h"
#include "node/os/fsutil.h"
#include "node/os/keyfile.h"

#define EXIT_USAGE 2
#define PATH_MAX_TEXT (EVC_FS_PATH_SIZE_MAX + 1)
#define GENESIS_FILE_SIZE_MAX (1024u * 1024u)
#define STATUS_REPLY_SIZE_MAX (1024u * 1024u)
#define STATUS_TIMEOUT_MS 5000L
#define DEFAULT_CHAIN_ID "evc-local"
#define NODE_KEY_FILE "keys/node_key.json"
#define SIGNER_KEY_FILE "keys/signer.json"

static const char usage[] =
    "usage: evc-node <command> [flags]\n"
    "\n"
    "commands:\n"
    "  init    create HOME: config.json, genesis.json, keys/\n"
    "  start   run the node: catch up, then produce (aggregator) or sync (full node)\n"
    "  status  print the status of a running node\n"
    "\n"
    "Run 'evc-node <command> --help' for a command's flags. See docs/operator.md.\n";

static const char init_usage[] =
    "usage: evc-node init --home DIR [--chain-id ID] [--aggregator] [--genesis FILE]\n"
    "                     [--signer-key FILE]\n"
    "\n"
    "Creates HOME (which must not exist, or be empty) with config.json (every setting),\n"
    "genesis.json, keys/node_key.json (P2P identity) and, for an aggregator,\n"
    "keys/signer.json and keys/sign_state. Files are 0600, directories 0700.\n"
    "\n"
    "  --home DIR         the node's home directory\n"
    "  --chain-id ID      chain id of a new chain (default " DEFAULT_CHAIN_ID ");\n"
    "                     with --genesis it must match the genesis chain id\n"
    "  --aggregator       this node is the sequencer: without --genesis a new chain is created\n"
    "                     with a fresh signer key as its proposer\n"
    "  --genesis FILE     join an existing chain (required for a full node)\n"
    "  --signer-key FILE  import the sequencer's signer key (recovery on a new machine); needs\n"
    "                     --genesis and must match its proposer; writes no sign state\n";

static const char start_usage[] =
    "usage: evc-node start --home DIR [flags]\n"
    "\n"
    "Runs the node. Flags override HOME/config.json; durations take ms, s or m.\n"
    "\n"
    "  --aggregator                     run as the sequencer (needs keys/signer.json)\n"
    "  --catchup.p2p-timeout 30s        how long catchup waits for known peers\n"
    "  --catchup.da-only                produce without an answer from peers: an explicit\n"
    "                                   decision to equivocate over blocks only they hold\n"
    "  --catchup.inbound-grace 10s      wait for peers to dial in when none are known\n"
    "  --catchup.peek-timeout 2s        ask connected peers for their heads before producing\n"
    "  --catchup.expect-head H:HASH     fail unless the block at H has HASH after catchup\n"
    "  --shutdown-timeout 30s           on SIGTERM, how long to drain blocks to DA\n"
    "  --p2p.listen 127.0.0.1:26656     P2P listen address (port 0: any free port)\n"
    "  --p2p.peers [ID@]HOST:PORT,...   peers to dial\n"
    "  --da.address URL                 DA node JSON-RPC (default http://127.0.0.1:26658)\n"
    "  --da.auth-token T                DA auth token\n"
    "  --da.request-timeout 60s         bound on one DA call\n"
    "  --rpc.listen 127.0.0.1:7331      RPC listen address (port 0: any free port)\n"
    "  --block-time 1s                  block time (full nodes: used for readiness only)\n"
    "  --da.block-time 6s               the DA layer's block time\n"
    "  --da.mempool-ttl 10              L: DA blocks within which a blob lands or never does\n"
    "  --log-level info                 debug, info, warn or error\n"
    "\n"
    "Bound addresses are written to HOME/addresses.json. SIGINT/SIGTERM stop gracefully;\n"
    "a second signal exits at once.\n";

static const char status_usage[] =
    "usage: evc-node status [--rpc 127.0.0.1:7331]\n"
    "\n"
    "Prints the status of a running node (GET /status on its RPC address).\n";

/* ---- small helpers ---- */

static bool is_help(const char *arg) {
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

__attribute__((format(printf, 3, 4))) static int usage_error(const char *command,
                                                              const char *help, const char *fmt,
                                                              ...) {
  char message[EVC_LIVE_ERR_SIZE + 64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  fprintf(stderr, "evc-node %s: %s\n\n%s", command, message, help);
  return EXIT_USAGE;
}

/* Reads "--name value" or "--name=value"; advances *i past the value. NULL when missing. */
static const char *flag_value(int argc, char **argv, int *i, const char *eq) {
  if (eq != NULL) return eq + 1;
  if (*i + 1 >= argc) return NULL;
  (*i)++;
  return argv[*i];
}

static int join(char *out, size_t size, const char *home, const char *name) {
  int n = snprintf(out, size, "%s/%s", home, name);
  return n > 0 && (size_t)n < size ? 0 : EVC_EINVAL;
}

static int read_text_file(const char *path, size_t size_max, char **text_out, size_t *size_out) {
  uint8_t *bytes = NULL;
  size_t size = 0;
  int rc = evc_fs_read_file(path, size_max, &bytes, &size);
  if (rc != 0) return rc;
  char *text = realloc(bytes, size + 1);
  if (text == NULL) {
    free(bytes);
    return EVC_ENOMEM;
  }
  text[size] = '\0';
  *text_out = text;
  *size_out = size;
  return 0;
}

static int load_genesis(const char *path, struct evc_genesis *out, char *err, size_t err_size) {
  char *text = NULL;
  size_t size = 0;
  int rc = read_text_file(path, GENESIS_FILE_SIZE_MAX, &text, &size);
  if (rc != 0) {
    snprintf(err, err_size, "cannot read genesis '%s': %s", path, evc_strerror(rc));
    return rc;
  }
  char why[256];
  rc = evc_genesis_parse_json(text, size, out, why, sizeof why);
  free(text);
  if (rc != 0) snprintf(err, err_size, "genesis '%s': %s", path, why);
  return rc;
}

static void print_node_id(const char *label, const uint8_t key[EVC_PUBKEY_SIZE]) {
  char hex[2 * EVC_PUBKEY_SIZE + 1];
  evc_hex_encode(key, EVC_PUBKEY_SIZE, hex);
  printf("%-16s %s\n", label, hex);
}

/* ---- init ---- */

struct init_args {
  const char *home;
  const char *chain_id;
  const char *genesis;
  const char *signer_key;
  bool aggregator;
};

/* 0: parsed; 1: help printed; EXIT_USAGE: bad flags (message printed). */
static int parse_init(int argc, char **argv, struct init_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 2; i < argc; i++) {
    const char *arg = argv[i];
    if (is_help(arg)) {
      fputs(init_usage, stdout);
      return 1;
    }
    const char *eq = strchr(arg, '=');
    size_t name_size = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const char **slot = NULL;
    if (name_size == 6 && strncmp(arg, "--home", 6) == 0) slot = &a->home;
    if (name_size == 10 && strncmp(arg, "--chain-id", 10) == 0) slot = &a->chain_id;
    if (name_size == 9 && strncmp(arg, "--genesis", 9) == 0) slot = &a->genesis;
    if (name_size == 12 && strncmp(arg, "--signer-key", 12) == 0) slot = &a->signer_key;
    if (strcmp(arg, "--aggregator") == 0) {
      a->aggregator = true;
      continue;
    }
    if (slot == NULL) return usage_error("init", init_usage, "unknown flag '%s'", arg);
    *slot = flag_value(argc, argv, &i, eq);
    if (*slot == NULL || (*slot)[0] == '\0') {
      return usage_error("init", init_usage, "%s needs a value", arg);
    }
  }
  if (a->home == NULL) return usage_error("init", init_usage, "%s", "--home DIR is required");
  if (a->signer_key != NULL) a->aggregator = true;
  if (a->signer_key != NULL && a->genesis == NULL) {
    return usage_error("init", init_usage, "%s",
                       "--signer-key needs --genesis FILE: importing a key recovers an existing "
                       "chain, whose genesis.json you must copy");
  }
  if (a->aggregator && a->genesis != NULL && a->signer_key == NULL) {
    return usage_error("init", init_usage, "%s",
                       "an aggregator joining an existing chain (--genesis) needs its signer key: "
                       "--signer-key FILE");
  }
  if (!a->aggregator && a->genesis == NULL) {
    return usage_error("init", init_usage, "%s",
                       "a full node needs --genesis FILE (the chain's genesis.json); use "
                       "--aggregator to create a new chain");
  }
  return 0;
}

/* HOME must not exist, or be an empty directory: init never overwrites a node. */
static int check_home_free(const char *home, bool *exists_out) {
  struct stat st;
  *exists_out = false;
  if (stat(home, &st) != 0) return errno == ENOENT ? 0 : EVC_EIO;
  if (!S_ISDIR(st.st_mode)) return EVC_EEXIST;
  DIR *dir = opendir(home);
  if (dir == NULL) return EVC_EIO;
  struct dirent *e;
  bool empty = true;
  while ((e = readdir(dir)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = false;
  }
  closedir(dir);
  *exists_out = true;
  return empty ? 0 : EVC_EEXIST;
}

static int new_genesis(const char *chain_id, const uint8_t proposer[EVC_PUBKEY_SIZE],
                       struct evc_genesis *g) {
  memset(g, 0, sizeof *g);
  int rc = evc_chain_id_set(&g->chain_id, chain_id, strlen(chain_id));
  if (rc != 0) return rc;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  g->initial_height = 1;
  g->genesis_time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  memcpy(g->proposer_pubkey, proposer, EVC_PUBKEY_SIZE);
  g->da_start_height = 1;
  char ns[EVC_CHAIN_ID_SIZE_MAX + 16];
  snprintf(ns, sizeof ns, "%s-headers", chain_id);
  evc_namespace_from_string(ns, g->header_namespace);
  snprintf(ns, sizeof ns, "%s-data", chain_id);
  evc_namespace_from_string(ns, g->data_namespace);
  return 0;
}

/* Chooses the genesis and the signer key (generated, imported or none). */
static int init_chain(const struct init_args *a, struct evc_genesis *g, struct evc_keypair *signer,
                      bool *has_signer, char *err, size_t err_size) {
  *has_signer = false;
  int rc;
  if (a->genesis != NULL) {
    rc = load_genesis(a->genesis, g, err, err_size);
    if (rc != 0) return rc;
    if (a->chain_id != NULL && strcmp(a->chain_id, g->chain_id.text) != 0) {
      snprintf(err, err_size, "--chain-id '%s' differs from the genesis chain id '%s'",
               a->chain_id, g->chain_id.text);
      return EVC_ECONFIG;
    }
  }
  if (a->signer_key != NULL) {
    char why[256];
    rc = evc_keyfile_read(a->signer_key, signer, why, sizeof why);
    if (rc != 0) {
      snprintf(err, err_size, "--signer-key '%s': %s", a->signer_key, why);
      return rc;
    }
    if (memcmp(signer->pubkey, g->proposer_pubkey, EVC_PUBKEY_SIZE) != 0) {
      snprintf(err, err_size, "--signer-key '%s' is not the genesis proposer's key: use the "
               "sequencer's own key file", a->signer_key);
      return EVC_ECONFIG;
    }
    *has_signer = true;
    return 0;
  }
  if (!a->aggregator) return 0;
  rc = evc_keypair_generate(signer);
  if (rc != 0) {
    snprintf(err, err_size, "cannot generate a signer key");
    return rc;
  }
  *has_signer = true;
  const char *chain_id = a->chain_id != NULL ? a->chain_id : DEFAULT_CHAIN_ID;
  rc = new_genesis(chain_id, signer->pubkey, g);
  if (rc != 0) {
    snprintf(err, err_size, "--chain-id '%s': use 1-%d characters of [A-Za-z0-9._-]", chain_id,
             EVC_CHAIN_ID_SIZE_MAX);
  }
  return rc;
}

static int write_new_file(const char *home, const char *name, const char *text, char *err,
                          size_t err_size) {
  char path[PATH_MAX_TEXT];
  int rc = join(path, sizeof path, home, name);
  if (rc == 0) rc = evc_fs_create_atomic(path, (const uint8_t *)text, strlen(text), 0600);
  if (rc != 0) snprintf(err, err_size, "cannot write '%s/%s': %s", home, name, evc_strerror(rc));
  return rc;
}

static int write_key(const char *home, const char *name, const struct evc_keypair *kp, char *err,
                     size_t err_size) {
  char path[PATH_MAX_TEXT];
  int rc = join(path, sizeof path, home, name);
  if (rc == 0) rc = evc_keyfile_write(path, kp);
  if (rc != 0) snprintf(err, err_size, "cannot write '%s/%s': %s", home, name, evc_strerror(rc));
  return rc;
}

/* S = initial_height - 1: nothing signed yet (fresh keys only; an imported key gets none). */
static int write_fresh_sign_state(const char *home, const struct evc_genesis *g, char *err,
                                  size_t err_size) {
  struct evc_sign_state s;
  uint8_t *bytes = NULL;
  size_t size = 0;
  int rc = evc_sign_state_init_empty(g->initial_height - 1, &s);
  if (rc == 0) rc = evc_sign_state_encode(&s, &bytes, &size);
  evc_sign_state_release(&s);
  char path[PATH_MAX_TEXT];
  if (rc == 0) rc = join(path, sizeof path, home, EVC_SIGN_STATE_FILE);
  if (rc == 0) rc = evc_fs_create_atomic(path, bytes, size, 0600);
  free(bytes);
  if (rc != 0) snprintf(err, err_size, "cannot write the sign state: %s", evc_strerror(rc));
  return rc;
}

static int make_dirs(const char *home, char *err, size_t err_size) {
  static const char *const dirs[] = {"", "/keys", "/data"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    char path[PATH_MAX_TEXT];
    int n = snprintf(path, sizeof path, "%s%s", home, dirs[i]);
    int rc = n > 0 && (size_t)n < sizeof path ? evc_fs_mkdir_p(path, 0700) : EVC_EINVAL;
    if (rc == 0 && chmod(path, 0700) != 0) rc = EVC_EIO;
    if (rc != 0) {
      snprintf(err, err_size, "cannot create '%.300s': %s", path, evc_strerror(rc));
      return rc;
    }
  }
  return 0;
}

static int write_home(const struct init_args *a, const struct evc_genesis *g,
                      const struct evc_keypair *signer, bool has_signer,
                      struct evc_keypair *node_key, char *err, size_t err_size) {
  int rc = make_dirs(a->home, err, err_size);
  if (rc != 0) return rc;
  rc = evc_keypair_generate(node_key);
  if (rc != 0) {
    snprintf(err, err_size, "cannot generate the node key");
    return rc;
  }
  rc = write_key(a->home, NODE_KEY_FILE, node_key, err, err_size);
  if (rc == 0 && has_signer) rc = write_key(a->home, SIGNER_KEY_FILE, signer, err, err_size);
  if (rc == 0 && has_signer && a->signer_key == NULL) {
    rc = write_fresh_sign_state(a->home, g, err, err_size);
  }
  char *json = NULL;
  if (rc == 0) rc = evc_genesis_to_json(g, &json);
  if (rc == 0) rc = write_new_file(a->home, "genesis.json", json, err, err_size);
  free(json);
  json = NULL;
  struct evc_live_config cfg;
  evc_live_config_defaults(&cfg);
  cfg.aggregator = a->aggregator;
  if (rc == 0) rc = evc_live_config_to_json(&cfg, &json);
  if (rc == 0) rc = write_new_file(a->home, "config.json", json, err, err_size);
  free(json);
  if (rc != 0 && err[0] == '\0') snprintf(err, err_size, "%s", evc_strerror(rc));
  return rc;
}

static void print_init_summary(const struct init_args *a, const struct evc_genesis *g,
                               const struct evc_keypair *node_key, bool has_signer) {
  printf("initialized %s in '%s'\n", a->aggregator ? "an aggregator" : "a full node", a->home);
  printf("%-16s %s\n", "chain_id", g->chain_id.text);
  print_node_id("node_id", node_key->pubkey);
  print_node_id("proposer", g->proposer_pubkey);
  if (has_signer) {
    printf("%-16s %s\n", "signer", a->signer_key != NULL
                                       ? "imported (no sign state: catchup waits for peers and DA)"
                                       : "new key, sign state written");
  }
  printf("next: evc-node start --home %s\n", a->home);
}

static int cmd_init(int argc, char **argv) {
  struct init_args a;
  int rc = parse_init(argc, argv, &a);
  if (rc != 0) return rc == 1 ? 0 : rc;
  bool existed = false;
  rc = check_home_free(a.home, &existed);
  if (rc != 0) {
    fprintf(stderr, "evc-node init: '%s' already exists and is not an empty directory: init "
            "never overwrites a node; choose a new --home\n", a.home);
    return 1;
  }
  struct evc_genesis g;
  struct evc_keypair signer, node_key;
  memset(&signer, 0, sizeof signer);
  memset(&node_key, 0, sizeof node_key);
  bool has_signer = false;
  char err[512] = "";
  rc = init_chain(&a, &g, &signer, &has_signer, err, sizeof err);
  if (rc == 0) rc = write_home(&a, &g, &signer, has_signer, &node_key, err, sizeof err);
  if (rc == 0) print_init_summary(&a, &g, &node_key, has_signer);
  evc_keypair_wipe(&signer);
  evc_keypair_wipe(&node_key);
  if (rc != 0) {
    if (!existed) (void)evc_fs_remove_tree(a.home); /* leave no half-made HOME behind */
    fprintf(stderr, "evc-node init: %s\n", err);
    return 1;
  }
  return 0;
}

/* ---- start ---- */

static int load_config_file(const char *home, struct evc_live_config *cfg, char *err,
                            size_t err_size) {
  char path[PATH_MAX_TEXT];
  int rc = join(path, sizeof path, home, "config.json");
  char *text = NULL;
  size_t size = 0;
  if (rc == 0) rc = read_text_file(path, EVC_LIVE_CONFIG_JSON_SIZE_MAX, &text, &size);
  if (rc != 0) {
    snprintf(err, err_size, "cannot read '%.200s': %s (run 'evc-node init --home %.200s' first)",
             path, evc_strerror(rc), home);
    return rc;
  }
  rc = evc_live_config_parse_json(text, size, cfg, err, err_size);
  free(text);
  return rc;
}

/* Finds --home first (config.json must be read before flags override it). */
static int find_home(int argc, char **argv, const char **home_out) {
  *home_out = NULL;
  for (int i = 2; i < argc; i++) {
    if (is_help(argv[i])) {
      fputs(start_usage, stdout);
      return 1;
    }
    if (strncmp(argv[i], "--home", 6) == 0 && (argv[i][6] == '\0' || argv[i][6] == '=')) {
      const char *eq = argv[i][6] == '=' ? argv[i] + 6 : NULL;
      *home_out = flag_value(argc, argv, &i, eq);
    }
  }
  if (*home_out == NULL || (*home_out)[0] == '\0') {
    return usage_error("start", start_usage, "%s", "--home DIR is required");
  }
  return 0;
}

static int apply_start_flags(int argc, char **argv, struct evc_live_config *cfg) {
  for (int i = 2; i < argc; i++) {
    const char *arg = argv[i];
    if (strncmp(arg, "--", 2) != 0) {
      return usage_error("start", start_usage, "unexpected '%s'", arg);
    }
    const char *eq = strchr(arg, '=');
    char name[64];
    size_t name_size = (eq != NULL ? (size_t)(eq - arg) : strlen(arg)) - 2;
    if (name_size >= sizeof name) {
      return usage_error("start", start_usage, "unknown flag '%s'", arg);
    }
    memcpy(name, arg + 2, name_size);
    name[name_size] = '\0';
    if (strcmp(name, "home") == 0) {
      if (eq == NULL) i++;
      continue;
    }
    const char *value = eq != NULL ? eq + 1 : NULL;
    if (value == NULL && !evc_live_config_flag_is_bool(name)) {
      value = flag_value(argc, argv, &i, NULL);
    }
    char err[EVC_LIVE_ERR_SIZE];
    int rc = evc_live_config_apply_flag(cfg, name, value, err, sizeof err);
    if (rc != 0) return usage_error("start", start_usage, "%s", err);
  }
  return 0;
}

static int load_key(const char *home, const char *name, struct evc_keypair *kp, char *err,
                    size_t err_size) {
  char path[PATH_MAX_TEXT];
  char why[256];
  int rc = join(path, sizeof path, home, name);
  if (rc == 0) rc = evc_keyfile_read(path, kp, why, sizeof why);
  if (rc != 0) {
    snprintf(err, err_size, "%s/%s: %s", home, name, rc == EVC_EINVAL ? "bad path" : why);
  }
  return rc;
}

/* Genesis, node key and (aggregator) signer seed into opts. */
static int load_identity(const char *home, const struct evc_live_config *cfg,
                         struct evc_live_options *opts, char *err, size_t err_size) {
  char path[PATH_MAX_TEXT];
  int rc = join(path, sizeof path, home, "genesis.json");
  if (rc == 0) rc = load_genesis(path, &opts->node_cfg.genesis, err, err_size);
  if (rc == 0) rc = load_key(home, NODE_KEY_FILE, &opts->node_key, err, err_size);
  if (rc != 0 || !cfg->aggregator) return rc;
  struct evc_keypair signer;
  rc = load_key(home, SIGNER_KEY_FILE, &signer, err, err_size);
  if (rc == EVC_ENOTFOUND) {
    snprintf(err, err_size, "an aggregator needs %s/%s: create it with 'evc-node init "
             "--aggregator' or import it with 'init --signer-key FILE'", home, SIGNER_KEY_FILE);
  }
  if (rc != 0) return rc;
  if (memcmp(signer.pubkey, opts->node_cfg.genesis.proposer_pubkey, EVC_PUBKEY_SIZE) != 0) {
    snprintf(err, err_size, "%s/%s is not the genesis proposer's key", home, SIGNER_KEY_FILE);
    rc = EVC_ECONFIG;
  } else {
    evc_keypair_seed(&signer, opts->node_cfg.signer_seed);
  }
  evc_keypair_wipe(&signer);
  return rc;
}

static int cmd_start(int argc, char **argv) {
  const char *home = NULL;
  int rc = find_home(argc, argv, &home);
  if (rc != 0) return rc == 1 ? 0 : rc;
  static struct evc_live_config cfg; /* large (peer and token buffers): not on the stack */
  evc_live_config_defaults(&cfg);
  char err[EVC_LIVE_ERR_SIZE] = "";
  rc = load_config_file(home, &cfg, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "evc-node start: %s\n", err);
    return EXIT_USAGE;
  }
  rc = apply_start_flags(argc, argv, &cfg);
  if (rc != 0) return rc;
  if (evc_live_config_check(&cfg, err, sizeof err) != 0) {
    fprintf(stderr, "evc-node start: %s\n", err);
    return EXIT_USAGE;
  }
  static struct evc_live_options opts;
  memset(&opts, 0, sizeof opts);
  opts.home = home;
  opts.cfg = &cfg;
  evc_node_config_defaults(&opts.node_cfg);
  evc_live_config_to_node(&cfg, &opts.node_cfg);
  rc = load_identity(home, &cfg, &opts, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "evc-node start: %s\n", err);
    evc_keypair_wipe(&opts.node_key);
    return 1;
  }
  signal(SIGPIPE, SIG_IGN); /* a peer closing its socket must not kill the node */
  rc = evc_live_run(&opts);
  evc_keypair_wipe(&opts.node_key);
  sodium_memzero(opts.node_cfg.signer_seed, sizeof opts.node_cfg.signer_seed);
  return rc;
}

/* ---- status ---- */

struct reply {
  char *text;
  size_t size;
  bool too_big;
};

static size_t reply_write(char *data, size_t size, size_t count, void *arg) {
  struct reply *r = arg;
  size_t n = size * count;
  if (r->size + n > STATUS_REPLY_SIZE_MAX) {
    r->too_big = true;
    return 0;
  }
  char *bigger = realloc(r->text, r->size + n + 1);
  if (bigger == NULL) return 0;
  memcpy(bigger + r->size, data, n);
  r->size += n;
  bigger[r->size] = '\0';
  r->text = bigger;
  return n;
}

static void print_field(const cJSON *doc, const char *key, const char *indent) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
  if (v == NULL) return;
  if (cJSON_IsString(v)) {
    printf("%s%-20s %s\n", indent, key, v->valuestring);
  } else if (cJSON_IsNumber(v)) {
    double d = v->valuedouble;
    if (d == (double)(uint64_t)d) {
      printf("%s%-20s %llu\n", indent, key, (unsigned long long)d);
    } else {
      printf("%s%-20s %.2f\n", indent, key, d);
    }
  } else if (cJSON_IsNull(v)) {
    printf("%s%-20s unknown\n", indent, key);
  }
}

static int print_status(const char *json, size_t size) {
  cJSON *doc = cJSON_ParseWithLength(json, size);
  if (doc == NULL || !cJSON_IsObject(doc)) {
    cJSON_Delete(doc);
    fprintf(stderr, "evc-node status: the node answered something that is not a status object\n");
    return 1;
  }
  static const char *const keys[] = {"chain_id", "role", "mode", "height", "last_block_hash",
                                     "da_included_height", "peers", "known_peers",
                                     "equivocations", "mempool_txs", "failure"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) print_field(doc, keys[i], "");
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "catchup");
  if (cJSON_IsObject(c)) {
    static const char *const ckeys[] = {"waiting_for", "da_height", "da_head", "p2p_target_height",
                                        "blocks_per_second", "eta_seconds"};
    printf("catchup\n");
    for (size_t i = 0; i < sizeof ckeys / sizeof ckeys[0]; i++) print_field(c, ckeys[i], "  ");
  }
  cJSON_Delete(doc);
  return 0;
}

static int fetch_status(const char *url, struct reply *r, long *http_code, char *err,
                        size_t err_size) {
  CURL *curl = curl_easy_init();
  if (curl == NULL) {
    snprintf(err, err_size, "cannot initialise libcurl");
    return EVC_EIO;
  }
  char curl_err[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, reply_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, STATUS_TIMEOUT_MS);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode cc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, http_code);
  curl_easy_cleanup(curl);
  if (cc != CURLE_OK) {
    const char *why = curl_err[0] != '\0' ? curl_err : curl_easy_strerror(cc);
    snprintf(err, err_size, "cannot reach %s: %s (is the node running? check --rpc)", url,
             r->too_big ? "reply too large" : why);
    return EVC_EIO;
  }
  return 0;
}

static int cmd_status(int argc, char **argv) {
  const char *rpc = "127.0.0.1:7331";
  for (int i = 2; i < argc; i++) {
    const char *eq = strchr(argv[i], '=');
    if (is_help(argv[i])) {
      fputs(status_usage, stdout);
      return 0;
    } else if (strncmp(argv[i], "--rpc", 5) == 0 && (argv[i][5] == '\0' || argv[i][5] == '=')) {
      rpc = flag_value(argc, argv, &i, eq);
      if (rpc == NULL || rpc[0] == '\0') {
        return usage_error("status", status_usage, "%s", "--rpc needs HOST:PORT");
      }
    } else {
      return usage_error("status", status_usage, "unknown flag '%s'", argv[i]);
    }
  }
  char url[EVC_LIVE_URL_SIZE_MAX];
  bool has_scheme = strncmp(rpc, "http://", 7) == 0 || strncmp(rpc, "https://", 8) == 0;
  int n = snprintf(url, sizeof url, "%s%s/status", has_scheme ? "" : "http://", rpc);
  if (n <= 0 || (size_t)n >= sizeof url) {
    return usage_error("status", status_usage, "%s", "--rpc is too long");
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) return 1;
  struct reply r = {0};
  long code = 0;
  char err[EVC_LIVE_URL_SIZE_MAX + 128];
  int rc = fetch_status(url, &r, &code, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "evc-node status: %s\n", err);
  } else if (code != 200) {
    fprintf(stderr, "evc-node status: %s answered HTTP %ld: %s\n", url, code,
            r.text != NULL ? r.text : "");
    rc = 1;
  } else {
    rc = print_status(r.text != NULL ? r.text : "", r.size);
  }
  free(r.text);
  curl_global_cleanup();
  return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 2 || is_help(argv[1])) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : 0;
  }
  if (evc_crypto_init() != 0) {
    fprintf(stderr, "evc-node: cannot initialise libsodium\n");
    return 1;
  }
  const char *command = argv[1];
  if (strcmp(command, "init") == 0) return cmd_init(argc, argv);
  if (strcmp(command, "start") == 0) return cmd_start(argc, argv);
  if (strcmp(command, "status") == 0) return cmd_status(argc, argv);
  fprintf(stderr, "evc-node: unknown command '%s'\n\n%s", command, usage);
  return EXIT_USAGE;
}
