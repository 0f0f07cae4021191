/* The kernels of the engine's custom all-reduce (custom_allreduce.h): a TP group's ranks sum a
 * bf16 tensor by reading each other's buffers directly (CUDA IPC, over NVLink), without NCCL,
 * as vLLM's custom all-reduce does. The ranks meet at barriers made of flags they write into
 * each other's buffers; every rank launches the same sequence of calls, so each block's barrier
 * count (kept on the GPU) agrees across ranks, which lets a CUDA graph replay the calls. */
#ifndef PT_CUSTOM_ALLREDUCE_OPS_H
#define PT_CUSTOM_ALLREDUCE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "ops.h"

#define PT_CAR_MAX_RANKS 8
#define PT_CAR_BLOCKS 16  /* thread blocks per call: every rank's must run at once */

/* What every rank's kernel reads and writes, as this process addresses it: each rank's buffer
 * (input at 0, the two-stage kernel's partial sums at `scratch`) and its flags
 * ([PT_CAR_BLOCKS][PT_CAR_MAX_RANKS]: slot [b][r] is written by rank r's block b). */
struct pt_car_peers {
    pt_bf16 *data[PT_CAR_MAX_RANKS];
    uint32_t *flags[PT_CAR_MAX_RANKS];
};

#ifdef __cplusplus
extern "C" {
#endif

/* out = the sum over the world ranks of their n inputs (each rank's in peers->data[r]), rank
 * me's share of the call. counters: this rank's barrier counts, PT_CAR_BLOCKS zeroed ints at
 * first. two_stage: each rank sums a 1/world slice into its scratch, then gathers the slices
 * (for large inputs); else each rank sums all of it (one stage). Sums in rank order, in fp32: every
 * rank gets the same bits. */
void pt_op_custom_allreduce(const struct pt_car_peers *peers, uint32_t *counters, int me, int world, size_t n,
                            size_t scratch, int two_stage, pt_bf16 *out, cudaStream_t st);

#ifdef __cplusplus
}
#endif

#endif
