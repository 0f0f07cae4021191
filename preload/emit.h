/* The recorder's emitting side, for every producer of records in the process (the NCCL
 * wrappers, the GPU side): the recorder's state, each thread's state, and the calls that put a
 * record into the calling thread's ring. Safe from any application thread at any time. */
#ifndef PT_EMIT_H
#define PT_EMIT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <partrace/format.h>

#include "preload/ring.h"

enum pt_state {
    PT_OFF = 0,      /* PARTRACE_DISABLE=1, or the library failed to initialise */
    PT_IDLE = 1,     /* no event yet: no file, no thread */
    PT_STARTING = 2, /* one thread is starting the writer */
    PT_RUNNING = 3,
    PT_STOPPED = 4,  /* final flush done or start failed: events are counted as dropped */
};

/* Per-thread state. Only its own thread touches it (the key destructor runs on that thread). */
struct pt_thread_state {
    struct pt_ring *ring;
    uint32_t status;      /* 0 unregistered, 1 has ring, 2 no ring left, 3 exited */
    uint32_t serial;      /* process-unique thread number, from 1 */
    uint32_t tid;
    uint32_t in_wrapper;  /* recursion guard: nested NCCL calls pass straight through */
    uint32_t group_depth; /* NCCL group nesting as seen through our wrappers */
    uint32_t reserved;
    uint64_t group_id;    /* call id of the outermost GroupStart, 0 when not in a group */
    uint64_t calls;       /* per-thread call counter, for call ids */
    uint64_t commit_at;   /* ring head to publish for the record being written */
    uint64_t current_call_id; /* the NCCL call in progress (valid while in_wrapper) */
};

/* initial-exec: no __tls_get_addr call per event. The block is small enough for the static
 * TLS surplus that glibc keeps for libraries loaded later (CUDA_INJECTION64_PATH). */
extern __thread struct pt_thread_state pt_self __attribute__((tls_model("initial-exec")));
extern _Atomic int pt_state;

/* Appends a record (its header's kind and size set by the caller; tid is filled in).
 * Starts the recorder on the first call. Returns 0, or -1 when the record was dropped. */
int pt_emit(void *rec, size_t bytes);

/* Hot path: space for one record of `bytes` in this thread's ring, written in place, then
 * published by pt_commit(). NULL when the record is dropped (counted). */
void *pt_reserve_slow(size_t bytes);
static inline void *pt_reserve(size_t bytes)
{
    struct pt_thread_state *t = &pt_self;
    if (__builtin_expect(t->status == 1 &&
                             atomic_load_explicit(&pt_state, memory_order_relaxed) == PT_RUNNING,
                         1))
        return pt_ring_reserve(t->ring, bytes, &t->commit_at);
    return pt_reserve_slow(bytes);
}

static inline void pt_commit(void *rec)
{
    ((struct pt_rec_hdr *)rec)->tid = pt_self.tid;
    pt_ring_commit(pt_self.ring, pt_self.commit_at);
}

/* True when records would be kept (enabled and not stopped). */
static inline int pt_recording(void)
{
    int s = atomic_load_explicit(&pt_state, memory_order_relaxed);
    return s == PT_RUNNING || s == PT_IDLE || s == PT_STARTING;
}

#endif
