/* The invariant checker of DESIGN.md "Simulator": fork-freedom across every place (nodes,
 * DA), final blocks never change, a sequencer never produces a height it knew of, twins,
 * and liveness at the end. It learns only from node observations and from DA contents,
 * never from node internals, and it never uses assert(): a violation is a verdict. */
#ifndef EVC_SIM_CHECK_H
#define EVC_SIM_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim.h"

struct evc_check;

enum evc_check_failure { EVC_CHECK_OK, EVC_CHECK_SAFETY, EVC_CHECK_LIVENESS };

/* Creates a checker and registers it as an observer of sim. twins: the scenario has key_of
 * nodes (DA's first-in-order chain is canonical; conflicting twin blocks are expected). */
int evc_check_new(struct evc_sim *sim, bool twins, struct evc_check **out);
void evc_check_free(struct evc_check *c);
/* Scans DA heights produced since the last call (header blobs signed by the genesis key). */
void evc_check_scan_da(struct evc_check *c);
/* Lifecycle notes from the runner, before the action runs. */
void evc_check_on_start(struct evc_check *c, struct evc_sim_node *node, bool da_only);
void evc_check_on_wipe(struct evc_check *c, struct evc_sim_node *node);
void evc_check_on_lose_machine(struct evc_check *c, struct evc_sim_node *node);
void evc_check_on_snapshot(struct evc_check *c, struct evc_sim_node *node, const char *name);
void evc_check_on_restore(struct evc_check *c, struct evc_sim_node *node, const char *name);
/* Blocks held by nodes other than node and not (yet) on DA (the p2p_only hazard). */
uint64_t evc_check_p2p_only_blocks(const struct evc_check *c, const struct evc_sim_node *node);
/* The first failure (EVC_CHECK_OK while none) and its message. */
enum evc_check_failure evc_check_failed(const struct evc_check *c, const char **message_out);
/* Equivocations the node reported. */
uint64_t evc_check_equivocations(const struct evc_check *c, const struct evc_sim_node *node);
/* Compares two nodes' stored chains up to the lower head; false and a message on a mismatch. */
bool evc_check_same_chain(const struct evc_check *c, const struct evc_sim_node *a,
                          const struct evc_sim_node *b, char *msg, size_t msg_size);
/* Like evc_check_same_chain, but a height only one of them was seen storing is no
 * difference: a power cut can land right after a durable commit and before its
 * observation, so the checker may not have seen every block a node holds. False and a
 * message when both hold a block at one height and the blocks differ. */
bool evc_check_converged(const struct evc_check *c, const struct evc_sim_node *a,
                         const struct evc_sim_node *b, char *msg, size_t msg_size);
/* True when the liveness rule already holds now (the runner ends a run early only then). */
bool evc_check_liveness_holds(const struct evc_check *c, uint64_t bound_ns);
/* Whether every permitted soft reorg is resolved already (evc_check_finish fails on one
 * that is not); a run keeps going while one is pending, up to its deadline. */
bool evc_check_reorgs_resolved(const struct evc_check *c);
/* The same, with the first unmet part of the rule in msg when it does not hold. */
bool evc_check_liveness_why(const struct evc_check *c, uint64_t bound_ns, char *msg,
                            size_t size);
/* End of run: liveness for producing sequencers (bound_ns: max DA inclusion delay plus two
 * DA block times), twins (one must have failed). Returns the failure kind. */
enum evc_check_failure evc_check_finish(struct evc_check *c, uint64_t bound_ns);

#endif
