/* evc-da: a local DA server speaking the Celestia node JSON-RPC subset, for development and
 * tests. Parses flags, runs the server on a libuv loop, writes HOME/addresses.json, stops on
 * SIGINT/SIGTERM. It never serves anything but 127.0.0.1-style development setups safely. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "node/common/error.h"
#include "node/da_server/da_server.h"
#include "node/os/fsutil.h"

#define ADDRESSES_FILE "addresses.json"
#define LISTEN_TEXT_MAX 128

static const char usage[] =
    "usage: evc-da start --home DIR [--listen 127.0.0.1:26658] [--block-time 1s]\n"
    "                    [--mempool-ttl 10] [--auth-token T]\n"
    "\n"
    "A local data-availability server for development and tests: blob.Submit,\n"
    "blob.GetAll, header.NetworkHead and header.GetByHeight over JSON-RPC (HTTP POST /).\n"
    "\n"
    "  --home DIR         state in DIR/data/da.sqlite; the bound address in DIR/addresses.json\n"
    "  --listen HOST:PORT IPv4 or [IPv6] literal; port 0 picks a free port (default\n"
    "                     127.0.0.1:26658)\n"
    "  --block-time D     one DA block every D (ms, s or m suffix; default 1s)\n"
    "  --mempool-ttl N    a Submit not included within N blocks fails (default 10)\n"
    "  --auth-token T     require 'Authorization: Bearer T' (default: none)\n";

struct da_main {
  uv_loop_t loop;
  uv_signal_t sigint;
  uv_signal_t sigterm;
  struct evc_da_server *server;
  int signals;
  char home[4096];
  char host[LISTEN_TEXT_MAX];
};

static void log_line(void *arg, enum evc_log_level level, const char *line) {
  static const char *names[] = {"debug", "info", "warn", "error"};
  if (level == EVC_LOG_DEBUG && getenv("EVC_DA_DEBUG") == NULL) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  char date[32] = "1970-01-01T00:00:00";
  if (gmtime_r(&ts.tv_sec, &tm) != NULL) strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  fprintf(stderr, "ts=%s.%03ldZ level=%s %s\n", date, ts.tv_nsec / 1000000L,
          names[(int)level & 3], line);
}

/* "500ms", "2s", "1m" -> milliseconds; 0 on a malformed or zero duration. */
static uint64_t parse_duration_ms(const char *text) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0 || end == text || text[0] == '-' || v == 0 || v > 86400000ull) return 0;
  if (strcmp(end, "ms") == 0) return v;
  if (strcmp(end, "s") == 0) return v * 1000;
  if (strcmp(end, "m") == 0) return v <= 1440 ? v * 60000 : 0;
  return 0;
}

/* "HOST:PORT" or "[V6]:PORT" into host and port. */
static int parse_listen(const char *text, char *host, size_t host_size, uint16_t *port) {
  const char *colon = strrchr(text, ':');
  if (colon == NULL || colon == text) return EVC_ECONFIG;
  const char *h = text;
  size_t len = (size_t)(colon - text);
  if (h[0] == '[') {
    if (len < 3 || h[len - 1] != ']') return EVC_ECONFIG;
    h++;
    len -= 2;
  }
  if (len >= host_size) return EVC_ECONFIG;
  char *end = NULL;
  errno = 0;
  unsigned long p = strtoul(colon + 1, &end, 10);
  if (errno != 0 || end == colon + 1 || *end != '\0' || p > 65535) return EVC_ECONFIG;
  memcpy(host, h, len);
  host[len] = '\0';
  *port = (uint16_t)p;
  return 0;
}

/* Reads "--flag value" or "--flag=value"; returns the value or NULL (and says why). */
static const char *flag_value(int argc, char **argv, int *i, const char *flag) {
  size_t len = strlen(flag);
  if (strncmp(argv[*i], flag, len) == 0 && argv[*i][len] == '=') return argv[*i] + len + 1;
  if (*i + 1 >= argc) {
    fprintf(stderr, "evc-da start: '%s' needs a value\n", flag);
    return NULL;
  }
  return argv[++*i];
}

static bool is_flag(const char *arg, const char *flag) {
  size_t len = strlen(flag);
  return strncmp(arg, flag, len) == 0 && (arg[len] == '\0' || arg[len] == '=');
}

static int bad_value(const char *flag, const char *value, const char *want) {
  fprintf(stderr, "evc-da start: '%s' wants %s, not '%s'\n", flag, want, value);
  return 2;
}

/* Fills cfg from argv; returns 0, or an exit code after printing the reason. */
static int parse_flags(int argc, char **argv, struct da_main *m,
                       struct evc_da_server_config *cfg) {
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage, stdout);
      return -1;
    }
    if (is_flag(a, "--home")) {
      if ((v = flag_value(argc, argv, &i, "--home")) == NULL) return 2;
      if (v[0] == '\0' || strlen(v) >= sizeof m->home - 64) {
        return bad_value("--home", v, "a directory path");
      }
      snprintf(m->home, sizeof m->home, "%s", v);
    } else if (is_flag(a, "--listen")) {
      if ((v = flag_value(argc, argv, &i, "--listen")) == NULL) return 2;
      if (parse_listen(v, m->host, sizeof m->host, &cfg->listen_port) != 0) {
        return bad_value("--listen", v, "HOST:PORT like 127.0.0.1:26658");
      }
      cfg->listen_host = m->host;
    } else if (is_flag(a, "--block-time")) {
      if ((v = flag_value(argc, argv, &i, "--block-time")) == NULL) return 2;
      if ((cfg->block_time_ms = parse_duration_ms(v)) == 0) {
        return bad_value("--block-time", v, "a duration like 500ms, 1s or 1m");
      }
    } else if (is_flag(a, "--mempool-ttl")) {
      if ((v = flag_value(argc, argv, &i, "--mempool-ttl")) == NULL) return 2;
      char *end = NULL;
      unsigned long n = strtoul(v, &end, 10);
      if (end == v || *end != '\0' || v[0] == '-' || n == 0 || n > 100000) {
        return bad_value("--mempool-ttl", v, "a number of blocks from 1 to 100000");
      }
      cfg->mempool_ttl_blocks = (uint32_t)n;
    } else if (is_flag(a, "--auth-token")) {
      if ((v = flag_value(argc, argv, &i, "--auth-token")) == NULL) return 2;
      cfg->auth_token = v;
    } else {
      fprintf(stderr, "evc-da start: unknown flag '%s' (see evc-da start --help)\n", a);
      return 2;
    }
  }
  if (m->home[0] == '\0') {
    fprintf(stderr, "evc-da start: '--home DIR' is required\n");
    return 2;
  }
  cfg->home = m->home;
  return 0;
}

static int write_addresses(const struct da_main *m, const char *host, uint16_t port) {
  char path[sizeof m->home + 32];
  char text[3 * LISTEN_TEXT_MAX];
  bool v6 = strchr(host, ':') != NULL;
  int n = snprintf(text, sizeof text, "{\"rpc\": \"%s%s%s:%u\", \"url\": \"http://%s%s%s:%u\"}\n",
                   v6 ? "[" : "", host, v6 ? "]" : "", port, v6 ? "[" : "", host,
                   v6 ? "]" : "", port);
  if (n < 0 || (size_t)n >= sizeof text) return EVC_EINVAL;
  snprintf(path, sizeof path, "%s/%s", m->home, ADDRESSES_FILE);
  return evc_fs_replace_atomic(path, (const uint8_t *)text, (size_t)n, 0644);
}

static void server_stopped(void *arg) {
  struct da_main *m = arg;
  uv_stop(&m->loop);
}

static void on_signal(uv_signal_t *h, int signum) {
  struct da_main *m = h->data;
  char line[96];
  if (++m->signals > 1) {
    snprintf(line, sizeof line, "event=signal signal=%d action=exit_now", signum);
    log_line(NULL, EVC_LOG_WARN, line);
    _exit(1);
  }
  snprintf(line, sizeof line, "event=signal signal=%d action=graceful_stop", signum);
  log_line(NULL, EVC_LOG_INFO, line);
  evc_da_server_stop(m->server, server_stopped, m);
}

static void close_walk(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

static int run(struct da_main *m, const struct evc_da_server_config *cfg) {
  char path[sizeof m->home + 32];
  snprintf(path, sizeof path, "%s/%s", m->home, ADDRESSES_FILE);
  /* A stale file would point a waiting client at the previous run. */
  if (unlink(path) != 0 && errno != ENOENT) {
    fprintf(stderr, "evc-da start: cannot remove stale '%s': %s\n", path, strerror(errno));
    return 1;
  }
  int rc = evc_da_server_new(&m->loop, cfg, &m->server);
  if (rc != 0) {
    fprintf(stderr, "evc-da start: cannot start on %s:%u with home '%s': %s (%s)\n",
            cfg->listen_host, cfg->listen_port, m->home, evc_strerror(rc), evc_errname(rc));
    return 1;
  }
  uint16_t port = evc_da_server_port(m->server);
  rc = write_addresses(m, cfg->listen_host, port);
  if (rc != 0) {
    fprintf(stderr, "evc-da start: cannot write '%s': %s\n", path, evc_strerror(rc));
    evc_da_server_stop(m->server, server_stopped, m);
    uv_run(&m->loop, UV_RUN_DEFAULT);
    evc_da_server_free(m->server);
    return 1;
  }
  char line[sizeof path + 2 * LISTEN_TEXT_MAX];
  snprintf(line, sizeof line, "event=addresses file=\"%s\" rpc=%s:%u", path, cfg->listen_host,
           port);
  log_line(NULL, EVC_LOG_INFO, line);
  uv_signal_init(&m->loop, &m->sigint);
  uv_signal_init(&m->loop, &m->sigterm);
  m->sigint.data = m;
  m->sigterm.data = m;
  uv_signal_start(&m->sigint, on_signal, SIGINT);
  uv_signal_start(&m->sigterm, on_signal, SIGTERM);
  uv_run(&m->loop, UV_RUN_DEFAULT);
  evc_da_server_free(m->server);
  log_line(NULL, EVC_LOG_INFO, "event=stopped");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "start") != 0) {
    fprintf(stderr, "evc-da: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
  }
  static struct da_main m;
  struct evc_da_server_config cfg;
  evc_da_server_config_default(&cfg);
  cfg.log = log_line;
  int rc = parse_flags(argc, argv, &m, &cfg);
  if (rc != 0) return rc < 0 ? 0 : rc;
  signal(SIGPIPE, SIG_IGN);
  if (uv_loop_init(&m.loop) != 0) {
    fprintf(stderr, "evc-da start: cannot create the event loop\n");
    return 1;
  }
  rc = run(&m, &cfg);
  /* Close what is left (signal handlers; libh2o's handles if connections lingered). */
  uv_walk(&m.loop, close_walk, NULL);
  uv_run(&m.loop, UV_RUN_NOWAIT);
  if (uv_loop_close(&m.loop) != 0 && rc == 0) {
    log_line(NULL, EVC_LOG_WARN, "event=exit detail=\"connections were still open\"");
  }
  return rc;
}
