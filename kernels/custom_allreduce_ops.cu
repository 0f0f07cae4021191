// The custom all-reduce's kernels (custom_allreduce_ops.h).
#include "custom_allreduce_ops.h"

#include <cuda_bf16.h>

namespace {

__device__ inline float load(const pt_bf16 *p, size_t i)
{
    return __bfloat162float(reinterpret_cast<const __nv_bfloat16 *>(p)[i]);
}

__device__ inline void store(pt_bf16 *p, size_t i, float v)
{
    reinterpret_cast<__nv_bfloat16 *>(p)[i] = __float2bfloat16(v);
}

// Block b of every rank meets here: each writes the block's new count into its slot of every
// rank's flags, then waits until every rank's slot in its own flags has reached it. What the
// block wrote before is visible to the others after (the fences).
__device__ void meet(const pt_car_peers &p, uint32_t *counters, int me, int world)
{
    __shared__ uint32_t epoch;
    __threadfence_system();
    __syncthreads();
    if (threadIdx.x == 0)
        epoch = ++counters[blockIdx.x];
    __syncthreads();
    if (threadIdx.x < (unsigned)world) {
        volatile uint32_t *theirs = p.flags[threadIdx.x] + blockIdx.x * PT_CAR_MAX_RANKS + me;
        volatile uint32_t *mine = p.flags[me] + blockIdx.x * PT_CAR_MAX_RANKS + threadIdx.x;
        *theirs = epoch;
        while (*mine < epoch) // a rank can be one meeting ahead, never two
            ;
        __threadfence_system();
    }
    __syncthreads();
}

__device__ inline float sum_at(const pt_car_peers &p, int world, size_t i)
{
    float s = 0;
    for (int r = 0; r < world; r++)
        s += load(p.data[r], i);
    return s;
}

// The names say what they are, as vLLM's (cross_device_reduce_1stage/2stage): partrace's table
// of communication kernels finds them by that.
__global__ void pt_cross_device_reduce_1stage(pt_car_peers p, uint32_t *counters, int me, int world, size_t n,
                                              pt_bf16 *out)
{
    meet(p, counters, me, world);
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        store(out, i, sum_at(p, world, i));
    meet(p, counters, me, world); // no rank refills its input before all have read it
}

__global__ void pt_cross_device_reduce_2stage(pt_car_peers p, uint32_t *counters, int me, int world, size_t n,
                                              size_t scratch, pt_bf16 *out)
{
    size_t chunk = (n + world - 1) / world, step = (size_t)gridDim.x * blockDim.x;
    size_t first = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    meet(p, counters, me, world);
    size_t lo = me * chunk, hi = lo + chunk < n ? lo + chunk : n;
    for (size_t i = lo + first; i < hi; i += step)
        store(p.data[me] + scratch, i, sum_at(p, world, i));
    meet(p, counters, me, world);
    // Slice r was summed by rank r's block of the same index: the one this block met.
    for (int r = 0; r < world; r++) {
        size_t a = r * chunk, b = a + chunk < n ? a + chunk : n;
        for (size_t i = a + first; i < b; i += step)
            out[i] = p.data[r][scratch + i];
    }
    meet(p, counters, me, world);
}

} // namespace

void pt_op_custom_allreduce(const struct pt_car_peers *peers, uint32_t *counters, int me, int world, size_t n,
                            size_t scratch, int two_stage, pt_bf16 *out, cudaStream_t st)
{
    if (two_stage)
        pt_cross_device_reduce_2stage<<<PT_CAR_BLOCKS, 512, 0, st>>>(*peers, counters, me, world, n, scratch, out);
    else
        pt_cross_device_reduce_1stage<<<PT_CAR_BLOCKS, 512, 0, st>>>(*peers, counters, me, world, n, out);
}
