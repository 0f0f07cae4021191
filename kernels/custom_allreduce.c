/* The custom all-reduce's buffers, shared over CUDA IPC, and its calls (custom_allreduce.h). */
#include "custom_allreduce.h"

#include <stdlib.h>
#include <string.h>

#include "custom_allreduce_ops.h"
#include "engine_error.h"

/* The tensor size from which two stages pay: below it a rank reading all of the others' is
 * quicker than the extra meeting (with two ranks, always one stage). */
#define TWO_STAGE_BYTES (512u << 10)

struct pt_custom_ar {
    ncclComm_t comm;
    int me, world;
    size_t max_elems;
    char *buffer;                  /* this rank's: input, partial sums, flags */
    struct pt_car_peers peers;
    uint32_t *counters;            /* this rank's barrier counts, on the GPU */
    cudaStream_t st;
};

static size_t flags_bytes(void) { return (size_t)PT_CAR_BLOCKS * PT_CAR_MAX_RANKS * sizeof(uint32_t); }

struct pt_custom_ar *pt_custom_ar_new(ncclComm_t comm, int me, int world, size_t max_elems, cudaStream_t st,
                                      char *err, size_t errlen)
{
    if (world < 2 || world > PT_CAR_MAX_RANKS) {
        pt_engine_fail(err, errlen, "the custom all-reduce takes 2 to %d ranks, not %d", PT_CAR_MAX_RANKS, world);
        return NULL;
    }
    struct pt_custom_ar *c = calloc(1, sizeof *c);
    if (!c) {
        pt_engine_fail(err, errlen, "out of memory");
        return NULL;
    }
    c->comm = comm, c->me = me, c->world = world, c->max_elems = max_elems, c->st = st;
    size_t data = 2 * max_elems * sizeof(pt_bf16), bytes = data + flags_bytes();
    cudaIpcMemHandle_t *all = NULL;
    char *exchange = NULL;
    const char *what = "allocating its buffer";
    int bad = cudaMalloc((void **)&c->buffer, bytes) != cudaSuccess ||
              cudaMalloc((void **)&c->counters, PT_CAR_BLOCKS * sizeof(uint32_t)) != cudaSuccess ||
              cudaMalloc((void **)&exchange, (size_t)world * sizeof *all) != cudaSuccess ||
              !(all = calloc((size_t)world, sizeof *all));
    /* Zeroed flags before any rank can see the buffer: the handles' exchange comes after, on
     * the same stream. */
    if (!bad) {
        what = "sharing its buffer";
        bad = cudaMemsetAsync(c->buffer, 0, bytes, st) != cudaSuccess ||
              cudaMemsetAsync(c->counters, 0, PT_CAR_BLOCKS * sizeof(uint32_t), st) != cudaSuccess ||
              cudaIpcGetMemHandle(&all[me], c->buffer) != cudaSuccess ||
              cudaMemcpyAsync(exchange + (size_t)me * sizeof *all, &all[me], sizeof *all, cudaMemcpyHostToDevice,
                              st) != cudaSuccess ||
              ncclAllGather(exchange + (size_t)me * sizeof *all, exchange, sizeof *all, ncclChar, comm, st) !=
                  ncclSuccess ||
              cudaMemcpyAsync(all, exchange, (size_t)world * sizeof *all, cudaMemcpyDeviceToHost, st) != cudaSuccess ||
              cudaStreamSynchronize(st) != cudaSuccess;
    }
    for (int r = 0; r < world && !bad; r++) {
        void *at = c->buffer;
        what = "opening a peer's buffer";
        if (r != me)
            bad = cudaIpcOpenMemHandle(&at, all[r], cudaIpcMemLazyEnablePeerAccess) != cudaSuccess;
        if (!bad) {
            c->peers.data[r] = at;
            c->peers.flags[r] = (uint32_t *)((char *)at + data);
        }
    }
    cudaFree(exchange);
    free(all);
    if (bad) {
        pt_engine_fail(err, errlen, "custom all-reduce, rank %d of %d: %s failed (%s)", me, world, what,
                       cudaGetErrorString(cudaGetLastError()));
        pt_custom_ar_free(c);
        return NULL;
    }
    return c;
}

int pt_custom_ar_reduce(struct pt_custom_ar *c, pt_bf16 *p, size_t n, cudaStream_t st)
{
    if (n > c->max_elems)
        return 1;
    cudaMemcpyAsync(c->buffer, p, n * sizeof *p, cudaMemcpyDeviceToDevice, st);
    int two = c->world > 2 && n * sizeof *p >= TWO_STAGE_BYTES;
    pt_op_custom_allreduce(&c->peers, c->counters, c->me, c->world, n, c->max_elems, two, p, st);
    return 0;
}

void pt_custom_ar_free(struct pt_custom_ar *c)
{
    if (!c)
        return;
    if (c->peers.data[c->me]) { /* every rank done with every buffer: a last all-reduce of one */
        int *one = NULL;
        if (cudaMalloc((void **)&one, sizeof *one) == cudaSuccess) {
            cudaMemsetAsync(one, 0, sizeof *one, c->st);
            ncclAllReduce(one, one, 1, ncclInt32, ncclSum, c->comm, c->st);
            cudaStreamSynchronize(c->st);
            cudaFree(one);
        }
    }
    for (int r = 0; r < c->world; r++)
        if (r != c->me && c->peers.data[r])
            cudaIpcCloseMemHandle(c->peers.data[r]);
    cudaFree(c->buffer);
    cudaFree(c->counters);
    free(c);
}
