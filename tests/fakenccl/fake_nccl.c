/* A test double of NCCL for CPU-only machines: libnccl.so.2 with the real nccl.h ABI (strong
 * pnccl* functions, weak nccl* aliases, as NCCL ships them). It moves no data. It checks its
 * arguments like NCCL does, keeps communicator state, tracks group depth, and can sleep in each
 * data-moving call (FAKE_NCCL_DELAY_US) so that timings are visible. ncclBcast calls the public
 * ncclBroadcast, as the real library does, so a tracer sees the nested call. */
#include <nccl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NCCL_API(ret, name, ...)  \
    ret p##name(__VA_ARGS__);     \
    ret name(__VA_ARGS__) __attribute__((weak, alias("p" #name)));

struct ncclComm {
    int nranks, rank, device;
    int blocking;
    uint32_t magic;
};
#define COMM_MAGIC 0xfa4ec0aau

static __thread int group_depth;
static __thread const char *group_kernel; /* the kernel a group launches at its end */

/* Playing the GPU on CPU-only machines: when a test sets a hook (tests/fakecupti), each
 * data-moving call "launches" its kernel, named as NCCL names them; grouped calls launch one
 * kernel at the outermost ncclGroupEnd, as NCCL does. */
static void (*launch_hook)(const char *name, uint32_t stream);
void fake_nccl_set_launch_hook(void (*hook)(const char *name, uint32_t stream));
void fake_nccl_set_launch_hook(void (*hook)(const char *name, uint32_t stream))
{
    launch_hook = hook;
}

static __thread int group_nonblocking;

struct async_launch {
    const char *kernel;
    uint32_t stream;
};

static void *launch_thread(void *arg)
{
    struct async_launch *a = arg;
    launch_hook(a->kernel, a->stream);
    return NULL;
}

/* Non-blocking communicators launch from a NCCL thread, as NCCL does after ncclInProgress. */
static void launch(const char *kernel, cudaStream_t stream, int nonblocking)
{
    if (!launch_hook)
        return;
    if (group_depth > 0) {
        group_kernel = kernel;
        group_nonblocking |= nonblocking;
    } else if (nonblocking) {
        struct async_launch a = {kernel, (uint32_t)(uintptr_t)stream};
        pthread_t t;
        if (pthread_create(&t, NULL, launch_thread, &a) == 0)
            pthread_join(t, NULL);
    } else {
        launch_hook(kernel, (uint32_t)(uintptr_t)stream);
    }
}
static _Atomic long delay_us = -1; /* read from the environment once, by any thread (TSan) */

static void maybe_delay(void)
{
    if (atomic_load(&delay_us) < 0) {
        const char *v = getenv("FAKE_NCCL_DELAY_US");
        atomic_store(&delay_us, v ? atol(v) : 0);
    }
    long delay_us_now = atomic_load(&delay_us);
    if (delay_us_now > 0) {
        struct timespec ts = {delay_us_now / 1000000, (delay_us_now % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
}

static int valid(const struct ncclComm *c)
{
    return c && c->magic == COMM_MAGIC;
}

/* Communicators come from a fixed pool, not malloc: the tests fork in signal handlers while
 * communicators are made and destroyed, which glibc's allocator lock would turn into a hang of
 * its own (fork takes it) that has nothing to do with the recorder under test. */
#define COMM_POOL 4096
static struct ncclComm comm_pool[COMM_POOL];
static _Atomic int comm_taken[COMM_POOL];

static struct ncclComm *comm_alloc(void)
{
    for (int i = 0; i < COMM_POOL; i++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&comm_taken[i], &expected, 1)) {
            memset(&comm_pool[i], 0, sizeof comm_pool[i]);
            return &comm_pool[i];
        }
    }
    return NULL;
}

static void comm_free(struct ncclComm *c) { atomic_store(&comm_taken[c - comm_pool], 0); }

static ncclResult_t new_comm(ncclComm_t *out, int nranks, int rank, int device, int blocking)
{
    if (!out || nranks <= 0 || rank < 0 || rank >= nranks)
        return ncclInvalidArgument;
    struct ncclComm *c = comm_alloc();
    if (!c)
        return ncclSystemError;
    c->nranks = nranks;
    c->rank = rank;
    c->device = device;
    c->blocking = blocking;
    c->magic = COMM_MAGIC;
    *out = c;
    return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclGetVersion, int *version)
ncclResult_t pncclGetVersion(int *version)
{
    if (!version)
        return ncclInvalidArgument;
    *version = NCCL_VERSION_CODE;
    return ncclSuccess;
}

NCCL_API(const char *, ncclGetErrorString, ncclResult_t result)
const char *pncclGetErrorString(ncclResult_t result)
{
    return result == ncclSuccess ? "no error" : "fake nccl error";
}

NCCL_API(const char *, ncclGetLastError, ncclComm_t comm)
const char *pncclGetLastError(ncclComm_t comm)
{
    (void)comm;
    return "";
}

NCCL_API(ncclResult_t, ncclGetUniqueId, ncclUniqueId *uniqueId)
ncclResult_t pncclGetUniqueId(ncclUniqueId *uniqueId)
{
    if (!uniqueId)
        return ncclInvalidArgument;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_sec;
    for (size_t i = 0; i < sizeof uniqueId->internal; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uniqueId->internal[i] = (char)(x >> 56);
    }
    return ncclSuccess;
}

static int device_for(int rank)
{
    const char *v = getenv("FAKE_NCCL_DEVICE");
    return v ? atoi(v) : rank % 8;
}

NCCL_API(ncclResult_t, ncclCommInitRank, ncclComm_t *comm, int nranks, ncclUniqueId commId, int rank)
ncclResult_t pncclCommInitRank(ncclComm_t *comm, int nranks, ncclUniqueId commId, int rank)
{
    (void)commId;
    return new_comm(comm, nranks, rank, device_for(rank), 1);
}

NCCL_API(ncclResult_t, ncclCommInitRankConfig, ncclComm_t *comm, int nranks, ncclUniqueId commId,
         int rank, ncclConfig_t *config)
ncclResult_t pncclCommInitRankConfig(ncclComm_t *comm, int nranks, ncclUniqueId commId, int rank,
                                     ncclConfig_t *config)
{
    (void)commId;
    int blocking = !(config && config->blocking == 0);
    ncclResult_t r = new_comm(comm, nranks, rank, device_for(rank), blocking);
    return r == ncclSuccess && !blocking ? ncclInProgress : r;
}

NCCL_API(ncclResult_t, ncclCommInitRankScalable, ncclComm_t *newcomm, int nranks, int myrank,
         int nId, ncclUniqueId *commIds, ncclConfig_t *config)
ncclResult_t pncclCommInitRankScalable(ncclComm_t *newcomm, int nranks, int myrank, int nId,
                                       ncclUniqueId *commIds, ncclConfig_t *config)
{
    (void)config;
    if (nId <= 0 || !commIds)
        return ncclInvalidArgument;
    return new_comm(newcomm, nranks, myrank, device_for(myrank), 1);
}

NCCL_API(ncclResult_t, ncclCommInitAll, ncclComm_t *comms, int ndev, const int *devlist)
ncclResult_t pncclCommInitAll(ncclComm_t *comms, int ndev, const int *devlist)
{
    if (!comms || ndev <= 0)
        return ncclInvalidArgument;
    for (int i = 0; i < ndev; i++) {
        ncclResult_t r = new_comm(&comms[i], ndev, i, devlist ? devlist[i] : i, 1);
        if (r != ncclSuccess)
            return r;
    }
    return ncclSuccess;
}

/* Splits keep size and rank (the fake cannot see other ranks' colors). */
NCCL_API(ncclResult_t, ncclCommSplit, ncclComm_t comm, int color, int key, ncclComm_t *newcomm,
         ncclConfig_t *config)
ncclResult_t pncclCommSplit(ncclComm_t comm, int color, int key, ncclComm_t *newcomm,
                            ncclConfig_t *config)
{
    (void)key;
    (void)config;
    if (!valid(comm) || !newcomm)
        return ncclInvalidArgument;
    if (color == NCCL_SPLIT_NOCOLOR) {
        *newcomm = NULL;
        return ncclSuccess;
    }
    return new_comm(newcomm, comm->nranks, comm->rank, comm->device, 1);
}

#ifndef FAKE_NCCL_OLD /* an older NCCL: no ncclCommShrink */
NCCL_API(ncclResult_t, ncclCommShrink, ncclComm_t comm, int *excludeRanksList,
         int excludeRanksCount, ncclComm_t *newcomm, ncclConfig_t *config, int shrinkFlags)
ncclResult_t pncclCommShrink(ncclComm_t comm, int *excludeRanksList, int excludeRanksCount,
                             ncclComm_t *newcomm, ncclConfig_t *config, int shrinkFlags)
{
    (void)config;
    (void)shrinkFlags;
    if (!valid(comm) || !newcomm || excludeRanksCount < 0 || excludeRanksCount >= comm->nranks)
        return ncclInvalidArgument;
    int below = 0;
    for (int i = 0; i < excludeRanksCount; i++)
        below += excludeRanksList[i] < comm->rank;
    return new_comm(newcomm, comm->nranks - excludeRanksCount, comm->rank - below, comm->device, 1);
}
#endif

static ncclResult_t end_comm(ncclComm_t comm, int free_it)
{
    if (!valid(comm))
        return ncclInvalidArgument;
    if (free_it) {
        comm->magic = 0;
        comm_free(comm);
        /* FAKE_NCCL_FREED_SLEEP_US: linger after freeing, as a real destroy may, so that a test
         * can make another thread's new communicator take the freed address meanwhile. */
        const char *v = getenv("FAKE_NCCL_FREED_SLEEP_US");
        if (v && atol(v) > 0) {
            struct timespec ts = {atol(v) / 1000000, (atol(v) % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclCommFinalize, ncclComm_t comm)
ncclResult_t pncclCommFinalize(ncclComm_t comm) { return end_comm(comm, 0); }
NCCL_API(ncclResult_t, ncclCommDestroy, ncclComm_t comm)
ncclResult_t pncclCommDestroy(ncclComm_t comm) { return end_comm(comm, 1); }
NCCL_API(ncclResult_t, ncclCommAbort, ncclComm_t comm)
ncclResult_t pncclCommAbort(ncclComm_t comm) { return end_comm(comm, 1); }
NCCL_API(ncclResult_t, ncclCommRevoke, ncclComm_t comm, int revokeFlags)
ncclResult_t pncclCommRevoke(ncclComm_t comm, int revokeFlags)
{
    return revokeFlags != NCCL_REVOKE_DEFAULT ? ncclInvalidArgument : end_comm(comm, 0);
}

NCCL_API(ncclResult_t, ncclCommGetAsyncError, ncclComm_t comm, ncclResult_t *asyncError)
ncclResult_t pncclCommGetAsyncError(ncclComm_t comm, ncclResult_t *asyncError)
{
    if (!valid(comm) || !asyncError)
        return ncclInvalidArgument;
    *asyncError = ncclSuccess;
    return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclCommCount, const ncclComm_t comm, int *count)
ncclResult_t pncclCommCount(const ncclComm_t comm, int *count)
{
    if (!valid(comm) || !count)
        return ncclInvalidArgument;
    *count = comm->nranks;
    return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclCommCuDevice, const ncclComm_t comm, int *device)
ncclResult_t pncclCommCuDevice(const ncclComm_t comm, int *device)
{
    if (!valid(comm) || !device)
        return ncclInvalidArgument;
    *device = comm->device;
    return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclCommUserRank, const ncclComm_t comm, int *rank)
ncclResult_t pncclCommUserRank(const ncclComm_t comm, int *rank)
{
    if (!valid(comm) || !rank)
        return ncclInvalidArgument;
    *rank = comm->rank;
    return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclCommRegister, const ncclComm_t comm, void *buff, size_t size, void **handle)
ncclResult_t pncclCommRegister(const ncclComm_t comm, void *buff, size_t size, void **handle)
{
    if (!valid(comm) || !buff || !size || !handle)
        return ncclInvalidArgument;
    *handle = buff;
    return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclCommDeregister, const ncclComm_t comm, void *handle)
ncclResult_t pncclCommDeregister(const ncclComm_t comm, void *handle)
{
    return valid(comm) && handle ? ncclSuccess : ncclInvalidArgument;
}

NCCL_API(ncclResult_t, ncclCommWindowRegister, ncclComm_t comm, void *buff, size_t size,
         ncclWindow_t *win, int winFlags)
ncclResult_t pncclCommWindowRegister(ncclComm_t comm, void *buff, size_t size, ncclWindow_t *win,
                                     int winFlags)
{
    (void)winFlags;
    if (!valid(comm) || !buff || !size || !win)
        return ncclInvalidArgument;
    *win = (ncclWindow_t)buff;
    return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclCommWindowDeregister, ncclComm_t comm, ncclWindow_t win)
ncclResult_t pncclCommWindowDeregister(ncclComm_t comm, ncclWindow_t win)
{
    return valid(comm) && win ? ncclSuccess : ncclInvalidArgument;
}

NCCL_API(ncclResult_t, ncclMemAlloc, void **ptr, size_t size)
ncclResult_t pncclMemAlloc(void **ptr, size_t size)
{
    if (!ptr || !size)
        return ncclInvalidArgument;
    *ptr = malloc(size);
    return *ptr ? ncclSuccess : ncclSystemError;
}

NCCL_API(ncclResult_t, ncclMemFree, void *ptr)
ncclResult_t pncclMemFree(void *ptr)
{
    free(ptr);
    return ncclSuccess;
}

static ncclResult_t data_call_named(ncclComm_t comm, ncclDataType_t datatype, int peer,
                                    const char *kernel, cudaStream_t stream)
{
    if (!valid(comm) || datatype < 0 || datatype >= ncclNumTypes)
        return ncclInvalidArgument;
    if (peer != -1 && (peer < 0 || peer >= comm->nranks))
        return ncclInvalidArgument;
    maybe_delay();
    launch(kernel, stream, !comm->blocking);
    return ncclSuccess;
}
#define data_call(comm, datatype, peer) \
    data_call_named(comm, datatype, peer, "ncclDevKernel_Generic", stream)

NCCL_API(ncclResult_t, ncclAllReduce, const void *sendbuff, void *recvbuff, size_t count,
         ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream)
ncclResult_t pncclAllReduce(const void *sendbuff, void *recvbuff, size_t count,
                            ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
                            cudaStream_t stream)
{
    (void)sendbuff, (void)recvbuff, (void)count, (void)op;
    return data_call_named(comm, datatype, -1, "ncclDevKernel_AllReduce_Sum_f32_RING_LL", stream);
}

NCCL_API(ncclResult_t, ncclReduceScatter, const void *sendbuff, void *recvbuff, size_t recvcount,
         ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream)
ncclResult_t pncclReduceScatter(const void *sendbuff, void *recvbuff, size_t recvcount,
                                ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
                                cudaStream_t stream)
{
    (void)sendbuff, (void)recvbuff, (void)recvcount, (void)op;
    return data_call(comm, datatype, -1);
}

NCCL_API(ncclResult_t, ncclReduce, const void *sendbuff, void *recvbuff, size_t count,
         ncclDataType_t datatype, ncclRedOp_t op, int root, ncclComm_t comm, cudaStream_t stream)
ncclResult_t pncclReduce(const void *sendbuff, void *recvbuff, size_t count,
                         ncclDataType_t datatype, ncclRedOp_t op, int root, ncclComm_t comm,
                         cudaStream_t stream)
{
    (void)sendbuff, (void)recvbuff, (void)count, (void)op;
    return data_call(comm, datatype, root);
}

NCCL_API(ncclResult_t, ncclBroadcast, const void *sendbuff, void *recvbuff, size_t count,
         ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream)
ncclResult_t pncclBroadcast(const void *sendbuff, void *recvbuff, size_t count,
                            ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream)
{
    (void)sendbuff, (void)recvbuff, (void)count;
    return data_call(comm, datatype, root);
}

NCCL_API(ncclResult_t, ncclBcast, void *buff, size_t count, ncclDataType_t datatype, int root,
         ncclComm_t comm, cudaStream_t stream)
ncclResult_t pncclBcast(void *buff, size_t count, ncclDataType_t datatype, int root,
                        ncclComm_t comm, cudaStream_t stream)
{
    return ncclBroadcast(buff, buff, count, datatype, root, comm, stream);
}

#define COPY_COLLECTIVE(name)                                                                   \
    NCCL_API(ncclResult_t, name, const void *sendbuff, void *recvbuff, size_t count,            \
             ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream)                     \
    ncclResult_t p##name(const void *sendbuff, void *recvbuff, size_t count,                    \
                         ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream)         \
    {                                                                                           \
        (void)sendbuff, (void)recvbuff, (void)count;                              \
        return data_call(comm, datatype, -1);                                                   \
    }
COPY_COLLECTIVE(ncclAllGather)
COPY_COLLECTIVE(ncclAlltoAll)

#define ROOTED_COLLECTIVE(name)                                                                 \
    NCCL_API(ncclResult_t, name, const void *sendbuff, void *recvbuff, size_t count,            \
             ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream)           \
    ncclResult_t p##name(const void *sendbuff, void *recvbuff, size_t count,                    \
                         ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream) \
    {                                                                                           \
        (void)sendbuff, (void)recvbuff, (void)count;                              \
        return data_call(comm, datatype, root);                                                 \
    }
ROOTED_COLLECTIVE(ncclGather)
ROOTED_COLLECTIVE(ncclScatter)

NCCL_API(ncclResult_t, ncclSend, const void *sendbuff, size_t count, ncclDataType_t datatype,
         int peer, ncclComm_t comm, cudaStream_t stream)
ncclResult_t pncclSend(const void *sendbuff, size_t count, ncclDataType_t datatype, int peer,
                       ncclComm_t comm, cudaStream_t stream)
{
    (void)sendbuff, (void)count;
    return data_call_named(comm, datatype, peer, "ncclDevKernel_SendRecv", stream);
}

NCCL_API(ncclResult_t, ncclRecv, void *recvbuff, size_t count, ncclDataType_t datatype, int peer,
         ncclComm_t comm, cudaStream_t stream)
ncclResult_t pncclRecv(void *recvbuff, size_t count, ncclDataType_t datatype, int peer,
                       ncclComm_t comm, cudaStream_t stream)
{
    (void)recvbuff, (void)count;
    return data_call_named(comm, datatype, peer, "ncclDevKernel_SendRecv", stream);
}

NCCL_API(ncclResult_t, ncclGroupStart, void)
ncclResult_t pncclGroupStart(void)
{
    group_depth++;
    return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclGroupEnd, void)
ncclResult_t pncclGroupEnd(void)
{
    if (group_depth == 0)
        return ncclInvalidUsage;
    group_depth--;
    if (group_depth == 0 && group_kernel) {
        launch(group_kernel, NULL, group_nonblocking);
        group_kernel = NULL;
        group_nonblocking = 0;
    }
    return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclGroupSimulateEnd, ncclSimInfo_t *simInfo)
ncclResult_t pncclGroupSimulateEnd(ncclSimInfo_t *simInfo)
{
    if (group_depth == 0)
        return ncclInvalidUsage;
    group_depth--;
    if (simInfo)
        simInfo->estimatedTime = 1.0f;
    return ncclSuccess;
}
