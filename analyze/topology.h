/* Which role each communicator plays, from its size and traffic: EP when all-to-all carries
 * most of its data calls, PP when it only sends and receives, TP for the busiest all-reduce
 * communicator, DP for other all-reduce/all-gather communicators; "other" otherwise. The
 * evidence is kept as text. A first, deliberately simple inference (issue 4 refines it). */
#ifndef PT_TOPOLOGY_H
#define PT_TOPOLOGY_H

#include "collectives.h"

struct pt_role {
    const char *role;      /* "TP", "PP", "EP", "DP", "other" */
    char evidence[160];
};

struct pt_layout {
    int tp, pp, dp, ep;
    int world;             /* ranks seen in the run */
};

/* Fills roles[i] for every communicator of c, and the layout. */
void pt_topology_infer(const struct pt_collectives *c, int world, struct pt_role *roles,
                       struct pt_layout *layout);

#endif
