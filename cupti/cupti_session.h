/* The GPU side of the recorder: one CUPTI subscription per process, started by the CUDA driver
 * through CUDA_INJECTION64_PATH (set to libpartrace.so by the library constructor when the
 * variable is free, and by `partrace record`). Nothing CUDA-related happens before the driver
 * initialises, so programs that fork before using CUDA keep working. */
#ifndef PT_CUPTI_SESSION_H
#define PT_CUPTI_SESSION_H

#include <stdatomic.h>
#include <stdint.h>

#include "activity_convert.h"

/* 0 off, 1 kernels (activity records only), 2 launches (also CUDA API records). */
extern int pt_cuda_level;
/* Set at level launches while CUPTI is ours: NCCL wrappers then also push their call id as
 * CUPTI external correlation (whose records need API activity). At every level, kernel launches
 * inside NCCL calls are tied by a driver-API callback. */
extern _Atomic int pt_cupti_tie;
/* The collective or send/recv call entered last, by any thread: a graph node that NCCL makes on
 * its own thread (capture on a non-blocking communicator) belongs to it, as a rule. */
extern _Atomic uint64_t pt_cupti_last_call;
/* Set once a non-blocking communicator was created: only then is pt_cupti_last_call kept. */
extern _Atomic int pt_cupti_hint_wanted;

/* Constructor time: reads PARTRACE_CUDA, points CUDA_INJECTION64_PATH at this library. */
void pt_cuda_config(void);

/* Writer thread, every pass, before draining the rings: asks CUPTI for its finished buffers. */
void pt_cupti_flush(void);

/* Writer thread, every pass, after draining the rings: converts the buffers that the last
 * pt_cupti_flush got back, through put. final: a forced flush first, and everything (exit). */
void pt_cupti_collect(pt_put_fn put, void *arg, int final);

/* Writer thread: learns graph nodes from records drained from the rings, so kernels replayed
 * from graphs get their NCCL call in the file. */
void pt_cupti_learn(char *records, size_t bytes);

/* Around a NCCL call (only when pt_cupti_tie). */
void pt_cupti_push(uint64_t nccl_call_id);
void pt_cupti_pop(void);

/* In a fork child: CUDA is not usable there; stop every CUPTI interaction. */
void pt_cupti_after_fork(void);

#endif
