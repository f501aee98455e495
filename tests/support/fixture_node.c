/* The "fixture" node class used by the simulator kernel's tests (a test fixture, not a
 * rollup node). It reaches the world only through struct evc_env and the SQLite VFS the
 * env names: never a clock, socket, file path of its own or random source. */
#include "tests/support/fixture_node.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "node/core/log.h"

#define MS (1000000ull)
#define FIXTURE_PEERS_MAX 16
#define MSG_SIZE 9 /* tag(1) tick(8) */

struct fixture;

struct fixture_peer { /* one of its --p2p.peers */
  struct fixture *f;
  char name[EVC_SIM_NODE_NAME_MAX + 1];
  bool connected;
  bool redial_pending;
  struct evc_peer_id id;
};

struct fixture {
  struct evc_env *env;
  char name[EVC_SIM_NODE_NAME_MAX + 1];
  struct evc_fixture_options options;
  char file_name[128];
  uint8_t namespace_id[EVC_NAMESPACE_SIZE];
  sqlite3 *db;
  struct fixture_peer peers[FIXTURE_PEERS_MAX];
  size_t peer_count;
  struct evc_peer_id connected[FIXTURE_PEERS_MAX]; /* every open connection, either way */
  size_t connected_count;
  uint64_t tick_timer;
  bool tick_armed;
  uint64_t da_known_head;
  uint64_t da_next_height;
  bool da_reading;
  struct evc_fixture_stats stats;
};

void evc_fixture_options_default(struct evc_fixture_options *o) {
  memset(o, 0, sizeof *o);
  o->tick_ns = 100 * MS;
  o->file_every_ticks = 10;
  o->file_name = "fixture/state";
  o->full_sync_every_ticks = 0;
  o->da_every_ticks = 10;
  o->redial_ns = 500 * MS;
}

void evc_fixture_node_stats(const void *node, struct evc_fixture_stats *out) {
  EVC_ASSERT(node != NULL);
  *out = ((const struct fixture *)node)->stats;
}

static void observe(struct fixture *f, enum evc_observation_kind kind, uint64_t height,
                    uint64_t count, const char *text) {
  struct evc_observation obs;
  memset(&obs, 0, sizeof obs);
  obs.kind = kind;
  obs.height = height;
  obs.count = count;
  obs.text = text;
  f->env->observe(f->env->ctx, &obs);
}

/* ---- store ---- */

static int db_exec(struct fixture *f, const char *sql) {
  char *err = NULL;
  int rc = sqlite3_exec(f->db, sql, NULL, NULL, &err);
  if (rc != SQLITE_OK) {
    f->stats.db_errors++;
    evc_logf(f->env, EVC_LOG_WARN, "event=db_error sql=\"%s\" error=\"%s\"", sql,
             err != NULL ? err : "?");
  }
  sqlite3_free(err);
  return rc == SQLITE_OK ? 0 : EVC_EIO;
}

static uint64_t db_max_tick(struct fixture *f) {
  sqlite3_stmt *stmt = NULL;
  uint64_t max = 0;
  if (sqlite3_prepare_v2(f->db, "SELECT max(n) FROM ticks", -1, &stmt, NULL) != SQLITE_OK) {
    return 0;
  }
  if (sqlite3_step(stmt) == SQLITE_ROW) max = (uint64_t)sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return max;
}

static int db_open(struct fixture *f) {
  int rc = sqlite3_open_v2(f->env->store_path, &f->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                           f->env->store_vfs_name);
  if (rc != SQLITE_OK) return EVC_EIO;
  if (db_exec(f, "CREATE TABLE IF NOT EXISTS ticks(n INTEGER PRIMARY KEY)") != 0) return EVC_EIO;
  if (f->options.full_sync_every_ticks > 0 && db_exec(f, "PRAGMA synchronous=OFF") != 0) {
    return EVC_EIO;
  }
  f->stats.recovered_tick = db_max_tick(f);
  f->stats.tick = f->stats.recovered_tick;
  f->stats.last_synced_tick = f->stats.recovered_tick;
  return 0;
}

static void db_store_tick(struct fixture *f, uint64_t n) {
  bool full = f->options.full_sync_every_ticks == 0 || n % f->options.full_sync_every_ticks == 0;
  if (f->options.full_sync_every_ticks > 0 && full) db_exec(f, "PRAGMA synchronous=FULL");
  char sql[96];
  snprintf(sql, sizeof sql, "INSERT INTO ticks(n) VALUES(%" PRIu64 ")", n);
  int rc = db_exec(f, sql);
  if (f->options.full_sync_every_ticks > 0 && full) db_exec(f, "PRAGMA synchronous=OFF");
  if (rc != 0) return;
  if (full) f->stats.last_synced_tick = n;
  observe(f, EVC_OBS_BLOCK_STORED, n, 0, NULL);
}

/* ---- network ---- */

static void encode(uint8_t out[MSG_SIZE], uint8_t tag, uint64_t n) {
  out[0] = tag;
  for (int i = 0; i < 8; i++) out[1 + i] = (uint8_t)(n >> (56 - 8 * i));
}

static uint64_t decode_tick(const uint8_t *bytes) {
  uint64_t n = 0;
  for (int i = 0; i < 8; i++) n = (n << 8) | bytes[1 + i];
  return n;
}

static struct fixture_peer *peer_by_name(struct fixture *f, const char *name) {
  for (size_t i = 0; i < f->peer_count; i++) {
    if (strcmp(f->peers[i].name, name) == 0) return &f->peers[i];
  }
  return NULL;
}

static void redial_fired(void *arg) {
  struct fixture_peer *p = arg;
  p->redial_pending = false;
  if (p->connected) return;
  int rc = p->f->env->p2p_dial(p->f->env->ctx, p->name);
  if (rc != 0) evc_logf(p->f->env, EVC_LOG_WARN, "event=dial_error peer=%s", p->name);
}

static void redial_later(struct fixture *f, struct fixture_peer *p) {
  if (p->redial_pending) return;
  uint64_t id = 0;
  if (f->env->timer_start(f->env->ctx, f->options.redial_ns, redial_fired, p, &id) == 0) {
    p->redial_pending = true;
  }
}

static void on_connected(void *node, const struct evc_peer_id *peer, const char *address,
                         bool inbound) {
  struct fixture *f = node;
  if (f->connected_count == FIXTURE_PEERS_MAX) {
    f->env->p2p_disconnect(f->env->ctx, peer); /* a fixture talks to 16 peers at most */
    return;
  }
  f->connected[f->connected_count++] = *peer;
  f->stats.connected = (uint32_t)f->connected_count;
  struct fixture_peer *p = inbound ? NULL : peer_by_name(f, address);
  if (p != NULL) {
    p->connected = true;
    p->id = *peer;
  }
  evc_logf(f->env, EVC_LOG_INFO, "event=peer_connected address=%s inbound=%d", address,
           inbound ? 1 : 0);
}

static void on_disconnected(void *node, const struct evc_peer_id *peer) {
  struct fixture *f = node;
  for (size_t i = 0; i < f->connected_count; i++) {
    if (memcmp(f->connected[i].key, peer->key, EVC_NODE_ID_SIZE) != 0) continue;
    f->connected[i] = f->connected[--f->connected_count];
    break;
  }
  f->stats.connected = (uint32_t)f->connected_count;
  for (size_t i = 0; i < f->peer_count; i++) {
    struct fixture_peer *p = &f->peers[i];
    if (p->connected && memcmp(p->id.key, peer->key, EVC_NODE_ID_SIZE) == 0) {
      p->connected = false;
      redial_later(f, p);
    }
  }
  evc_logf(f->env, EVC_LOG_INFO, "event=peer_disconnected");
}

static void on_dial_failed(void *node, const char *address, int status) {
  struct fixture *f = node;
  f->stats.dial_failures++;
  evc_logf(f->env, EVC_LOG_INFO, "event=dial_failed address=%s error=%s", address,
           evc_errname(status));
  struct fixture_peer *p = peer_by_name(f, address);
  if (p != NULL) redial_later(f, p);
}

static void on_message(void *node, const struct evc_peer_id *peer, const uint8_t *bytes,
                       size_t size) {
  struct fixture *f = node;
  if (size != MSG_SIZE || (bytes[0] != 'P' && bytes[0] != 'Q')) {
    evc_logf(f->env, EVC_LOG_WARN, "event=bad_message size=%zu", size);
    return;
  }
  uint64_t n = decode_tick(bytes);
  if (bytes[0] == 'Q') {
    f->stats.pongs_received++;
    return;
  }
  f->stats.pings_received++;
  if (n > f->stats.last_ping_received) f->stats.last_ping_received = n;
  uint8_t pong[MSG_SIZE];
  encode(pong, 'Q', n);
  (void)f->env->p2p_send(f->env->ctx, peer, pong, sizeof pong);
}

/* ---- DA ---- */

static void da_read_next(struct fixture *f);

static void da_get_done(void *arg, int status, const struct evc_da_blob *blobs, size_t count) {
  struct fixture *f = arg;
  EVC_ASSERT(blobs != NULL || count == 0);
  if (status != 0) {
    f->da_reading = false;
    evc_logf(f->env, EVC_LOG_INFO, "event=da_get_failed height=%" PRIu64 " error=%s",
             f->da_next_height, evc_errname(status));
    return;
  }
  f->stats.da_heights_read++;
  f->stats.da_blobs_seen += count;
  f->da_next_height++;
  da_read_next(f);
}

static void da_read_next(struct fixture *f) {
  f->da_reading = false;
  if (f->da_next_height > f->da_known_head) return;
  const uint8_t(*namespaces)[EVC_NAMESPACE_SIZE] = &f->namespace_id;
  if (f->env->da_get(f->env->ctx, f->da_next_height, namespaces, 1, da_get_done, f) == 0) {
    f->da_reading = true;
  }
}

static void da_head_done(void *arg, int status, uint64_t head) {
  struct fixture *f = arg;
  if (status != 0) return;
  if (head > f->da_known_head) f->da_known_head = head;
  if (!f->da_reading) da_read_next(f);
}

static void da_submit_done(void *arg, int status, uint64_t da_height) {
  struct fixture *f = arg;
  if (status != 0) {
    f->stats.da_submit_errors++;
    evc_logf(f->env, EVC_LOG_INFO, "event=da_submit_failed error=%s", evc_errname(status));
    return;
  }
  f->stats.da_included++;
  observe(f, EVC_OBS_DA_INCLUDED, f->stats.da_included, da_height, NULL);
}

static void da_post(struct fixture *f, uint64_t n) {
  char text[96];
  int size = snprintf(text, sizeof text, "fixture %s tick %" PRIu64, f->name, n);
  struct evc_da_blob blob;
  memset(&blob, 0, sizeof blob);
  memcpy(blob.namespace_id, f->namespace_id, EVC_NAMESPACE_SIZE);
  blob.bytes = (const uint8_t *)text;
  blob.size = (size_t)size;
  if (f->env->da_submit(f->env->ctx, &blob, 1, da_submit_done, f) == 0) f->stats.da_submitted++;
  (void)f->env->da_head(f->env->ctx, da_head_done, f);
}

/* ---- tick ---- */

static void tick_fired(void *arg);

static void tick_arm(struct fixture *f) {
  f->tick_armed = f->env->timer_start(f->env->ctx, f->options.tick_ns, tick_fired, f,
                                      &f->tick_timer) == 0;
}

static void tick_fired(void *arg) {
  struct fixture *f = arg;
  f->tick_armed = false;
  uint64_t n = ++f->stats.tick;
  if (f->options.file_every_ticks > 0 && n % f->options.file_every_ticks == 0) {
    char text[64];
    int size = snprintf(text, sizeof text, "tick=%" PRIu64, n);
    f->stats.last_file_status =
        f->env->file_replace(f->env->ctx, f->file_name, (const uint8_t *)text, (size_t)size);
    if (f->stats.last_file_status == 0) f->stats.files_written++;
  }
  db_store_tick(f, n);
  uint8_t ping[MSG_SIZE];
  encode(ping, 'P', n);
  for (size_t i = 0; i < f->connected_count; i++) {
    if (f->env->p2p_send(f->env->ctx, &f->connected[i], ping, sizeof ping) == 0) {
      f->stats.pings_sent++;
    }
  }
  if (f->options.da_every_ticks > 0 && n % f->options.da_every_ticks == 0) da_post(f, n);
  evc_logf(f->env, EVC_LOG_DEBUG, "event=tick n=%" PRIu64 " peers=%zu", n, f->connected_count);
  tick_arm(f);
}

/* ---- class ---- */

static void fixture_free(struct fixture *f) {
  if (f->db != NULL) sqlite3_close_v2(f->db);
  free(f);
}

static int fixture_create(struct evc_env *env, const struct evc_sim_node_spec *spec,
                          void **node_out) {
  struct fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return EVC_ENOMEM;
  f->env = env;
  snprintf(f->name, sizeof f->name, "%s", spec->name);
  evc_fixture_options_default(&f->options);
  if (spec->class_arg != NULL) f->options = *(const struct evc_fixture_options *)spec->class_arg;
  snprintf(f->file_name, sizeof f->file_name, "%s",
           f->options.file_name != NULL ? f->options.file_name : "fixture/state");
  memcpy(f->namespace_id, spec->genesis.header_namespace, EVC_NAMESPACE_SIZE);
  f->da_next_height = 1;
  int rc = db_open(f);
  if (rc != 0) {
    fixture_free(f);
    return rc;
  }
  observe(f, EVC_OBS_MODE, 0, 0, "running");
  evc_logf(env, EVC_LOG_INFO, "event=fixture_start recovered_tick=%" PRIu64,
           f->stats.recovered_tick);
  for (size_t i = 0; i < spec->peer_count && i < FIXTURE_PEERS_MAX; i++) {
    struct fixture_peer *p = &f->peers[f->peer_count++];
    p->f = f;
    snprintf(p->name, sizeof p->name, "%s", spec->peers[i]);
    (void)env->p2p_dial(env->ctx, p->name);
  }
  tick_arm(f);
  *node_out = f;
  return 0;
}

static void fixture_destroy(void *node) { fixture_free(node); }

static void fixture_stop(void *node) {
  struct fixture *f = node;
  if (f->tick_armed) f->env->timer_cancel(f->env->ctx, f->tick_timer);
  f->tick_armed = false;
  observe(f, EVC_OBS_MODE, 0, 0, "stopped");
  sqlite3_close_v2(f->db);
  f->db = NULL;
  f->env->request_stop(f->env->ctx, 0, "stopped");
}

static const struct evc_node_entry fixture_entry = {
    .peer_connected = on_connected,
    .peer_disconnected = on_disconnected,
    .dial_failed = on_dial_failed,
    .message = on_message,
    .stop = fixture_stop,
};

const struct evc_sim_node_class evc_fixture_node_class = {
    .name = "fixture",
    .create = fixture_create,
    .destroy = fixture_destroy,
    .entry = &fixture_entry,
};
