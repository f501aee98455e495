/* evc-da's server: the Celestia node JSON-RPC subset over HTTP POST (libh2o on libuv), a DA
 * block every block_time_ms, a mempool with a TTL, blobs in SQLite under HOME/data. For
 * development and tests only: it never pretends to be secure beyond an optional token. */
#ifndef EVC_DA_SERVER_DA_SERVER_H
#define EVC_DA_SERVER_DA_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node/core/env.h"

#define EVC_DA_SERVER_CONNECTIONS_MAX 256
#define EVC_DA_SERVER_MEMPOOL_CALLS_MAX 1024

typedef void (*evc_da_server_log_callback)(void *arg, enum evc_log_level level,
                                           const char *line);

struct evc_da_server_config {
  const char *home;        /* state in HOME/data/da.sqlite */
  const char *listen_host; /* an IPv4 or IPv6 literal, e.g. "127.0.0.1" */
  uint16_t listen_port;    /* 0: any free port (see evc_da_server_port) */
  uint64_t block_time_ms;
  uint32_t mempool_ttl_blocks; /* a call not included within this many blocks fails */
  const char *auth_token;      /* NULL or "": no token required */
  size_t blob_bytes_max;       /* one blob's data */
  size_t call_bytes_max;       /* all blobs of one Submit */
  size_t block_bytes_max;      /* all blobs of one DA block (>= call_bytes_max) */
  uint32_t block_blobs_max;
  evc_da_server_log_callback log; /* NULL: silent */
  void *log_arg;
};

struct evc_da_server;

/* Fills the defaults: 127.0.0.1:26658, 1 s blocks, TTL 10, 2 MiB blobs, 8 MiB calls,
 * 16 MiB and 4096 blobs per block, no token. */
void evc_da_server_config_default(struct evc_da_server_config *config);
/* Opens the store, binds, produces block 1 if the store is empty, starts the block timer.
 * EVC_ECONFIG (bad limits), EVC_EIO (bind/listen/store), EVC_EFOREIGN, EVC_ESCHEMA,
 * EVC_ENOMEM. The config's strings are copied. */
int evc_da_server_new(uv_loop_t *loop, const struct evc_da_server_config *config,
                      struct evc_da_server **server_out);
/* The bound port (the chosen one when listen_port was 0). */
uint16_t evc_da_server_port(const struct evc_da_server *server);
/* The current DA head height. */
uint64_t evc_da_server_head(const struct evc_da_server *server);
/* Stops accepting and producing, answers pending Submits with an error, and waits up to
 * 1 s for open connections to drain; then stopped(arg) runs from the loop. */
void evc_da_server_stop(struct evc_da_server *server, void (*stopped)(void *arg), void *arg);
/* Releases a stopped server. Call it outside loop callbacks (it runs the loop once to close
 * libh2o's handles). If connections were still open at the deadline, libh2o's context stays
 * allocated: exit the process rather than reuse the loop. */
void evc_da_server_free(struct evc_da_server *server);

#endif
