/* struct evc_env for the benchmarks: DA answered from a chain file with no latency, timers on
 * the monotonic clock, off-loop work inline or on one worker thread, no P2P, no durable files.
 * Callbacks are queued and run from the loop, never from inside the call that asked for them
 * (the env.h contract); this runtime exists to measure the core, not to change what it does. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "node/common/assert.h"
#include "node/common/error.h"

#define QUEUE_SIZE 1024u /* deferred callbacks: DA reads, heads, inline work */
#define TIMERS_MAX 64u

enum ev_kind { EV_DA_GET, EV_DA_HEAD, EV_WORK };

struct ev {
  enum ev_kind kind;
  uint64_t da_height;
  void *cb;
  void *arg;
  evc_work_function fn;
  void *work_arg;
};

struct timer {
  bool used;
  uint64_t id;
  uint64_t due_ns;
  evc_timer_callback cb;
  void *arg;
};

struct worker {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;   /* to the worker: a job or quit */
  pthread_cond_t done;   /* to the loop: a job finished */
  bool quit;
  bool has_job;          /* the core keeps one verify job in flight; more queue in order */
  bool job_done;
  struct ev job;
};

struct bench_env {
  struct evc_env env;
  const struct bench_chain *chain;
  char store_path[512];
  struct ev queue[QUEUE_SIZE];
  uint32_t queue_head;
  uint32_t queue_count;
  struct timer timers[TIMERS_MAX];
  uint64_t next_timer_id;
  bool threaded;
  bool worker_started;
  struct worker w;
  struct ev pending_work[QUEUE_SIZE]; /* threaded: submitted while the worker is busy */
  uint32_t pending_head;
  uint32_t pending_count;
  uint8_t *da_buf;
  struct evc_da_blob *blobs;
  bool stopped;
  int exit_code;
  char reason[160];
  uint64_t work_items;
  double wait_seconds; /* threaded: the loop idle, waiting for the worker */
};

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct bench_env *env_of(void *ctx) { return ctx; }

static void worker_feed(struct bench_env *b);

static int push(struct bench_env *b, const struct ev *e) {
  if (b->queue_count == QUEUE_SIZE) return EVC_EFULL;
  b->queue[(b->queue_head + b->queue_count) % QUEUE_SIZE] = *e;
  b->queue_count++;
  return 0;
}

/* ---- the env functions ---- */

static uint64_t e_mono_ns(void *ctx) { return mono_ns(); }

static uint64_t e_wall_ns(void *ctx) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int e_timer_start(void *ctx, uint64_t delay_ns, evc_timer_callback cb, void *arg,
                         uint64_t *id_out) {
  struct bench_env *b = env_of(ctx);
  for (uint32_t i = 0; i < TIMERS_MAX; i++) {
    struct timer *t = &b->timers[i];
    if (t->used) continue;
    t->used = true;
    t->id = ++b->next_timer_id;
    t->due_ns = mono_ns() + delay_ns;
    t->cb = cb;
    t->arg = arg;
    *id_out = t->id;
    return 0;
  }
  return EVC_EFULL;
}

static void e_timer_cancel(void *ctx, uint64_t id) {
  struct bench_env *b = env_of(ctx);
  for (uint32_t i = 0; i < TIMERS_MAX; i++) {
    if (b->timers[i].used && b->timers[i].id == id) b->timers[i].used = false;
  }
}

static void e_random_bytes(void *ctx, uint8_t *out, size_t size) {
  for (size_t i = 0; i < size; i++) out[i] = (uint8_t)(i * 131u + 7u); /* unused by a full node */
}

static int e_p2p_dial(void *ctx, const char *address) { return EVC_ENOSYS; }

static int e_p2p_send(void *ctx, const struct evc_peer_id *peer, const uint8_t *bytes,
                      size_t size) {
  return EVC_ENOTFOUND;
}

static void e_p2p_disconnect(void *ctx, const struct evc_peer_id *peer) {}

static int e_da_submit(void *ctx, const struct evc_da_blob *blobs, size_t count,
                       evc_da_submit_callback cb, void *arg) {
  return EVC_ENOSYS; /* a full node never submits */
}

static int e_da_get(void *ctx, uint64_t height, const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE],
                    size_t namespace_count, evc_da_get_callback cb, void *arg) {
  struct ev e = {.kind = EV_DA_GET, .da_height = height, .cb = (void *)cb, .arg = arg};
  return push(env_of(ctx), &e);
}

static int e_da_head(void *ctx, evc_da_head_callback cb, void *arg) {
  struct ev e = {.kind = EV_DA_HEAD, .cb = (void *)cb, .arg = arg};
  return push(env_of(ctx), &e);
}

static int e_work_submit(void *ctx, evc_work_function fn, void *work_arg,
                         evc_work_done_callback done, void *arg) {
  struct bench_env *b = env_of(ctx);
  struct ev e = {.kind = EV_WORK, .cb = (void *)done, .arg = arg, .fn = fn, .work_arg = work_arg};
  b->work_items++;
  if (!b->threaded) return push(b, &e);
  if (b->pending_count == QUEUE_SIZE) return EVC_EFULL;
  b->pending_work[(b->pending_head + b->pending_count) % QUEUE_SIZE] = e;
  b->pending_count++;
  pthread_mutex_lock(&b->w.lock); /* start it now: the core applies while the worker checks */
  worker_feed(b);
  pthread_mutex_unlock(&b->w.lock);
  return 0;
}

static int e_file_read(void *ctx, const char *name, size_t size_max, uint8_t **bytes_out,
                       size_t *size_out) {
  return EVC_ENOTFOUND; /* no peer book, no sign state: a fresh full node */
}

static int e_file_replace(void *ctx, const char *name, const uint8_t *bytes, size_t size) {
  return EVC_ENOSYS;
}

static void e_log(void *ctx, enum evc_log_level level, const char *line) {
  if (level >= EVC_LOG_WARN) fprintf(stderr, "node: %s\n", line);
}

static void e_request_stop(void *ctx, int exit_code, const char *reason) {
  struct bench_env *b = env_of(ctx);
  b->stopped = true;
  b->exit_code = exit_code;
  snprintf(b->reason, sizeof b->reason, "%s", reason);
}

/* ---- the worker thread ---- */

static void *worker_main(void *arg) {
  struct worker *w = arg;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (!w->quit && (!w->has_job || w->job_done)) pthread_cond_wait(&w->wake, &w->lock);
    if (w->quit) break;
    struct ev job = w->job;
    pthread_mutex_unlock(&w->lock);
    job.fn(job.work_arg);
    pthread_mutex_lock(&w->lock);
    w->job_done = true;
    pthread_cond_signal(&w->done);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

/* Starts the next pending job when the worker is idle. Called with w->lock held. */
static void worker_feed(struct bench_env *b) {
  struct worker *w = &b->w;
  if (w->has_job || b->pending_count == 0) return;
  w->job = b->pending_work[b->pending_head];
  b->pending_head = (b->pending_head + 1) % QUEUE_SIZE;
  b->pending_count--;
  w->has_job = true;
  w->job_done = false;
  pthread_cond_signal(&w->wake);
}

/* Delivers a finished job's callback (waiting for it when asked) and starts the next one.
 * True when a callback ran. */
static bool worker_poll(struct bench_env *b, bool wait) {
  struct worker *w = &b->w;
  bool ran = false;
  pthread_mutex_lock(&w->lock);
  if (w->has_job && !w->job_done && wait) {
    double t0 = bench_now();
    pthread_cond_wait(&w->done, &w->lock);
    b->wait_seconds += bench_now() - t0;
  }
  if (w->has_job && w->job_done) {
    struct ev job = w->job;
    w->has_job = false;
    worker_feed(b);
    pthread_mutex_unlock(&w->lock);
    ((evc_work_done_callback)job.cb)(job.arg, 0);
    ran = true;
    pthread_mutex_lock(&w->lock);
  }
  worker_feed(b);
  pthread_mutex_unlock(&w->lock);
  return ran;
}

/* ---- the loop ---- */

static void run_event(struct bench_env *b, const struct ev *e) {
  if (e->kind == EV_DA_HEAD) {
    ((evc_da_head_callback)e->cb)(e->arg, 0, b->chain->da_heights);
  } else if (e->kind == EV_WORK) {
    e->fn(e->work_arg);
    ((evc_work_done_callback)e->cb)(e->arg, 0);
  } else {
    size_t count = 0;
    int rc = bench_chain_read(b->chain, e->da_height, b->da_buf, b->blobs, &count);
    ((evc_da_get_callback)e->cb)(e->arg, rc, rc == 0 ? b->blobs : NULL, rc == 0 ? count : 0);
  }
}

/* Fires every due timer once; returns the earliest deadline still pending (UINT64_MAX). */
static uint64_t fire_timers(struct bench_env *b, bool *ran) {
  uint64_t now = mono_ns();
  uint64_t next = UINT64_MAX;
  for (uint32_t i = 0; i < TIMERS_MAX; i++) {
    struct timer *t = &b->timers[i];
    if (!t->used) continue;
    if (t->due_ns <= now) {
      t->used = false;
      t->cb(t->arg);
      *ran = true;
    } else if (t->due_ns < next) {
      next = t->due_ns;
    }
  }
  return next;
}

static void idle_until(uint64_t deadline_ns) {
  uint64_t now = mono_ns();
  if (deadline_ns == UINT64_MAX || deadline_ns <= now) return;
  uint64_t d = deadline_ns - now;
  struct timespec ts = {.tv_sec = (time_t)(d / 1000000000ull),
                        .tv_nsec = (long)(d % 1000000000ull)};
  nanosleep(&ts, NULL);
}

int bench_env_run(struct bench_env *b, struct evc_node *node, uint64_t target_height,
                  struct bench_run_result *result) {
  memset(result, 0, sizeof *result);
  double t0 = bench_now();
  int rc = evc_node_start(node);
  struct evc_node_status st;
  evc_node_status(node, &st);
  while (rc == 0 && !b->stopped && st.height < target_height) {
    bool ran = false;
    uint32_t batch = b->queue_count; /* run what is queued now; new events wait a turn */
    for (uint32_t i = 0; i < batch && !b->stopped; i++) {
      struct ev e = b->queue[b->queue_head];
      b->queue_head = (b->queue_head + 1) % QUEUE_SIZE;
      b->queue_count--;
      run_event(b, &e);
      ran = true;
    }
    if (b->threaded) ran |= worker_poll(b, false);
    uint64_t next = fire_timers(b, &ran);
    if (!ran && b->threaded && (b->w.has_job || b->pending_count > 0)) {
      worker_poll(b, true);
    } else if (!ran && b->queue_count == 0) {
      idle_until(next);
    }
    evc_node_status(node, &st);
  }
  result->seconds = bench_now() - t0;
  if (b->threaded) { /* the node is freed next: no job may still be reading it */
    pthread_mutex_lock(&b->w.lock);
    while (b->w.has_job && !b->w.job_done) pthread_cond_wait(&b->w.done, &b->w.lock);
    pthread_mutex_unlock(&b->w.lock);
  }
  result->height = st.height;
  result->verify_batches = b->work_items;
  result->wait_seconds = b->wait_seconds;
  result->exit_code = b->stopped ? b->exit_code : 0;
  snprintf(result->reason, sizeof result->reason, "%s", b->stopped ? b->reason : "");
  return rc;
}

/* ---- lifetime ---- */

static void fill_env(struct bench_env *b) {
  struct evc_env *e = &b->env;
  e->ctx = b;
  e->mono_ns = e_mono_ns;
  e->wall_ns = e_wall_ns;
  e->timer_start = e_timer_start;
  e->timer_cancel = e_timer_cancel;
  e->random_bytes = e_random_bytes;
  e->p2p_dial = e_p2p_dial;
  e->p2p_send = e_p2p_send;
  e->p2p_disconnect = e_p2p_disconnect;
  e->da_submit = e_da_submit;
  e->da_get = e_da_get;
  e->da_head = e_da_head;
  e->work_submit = e_work_submit;
  e->store_vfs_name = NULL;
  e->store_path = b->store_path;
  e->file_read = e_file_read;
  e->file_replace = e_file_replace;
  e->log = e_log;
  e->observe = NULL;
  e->request_stop = e_request_stop;
}

int bench_env_new(const struct bench_chain *chain, const char *store_path, bool threaded,
                  struct bench_env **out) {
  *out = NULL;
  struct bench_env *b = calloc(1, sizeof *b);
  if (b == NULL) return EVC_ENOMEM;
  b->chain = chain;
  b->threaded = threaded;
  int n = snprintf(b->store_path, sizeof b->store_path, "%s", store_path);
  b->da_buf = malloc(BENCH_DA_RECORD_MAX);
  b->blobs = calloc(2u * BENCH_PER_DA_MAX, sizeof *b->blobs);
  if (n < 0 || (size_t)n >= sizeof b->store_path || b->da_buf == NULL || b->blobs == NULL) {
    bench_env_free(b);
    return EVC_EINVAL;
  }
  fill_env(b);
  if (threaded) {
    pthread_mutex_init(&b->w.lock, NULL);
    pthread_cond_init(&b->w.wake, NULL);
    pthread_cond_init(&b->w.done, NULL);
    if (pthread_create(&b->w.thread, NULL, worker_main, &b->w) != 0) {
      bench_env_free(b);
      return EVC_EIO;
    }
    b->worker_started = true;
  }
  *out = b;
  return 0;
}

struct evc_env *bench_env_env(struct bench_env *b) { return &b->env; }

void bench_env_free(struct bench_env *b) {
  if (b == NULL) return;
  if (b->worker_started) {
    pthread_mutex_lock(&b->w.lock);
    b->w.quit = true;
    pthread_cond_signal(&b->w.wake);
    pthread_mutex_unlock(&b->w.lock);
    pthread_join(b->w.thread, NULL);
  }
  if (b->threaded) {
    pthread_mutex_destroy(&b->w.lock);
    pthread_cond_destroy(&b->w.wake);
    pthread_cond_destroy(&b->w.done);
  }
  free(b->da_buf);
  free(b->blobs);
  free(b);
}
