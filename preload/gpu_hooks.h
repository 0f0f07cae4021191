/* What the recorder offers the GPU side (cupti/), which it does not know: a list of hooks that
 * cupti/ registers from a constructor that runs before the recorder's own (priority 101), and
 * the few flags both sides read on the hot path. The recorder calls the hooks at fixed points
 * (its constructor, each writer pass, around each NCCL call, in a fork child); with none
 * registered it records NCCL calls only. cupti/ emits its records through preload/emit.h. */
#ifndef PT_GPU_HOOKS_H
#define PT_GPU_HOOKS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The writer's sink for records made on its own thread (copied into the frame being built). */
typedef void (*pt_put_fn)(const void *rec, size_t bytes, void *arg);

struct pt_gpu_hooks {
    /* Constructor, after the settings are read: set up what the GPU side needs before the
     * application initialises CUDA. */
    void (*configure)(void);
    /* Writer thread, every pass, before draining the rings: ask for finished GPU buffers. */
    void (*before_drain)(void);
    /* Writer thread: records just drained from a ring (ticks already turned into ns). */
    void (*learn)(char *records, size_t bytes);
    /* Writer thread, every pass, after draining the rings: the GPU records got back, through
     * put. final: everything, at exit. */
    void (*after_drain)(pt_put_fn put, void *arg, int final);
    /* Around a NCCL call, only while pt_gpu_tie is set (application threads). */
    void (*call_enter)(uint64_t call_id);
    void (*call_exit)(void);
    /* In a fork child, which may not use the parent's GPU state. */
    void (*after_fork)(void);
};

/* Adds hooks (a static struct, kept by address); at most PT_GPU_HOOKS_MAX. Constructor only. */
#define PT_GPU_HOOKS_MAX 4
void pt_gpu_hooks_register(const struct pt_gpu_hooks *h);

/* The recorder's calls of every registered hook of one kind (no-ops without any). */
void pt_gpu_configure(void);
void pt_gpu_before_drain(void);
void pt_gpu_learn(char *records, size_t bytes);
void pt_gpu_after_drain(pt_put_fn put, void *arg, int final);
void pt_gpu_call_enter(uint64_t call_id);
void pt_gpu_call_exit(void);
void pt_gpu_after_fork(void);

/* Set by the GPU side while NCCL calls are to be announced to it (call_enter/call_exit). */
extern _Atomic int pt_gpu_tie;
/* The collective or send/recv call entered last, by any thread: a graph node that NCCL makes on
 * its own thread (capture on a non-blocking communicator) belongs to it, as a rule. Kept only
 * while pt_gpu_hint_wanted. */
extern _Atomic uint64_t pt_gpu_last_call;
/* Set by the recorder once a non-blocking communicator was created. */
extern _Atomic int pt_gpu_hint_wanted;

#endif
