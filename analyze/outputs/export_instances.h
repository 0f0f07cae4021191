/* Each rank's wait and transfer in one collective instance, for the args of the export's
 * slices. An instance (communicator, op, sequence number: the export's correlation id; for a
 * kernel replayed from a CUDA graph also the replay's number) gathers its ranks' arrivals as the
 * merged run goes by. When one rank's slice ends, every arrival before that time has been read
 * (the run is in time order), and a collective cannot end on a rank before all ranks arrived: so
 * at its end the slice knows the last arrival, or that a rank is missing (then it gets no args).
 * A fixed direct-mapped table: memory does not grow with the run; an instance that meets
 * another in its slot loses its args, never takes the other's. */
#ifndef PT_EXPORT_INSTANCES_H
#define PT_EXPORT_INSTANCES_H

#include <stdint.h>

#include "util/u64_map.h"

struct pt_xinst_slot {
    uint64_t key, last_arrival;
    uint64_t bytes;                 /* nccl-tests' S of the collective */
    int32_t nranks, arrived;
    uint16_t op;
};

struct pt_xinst {
    struct pt_xinst_slot *slots;    /* PT_XINST_SLOTS, allocated at the first arrival */
    struct pt_u64_map replays;      /* (file, graph node) mixed → kernels of it seen so far */
};

/* The key of one instance: id from the export's correlation; for a graph-replayed kernel,
 * graph_node is its node and the key counts that node's replays in file. */
uint64_t pt_xinst_key(struct pt_xinst *t, uint64_t id, size_t file, uint64_t graph_node);
/* One rank arrived at time t_arrival at a collective op of bytes (S) over nranks ranks. */
void pt_xinst_arrive(struct pt_xinst *t, uint64_t key, uint16_t op, uint64_t bytes, int32_t nranks,
                     uint64_t t_arrival);
/* The instance once every one of its ranks has arrived (exactly once each), else NULL. */
const struct pt_xinst_slot *pt_xinst_complete(const struct pt_xinst *t, uint64_t key);
void pt_xinst_free(struct pt_xinst *t);

#endif
