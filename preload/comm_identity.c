#include "preload/comm_identity.h"

#include <nccl.h>
#include <string.h>

#include "preload/clock.h"
#include "preload/nccl_resolve.h"
#include "preload/runtime.h"
#include "preload/stacks.h"

typedef ncclResult_t (*comm_query_fn)(const ncclComm_t, int *);

static int ask(enum pt_nccl_sym s, const void *handle)
{
    comm_query_fn f = (comm_query_fn)pt_nccl_real(s);
    int v = -1;
    if (!f || f((ncclComm_t)handle, &v) != ncclSuccess)
        return -1;
    return v;
}

/* Fills what the creator did not know. A non-blocking communicator may not answer yet. */
static void complete(const void *handle, int32_t *rank, int32_t *nranks, int32_t *device)
{
    if (*rank < 0)
        *rank = ask(PT_SYM_CommUserRank, handle);
    if (*nranks < 0)
        *nranks = ask(PT_SYM_CommCount, handle);
    if (*device < 0)
        *device = ask(PT_SYM_CommCuDevice, handle);
}

void pt_comm_born(const void *handle, struct pt_comm_birth *b, int result)
{
    int usable = handle && (result == ncclSuccess || result == ncclInProgress);
    if (usable && result == ncclSuccess)
        complete(handle, &b->rank, &b->nranks, &b->device);
    if (usable)
        pt_comm_add(handle, b->id, b->rank, b->nranks, b->device, b->flags);
    struct pt_rec_comm_init r;
    memset(&r, 0, sizeof r);
    r.hdr.kind = PT_REC_COMM_INIT;
    r.hdr.size = sizeof r;
    r.t_enter_ns = b->t_enter_ns;
    r.t_exit_ns = pt_ticks();
    r.comm_id = b->id;
    r.parent_comm_id = b->parent_id;
    r.call_id = b->call_id ? b->call_id : pt_next_call_id();
    r.handle = (uintptr_t)handle;
    r.rank = b->rank;
    r.nranks = b->nranks;
    r.device = b->device;
    r.color = b->color;
    r.key = b->key;
    r.how = b->how;
    r.result = (int16_t)result;
    r.flags = b->flags;
    pt_emit(&r, sizeof r);
    if (pt_stacks_level)
        pt_stack_emit(PT_REC_COMM_INIT, r.call_id);
}

struct pt_comm *pt_comm_identify(const void *handle)
{
    struct pt_comm *c = pt_comm_lookup(handle);
    if (c) {
        /* A non-blocking communicator answers once its initialisation is done: ask again, but
         * only every 256th call, so that one that never answers costs nothing per call. */
        if ((c->device < 0 || c->rank < 0 || c->nranks < 0) && c->asks++ % 256 == 0)
            complete(handle, &c->rank, &c->nranks, &c->device);
        return c;
    }
    struct pt_comm_birth b = {.t_enter_ns = pt_ticks(), .rank = -1, .nranks = -1, .device = -1,
                              .how = PT_COMM_Adopted, .flags = PT_COMM_LOCAL_ID};
    uint64_t key[2] = {pt_pid, (uintptr_t)handle};
    b.id = pt_comm_id_from_bytes(key, sizeof key, 0xad0b7);
    pt_comm_born(handle, &b, ncclSuccess);
    return pt_comm_lookup(handle);
}
