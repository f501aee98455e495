/* The simulator's node classes: the real evc node core as "aggregator" and "full", and the
 * byzantine peers "liar_height" and "byz_*". The evc classes wrap an evc_node on the
 * simulated env and, on an aggregator, feed the mempool with the scenario's txs_per_block
 * deterministic txs every block time. Byzantine roles are never checked as honest nodes. */
#ifndef EVC_SIM_EVC_NODES_H
#define EVC_SIM_EVC_NODES_H

#include "sim/sim.h"

extern const struct evc_sim_node_class evc_sim_aggregator_class;
extern const struct evc_sim_node_class evc_sim_full_class;
/* A byzantine peer: claims height 10^9 in its status without a signed header to back it. */
extern const struct evc_sim_node_class evc_sim_liar_class;
/* Byzantine peers that are real full nodes (they sync the real chain) whose outgoing P2P
 * messages are tampered with; their store is hidden from the checker (mode and counters
 * stay visible). docs/scenarios.md "Nodes" has the details. */
/* Every block it sends (range replies; forged copies of announcements it relays) is
 * re-signed by its own P2P key, 1 ns later: well formed, wrongly signed. */
extern const struct evc_sim_node_class evc_sim_byz_bad_sig_class;
/* Every block message it sends leaves 8 s late (past the node's range request timeout). */
extern const struct evc_sim_node_class evc_sim_byz_slow_class;
/* Every range reply of two or more blocks is sent with its blocks in reverse order. */
extern const struct evc_sim_node_class evc_sim_byz_reorder_class;
/* Every 50 ms, to each peer: a status request, a status, a duplicate announcement and two
 * range requests; once a second a junk frame or an over-long range request. */
extern const struct evc_sim_node_class evc_sim_byz_flood_class;

/* The class for a scenario role, or NULL when this build has none. */
const struct evc_sim_node_class *evc_sim_class_for_role(const char *role);

#endif
