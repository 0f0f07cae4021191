/* Which role each communicator plays, from its size and traffic: EP when all-to-all carries
 * most of its data calls, PP when it only sends and receives, TP for the busiest all-reduce
 * communicator, DP for other all-reduce/all-gather communicators; "other" otherwise. The
 * evidence is kept as text. */
#ifndef PT_TOPOLOGY_H
#define PT_TOPOLOGY_H

#include <stddef.h>

#include "analyses/collectives.h"

struct pt_role {
    const char *role;      /* "TP", "PP", "EP", "DP", "other" */
    char evidence[256];
};

struct pt_layout {
    int tp, pp, dp, ep;
    int world;             /* ranks seen in the run */
};

/* Fills roles[i] for every communicator of c, and the layout. */
void pt_topology_infer(const struct pt_collectives *c, int world, struct pt_role *roles,
                       struct pt_layout *layout);

/* Parses --layout "tp=2,pp=2,dp=1,ep=1" (any subset; the rest stay as they are in *out).
 * Returns 0, or -1 with a message in err. */
int pt_layout_parse(const char *text, struct pt_layout *out, char *err, size_t cap);

/* Global rank's coordinate along a role ("TP", "PP", "DP", "EP"): its place among the members
 * of the communicator of that role it belongs to, in rank order; -1 when it is in none. */
int pt_topology_coord(const struct pt_collectives *c, const struct pt_role *roles, const char *role,
                      int32_t rank);

#endif
