/* A test fixture, not a real node: a tiny node class for the simulator kernel's tests.
 * It pings its peers, stores a tick counter in SQLite, writes a durable file, posts blobs
 * to DA and reads DA back, all through struct evc_env only (no clock, socket or rand). */
#ifndef EVC_TESTS_SUPPORT_FIXTURE_NODE_H
#define EVC_TESTS_SUPPORT_FIXTURE_NODE_H

#include <stdint.h>

#include "sim/sim.h"

struct evc_fixture_options {
  uint64_t tick_ns;               /* default 100 ms */
  uint32_t file_every_ticks;      /* replace file_name every N ticks (0: never); default 10 */
  const char *file_name;          /* default "fixture/state" */
  uint32_t full_sync_every_ticks; /* 0: every tick commits with synchronous=FULL; else the
                                     db runs synchronous=OFF and every N-th tick is FULL */
  uint32_t da_every_ticks;        /* submit a blob and poll the DA head; default 10 */
  uint64_t redial_ns;             /* default 500 ms */
};

struct evc_fixture_stats {
  uint64_t tick;              /* last tick counter (continues from the stored maximum) */
  uint64_t recovered_tick;    /* max(n) found in the db at start */
  uint64_t last_synced_tick;  /* last tick committed with synchronous=FULL */
  uint64_t pings_sent;
  uint64_t pings_received;
  uint64_t last_ping_received; /* highest tick value seen in a ping */
  uint64_t pongs_received;
  uint64_t files_written;
  int last_file_status;
  uint64_t da_submitted;
  uint64_t da_included;
  uint64_t da_submit_errors;
  uint64_t da_heights_read;
  uint64_t da_blobs_seen;
  uint64_t db_errors;
  uint32_t connected;
  uint64_t dial_failures;
};

extern const struct evc_sim_node_class evc_fixture_node_class;

void evc_fixture_options_default(struct evc_fixture_options *o);
/* Copies the stats of a fixture node object (evc_sim_node_object of a fixture node). */
void evc_fixture_node_stats(const void *node, struct evc_fixture_stats *out);

#endif
