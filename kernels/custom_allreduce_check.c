/* pt_custom_ar_check: the custom all-reduce's kernels (custom_allreduce_ops.h) against a sum
 * on the host, on one GPU: W ranks as W streams of one process, each with its own buffer,
 * flags and counters, their kernels running at once (they wait for each other at the
 * meetings). For W = 2, 4, 8, one and two stages, odd and even sizes: every rank's output equal
 * to the host's bf16 sum in rank order, bit for bit, over repeated calls (the barrier counts
 * carry on) and over replays of each rank's calls captured as a CUDA graph.
 *   pt_custom_ar_check        prints one line per case; exit 1 when one differs */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custom_allreduce_ops.h"

static float from_bf16(pt_bf16 v)
{
    uint32_t u = (uint32_t)v << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static pt_bf16 to_bf16(float f) /* round to nearest even, as __float2bfloat16 */
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return 0x7fc0;
    return (pt_bf16)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

struct rank {
    pt_bf16 *buffer, *out;
    uint32_t *flags, *counters;
    cudaStream_t st;
    cudaGraphExec_t graph;
};

/* Runs `calls` all-reduces of n elements over w ranks (as graphs replays when graphed) and
 * checks the last. Returns the number of elements that differ, -1 on a CUDA error. */
static long run_case(int w, size_t n, int two_stage, int calls, int graphed)
{
    struct rank r[PT_CAR_MAX_RANKS] = {0};
    struct pt_car_peers peers = {0};
    size_t scratch = n, flags = (size_t)PT_CAR_BLOCKS * PT_CAR_MAX_RANKS * 4;
    pt_bf16 *host = malloc(n * sizeof *host * (size_t)w), *got = malloc(n * sizeof *got);
    long bad = host && got ? 0 : -1;
    for (int i = 0; i < w && !bad; i++) {
        bad = cudaMalloc((void **)&r[i].buffer, 2 * n * sizeof(pt_bf16) + flags) != cudaSuccess ||
              cudaMalloc((void **)&r[i].out, n * sizeof(pt_bf16)) != cudaSuccess ||
              cudaMalloc((void **)&r[i].counters, PT_CAR_BLOCKS * 4) != cudaSuccess ||
              cudaStreamCreateWithFlags(&r[i].st, cudaStreamNonBlocking) != cudaSuccess;
        if (bad)
            break;
        r[i].flags = (uint32_t *)(r[i].buffer + 2 * n);
        peers.data[i] = r[i].buffer, peers.flags[i] = r[i].flags;
        cudaMemset(r[i].flags, 0, flags);
        cudaMemset(r[i].counters, 0, PT_CAR_BLOCKS * 4);
        for (size_t k = 0; k < n; k++) /* small integers and halves: sums exact in fp32 */
            host[(size_t)i * n + k] = to_bf16((float)((int)((k * 7 + (size_t)i * 13) % 61) - 30) * 0.5f);
        bad = cudaMemcpy(r[i].buffer, host + (size_t)i * n, n * sizeof(pt_bf16), cudaMemcpyHostToDevice) != cudaSuccess;
    }
    for (int i = 0; i < w && !bad && graphed; i++) {
        cudaGraph_t g;
        bad = cudaStreamBeginCapture(r[i].st, cudaStreamCaptureModeThreadLocal) != cudaSuccess;
        pt_op_custom_allreduce(&peers, r[i].counters, i, w, n, scratch, two_stage, r[i].out, r[i].st);
        bad |= cudaStreamEndCapture(r[i].st, &g) != cudaSuccess;
        bad |= !bad && cudaGraphInstantiate(&r[i].graph, g, 0) != cudaSuccess;
        if (!bad)
            cudaGraphDestroy(g);
    }
    cudaDeviceSynchronize();
    for (int c = 0; c < calls && !bad; c++)
        for (int i = 0; i < w; i++) {
            if (graphed)
                cudaGraphLaunch(r[i].graph, r[i].st);
            else
                pt_op_custom_allreduce(&peers, r[i].counters, i, w, n, scratch, two_stage, r[i].out, r[i].st);
        }
    bad = bad || cudaDeviceSynchronize() != cudaSuccess ? -1 : 0;
    for (int i = 0; i < w && !bad; i++) {
        if (cudaMemcpy(got, r[i].out, n * sizeof *got, cudaMemcpyDeviceToHost) != cudaSuccess) {
            bad = -1;
            break;
        }
        for (size_t k = 0; k < n; k++) {
            float s = 0;
            for (int j = 0; j < w; j++)
                s += from_bf16(host[(size_t)j * n + k]);
            bad += got[k] != to_bf16(s);
        }
    }
    for (int i = 0; i < w; i++) {
        if (r[i].graph)
            cudaGraphExecDestroy(r[i].graph);
        if (r[i].st)
            cudaStreamDestroy(r[i].st);
        cudaFree(r[i].buffer), cudaFree(r[i].out), cudaFree(r[i].counters);
    }
    free(host), free(got);
    return bad;
}

int main(void)
{
    static const size_t sizes[] = {1, 1000, 4097, 1 << 20};
    int failed = 0;
    for (int w = 2; w <= PT_CAR_MAX_RANKS; w *= 2)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (int two = 0; two < 2; two++)
                for (int graphed = 0; graphed < 2; graphed++) {
                    long bad = run_case(w, sizes[s], two, 20, graphed);
                    printf("ranks %d, %zu elements, %s stage%s, %s: %s\n", w, sizes[s], two ? "two" : "one",
                           two ? "s" : "", graphed ? "20 graph replays" : "20 calls",
                           bad < 0 ? "CUDA error" : bad ? "DIFFERS" : "equal to the host's sum");
                    failed |= bad != 0;
                }
    return failed;
}
