/* The simulator's node classes: the real evc node core as "aggregator" and "full", and the
 * byzantine "liar_height" peer. The evc classes
 * wraps an evc_node on the simulated env and, on an aggregator, feeds the mempool with the
 * scenario's txs_per_block deterministic txs every block time. */
#ifndef EVC_SIM_EVC_NODES_H
#define EVC_SIM_EVC_NODES_H

#include "sim/sim.h"

extern const struct evc_sim_node_class evc_sim_aggregator_class;
extern const struct evc_sim_node_class evc_sim_full_class;
/* A byzantine peer: claims height 10^9 in its status without a signed header to back it. */
extern const struct evc_sim_node_class evc_sim_liar_class;

/* The class for a scenario role, or NULL when this build has none. */
const struct evc_sim_node_class *evc_sim_class_for_role(const char *role);

#endif
