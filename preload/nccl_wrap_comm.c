/* Wrappers of NCCL's communicator lifecycle (creation, split, shrink, destruction), its queries,
 * and its memory/registration calls. Creations write COMM_INIT records that carry the id all
 * ranks agree on; everything else writes NCCL_CALL records. */
#include <nccl.h>
#include <string.h>

#include "preload/comm_identity.h"
#include "preload/export.h"
#include "preload/nccl_call.h"
#include "preload/nccl_resolve.h"

#define REAL(name, type)                                         \
    type real = (type)pt_nccl_real(PT_SYM_##name);                \
    if (!real)                                                    \
        return (ncclResult_t)pt_nccl_missing(PT_SYM_##name)

static struct pt_comm_birth birth(const struct pt_call *c, uint16_t how, int rank, int nranks)
{
    return (struct pt_comm_birth){.t_enter_ns = c->t_enter_ns, .call_id = c->call_id, .how = how,
                                  .rank = rank, .nranks = nranks, .device = -1};
}

static uint32_t config_flags(const ncclConfig_t *config)
{
    /* `blocking` sits at the same offset in every ncclConfig_t version that has it. */
    return config && config->size >= offsetof(ncclConfig_t, blocking) + sizeof(int) &&
                   config->blocking == 0
               ? PT_COMM_NONBLOCKING
               : 0;
}

static void born(const struct pt_call *c, const ncclComm_t *comm, struct pt_comm_birth *b,
                 ncclResult_t r)
{
    /* From now on, graph nodes NCCL makes on its own threads need to know the call entered last. */
    if (b->flags & PT_COMM_NONBLOCKING)
        atomic_store_explicit(&pt_gpu_hint_wanted, 1, memory_order_relaxed);
    pt_comm_born(comm && (r == ncclSuccess || r == ncclInProgress) ? *comm : NULL, b, r);
    pt_call_leave(c);
}

static uint64_t id_of(const ncclUniqueId *id)
{
    return pt_comm_id_from_bytes(id->internal, sizeof id->internal, 0);
}

typedef ncclResult_t (*init_rank_fn)(ncclComm_t *, int, ncclUniqueId, int);
PT_EXPORT ncclResult_t ncclCommInitRank(ncclComm_t *comm, int nranks, ncclUniqueId commId, int rank)
{
    REAL(CommInitRank, init_rank_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, 0))
        return real(comm, nranks, commId, rank);
    struct pt_comm_birth b = birth(&c, PT_COMM_InitRank, rank, nranks);
    b.id = id_of(&commId);
    ncclResult_t r = real(comm, nranks, commId, rank);
    born(&c, comm, &b, r);
    return r;
}

typedef ncclResult_t (*init_config_fn)(ncclComm_t *, int, ncclUniqueId, int, ncclConfig_t *);
PT_EXPORT ncclResult_t ncclCommInitRankConfig(ncclComm_t *comm, int nranks, ncclUniqueId commId,
                                              int rank, ncclConfig_t *config)
{
    REAL(CommInitRankConfig, init_config_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, 0))
        return real(comm, nranks, commId, rank, config);
    struct pt_comm_birth b = birth(&c, PT_COMM_InitRankConfig, rank, nranks);
    b.id = id_of(&commId);
    b.flags = config_flags(config);
    ncclResult_t r = real(comm, nranks, commId, rank, config);
    born(&c, comm, &b, r);
    return r;
}

typedef ncclResult_t (*init_scalable_fn)(ncclComm_t *, int, int, int, ncclUniqueId *,
                                         ncclConfig_t *);
PT_EXPORT ncclResult_t ncclCommInitRankScalable(ncclComm_t *newcomm, int nranks, int myrank,
                                                int nId, ncclUniqueId *commIds,
                                                ncclConfig_t *config)
{
    REAL(CommInitRankScalable, init_scalable_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, 0))
        return real(newcomm, nranks, myrank, nId, commIds, config);
    struct pt_comm_birth b = birth(&c, PT_COMM_InitRankScalable, myrank, nranks);
    b.id = commIds && nId > 0 ? pt_comm_id_from_bytes(commIds, (size_t)nId * sizeof *commIds, 0) : 0;
    b.flags = config_flags(config);
    ncclResult_t r = real(newcomm, nranks, myrank, nId, commIds, config);
    born(&c, newcomm, &b, r);
    return r;
}

typedef ncclResult_t (*init_all_fn)(ncclComm_t *, int, const int *);
PT_EXPORT ncclResult_t ncclCommInitAll(ncclComm_t *comms, int ndev, const int *devlist)
{
    REAL(CommInitAll, init_all_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, 0))
        return real(comms, ndev, devlist);
    ncclResult_t r = real(comms, ndev, devlist);
    /* All ranks live in this process: an id unique to it is enough. */
    uint64_t key[2] = {pt_pid, c.t_enter_ns};
    uint64_t id = pt_comm_id_from_bytes(key, sizeof key, 0xa11);
    for (int i = 0; comms && i < ndev; i++) {
        struct pt_comm_birth b = birth(&c, PT_COMM_InitAll, i, ndev);
        b.id = id;
        b.device = devlist ? devlist[i] : i;
        b.flags = PT_COMM_LOCAL_ID;
        pt_comm_born(r == ncclSuccess ? comms[i] : NULL, &b, r);
    }
    pt_call_leave(&c);
    return r;
}

/* Split and shrink: the child's id derives from the parent's and the parent's split counter,
 * which advances identically on every rank because splitting is collective. */
static struct pt_comm_birth child_birth(const struct pt_call *c, ncclComm_t parent, uint16_t how,
                                        int32_t color, int32_t key, const ncclConfig_t *config)
{
    struct pt_comm_birth b = birth(c, how, -1, -1);
    struct pt_comm *p = pt_comm_identify(parent);
    uint32_t index = p ? atomic_fetch_add(&p->splits, 1) : 0;
    b.parent_id = p ? p->id : 0;
    b.id = pt_comm_id_child(b.parent_id, index, color, how);
    b.color = color;
    b.key = key;
    b.flags = config_flags(config) | (p ? (p->flags & PT_COMM_LOCAL_ID) : PT_COMM_LOCAL_ID);
    return b;
}

typedef ncclResult_t (*split_fn)(ncclComm_t, int, int, ncclComm_t *, ncclConfig_t *);
PT_EXPORT ncclResult_t ncclCommSplit(ncclComm_t comm, int color, int key, ncclComm_t *newcomm,
                                     ncclConfig_t *config)
{
    REAL(CommSplit, split_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, 0))
        return real(comm, color, key, newcomm, config);
    struct pt_comm_birth b = child_birth(&c, comm, PT_COMM_Split, color, key, config);
    ncclResult_t r = real(comm, color, key, newcomm, config);
    born(&c, newcomm, &b, r);
    return r;
}

typedef ncclResult_t (*shrink_fn)(ncclComm_t, int *, int, ncclComm_t *, ncclConfig_t *, int);
PT_EXPORT ncclResult_t ncclCommShrink(ncclComm_t comm, int *excludeRanksList, int excludeRanksCount,
                                      ncclComm_t *newcomm, ncclConfig_t *config, int shrinkFlags)
{
    REAL(CommShrink, shrink_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, 0))
        return real(comm, excludeRanksList, excludeRanksCount, newcomm, config, shrinkFlags);
    struct pt_comm_birth b =
        child_birth(&c, comm, PT_COMM_Shrink, excludeRanksCount, shrinkFlags, config);
    ncclResult_t r = real(comm, excludeRanksList, excludeRanksCount, newcomm, config, shrinkFlags);
    born(&c, newcomm, &b, r);
    return r;
}

/* Finalize, Destroy, Abort: the communicator may be freed by the call. */
typedef ncclResult_t (*comm_fn)(ncclComm_t);
static ncclResult_t comm_end(enum pt_nccl_sym sym, uint16_t op, ncclComm_t comm, int forget)
{
    comm_fn real = (comm_fn)pt_nccl_real(sym);
    if (!real)
        return (ncclResult_t)pt_nccl_missing(sym);
    struct pt_call c;
    if (!pt_call_begin(&c, op))
        return real(comm);
    c.comm = comm;
    c.lookup_only = 1;
    uint64_t id = forget ? pt_call_resolve(&c) : 0;
    ncclResult_t r = real(comm);
    pt_call_end(&c, r);
    if (forget && r == ncclSuccess)
        pt_comm_remove_if(comm, id);
    return r;
}

PT_EXPORT ncclResult_t ncclCommFinalize(ncclComm_t comm)
{
    return comm_end(PT_SYM_CommFinalize, PT_OP_CommFinalize, comm, 0);
}

PT_EXPORT ncclResult_t ncclCommDestroy(ncclComm_t comm)
{
    return comm_end(PT_SYM_CommDestroy, PT_OP_CommDestroy, comm, 1);
}

PT_EXPORT ncclResult_t ncclCommAbort(ncclComm_t comm)
{
    return comm_end(PT_SYM_CommAbort, PT_OP_CommAbort, comm, 1);
}

typedef ncclResult_t (*revoke_fn)(ncclComm_t, int);
PT_EXPORT ncclResult_t ncclCommRevoke(ncclComm_t comm, int revokeFlags)
{
    REAL(CommRevoke, revoke_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_CommRevoke))
        return real(comm, revokeFlags);
    c.comm = comm;
    c.lookup_only = 1;
    c.count = (uint64_t)(uint32_t)revokeFlags;
    ncclResult_t r = real(comm, revokeFlags);
    pt_call_end(&c, r);
    return r;
}

/* Queries: the answer goes into aux. */
typedef ncclResult_t (*query_fn)(const ncclComm_t, int *);
static ncclResult_t query(enum pt_nccl_sym sym, uint16_t op, const ncclComm_t comm, int *out)
{
    query_fn real = (query_fn)pt_nccl_real(sym);
    if (!real)
        return (ncclResult_t)pt_nccl_missing(sym);
    struct pt_call c;
    if (!pt_call_begin(&c, op))
        return real(comm, out);
    c.comm = comm;
    ncclResult_t r = real(comm, out);
    c.aux = (r == ncclSuccess && out) ? (uint64_t)(int64_t)*out : 0;
    pt_call_end(&c, r);
    return r;
}

PT_EXPORT ncclResult_t ncclCommCount(const ncclComm_t comm, int *count)
{
    return query(PT_SYM_CommCount, PT_OP_CommCount, comm, count);
}

PT_EXPORT ncclResult_t ncclCommCuDevice(const ncclComm_t comm, int *device)
{
    return query(PT_SYM_CommCuDevice, PT_OP_CommCuDevice, comm, device);
}

PT_EXPORT ncclResult_t ncclCommUserRank(const ncclComm_t comm, int *rank)
{
    return query(PT_SYM_CommUserRank, PT_OP_CommUserRank, comm, rank);
}

/* Memory and registration: bytes = buffer size, aux = buffer or handle. */
typedef ncclResult_t (*register_fn)(const ncclComm_t, void *, size_t, void **);
PT_EXPORT ncclResult_t ncclCommRegister(const ncclComm_t comm, void *buff, size_t size, void **handle)
{
    REAL(CommRegister, register_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_CommRegister))
        return real(comm, buff, size, handle);
    c.comm = comm;
    c.bytes = size;
    c.aux = (uintptr_t)buff;
    ncclResult_t r = real(comm, buff, size, handle);
    pt_call_end(&c, r);
    return r;
}

typedef ncclResult_t (*deregister_fn)(const ncclComm_t, void *);
PT_EXPORT ncclResult_t ncclCommDeregister(const ncclComm_t comm, void *handle)
{
    REAL(CommDeregister, deregister_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_CommDeregister))
        return real(comm, handle);
    c.comm = comm;
    c.aux = (uintptr_t)handle;
    ncclResult_t r = real(comm, handle);
    pt_call_end(&c, r);
    return r;
}

typedef ncclResult_t (*win_register_fn)(ncclComm_t, void *, size_t, ncclWindow_t *, int);
PT_EXPORT ncclResult_t ncclCommWindowRegister(ncclComm_t comm, void *buff, size_t size,
                                              ncclWindow_t *win, int winFlags)
{
    REAL(CommWindowRegister, win_register_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_CommWindowRegister))
        return real(comm, buff, size, win, winFlags);
    c.comm = comm;
    c.bytes = size;
    c.aux = (uintptr_t)buff;
    c.count = (uint64_t)(uint32_t)winFlags;
    ncclResult_t r = real(comm, buff, size, win, winFlags);
    pt_call_end(&c, r);
    return r;
}

typedef ncclResult_t (*win_deregister_fn)(ncclComm_t, ncclWindow_t);
PT_EXPORT ncclResult_t ncclCommWindowDeregister(ncclComm_t comm, ncclWindow_t win)
{
    REAL(CommWindowDeregister, win_deregister_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_CommWindowDeregister))
        return real(comm, win);
    c.comm = comm;
    c.aux = (uintptr_t)win;
    ncclResult_t r = real(comm, win);
    pt_call_end(&c, r);
    return r;
}

typedef ncclResult_t (*mem_alloc_fn)(void **, size_t);
PT_EXPORT ncclResult_t ncclMemAlloc(void **ptr, size_t size)
{
    REAL(MemAlloc, mem_alloc_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_MemAlloc))
        return real(ptr, size);
    c.bytes = size;
    ncclResult_t r = real(ptr, size);
    c.aux = (r == ncclSuccess && ptr) ? (uintptr_t)*ptr : 0;
    pt_call_end(&c, r);
    return r;
}

typedef ncclResult_t (*mem_free_fn)(void *);
PT_EXPORT ncclResult_t ncclMemFree(void *ptr)
{
    REAL(MemFree, mem_free_fn);
    struct pt_call c;
    if (!pt_call_begin(&c, PT_OP_MemFree))
        return real(ptr);
    c.aux = (uintptr_t)ptr;
    ncclResult_t r = real(ptr);
    pt_call_end(&c, r);
    return r;
}
