/* ed25519 verification for the whole node (signed headers, DA batches), with an optional memo
 * of results for a host that checks the same signatures many times on one thread: the
 * simulator, where every simulated node verifies every block, often twice (from a peer, then
 * from DA). A memo changes no result, only how often the curve arithmetic runs. */
#ifndef EVC_TYPES_VERIFY_H
#define EVC_TYPES_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#define EVC_VERIFY_MEMO_SLOTS 8192u

/* 0 when sig is pubkey's ed25519 signature of msg[0..size), EVC_ESIG otherwise; msg may be
 * NULL when size is 0. */
int evc_verify(const uint8_t pubkey[32], const uint8_t *msg, size_t size, const uint8_t sig[64]);

struct evc_verify_memo;

/* A direct-mapped memo of EVC_VERIFY_MEMO_SLOTS results keyed by SHA-256 of (public key,
 * signature, message): bounded memory, a collision only evicts. */
int evc_verify_memo_new(struct evc_verify_memo **out);
void evc_verify_memo_free(struct evc_verify_memo *m);
/* Makes evc_verify consult m (NULL: none). Process-wide and not thread-safe: only a
 * host whose verifications all run on one thread may install one (never the live node, whose
 * checks run on a thread pool). */
void evc_verify_memo_install(struct evc_verify_memo *m);
/* Lookups answered from the memo, and verifications it had to run. */
void evc_verify_memo_stats(const struct evc_verify_memo *m, uint64_t *hits, uint64_t *misses);

#endif
