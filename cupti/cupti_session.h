/* The GPU side of the recorder: one CUPTI subscription per process, started by the CUDA driver
 * through CUDA_INJECTION64_PATH (set to libpartrace.so by the library constructor when the
 * variable is free, and by `partrace record`). Nothing CUDA-related happens before the driver
 * initialises, so programs that fork before using CUDA keep working. */
#ifndef PT_CUPTI_SESSION_H
#define PT_CUPTI_SESSION_H

#include <stdint.h>

#include "cupti/activity_convert.h"
#include "preload/gpu_hooks.h"

/* 0 off, 1 kernels (activity records only), 2 launches (also CUDA API records). At level
 * launches, while CUPTI is ours, pt_gpu_tie is set: the NCCL wrappers then push their call id as
 * CUPTI external correlation (whose records need API activity). At every level, kernel launches
 * inside NCCL calls are tied by a driver-API callback.
 *
 * The session registers its hooks with the recorder (preload/gpu_hooks.h) from a constructor:
 * configure reads PARTRACE_CUDA and points CUDA_INJECTION64_PATH at this library; before_drain
 * asks CUPTI for its finished buffers; after_drain converts the buffers the last before_drain
 * got back; learn takes graph nodes from the records drained from the rings, so kernels replayed
 * from graphs get their NCCL call; call_enter/call_exit push and pop the external correlation;
 * after_fork stops every CUPTI interaction (CUDA is not usable in a fork child). */
extern int pt_cuda_level;

#endif
