/* struct evc_env on libuv, and the lifecycle of a live node: setup, signals, teardown. Every
 * event reaches the node from the loop, never from inside one of its env calls, and none
 * reaches it once it asked to stop; the node is freed only after off-loop work has drained. */
#include "node/live/env_live.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/live/rpc.h"

#define NS_PER_MS 1000000ull
#define NS_PER_SEC 1000000000ull
#define FILE_NAME_MAX 200
#define LOG_LINE_MAX 2048
#define ADDRESSES_JSON_MAX 512

struct evc_live_timer {
  uv_timer_t handle;
  struct evc_live *live;
  uint64_t id;
  evc_timer_callback cb;
  void *arg;
  struct evc_live_timer *prev;
  struct evc_live_timer *next;
};

struct live_work {
  uv_work_t req;
  struct evc_live *live;
  evc_work_function fn;
  void *work_arg;
  evc_work_done_callback done;
  void *arg;
};

static struct evc_live *live_of(void *ctx) {
  struct evc_live *live = ctx;
  EVC_ASSERT(live != NULL);
  return live;
}

/* The node may receive events only while it exists and has not asked to stop. */
static bool node_listening(const struct evc_live *live) {
  return live->node != NULL && !live->stopping;
}

/* ---- logging ---- */

void evc_live_format_time_ms(uint64_t unix_ns, char out[32]) {
  time_t secs = (time_t)(unix_ns / NS_PER_SEC);
  unsigned ms = (unsigned)((unix_ns % NS_PER_SEC) / NS_PER_MS);
  struct tm tm;
  if (gmtime_r(&secs, &tm) == NULL) {
    snprintf(out, 32, "1970-01-01T00:00:00.000Z");
    return;
  }
  char date[24];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 32, "%s.%03uZ", date, ms);
}

static const char *level_name(enum evc_log_level level) {
  switch (level) {
  case EVC_LOG_DEBUG: return "debug";
  case EVC_LOG_INFO: return "info";
  case EVC_LOG_WARN: return "warn";
  case EVC_LOG_ERROR: return "error";
  }
  return "unknown";
}

static uint64_t wall_now_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

void evc_live_log_line(enum evc_log_level level, const char *line) {
  char ts[32];
  evc_live_format_time_ms(wall_now_ns(), ts);
  /* one fprintf per line: stderr is unbuffered, so lines from one process never interleave */
  fprintf(stderr, "ts=%s level=%s %s\n", ts, level_name(level), line != NULL ? line : "");
}

__attribute__((format(printf, 3, 4))) static void live_logf(const struct evc_live *live,
                                                            enum evc_log_level level,
                                                            const char *fmt, ...) {
  if (live->cfg != NULL && level < live->cfg->log_level) return;
  char line[LOG_LINE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  evc_live_log_line(level, line);
}

/* ---- clocks, timers, randomness ---- */

static uint64_t env_mono_ns(void *ctx) {
  (void)ctx;
  return uv_hrtime();
}

static uint64_t env_wall_ns(void *ctx) {
  (void)ctx;
  return wall_now_ns();
}

static void timer_unlink(struct evc_live *live, struct evc_live_timer *t) {
  if (t->prev != NULL) t->prev->next = t->next;
  if (t->next != NULL) t->next->prev = t->prev;
  if (live->timers == t) live->timers = t->next;
  t->prev = t->next = NULL;
}

static void timer_free_cb(uv_handle_t *h) { free(h->data); }

static void timer_fired(uv_timer_t *h) {
  struct evc_live_timer *t = h->data;
  struct evc_live *live = t->live;
  evc_timer_callback cb = t->cb;
  void *arg = t->arg;
  timer_unlink(live, t);
  uv_close((uv_handle_t *)&t->handle, timer_free_cb);
  if (node_listening(live)) cb(arg);
}

static int env_timer_start(void *ctx, uint64_t delay_ns, evc_timer_callback cb, void *arg,
                           uint64_t *timer_id_out) {
  struct evc_live *live = live_of(ctx);
  if (cb == NULL || timer_id_out == NULL) return EVC_EINVAL;
  if (live->stopping) return EVC_ESTOPPED;
  struct evc_live_timer *t = calloc(1, sizeof *t);
  if (t == NULL) return EVC_ENOMEM;
  t->live = live;
  t->id = ++live->timer_next_id;
  t->cb = cb;
  t->arg = arg;
  t->handle.data = t;
  EVC_ASSERT(uv_timer_init(&live->loop, &t->handle) == 0);
  /* libuv counts milliseconds: round up so a timer never fires early */
  uint64_t ms = delay_ns / NS_PER_MS + (delay_ns % NS_PER_MS != 0 ? 1 : 0);
  EVC_ASSERT(uv_timer_start(&t->handle, timer_fired, ms, 0) == 0);
  t->next = live->timers;
  if (live->timers != NULL) live->timers->prev = t;
  live->timers = t;
  *timer_id_out = t->id;
  return 0;
}

static void timer_close(struct evc_live *live, struct evc_live_timer *t) {
  timer_unlink(live, t);
  uv_timer_stop(&t->handle);
  uv_close((uv_handle_t *)&t->handle, timer_free_cb);
}

static void env_timer_cancel(void *ctx, uint64_t timer_id) {
  struct evc_live *live = live_of(ctx);
  for (struct evc_live_timer *t = live->timers; t != NULL; t = t->next) {
    if (t->id == timer_id) {
      timer_close(live, t);
      return;
    }
  }
}

static void env_random_bytes(void *ctx, uint8_t *out, size_t size) {
  (void)ctx;
  randombytes_buf(out, size);
}

/* ---- P2P: the transport's events become the node's entry points ---- */

static int env_p2p_dial(void *ctx, const char *address) {
  struct evc_live *live = live_of(ctx);
  if (live->stopping || !live->p2p_open) return EVC_ESTOPPED;
  return evc_p2p_tcp_dial(&live->p2p, address);
}

static int env_p2p_send(void *ctx, const struct evc_peer_id *peer, const uint8_t *bytes,
                        size_t size) {
  struct evc_live *live = live_of(ctx);
  if (live->stopping || !live->p2p_open) return EVC_ESTOPPED;
  return evc_p2p_tcp_send(&live->p2p, peer, bytes, size);
}

static void env_p2p_disconnect(void *ctx, const struct evc_peer_id *peer) {
  struct evc_live *live = live_of(ctx);
  if (live->stopping || !live->p2p_open) return;
  evc_p2p_tcp_disconnect(&live->p2p, peer);
}

static void p2p_connected(void *arg, const struct evc_peer_id *peer, const char *address,
                          bool inbound) {
  struct evc_live *live = arg;
  if (node_listening(live)) {
    evc_node_entry_points.peer_connected(live->node, peer, address, inbound);
  }
}

static void p2p_disconnected(void *arg, const struct evc_peer_id *peer) {
  struct evc_live *live = arg;
  if (node_listening(live)) evc_node_entry_points.peer_disconnected(live->node, peer);
}

static void p2p_dial_failed(void *arg, const char *address, int status) {
  struct evc_live *live = arg;
  if (node_listening(live)) evc_node_entry_points.dial_failed(live->node, address, status);
}

static void p2p_message(void *arg, const struct evc_peer_id *peer, const uint8_t *bytes,
                        size_t size) {
  struct evc_live *live = arg;
  if (node_listening(live)) evc_node_entry_points.message(live->node, peer, bytes, size);
}

static void component_log(void *arg, int level, const char *line) {
  struct evc_live *live = arg;
  if (level < EVC_LOG_DEBUG || level > EVC_LOG_ERROR) level = EVC_LOG_ERROR;
  live_logf(live, (enum evc_log_level)level, "%s", line);
}

static void da_log(void *arg, enum evc_log_level level, const char *line) {
  component_log(arg, (int)level, line);
}

/* ---- DA: the client has the env's signatures and never calls back after close ---- */

static int env_da_submit(void *ctx, const struct evc_da_blob *blobs, size_t count,
                         evc_da_submit_callback cb, void *arg) {
  struct evc_live *live = live_of(ctx);
  if (live->stopping || !live->da_open) return EVC_ESTOPPED;
  return evc_da_client_submit(&live->da, blobs, count, cb, arg);
}

static int env_da_get(void *ctx, uint64_t height, const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE],
                      size_t namespace_count, evc_da_get_callback cb, void *arg) {
  struct evc_live *live = live_of(ctx);
  if (live->stopping || !live->da_open) return EVC_ESTOPPED;
  return evc_da_client_get(&live->da, height, namespaces, namespace_count, cb, arg);
}

static int env_da_head(void *ctx, evc_da_head_callback cb, void *arg) {
  struct evc_live *live = live_of(ctx);
  if (live->stopping || !live->da_open) return EVC_ESTOPPED;
  return evc_da_client_head(&live->da, cb, arg);
}

/* ---- off-loop work on the libuv thread pool ---- */

static void try_finish(struct evc_live *live);

static void work_run(uv_work_t *req) {
  struct live_work *w = req->data;
  w->fn(w->work_arg);
}

static void work_after(uv_work_t *req, int status) {
  struct live_work *w = req->data;
  struct evc_live *live = w->live;
  EVC_ASSERT(live->work_in_flight > 0);
  live->work_in_flight--;
  evc_work_done_callback done = w->done;
  void *arg = w->arg;
  free(w);
  if (status == 0 && node_listening(live)) done(arg, 0);
  if (live->stopping) try_finish(live);
}

static int env_work_submit(void *ctx, evc_work_function fn, void *work_arg,
                           evc_work_done_callback done, void *arg) {
  struct evc_live *live = live_of(ctx);
  if (fn == NULL || done == NULL) return EVC_EINVAL;
  if (live->stopping) return EVC_ESTOPPED;
  struct live_work *w = calloc(1, sizeof *w);
  if (w == NULL) return EVC_ENOMEM;
  w->live = live;
  w->fn = fn;
  w->work_arg = work_arg;
  w->done = done;
  w->arg = arg;
  w->req.data = w;
  if (uv_queue_work(&live->loop, &w->req, work_run, work_after) != 0) {
    free(w);
    return EVC_EIO;
  }
  live->work_in_flight++;
  return 0;
}

/* ---- durable files under HOME ---- */

/* HOME-relative, no absolute paths, no "..", printable ASCII only. */
static bool file_name_ok(const char *name) {
  if (name == NULL || name[0] == '\0' || name[0] == '/') return false;
  size_t size = strlen(name);
  if (size > FILE_NAME_MAX || strstr(name, "..") != NULL) return false;
  for (size_t i = 0; i < size; i++) {
    if (name[i] <= 0x20 || name[i] >= 0x7f) return false;
  }
  return true;
}

static int home_path(const struct evc_live *live, const char *name, char *out, size_t size) {
  int n = snprintf(out, size, "%s/%s", live->home, name);
  return n > 0 && (size_t)n < size ? 0 : EVC_EINVAL;
}

static int env_file_read(void *ctx, const char *name, size_t size_max, uint8_t **bytes_out,
                         size_t *size_out) {
  struct evc_live *live = live_of(ctx);
  if (bytes_out == NULL || size_out == NULL || !file_name_ok(name)) return EVC_EINVAL;
  *bytes_out = NULL;
  *size_out = 0;
  char path[EVC_FS_PATH_SIZE_MAX + 1];
  int rc = home_path(live, name, path, sizeof path);
  if (rc != 0) return rc;
  return evc_fs_read_file(path, size_max, bytes_out, size_out);
}

static int env_file_replace(void *ctx, const char *name, const uint8_t *bytes, size_t size) {
  struct evc_live *live = live_of(ctx);
  if (!file_name_ok(name) || (bytes == NULL && size > 0)) return EVC_EINVAL;
  if (size > EVC_DURABLE_FILE_SIZE_MAX) return EVC_ETOOBIG;
  char path[EVC_FS_PATH_SIZE_MAX + 1];
  int rc = home_path(live, name, path, sizeof path);
  if (rc != 0) return rc;
  /* 0600 everywhere: keys/ holds secrets, and nothing else under HOME is meant for others */
  rc = evc_fs_replace_atomic(path, bytes, size, 0600);
  if (rc != 0) {
    live_logf(live, EVC_LOG_ERROR, "event=file_replace_failed file=\"%s\" error=%s", name,
              evc_errname(rc));
  }
  return rc;
}

/* ---- logging, observations, stop ---- */

static void env_log(void *ctx, enum evc_log_level level, const char *line) {
  live_logf(live_of(ctx), level, "%s", line);
}

static void env_observe(void *ctx, const struct evc_observation *o) {
  if (o != NULL) evc_live_metrics_observe(&live_of(ctx)->metrics, o);
}

static void teardown_fired(uv_timer_t *h) {
  struct evc_live *live = h->data;
  live->teardown_due = true;
  try_finish(live);
}

static void subsystem_closed(void *arg) {
  struct evc_live *live = arg;
  EVC_ASSERT(live->closing_count > 0);
  live->closing_count--;
  try_finish(live);
}

/* Stops every source of events; the node itself is freed later, from the loop. */
static void begin_shutdown(struct evc_live *live) {
  while (live->timers != NULL) timer_close(live, live->timers);
  if (live->rpc != NULL) {
    live->closing_count++;
    evc_rpc_close(live->rpc, subsystem_closed, live); /* destroyed after the loop returns */
  }
  if (live->p2p_open) {
    live->p2p_open = false;
    live->closing_count++;
    evc_p2p_tcp_close(&live->p2p, subsystem_closed, live);
  }
  if (live->da_open) {
    live->da_open = false;
    live->closing_count++;
    evc_da_client_close(&live->da, subsystem_closed, live);
  }
  uv_timer_stop(&live->sampler);
  /* a zero timer: the node is freed outside the call that asked to stop */
  EVC_ASSERT(uv_timer_start(&live->teardown, teardown_fired, 0, 0) == 0);
}

static void env_request_stop(void *ctx, int exit_code, const char *reason) {
  struct evc_live *live = live_of(ctx);
  if (live->stopping) return;
  live->stopping = true;
  live->exit_code = exit_code;
  snprintf(live->reason, sizeof live->reason, "%s", reason != NULL ? reason : "");
  live_logf(live, exit_code == 0 ? EVC_LOG_INFO : EVC_LOG_ERROR,
            "event=exit code=%d reason=\"%s\"", exit_code, live->reason);
  begin_shutdown(live);
}

/* Frees the node once no work is in flight, then closes the runtime's own handles once every
 * subsystem finished closing; the loop then runs out of handles and returns. */
static void try_finish(struct evc_live *live) {
  if (!live->teardown_due) return;
  if (live->node != NULL && live->work_in_flight == 0) {
    evc_node_free(live->node);
    live->node = NULL;
  }
  if (live->node != NULL || live->closing_count > 0 || !live->handles_open) return;
  live->handles_open = false;
  uv_close((uv_handle_t *)&live->sigint, NULL);
  uv_close((uv_handle_t *)&live->sigterm, NULL);
  uv_close((uv_handle_t *)&live->sampler, NULL);
  uv_close((uv_handle_t *)&live->teardown, NULL);
  uv_stop(&live->loop); /* h2o's own handles stay active until evc_rpc_destroy */
}

/* ---- signals and sampling ---- */

static void on_signal(uv_signal_t *h, int signum) {
  struct evc_live *live = h->data;
  const char *name = signum == SIGINT ? "SIGINT" : "SIGTERM";
  live->signals_seen++;
  if (live->signals_seen > 1) {
    live_logf(live, EVC_LOG_ERROR, "event=signal signal=%s action=exit_now detail=\"second "
              "signal: exiting without waiting for the DA submitter\"", name);
    _exit(128 + signum);
  }
  char timeout[32];
  evc_live_format_duration(live->cfg->shutdown_timeout_ns, timeout, sizeof timeout);
  live_logf(live, EVC_LOG_INFO, "event=signal signal=%s action=graceful_stop "
            "shutdown_timeout=%s detail=\"send it again to exit at once\"", name, timeout);
  if (node_listening(live)) evc_node_entry_points.stop(live->node);
}

static void on_sample(uv_timer_t *h) {
  struct evc_live *live = h->data;
  if (live->node == NULL) return;
  struct evc_node_status st;
  evc_node_status(live->node, &st);
  evc_live_metrics_sample(&live->metrics, uv_hrtime(), &st);
}

/* ---- setup ---- */

static void env_init(struct evc_live *live) {
  struct evc_env *env = &live->env;
  memset(env, 0, sizeof *env);
  env->ctx = live;
  env->mono_ns = env_mono_ns;
  env->wall_ns = env_wall_ns;
  env->timer_start = env_timer_start;
  env->timer_cancel = env_timer_cancel;
  env->random_bytes = env_random_bytes;
  env->p2p_dial = env_p2p_dial;
  env->p2p_send = env_p2p_send;
  env->p2p_disconnect = env_p2p_disconnect;
  env->da_submit = env_da_submit;
  env->da_get = env_da_get;
  env->da_head = env_da_head;
  env->work_submit = env_work_submit;
  env->store_vfs_name = NULL;
  env->store_path = live->store_path;
  env->file_read = env_file_read;
  env->file_replace = env_file_replace;
  env->log = env_log;
  env->observe = env_observe;
  env->request_stop = env_request_stop;
}

static int loop_init(struct evc_live *live) {
  if (uv_loop_init(&live->loop) != 0) return EVC_EIO;
  EVC_ASSERT(uv_signal_init(&live->loop, &live->sigint) == 0);
  EVC_ASSERT(uv_signal_init(&live->loop, &live->sigterm) == 0);
  EVC_ASSERT(uv_timer_init(&live->loop, &live->sampler) == 0);
  EVC_ASSERT(uv_timer_init(&live->loop, &live->teardown) == 0);
  live->sigint.data = live->sigterm.data = live;
  live->sampler.data = live->teardown.data = live;
  live->handles_open = true;
  if (uv_signal_start(&live->sigint, on_signal, SIGINT) != 0 ||
      uv_signal_start(&live->sigterm, on_signal, SIGTERM) != 0) {
    return EVC_EIO;
  }
  uv_timer_start(&live->sampler, on_sample, EVC_LIVE_SAMPLE_PERIOD_MS, EVC_LIVE_SAMPLE_PERIOD_MS);
  return 0;
}

static int write_addresses(struct evc_live *live) {
  char text[ADDRESSES_JSON_MAX];
  int n = snprintf(text, sizeof text, "{\"p2p\": \"%s\", \"rpc\": \"%s\"}\n", live->p2p_bound,
                   live->rpc_bound);
  EVC_ASSERT(n > 0 && (size_t)n < sizeof text);
  char path[EVC_FS_PATH_SIZE_MAX + 1];
  int rc = home_path(live, EVC_LIVE_ADDRESSES_FILE, path, sizeof path);
  if (rc == 0) rc = evc_fs_replace_atomic(path, (const uint8_t *)text, (size_t)n, 0644);
  if (rc != 0) {
    live_logf(live, EVC_LOG_ERROR, "event=setup_failed detail=\"cannot write '%s'\" error=%s",
              path, evc_errname(rc));
  }
  return rc;
}

static int open_p2p(struct evc_live *live, const struct evc_live_options *opts) {
  struct evc_p2p_callbacks cb = {
      .arg = live,
      .connected = p2p_connected,
      .disconnected = p2p_disconnected,
      .dial_failed = p2p_dial_failed,
      .message = p2p_message,
      .log = component_log,
  };
  int rc = evc_p2p_tcp_init(&live->p2p, &live->loop, &opts->node_key, live->cfg->p2p_listen, NULL,
                            &cb);
  if (rc != 0) {
    live_logf(live, EVC_LOG_ERROR, "event=setup_failed detail=\"cannot listen on p2p.listen "
              "'%s' (--p2p.listen)\" error=%s", live->cfg->p2p_listen, evc_errname(rc));
    return rc;
  }
  live->p2p_open = true;
  rc = evc_p2p_tcp_bound_address(&live->p2p, live->p2p_bound, sizeof live->p2p_bound);
  if (rc != 0) live_logf(live, EVC_LOG_ERROR, "event=setup_failed detail=\"no p2p address\"");
  return rc;
}

static int open_da(struct evc_live *live) {
  const struct evc_live_config *cfg = live->cfg;
  int rc = evc_da_client_init(&live->da, &live->loop, cfg->da_address, cfg->da_auth_token,
                              cfg->da_request_timeout_ns / NS_PER_MS);
  if (rc != 0) {
    live_logf(live, EVC_LOG_ERROR, "event=setup_failed detail=\"cannot use da.address '%s' "
              "(--da.address)\" error=%s", cfg->da_address, evc_errname(rc));
    return rc;
  }
  evc_da_client_set_log(&live->da, da_log, live);
  live->da_open = true;
  return 0;
}

static int open_rpc(struct evc_live *live) {
  char err[256];
  int rc = evc_rpc_open(live, live->cfg->rpc_listen, &live->rpc, err, sizeof err);
  if (rc == 0) rc = evc_rpc_bound_address(live->rpc, live->rpc_bound, sizeof live->rpc_bound);
  if (rc != 0) {
    live_logf(live, EVC_LOG_ERROR, "event=setup_failed detail=\"cannot serve RPC on rpc.listen "
              "'%s' (--rpc.listen): %s\" error=%s", live->cfg->rpc_listen, err, evc_errname(rc));
  }
  return rc;
}

static int setup(struct evc_live *live, const struct evc_live_options *opts) {
  char path[EVC_FS_PATH_SIZE_MAX + 1];
  int rc = home_path(live, "data", path, sizeof path);
  if (rc == 0) rc = evc_fs_mkdir_p(path, 0700);
  if (rc != 0) {
    live_logf(live, EVC_LOG_ERROR, "event=setup_failed detail=\"cannot create '%s/data'\" "
              "error=%s", live->home, evc_errname(rc));
    return rc;
  }
  /* a stale addresses.json would point a waiting client at the previous run */
  if (home_path(live, EVC_LIVE_ADDRESSES_FILE, path, sizeof path) == 0) unlink(path);
  rc = evc_node_new(&live->env, &opts->node_cfg, &live->node);
  if (rc != 0) {
    live_logf(live, EVC_LOG_ERROR, "event=setup_failed detail=\"the node refused its "
              "configuration\" error=%s", evc_errname(rc));
    return rc;
  }
  rc = open_p2p(live, opts);
  if (rc == 0) rc = open_da(live);
  if (rc == 0) rc = open_rpc(live);
  if (rc == 0) rc = write_addresses(live);
  if (rc == 0) {
    live_logf(live, EVC_LOG_INFO, "event=listening p2p=%s rpc=%s da=%s home=\"%s\"",
              live->p2p_bound, live->rpc_bound, live->cfg->da_address, live->home);
  }
  return rc;
}

/* Closes whatever a failed uv_loop_close left open (only after a failure mid-setup). */
static void close_leftover(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

int evc_live_run(const struct evc_live_options *opts) {
  struct evc_live *live = calloc(1, sizeof *live);
  if (live == NULL) {
    evc_live_log_line(EVC_LOG_ERROR, "event=setup_failed error=EVC_ENOMEM");
    return 1;
  }
  live->cfg = opts->cfg;
  snprintf(live->home, sizeof live->home, "%s", opts->home);
  snprintf(live->store_path, sizeof live->store_path, "%s/%s", opts->home, EVC_LIVE_STORE_FILE);
  snprintf(live->chain_id, sizeof live->chain_id, "%s", opts->node_cfg.genesis.chain_id.text);
  evc_live_metrics_init(&live->metrics);
  env_init(live);
  int rc = loop_init(live);
  if (rc != 0) {
    evc_live_log_line(EVC_LOG_ERROR, "event=setup_failed detail=\"cannot set up the event loop\"");
    free(live);
    return 1;
  }
  rc = setup(live, opts);
  if (rc == 0) {
    (void)evc_node_start(live->node); /* a failure is reported through request_stop */
  } else {
    env_request_stop(live, 1, "setup failed");
  }
  uv_run(&live->loop, UV_RUN_DEFAULT);
  if (live->rpc != NULL) evc_rpc_destroy(live->rpc);
  live->rpc = NULL;
  uv_run(&live->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&live->loop) == UV_EBUSY) {
    uv_walk(&live->loop, close_leftover, NULL);
    uv_run(&live->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&live->loop);
  }
  EVC_ASSERT(live->node == NULL);
  int code = live->exit_code;
  free(live);
  return code;
}
