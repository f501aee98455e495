/* The one seam between the node core and the world. The core never touches a clock,
 * socket, thread, file path or random source except through struct evc_env; node/live
 * implements it on libuv, sim/ on a virtual clock. Keep this seam narrow and stable.
 *
 * Rules that hold for every function here:
 * - The core is single-threaded. Every callback and every entry point in
 *   struct evc_node_entry is invoked on the core's one thread.
 * - A callback is never invoked from inside the call that scheduled it (never
 *   re-entrantly); it runs later, from the runtime's loop.
 * - When a function that takes a callback returns an error, that callback is never
 *   called. When it returns 0, the callback is called exactly once, unless the
 *   operation is cancelled (timers) or the runtime is torn down (crash/stop), in which
 *   case it is never called.
 * - Byte buffers passed in are borrowed for the duration of the call (the env copies
 *   what it keeps); buffers passed to callbacks are valid only during the callback.
 * - Errors are negative EVC_E* codes (node/common/error.h). */
#ifndef EVC_CORE_ENV_H
#define EVC_CORE_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/types/types.h"

#define EVC_NODE_ID_SIZE 32           /* a node's P2P identity: its ed25519 node public key */
#define EVC_P2P_MESSAGE_SIZE_MAX (8u * 1024u * 1024u)
#define EVC_ADDRESS_TEXT_MAX 128      /* "host:port" or a simulated node name */
#define EVC_DURABLE_FILE_SIZE_MAX (16u * 1024u * 1024u)

struct evc_peer_id {
  uint8_t key[EVC_NODE_ID_SIZE];
};

enum evc_log_level { EVC_LOG_DEBUG, EVC_LOG_INFO, EVC_LOG_WARN, EVC_LOG_ERROR };

/* One blob as the DA layer returns it. */
struct evc_da_blob {
  uint8_t namespace_id[EVC_NAMESPACE_SIZE];
  const uint8_t *bytes;
  size_t size;
  uint32_t index; /* position within its DA height: DA order is (height, index) */
};

typedef void (*evc_timer_callback)(void *arg);
/* status 0: included at da_height. EVC_ETOOBIG: the batch is too big (halve it).
 * EVC_ETIMEDOUT: not included within the mempool TTL (post again). EVC_EDA: any other
 * DA failure (retry with backoff). */
typedef void (*evc_da_submit_callback)(void *arg, int status, uint64_t da_height);
/* status 0: the blobs at that height in the asked namespaces (count may be 0).
 * EVC_EFUTURE: the height is above the DA head. EVC_EDA: failure, retry. */
typedef void (*evc_da_get_callback)(void *arg, int status, const struct evc_da_blob *blobs,
                                    size_t count);
/* status 0: head is the highest DA height that exists. EVC_EDA: failure, retry. */
typedef void (*evc_da_head_callback)(void *arg, int status, uint64_t head);
/* A pure function run off the core's thread: it may read and write only work_arg. */
typedef void (*evc_work_function)(void *work_arg);
typedef void (*evc_work_done_callback)(void *arg, int status);

/* Structured facts a node reports about itself: the simulator's invariant checker and
 * hazard counters read these; the live runtime turns them into metrics. They never
 * feed back into the node's decisions. */
enum evc_observation_kind {
  EVC_OBS_MODE,            /* text: the new mode name ("catching_up", ...) */
  EVC_OBS_BLOCK_STORED,    /* height, hash: a block committed to the store */
  EVC_OBS_BLOCK_PRODUCED,  /* height, hash: a block this node signed and stored */
  EVC_OBS_BLOCK_SIGNED,    /* height, hash: the sign state now names this block */
  EVC_OBS_ROLLED_BACK,     /* height: the store was rolled back to this height */
  EVC_OBS_DA_INCLUDED,     /* height, count = DA height: blocks up to height are final */
  EVC_OBS_EQUIVOCATION,    /* height, hash: a conflicting block was reported */
  EVC_OBS_COUNTER,         /* text: a named counter, count: amount added */
  EVC_OBS_GAUGE,           /* text: a named gauge, count: its new value */
  EVC_OBS_PEER_ANSWERED,   /* text: the peer's address; height: its proven head (0: none) */
};

struct evc_observation {
  enum evc_observation_kind kind;
  uint64_t height;
  uint64_t count;
  uint8_t hash[EVC_HASH_SIZE];
  const char *text;
};

struct evc_env {
  void *ctx; /* passed as the first argument of every function below */

  /* Monotonic nanoseconds since an arbitrary origin; never goes backwards. */
  uint64_t (*mono_ns)(void *ctx);
  /* Wall clock, unix nanoseconds; may jump (header times never go back: see producer). */
  uint64_t (*wall_ns)(void *ctx);

  /* One-shot timer firing after delay_ns; writes an id for cancel. */
  int (*timer_start)(void *ctx, uint64_t delay_ns, evc_timer_callback cb, void *arg,
                     uint64_t *timer_id_out);
  /* Cancels a pending timer: its callback will not run. A fired or unknown id is a no-op. */
  void (*timer_cancel)(void *ctx, uint64_t timer_id);

  /* Fills out with random bytes (a seeded stream in the simulator). Cannot fail. */
  void (*random_bytes)(void *ctx, uint8_t *out, size_t size);

  /* Dials address ("host:port", optionally "NODEID@host:port"; a node name in the
   * simulator). The outcome arrives later as entry.peer_connected or entry.dial_failed. */
  int (*p2p_dial)(void *ctx, const char *address);
  /* Queues one message to a connected peer (copied). EVC_ENOTFOUND: not connected;
   * EVC_EFULL: the peer's bounded send queue is full; EVC_ETOOBIG: over the frame max. */
  int (*p2p_send)(void *ctx, const struct evc_peer_id *peer, const uint8_t *bytes, size_t size);
  /* Closes a connection; entry.peer_disconnected follows later. Unknown peer: no-op. */
  void (*p2p_disconnect)(void *ctx, const struct evc_peer_id *peer);

  /* Submits blobs in one call: all land at one DA height or none does. */
  int (*da_submit)(void *ctx, const struct evc_da_blob *blobs, size_t count,
                   evc_da_submit_callback cb, void *arg);
  /* Gets every blob at height in the given namespaces, in DA order. */
  int (*da_get)(void *ctx, uint64_t height, const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE],
                size_t namespace_count, evc_da_get_callback cb, void *arg);
  /* Asks for the DA head height. */
  int (*da_head)(void *ctx, evc_da_head_callback cb, void *arg);

  /* Runs fn(work_arg) off the core's thread (libuv pool live; inline at a deterministic
   * virtual time in the simulator), then done(arg, 0) on the core's thread. */
  int (*work_submit)(void *ctx, evc_work_function fn, void *work_arg, evc_work_done_callback done,
                     void *arg);

  /* The SQLite VFS name (NULL: the default VFS) and the database path for the store. */
  const char *store_vfs_name;
  const char *store_path;

  /* Reads a small durable file by HOME-relative name (e.g. "keys/sign_state").
   * Allocates *bytes_out (free with free()). EVC_ENOTFOUND when absent, EVC_ETOOBIG over
   * size_max, EVC_EIO on a read error. */
  int (*file_read)(void *ctx, const char *name, size_t size_max, uint8_t **bytes_out,
                   size_t *size_out);
  /* Replaces a small file atomically and durably (temp file, fsync, rename, directory
   * fsync). Returns 0 only when the new content will survive a power cut; on error the
   * old content is intact. */
  int (*file_replace)(void *ctx, const char *name, const uint8_t *bytes, size_t size);

  /* One log line, already formatted as key=value text without a trailing newline. */
  void (*log)(void *ctx, enum evc_log_level level, const char *line);

  /* Reports a structured fact (see enum evc_observation_kind). May be a no-op. */
  void (*observe)(void *ctx, const struct evc_observation *observation);

  /* The node has finished (stopped cleanly: exit_code 0; FAILED: non-zero) and asks its
   * runtime to tear it down. reason is a one-line text. */
  void (*request_stop)(void *ctx, int exit_code, const char *reason);
};

/* The entry points a runtime calls to deliver events to a node. Each runs on the core's
 * thread and never from inside an env call made by the same node. */
struct evc_node_entry {
  /* A connection completed its handshake. address is the peer's listen address when
   * known (outbound dials, or what an inbound peer announced), else "". */
  void (*peer_connected)(void *node, const struct evc_peer_id *peer, const char *address,
                         bool inbound);
  void (*peer_disconnected)(void *node, const struct evc_peer_id *peer);
  /* A dial started with p2p_dial failed. */
  void (*dial_failed)(void *node, const char *address, int status);
  /* One complete message from a connected peer (bytes valid during the call). */
  void (*message)(void *node, const struct evc_peer_id *peer, const uint8_t *bytes, size_t size);
  /* The operator asked for a graceful stop (SIGTERM live, `stop` in a scenario). */
  void (*stop)(void *node);
};

#endif
