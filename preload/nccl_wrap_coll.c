/* Wrappers of NCCL's collectives, point-to-point calls and group markers. Each one resolves the
 * real function, records around it, and returns exactly what NCCL returned. */
#include <nccl.h>

#include "preload/export.h"
#include "preload/nccl_call.h"
#include "preload/nccl_resolve.h"

#define REAL(name, type)                                         \
    type real = (type)pt_nccl_real(PT_SYM_##name);                \
    if (!real)                                                    \
        return (ncclResult_t)pt_nccl_missing(PT_SYM_##name)

/* Fills the fields every data-moving call has. */
static inline void set_data(struct pt_call *c, const void *comm, size_t count, ncclDataType_t dt,
                            cudaStream_t stream)
{
    c->comm = comm;
    c->count = count;
    c->dtype = (uint8_t)dt;
    c->stream = (uintptr_t)stream;
}

typedef ncclResult_t (*allreduce_fn)(const void *, void *, size_t, ncclDataType_t, ncclRedOp_t,
                                     ncclComm_t, cudaStream_t);
PT_EXPORT ncclResult_t ncclAllReduce(const void *sendbuff, void *recvbuff, size_t count,
                                     ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
                                     cudaStream_t stream)
{
    REAL(AllReduce, allreduce_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_AllReduce))
        return real(sendbuff, recvbuff, count, datatype, op, comm, stream);
    set_data(&c, comm, count, datatype, stream);
    c.redop = pt_redop_code(op);
    ncclResult_t r = real(sendbuff, recvbuff, count, datatype, op, comm, stream);
    pt_call_end(&c, r);
    return r;
}

/* ReduceScatter has AllReduce's shape (recvcount instead of count). */
PT_EXPORT ncclResult_t ncclReduceScatter(const void *sendbuff, void *recvbuff, size_t recvcount,
                                         ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
                                         cudaStream_t stream)
{
    REAL(ReduceScatter, allreduce_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_ReduceScatter))
        return real(sendbuff, recvbuff, recvcount, datatype, op, comm, stream);
    set_data(&c, comm, recvcount, datatype, stream);
    c.redop = pt_redop_code(op);
    ncclResult_t r = real(sendbuff, recvbuff, recvcount, datatype, op, comm, stream);
    pt_call_end(&c, r);
    return r;
}

typedef ncclResult_t (*reduce_fn)(const void *, void *, size_t, ncclDataType_t, ncclRedOp_t, int,
                                  ncclComm_t, cudaStream_t);
PT_EXPORT ncclResult_t ncclReduce(const void *sendbuff, void *recvbuff, size_t count,
                                  ncclDataType_t datatype, ncclRedOp_t op, int root,
                                  ncclComm_t comm, cudaStream_t stream)
{
    REAL(Reduce, reduce_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_Reduce))
        return real(sendbuff, recvbuff, count, datatype, op, root, comm, stream);
    set_data(&c, comm, count, datatype, stream);
    c.redop = pt_redop_code(op);
    c.peer = root;
    ncclResult_t r = real(sendbuff, recvbuff, count, datatype, op, root, comm, stream);
    pt_call_end(&c, r);
    return r;
}

typedef ncclResult_t (*bcast_fn)(void *, size_t, ncclDataType_t, int, ncclComm_t, cudaStream_t);
PT_EXPORT ncclResult_t ncclBcast(void *buff, size_t count, ncclDataType_t datatype, int root,
                                 ncclComm_t comm, cudaStream_t stream)
{
    REAL(Bcast, bcast_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_Bcast))
        return real(buff, count, datatype, root, comm, stream);
    set_data(&c, comm, count, datatype, stream);
    c.peer = root;
    ncclResult_t r = real(buff, count, datatype, root, comm, stream);
    pt_call_end(&c, r);
    return r;
}

/* Rooted copy-shaped collectives: Broadcast, Gather, Scatter share a signature. */
typedef ncclResult_t (*rooted_fn)(const void *, void *, size_t, ncclDataType_t, int, ncclComm_t,
                                  cudaStream_t);
static ncclResult_t rooted(enum pt_nccl_sym sym, uint16_t op, const void *sendbuff, void *recvbuff,
                           size_t count, ncclDataType_t datatype, int root, ncclComm_t comm,
                           cudaStream_t stream)
{
    rooted_fn real = (rooted_fn)pt_nccl_real(sym);
    if (!real)
        return (ncclResult_t)pt_nccl_missing(sym);
    struct pt_call c;
    if (!pt_call_begin(&c, op))
        return real(sendbuff, recvbuff, count, datatype, root, comm, stream);
    set_data(&c, comm, count, datatype, stream);
    c.peer = root;
    ncclResult_t r = real(sendbuff, recvbuff, count, datatype, root, comm, stream);
    pt_call_end(&c, r);
    return r;
}

PT_EXPORT ncclResult_t ncclBroadcast(const void *sendbuff, void *recvbuff, size_t count,
                                     ncclDataType_t datatype, int root, ncclComm_t comm,
                                     cudaStream_t stream)
{
    return rooted(PT_SYM_Broadcast, PT_OP_Broadcast, sendbuff, recvbuff, count, datatype, root,
                  comm, stream);
}

PT_EXPORT ncclResult_t ncclGather(const void *sendbuff, void *recvbuff, size_t count,
                                  ncclDataType_t datatype, int root, ncclComm_t comm,
                                  cudaStream_t stream)
{
    return rooted(PT_SYM_Gather, PT_OP_Gather, sendbuff, recvbuff, count, datatype, root, comm,
                  stream);
}

PT_EXPORT ncclResult_t ncclScatter(const void *sendbuff, void *recvbuff, size_t count,
                                   ncclDataType_t datatype, int root, ncclComm_t comm,
                                   cudaStream_t stream)
{
    return rooted(PT_SYM_Scatter, PT_OP_Scatter, sendbuff, recvbuff, count, datatype, root, comm,
                  stream);
}

/* Unrooted copy-shaped collectives: AllGather and AlltoAll. */
typedef ncclResult_t (*copy_fn)(const void *, void *, size_t, ncclDataType_t, ncclComm_t,
                                cudaStream_t);
static ncclResult_t unrooted(enum pt_nccl_sym sym, uint16_t op, const void *sendbuff,
                             void *recvbuff, size_t count, ncclDataType_t datatype,
                             ncclComm_t comm, cudaStream_t stream)
{
    copy_fn real = (copy_fn)pt_nccl_real(sym);
    if (!real)
        return (ncclResult_t)pt_nccl_missing(sym);
    struct pt_call c;
    if (!pt_call_begin(&c, op))
        return real(sendbuff, recvbuff, count, datatype, comm, stream);
    set_data(&c, comm, count, datatype, stream);
    ncclResult_t r = real(sendbuff, recvbuff, count, datatype, comm, stream);
    pt_call_end(&c, r);
    return r;
}

PT_EXPORT ncclResult_t ncclAllGather(const void *sendbuff, void *recvbuff, size_t sendcount,
                                     ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream)
{
    return unrooted(PT_SYM_AllGather, PT_OP_AllGather, sendbuff, recvbuff, sendcount, datatype,
                    comm, stream);
}

PT_EXPORT ncclResult_t ncclAlltoAll(const void *sendbuff, void *recvbuff, size_t count,
                                    ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream)
{
    return unrooted(PT_SYM_AlltoAll, PT_OP_AlltoAll, sendbuff, recvbuff, count, datatype, comm,
                    stream);
}

typedef ncclResult_t (*send_fn)(const void *, size_t, ncclDataType_t, int, ncclComm_t,
                                cudaStream_t);
PT_EXPORT ncclResult_t ncclSend(const void *sendbuff, size_t count, ncclDataType_t datatype,
                                int peer, ncclComm_t comm, cudaStream_t stream)
{
    REAL(Send, send_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_Send))
        return real(sendbuff, count, datatype, peer, comm, stream);
    set_data(&c, comm, count, datatype, stream);
    c.peer = peer;
    ncclResult_t r = real(sendbuff, count, datatype, peer, comm, stream);
    pt_call_end(&c, r);
    return r;
}

typedef ncclResult_t (*recv_fn)(void *, size_t, ncclDataType_t, int, ncclComm_t, cudaStream_t);
PT_EXPORT ncclResult_t ncclRecv(void *recvbuff, size_t count, ncclDataType_t datatype, int peer,
                                ncclComm_t comm, cudaStream_t stream)
{
    REAL(Recv, recv_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_Recv))
        return real(recvbuff, count, datatype, peer, comm, stream);
    set_data(&c, comm, count, datatype, stream);
    c.peer = peer;
    ncclResult_t r = real(recvbuff, count, datatype, peer, comm, stream);
    pt_call_end(&c, r);
    return r;
}

typedef ncclResult_t (*group_fn)(void);
static ncclResult_t group_marker(enum pt_nccl_sym sym, uint16_t op)
{
    group_fn real = (group_fn)pt_nccl_real(sym);
    if (!real)
        return (ncclResult_t)pt_nccl_missing(sym);
    struct pt_call c;
    if (!pt_call_begin(&c, op))
        return real();
    ncclResult_t r = real();
    pt_call_end(&c, r);
    return r;
}

PT_EXPORT ncclResult_t ncclGroupStart(void)
{
    return group_marker(PT_SYM_GroupStart, PT_OP_GroupStart);
}

PT_EXPORT ncclResult_t ncclGroupEnd(void)
{
    return group_marker(PT_SYM_GroupEnd, PT_OP_GroupEnd);
}

typedef ncclResult_t (*simulate_fn)(ncclSimInfo_t *);
PT_EXPORT ncclResult_t ncclGroupSimulateEnd(ncclSimInfo_t *simInfo)
{
    REAL(GroupSimulateEnd, simulate_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_GroupSimulateEnd))
        return real(simInfo);
    ncclResult_t r = real(simInfo);
    pt_call_end(&c, r);
    return r;
}
