/* The P2P transport of the live runtime: TCP on libuv, every connection authenticated by the
 * peers' ed25519 node keys and encrypted (docs/p2p.md), carrying framed opaque messages.
 * It never interprets a message, never blocks, and never calls back from inside a call to it. */
#ifndef EVC_LIVE_P2P_TCP_H
#define EVC_LIVE_P2P_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node/core/env.h"
#include "node/crypto/crypto.h"
#include "node/live/p2p_handshake.h" /* the handshake's bytes; EVC_P2P_FRAME_OVERHEAD, _SIZE_MAX */

#define EVC_P2P_HANDSHAKE_TIMEOUT_MS_DEFAULT 5000u
#define EVC_P2P_SEND_QUEUE_BYTES_MAX_DEFAULT (32u * 1024u * 1024u)
#define EVC_P2P_SEND_QUEUE_COUNT_MAX_DEFAULT 4096u
#define EVC_P2P_CONNECTIONS_MAX_DEFAULT 128u

/* Events of the transport, always invoked from the uv loop, never from inside a call made to
 * the transport, and never after evc_p2p_tcp_close was called. Any field may be NULL. */
struct evc_p2p_callbacks {
  void *arg;
  /* A handshake completed. address: the dialled "host:port" (outbound) or the listen
   * address the peer announced (inbound, may be ""). */
  void (*connected)(void *arg, const struct evc_peer_id *peer, const char *address,
                    bool inbound);
  /* A connection reported by connected ended (either side closed it, or it misbehaved). */
  void (*disconnected)(void *arg, const struct evc_peer_id *peer);
  /* A dial started by evc_p2p_tcp_dial ended without a connection: EVC_ECLOSED (refused
   * or closed), EVC_ETIMEDOUT, EVC_ENOTFOUND (name did not resolve), EVC_EPEER (wrong node
   * id or a bad handshake), EVC_EINVAL (that is our own node), EVC_EEXIST (already
   * connected to that node), EVC_ENOMEM. */
  void (*dial_failed)(void *arg, const char *address, int status);
  /* One complete message from a connected peer; bytes valid during the call only. */
  void (*message)(void *arg, const struct evc_peer_id *peer, const uint8_t *bytes, size_t size);
  /* One key=value log line (level: enum evc_log_level), no trailing newline. */
  void (*log)(void *arg, int level, const char *line);
};

struct evc_p2p_tcp_options {
  const char *listen_address; /* "ip:port" or "[ipv6]:port"; port 0 picks a free port */
  /* Our listen address told to peers (<= EVC_ADDRESS_TEXT_MAX printable characters).
   * NULL: the bound address, or "" when bound to an unspecified address (0.0.0.0, ::). */
  const char *advertised;
  uint32_t handshake_timeout_ms;  /* connect + handshake must finish within it */
  size_t send_queue_bytes_max;    /* per peer, >= one largest frame */
  uint32_t send_queue_count_max;  /* per peer */
  uint32_t connections_max;       /* all connections, handshaking ones included */
};

struct evc_p2p_conn; /* private to p2p_tcp.c */

/* Caller-owned; valid from a successful init until its closed callback has run. */
struct evc_p2p_tcp {
  uv_loop_t *loop;
  struct evc_keypair node_key;
  struct evc_p2p_callbacks cb;
  struct evc_p2p_tcp_options options; /* advertised/listen_address point into this struct */
  char listen_text[EVC_ADDRESS_TEXT_MAX + 1];
  char advertised[EVC_ADDRESS_TEXT_MAX + 1];
  uv_tcp_t *listener; /* heap: it may outlive a failed init until the loop frees it */
  struct evc_p2p_conn *conns;
  uint32_t conn_count;
  bool closing;
  void (*closed)(void *arg);
  void *closed_arg;
};

/* Fills options with the defaults above and listen_address "127.0.0.1:0". */
void evc_p2p_tcp_options_default(struct evc_p2p_tcp_options *options);
/* Listens on listen_address with default limits (see evc_p2p_tcp_init_options). */
int evc_p2p_tcp_init(struct evc_p2p_tcp *t, uv_loop_t *loop, const struct evc_keypair *node_key,
                     const char *listen_address, const char *advertised,
                     const struct evc_p2p_callbacks *cb);
/* Binds and listens. EVC_EINVAL: a bad address or option; EVC_EIO: bind/listen failed
 * (logged with the reason); EVC_ENOMEM. On error nothing is left to close. */
int evc_p2p_tcp_init_options(struct evc_p2p_tcp *t, uv_loop_t *loop,
                             const struct evc_keypair *node_key,
                             const struct evc_p2p_tcp_options *options,
                             const struct evc_p2p_callbacks *cb);
/* Writes the bound "ip:port" (port 0 resolved). EVC_ETOOBIG when out is too small, EVC_EIO. */
int evc_p2p_tcp_bound_address(const struct evc_p2p_tcp *t, char *out, size_t size);
/* Starts a dial to "host:port" or "NODEIDHEX@host:port"; the outcome arrives as connected
 * or dial_failed. EVC_EINVAL: malformed address; EVC_EFULL: at connections_max;
 * EVC_ESTATE: closing; EVC_ENOMEM. */
int evc_p2p_tcp_dial(struct evc_p2p_tcp *t, const char *address);
/* Queues one message (copied) to a connected peer. EVC_ETOOBIG: over
 * EVC_P2P_MESSAGE_SIZE_MAX; EVC_ENOTFOUND: not connected; EVC_EFULL: its send queue is full. */
int evc_p2p_tcp_send(struct evc_p2p_tcp *t, const struct evc_peer_id *peer, const uint8_t *bytes,
                     size_t size);
/* Closes the connection to peer; disconnected follows later. Unknown peer: no-op. */
void evc_p2p_tcp_disconnect(struct evc_p2p_tcp *t, const struct evc_peer_id *peer);
/* Closes every connection and the listener; no callback runs afterwards except closed(arg),
 * once, from the loop after every handle has closed. t must stay valid until then. */
void evc_p2p_tcp_close(struct evc_p2p_tcp *t, void (*closed)(void *arg), void *arg);

#endif
