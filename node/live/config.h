/* evc-node settings: HOME/config.json and `start` flags over one table of settings, so a flag
 * and its config field can never disagree on syntax. Parsing only: no file I/O here, and an
 * error always names the flag or the config field and says what a good value looks like. */
#ifndef EVC_LIVE_CONFIG_H
#define EVC_LIVE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/core/env.h"
#include "node/core/node.h"

#define EVC_LIVE_URL_SIZE_MAX 512
#define EVC_LIVE_TOKEN_SIZE_MAX 4096
#define EVC_LIVE_CONFIG_JSON_SIZE_MAX (1024u * 1024u)
#define EVC_LIVE_ERR_SIZE 512

struct evc_live_config {
  bool aggregator;
  uint64_t block_time_ns;
  uint64_t shutdown_timeout_ns;
  enum evc_log_level log_level;
  /* catchup */
  uint64_t catchup_p2p_timeout_ns;
  uint64_t catchup_inbound_grace_ns;
  uint64_t catchup_peek_timeout_ns;
  bool catchup_da_only;
  bool expect_head;
  uint64_t expect_head_height;
  uint8_t expect_head_hash[EVC_HASH_SIZE];
  /* p2p */
  char p2p_listen[EVC_ADDRESS_TEXT_MAX];
  uint32_t peer_count;
  char peers[EVC_NODE_PEERS_MAX][EVC_ADDRESS_TEXT_MAX];
  /* da */
  char da_address[EVC_LIVE_URL_SIZE_MAX];
  char da_auth_token[EVC_LIVE_TOKEN_SIZE_MAX];
  uint64_t da_block_time_ns;
  uint32_t da_mempool_ttl_blocks;
  uint64_t da_request_timeout_ns;
  /* rpc */
  char rpc_listen[EVC_ADDRESS_TEXT_MAX];
  /* limits (see struct evc_node_config) */
  uint32_t mempool_txs_max;
  uint32_t mempool_bytes_max;
  uint32_t block_txs_max;
  uint32_t da_batch_bytes_max;
  uint32_t da_read_ahead;
  uint32_t rollback_depth_max;
};

/* Fills the defaults of DESIGN.md "Command line" and the node's default limits. */
void evc_live_config_defaults(struct evc_live_config *cfg);

/* Parses a duration: an unsigned integer with a unit, "500ms", "2s", "1m" (also "0s").
 * EVC_EINVAL for anything else (no unit, fractions, negative), EVC_ERANGE on overflow. */
int evc_live_parse_duration(const char *text, uint64_t *ns_out);
/* Writes a duration in the largest unit that divides it exactly ("30s", "1500ms", "2m"). */
void evc_live_format_duration(uint64_t ns, char *out, size_t out_size);
/* Parses "HEIGHT:HASH" (decimal height >= 1, 64 hex digits). EVC_EINVAL with a reason in err. */
int evc_live_parse_expect_head(const char *text, uint64_t *height_out,
                               uint8_t hash_out[EVC_HASH_SIZE], char *err, size_t err_size);
/* Checks one peer address "[NODEID@]HOST:PORT" (NODEID: 64 hex digits, port 1..65535). */
int evc_live_check_peer(const char *text, char *err, size_t err_size);
/* Parses a comma-separated peer list into cfg->peers (replacing it); empty text clears it. */
int evc_live_parse_peers(const char *text, struct evc_live_config *cfg, char *err,
                         size_t err_size);
/* Checks a listen address "HOST:PORT" where HOST is an IPv4 or IPv6 literal ("[::1]:0" or
 * "::1:0" are not accepted; write IPv6 as "[::1]:7331") and PORT 0..65535 (0: any free port). */
int evc_live_check_listen(const char *text, char *err, size_t err_size);

/* Applies config.json over cfg. Unknown or duplicate keys, wrong types and bad values are
 * EVC_ECONFIG with "config.json: <field>: <reason>" in err. */
int evc_live_config_parse_json(const char *json, size_t size, struct evc_live_config *cfg,
                               char *err, size_t err_size);
/* Emits every setting as config.json (a malloc'd NUL-terminated string); EVC_ENOMEM. */
int evc_live_config_to_json(const struct evc_live_config *cfg, char **json_out);

/* Applies one `start` flag (name without the leading "--", value NULL for a bare boolean
 * flag). EVC_ENOTFOUND for a flag this table does not know, EVC_EINVAL with
 * "--<flag>: <reason>" in err for a bad value. */
int evc_live_config_apply_flag(struct evc_live_config *cfg, const char *name, const char *value,
                               char *err, size_t err_size);
/* Whether a known flag takes no value (--aggregator, --catchup.da-only). */
bool evc_live_config_flag_is_bool(const char *name);
/* Checks relations between settings after everything was applied; EVC_ECONFIG naming them. */
int evc_live_config_check(const struct evc_live_config *cfg, char *err, size_t err_size);
/* Copies the node-facing settings into a node config (genesis and signer seed untouched). */
void evc_live_config_to_node(const struct evc_live_config *cfg, struct evc_node_config *out);

#endif
