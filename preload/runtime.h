/* Process-wide state of the recorder: start on first event, per-thread buffers, fork, exit.
 * Everything here is safe to call from any application thread at any time. */
#ifndef PT_RUNTIME_H
#define PT_RUNTIME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <partrace/format.h>

#include "preload/emit.h"
#include "preload/ring.h"

extern uint32_t pt_pid;         /* pid of this process image (updated in fork children) */
extern uint64_t pt_start_realtime_ns, pt_start_monotonic_ns;
extern char pt_host[64];
extern int pt_is_fork_child;

/* A process-unique thread number, given at the thread's first need (never reused). */
uint32_t pt_thread_serial(void);

/* A process-unique id for a call: thread serial << 40 | per-thread counter. */
static inline uint64_t pt_next_call_id(void)
{
    uint32_t serial = pt_self.serial ? pt_self.serial : pt_thread_serial();
    return ((uint64_t)serial << 40) | ++pt_self.calls;
}

/* Counts a record dropped outside any ring (no ring left, after stop). */
void pt_count_global_drop(void);

/* The ring registry, for the writer. */
#define PT_MAX_RINGS 4096
extern struct pt_ring *pt_rings[PT_MAX_RINGS];
extern _Atomic uint32_t pt_ring_count;
extern _Atomic uint64_t pt_global_dropped;
extern _Atomic uint32_t pt_thread_serials;

/* Returns a retired ring to the free pool if it is still retired (no new thread adopted it)
 * and empty (writer, after draining it). Returns the drops it had counted when it was freed,
 * else 0. */
uint64_t pt_ring_release_if_drained(struct pt_ring *r);

/* Flushes what is buffered now and waits for it to be on disk (exec, signals, _exit).
 * final != 0 also writes the end record and stops recording. Async-signal-safe. */
void pt_runtime_sync(uint32_t reason, int final, uint32_t end_how);

#endif
