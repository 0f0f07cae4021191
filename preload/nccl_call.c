#include "preload/nccl_call.h"

#include <nccl.h>

#include "preload/comm_identity.h"
#include "preload/comm_table.h"
#include "preload/stacks.h"

unsigned pt_dtype_bytes(int dtype)
{
    static const unsigned char size[] = {
        [ncclInt8] = 1,    [ncclUint8] = 1,   [ncclInt32] = 4,     [ncclUint32] = 4,
        [ncclInt64] = 8,   [ncclUint64] = 8,  [ncclFloat16] = 2,   [ncclFloat32] = 4,
        [ncclFloat64] = 8, [ncclBfloat16] = 2, [ncclFloat8e4m3] = 1, [ncclFloat8e5m2] = 1,
    };
    return dtype >= 0 && (size_t)dtype < sizeof size ? size[dtype] : 0;
}

static void track_group(struct pt_rec_nccl_call *r, uint64_t call_id, int result)
{
    struct pt_thread_state *t = &pt_self;
    r->group_depth = (uint16_t)t->group_depth;
    switch (r->op) {
    case PT_OP_GroupStart:
        if (t->group_depth == 0)
            t->group_id = call_id;
        r->group_id = t->group_id;
        if (result == ncclSuccess)
            t->group_depth++;
        break;
    case PT_OP_GroupEnd:
    case PT_OP_GroupSimulateEnd:
        r->group_id = t->group_id;
        if (t->group_depth > 0)
            t->group_depth--;
        r->group_depth = (uint16_t)t->group_depth;
        if (t->group_depth == 0)
            t->group_id = 0;
        break;
    default:
        r->group_id = t->group_depth ? t->group_id : 0;
    }
}

/* The call's communicator as the record carries it, and the call's sequence number on it (taken
 * once: recorded or dropped, the sequence advances). */
static void take_comm(struct pt_call *c, struct pt_comm *comm)
{
    c->resolved = 1;
    c->comm_id = comm ? comm->id : 0;
    c->rank = comm ? comm->rank : -1;
    c->nranks = comm ? comm->nranks : -1;
    c->device = comm ? comm->device : -1;
    c->seq = comm ? pt_comm_next_seq(comm, c->op, c->peer) : 0;
}

void pt_call_end(struct pt_call *c, int result)
{
    int saved = errno;
    uint64_t t_exit = pt_ticks();
    uint64_t call_id = c->call_id;
    if (c->pushed)
        pt_gpu_call_exit();
    if (!c->resolved)
        take_comm(c, !c->comm         ? NULL
                     : c->lookup_only ? pt_comm_lookup(c->comm)
                                      : pt_comm_identify(c->comm));
    /* Written in place in the ring: no copy on the hot path. */
    struct pt_rec_nccl_call *r = pt_reserve(sizeof *r);
    if (r) {
        r->hdr.kind = PT_REC_NCCL_CALL;
        r->hdr.size = sizeof *r;
        r->t_enter_ns = c->t_enter_ns;
        r->t_exit_ns = t_exit;
        r->call_id = call_id;
        r->op = c->op;
        r->dtype = c->dtype;
        r->redop = c->redop;
        r->result = (int16_t)result;
        r->peer = c->peer;
        r->count = c->count;
        r->bytes = c->bytes ? c->bytes : c->count * pt_dtype_bytes(c->dtype);
        r->stream = c->stream;
        r->aux = c->aux;
        r->comm_id = c->comm_id;
        r->rank = c->rank;
        r->nranks = c->nranks;
        r->device = c->device;
        r->seq = c->seq;
        track_group(r, call_id, result);
        pt_commit(r);
        if (pt_stacks_level > 1)
            pt_stack_emit(PT_REC_NCCL_CALL, call_id);
    } else {
        /* Dropped, but the group state must advance as if recorded (the sequence has). */
        struct pt_rec_nccl_call scratch = {.op = c->op};
        track_group(&scratch, call_id, result);
    }
    pt_self.in_wrapper = 0;
    errno = saved;
}

uint64_t pt_call_resolve(struct pt_call *c)
{
    take_comm(c, c->comm ? pt_comm_lookup(c->comm) : NULL);
    return c->comm_id;
}
