/* The fuzz harnesses: each takes one input and checks properties with EVC_ASSERT (abort).
 * A harness must never crash, leak or read outside data[0, size) on any input; it returns
 * 0 for every input it handled (rejected inputs included). Drivers: driver_afl.c (AFL++
 * persistent mode) and driver_replay.c (files and directories, for ctest). */
#ifndef EVC_FUZZ_FUZZ_H
#define EVC_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Nothing: the baseline that measures the driver's own cost per input. */
int evc_fuzz_empty(const uint8_t *data, size_t size);
/* data[0] selects a decoder (header, signed header, data, sign state, sign state with its
 * checksum recomputed); whatever decodes must re-encode to the same bytes. */
int evc_fuzz_codec(const uint8_t *data, size_t size);
/* genesis.json text: whatever parses must emit JSON that parses to an equal genesis. */
int evc_fuzz_genesis(const uint8_t *data, size_t size);
/* Scenario JSON: parses, or fails with a non-empty message. */
int evc_fuzz_scenario(const uint8_t *data, size_t size);
/* A sequence of catchup fact changes; the safety properties hold after every decision. */
int evc_fuzz_catchup(const uint8_t *data, size_t size);
/* data[0] % 2: 0, one P2P message as a peer sends it: whatever decodes re-encodes to the
 * same bytes, within its bounds, every borrowed pointer inside the input; 1, the handshake
 * against a peer's hello and auth frame: canonical hellos, documented errors only, frames
 * and signatures round-trip. */
int evc_fuzz_p2p(const uint8_t *data, size_t size);
/* data[0] selects a Celestia JSON-RPC parser (Submit, GetAll or header reply; evc-da's
 * request): documented errors only; accepted blobs sorted and bounded; the replies evc-da
 * builds for a parsed request are JSON the client's parsers read back. */
int evc_fuzz_da(const uint8_t *data, size_t size);
/* config.json text: fails with a message naming config.json, or emits JSON that parses back
 * to a config emitting the same text. */
int evc_fuzz_config(const uint8_t *data, size_t size);
/* data[0] picks a recovery scenario, SHA-256 of the input the seed of a swarm run (fault
 * schedule); a safety, liveness or error verdict aborts. Slow: one simulation per input. */
int evc_fuzz_sim(const uint8_t *data, size_t size);

/* data[0..3] a fake node's state and answers, then "METHOD PATH\nBODY": the RPC's answer has a
 * documented status, JSON that parses, a message on errors; POST /tx submits exactly once
 * exactly when allowed; nothing leaks. */
int evc_fuzz_rpc(const uint8_t *data, size_t size);

#endif
