/* The engine's custom all-reduce for a TP group inside one host (--allreduce custom), built the
 * way vLLM's is: each rank allocates one buffer (input, partial sums, flags), shares it with
 * cudaIpcGetMemHandle (the handles all-gathered over the TP communicator), opens the others'
 * with cudaIpcOpenMemHandle, and sums by reading them directly: one stage for small tensors
 * (every rank sums all), two for large ones (each sums a slice, then all gather the slices).
 * Tensors larger than the buffer go to NCCL. Works inside CUDA graphs: the buffers and the
 * barrier counts stay where they are. */
#ifndef PT_CUSTOM_ALLREDUCE_H
#define PT_CUSTOM_ALLREDUCE_H

#include <stddef.h>

#include <cuda_runtime_api.h>
#include <nccl.h>

#include "ops.h"

struct pt_custom_ar;

/* For rank me of the world ranks of comm (2 to 8, one GPU each, one host), for tensors of up to
 * max_elems. NULL with a message in err. */
struct pt_custom_ar *pt_custom_ar_new(ncclComm_t comm, int me, int world, size_t max_elems, cudaStream_t st,
                                      char *err, size_t errlen);
/* Sums the n elements of p over the group, in place, on stream st. Returns 0, or 1 when n is
 * over the buffer (the caller all-reduces with NCCL). */
int pt_custom_ar_reduce(struct pt_custom_ar *c, pt_bf16 *p, size_t n, cudaStream_t st);
/* Waits for the group (so that no rank still writes into this one's flags), then closes and
 * frees. */
void pt_custom_ar_free(struct pt_custom_ar *c);

#endif
