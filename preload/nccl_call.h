/* Turning one intercepted NCCL call into a record. A wrapper calls pt_call_begin() before the
 * real function and pt_call_end() after it. Nested calls (NCCL calling its own public API, as
 * ncclBcast does with ncclBroadcast) pass through unrecorded. errno is left as NCCL set it. */
#ifndef PT_NCCL_CALL_H
#define PT_NCCL_CALL_H

#include <errno.h>
#include <stdint.h>

#include <partrace/format.h>

#include "format/nccl_ops.h"

#include "preload/gpu_hooks.h"
#include "preload/clock.h"
#include "preload/runtime.h"

struct pt_call {
    uint64_t t_enter_ns;
    uint16_t op;         /* enum pt_nccl_op */
    uint8_t dtype;       /* PT_NO_DTYPE when none */
    uint8_t redop;       /* PT_NO_REDOP when none */
    int32_t peer;        /* root or peer, -1 */
    const void *comm;    /* ncclComm_t, NULL when none */
    uint64_t count;
    uint64_t bytes;      /* set by pt_call_end from count × dtype unless set already */
    uint64_t stream;
    uint64_t aux;
    int lookup_only;     /* the comm may be gone after the call: do not query or adopt it */
    /* The communicator's identity and the call's sequence number on it: taken by pt_call_end,
     * or earlier by pt_call_resolve, before a call that frees the communicator. */
    int resolved;
    uint64_t comm_id, seq;
    int32_t rank, nranks, device;
    int pushed;          /* call_id pushed to CUPTI as external correlation */
    uint64_t call_id;
};

/* Returns 1 when this call is to be recorded (then pt_call_end must follow). */
static inline int pt_call_begin(struct pt_call *c, uint16_t op)
{
    if (pt_self.in_wrapper || !pt_recording())
        return 0;
    int saved = errno;
    pt_self.in_wrapper = 1;
    *c = (struct pt_call){.op = op, .dtype = PT_NO_DTYPE, .redop = PT_NO_REDOP, .peer = -1};
    c->call_id = pt_self.current_call_id = pt_next_call_id();
    /* Collectives and send/recv, once a non-blocking communicator exists (only its graph nodes
     * are made outside any call): a store to one shared line, skipped by everyone else. */
    if (pt_op_moves_data(op) && atomic_load_explicit(&pt_gpu_hint_wanted, memory_order_relaxed))
        atomic_store_explicit(&pt_gpu_last_call, c->call_id, memory_order_relaxed);
    /* GPU work launched inside the call (the kernel, graph nodes) carries the call's id. */
    if (atomic_load_explicit(&pt_gpu_tie, memory_order_relaxed)) {
        pt_gpu_call_enter(c->call_id);
        c->pushed = 1;
    }
    c->t_enter_ns = pt_ticks();
    errno = saved;
    return 1;
}

/* Records the call with the result NCCL returned. */
void pt_call_end(struct pt_call *c, int result);

/* Before a call that may free c->comm (destroy, abort): takes its identity and sequence number
 * now. Once NCCL has freed it, another thread may get the same address for a new communicator.
 * Returns the identity's id (0 when unknown), for pt_comm_remove_if. */
uint64_t pt_call_resolve(struct pt_call *c);

/* Ends a guarded call without an NCCL_CALL record (creations write COMM_INIT instead). */
static inline void pt_call_leave(const struct pt_call *c)
{
    if (c->pushed)
        pt_gpu_call_exit();
    pt_self.in_wrapper = 0;
}

/* Size in bytes of an ncclDataType_t, 0 when unknown. */
unsigned pt_dtype_bytes(int dtype);

/* Reduction op as recorded: built-ins as is, user-created ones as PT_CUSTOM_REDOP. */
static inline uint8_t pt_redop_code(int op)
{
    return op >= 0 && op < 5 ? (uint8_t)op : PT_CUSTOM_REDOP;
}

#endif
