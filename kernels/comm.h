/* The engine's NCCL communicators: the world (from a unique id that rank 0 publishes in a
 * file every rank can read), and split from it the rank's TP group (same replica and stage)
 * and, with PP, its PP group (same replica and TP index: one rank per stage, in stage order),
 * with EP its EP group (the ranks of its stage, one per replica). */
#ifndef PT_COMM_H
#define PT_COMM_H

#include <stddef.h>
#include <stdint.h>

#include <nccl.h>

#include "layout.h"

struct pt_comms {
    ncclComm_t world, tp, pp, ep; /* tp, pp, ep: NULL without TP, PP, EP */
};

/* id_file: where rank 0 writes the unique id and the others wait for it (up to timeout_s).
 * Returns 0, or -1 with a message. */
int pt_comms_init(const struct pt_layout *l, uint32_t rank, const char *id_file, double timeout_s,
                  struct pt_comms *c, char *err, size_t errlen);
void pt_comms_free(struct pt_comms *c);

#endif
