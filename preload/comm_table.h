/* The communicators this process knows: handle → identity (id equal on every rank, rank, size,
 * device) and the per-op sequence numbers that let the same collective be matched across ranks.
 * Lookups are lock-free; inserts and removals (communicator creation and destruction, rare)
 * take a lock. */
#ifndef PT_COMM_TABLE_H
#define PT_COMM_TABLE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <partrace/format.h>

struct pt_comm {
    _Atomic uintptr_t handle;      /* ncclComm_t; 0 empty slot, 1 removed */
    uint64_t id;
    int32_t rank, nranks, device;
    uint32_t flags;                /* PT_COMM_* */
    _Atomic uint32_t splits;       /* children split off so far (derives their ids) */
    uint32_t asks;                 /* calls since rank/size/device were last asked for */
    _Atomic uint64_t seq[PT_OP_LIMIT];
    _Atomic uint64_t *p2p_seq;     /* [2 * nranks]: Send then Recv sequence per peer */
};

/* Lock-free lookup; NULL when unknown. */
struct pt_comm *pt_comm_lookup(const void *handle);

/* Adds (or refreshes) a communicator. A handle that comes back with another id (a freed
 * communicator's address reused) starts afresh: its sequence numbers from 0. Returns the entry,
 * or NULL when the table is full. */
struct pt_comm *pt_comm_add(const void *handle, uint64_t id, int rank, int nranks, int device,
                            uint32_t flags);

/* Forgets a destroyed communicator, only while its entry still holds communicator id: after NCCL
 * freed it, its address may already name a new communicator of another thread. */
void pt_comm_remove_if(const void *handle, uint64_t id);

/* Next sequence number for op on comm (peer used for Send/Recv). */
uint64_t pt_comm_next_seq(struct pt_comm *c, int op, int peer);

/* Ids: from uniqueId bytes, and a split child's from its parent. */
uint64_t pt_comm_id_from_bytes(const void *bytes, size_t n, uint64_t seed);
uint64_t pt_comm_id_child(uint64_t parent_id, uint32_t split_index, int32_t color, uint32_t how);

void pt_comm_table_lock(void);
void pt_comm_table_unlock(void);
void pt_comm_table_after_fork(void);

#endif
