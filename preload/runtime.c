#include "preload/runtime.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <partrace/format.h>

#include "preload/gpu_hooks.h"
#include "preload/attrs.h"
#include "preload/clock.h"
#include "preload/comm_table.h"
#include "preload/config.h"
#include "preload/log.h"
#include "preload/metrics_scrape.h"
#include "preload/rundir.h"
#include "preload/signal_safe_lock.h"
#include "preload/signals.h"
#include "preload/stacks.h"
#include "preload/writer.h"

__thread struct pt_thread_state pt_self __attribute__((tls_model("initial-exec")));
_Atomic int pt_state = PT_OFF;
uint32_t pt_pid;
uint64_t pt_start_realtime_ns, pt_start_monotonic_ns;
char pt_host[64];
int pt_is_fork_child;

struct pt_ring *pt_rings[PT_MAX_RINGS];
_Atomic uint32_t pt_ring_count;
_Atomic uint64_t pt_global_dropped;
_Atomic uint32_t pt_thread_serials;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t ring_bytes_mapped;
static pthread_key_t thread_key;

void pt_count_global_drop(void)
{
    atomic_fetch_add_explicit(&pt_global_dropped, 1, memory_order_relaxed);
}

/* Thread exit: hand the ring to the writer, which drains and then frees it. */
static void thread_exit(void *arg)
{
    struct pt_thread_state *t = arg;
    if (t->ring)
        atomic_store_explicit(&t->ring->state, PT_RING_RETIRED, memory_order_release);
    t->ring = NULL;
    t->status = 3;
}

static uint64_t ring_size(void)
{
    uint64_t want = (uint64_t)pt_cfg.thread_buffer_kb * 1024, size = 4096;
    while (size * 2 <= want)
        size *= 2;
    return size;
}

/* A ring for a thread's first event: a free one; else a new one, within PARTRACE_BUFFER_MB;
 * else, at that bound, the emptiest ring whose thread has exited, records and all. A ring holds
 * any thread's records (each names its own): the new owner appends after them. So threads that
 * come and go faster than the writer frees their rings share rings instead of finding none. */
static struct pt_ring *ring_acquire(void)
{
    struct pt_ring *r = NULL, *orphan = NULL;
    sigset_t saved;
    pt_lock_signals_blocked(&registry_lock, &saved);
    uint32_t n = atomic_load(&pt_ring_count);
    for (uint32_t i = 0; i < n && !r; i++) {
        int state = atomic_load(&pt_rings[i]->state);
        if (state == PT_RING_FREE)
            r = pt_rings[i];
        else if (state == PT_RING_RETIRED &&
                 (!orphan || pt_ring_pending(pt_rings[i]) < pt_ring_pending(orphan)))
            orphan = pt_rings[i];
    }
    uint64_t size = ring_size();
    if (!r && n < PT_MAX_RINGS && ring_bytes_mapped + size <= (uint64_t)pt_cfg.buffer_mb << 20) {
        void *mem = mmap(NULL, sizeof *r + size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (mem != MAP_FAILED) {
            r = mem;
            r->data = (char *)mem + sizeof *r;
            r->size = size;
            ring_bytes_mapped += size;
            pt_rings[n] = r;
            atomic_store(&pt_ring_count, n + 1);
        }
    }
    if (r)
        pt_ring_reset(r); /* a free or new ring; an adopted one keeps its records */
    else
        r = orphan;
    if (r)
        atomic_store(&r->state, PT_RING_ACTIVE);
    pt_unlock_signals_restored(&registry_lock, &saved);
    return r;
}

uint64_t pt_ring_release_if_drained(struct pt_ring *r)
{
    uint64_t dropped = 0;
    sigset_t saved;
    pt_lock_signals_blocked(&registry_lock, &saved);
    /* Under the lock that ring_acquire takes: a ring adopted since the caller looked is left to
     * its new owner. */
    if (atomic_load(&r->state) == PT_RING_RETIRED && pt_ring_pending(r) == 0) {
        dropped = atomic_load(&r->dropped);
        pt_ring_reset(r);
        atomic_store(&r->state, PT_RING_FREE);
    }
    pt_unlock_signals_restored(&registry_lock, &saved);
    return dropped;
}

uint32_t pt_thread_serial(void)
{
    if (!pt_self.serial)
        pt_self.serial = atomic_fetch_add(&pt_thread_serials, 1) + 1;
    return pt_self.serial;
}

static int thread_register(struct pt_thread_state *t)
{
    if (t->status == 3)
        return -1;
    t->tid = (uint32_t)syscall(SYS_gettid);
    pt_thread_serial();
    t->ring = ring_acquire();
    if (!t->ring) {
        t->status = 2;
        return -1;
    }
    t->ring->tid = t->tid;
    t->status = 1;
    pthread_setspecific(thread_key, t);
    struct pt_rec_thread rec = {0};
    rec.hdr.kind = PT_REC_THREAD;
    rec.hdr.size = sizeof rec;
    rec.hdr.tid = t->tid;
    rec.ts_ns = pt_ticks();
    rec.serial = t->serial;
    prctl(PR_GET_NAME, rec.name);
    rec.name[sizeof rec.name - 1] = '\0';
    pt_ring_push(t->ring, &rec, sizeof rec);
    return 0;
}

/* First event of the process: start the writer. Only one thread does it; the others wait. */
static int runtime_start(void)
{
    int expected = PT_IDLE;
    if (atomic_compare_exchange_strong(&pt_state, &expected, PT_STARTING)) {
        size_t attrs_bytes = 0;
        const char *attrs = pt_attrs_collect(&attrs_bytes);
        pt_signals_take_over();
        int ok = attrs && pt_writer_start(attrs, attrs_bytes) == 0;
        atomic_store(&pt_state, ok ? PT_RUNNING : PT_STOPPED);
        if (ok)
            pt_metrics_scrape_start();
        return ok ? 0 : -1;
    }
    while (expected == PT_STARTING) {
        sched_yield();
        expected = atomic_load(&pt_state);
    }
    return expected == PT_RUNNING ? 0 : -1;
}

void *pt_reserve_slow(size_t bytes)
{
    struct pt_thread_state *t = &pt_self;
    if (atomic_load_explicit(&pt_state, memory_order_acquire) != PT_RUNNING &&
        runtime_start() != 0)
        goto drop;
    if (t->status != 1 && thread_register(t) != 0)
        goto drop;
    return pt_ring_reserve(t->ring, bytes, &t->commit_at);
drop:
    if (atomic_load(&pt_state) != PT_OFF)
        pt_count_global_drop();
    return NULL;
}

int pt_emit(void *rec, size_t bytes)
{
    void *dst = pt_reserve(bytes);
    if (!dst)
        return -1;
    memcpy(dst, rec, bytes);
    pt_commit(dst);
    return 0;
}

/* The last flush's ticket once one was asked for (0: none yet). */
static _Atomic uint64_t final_ticket;

void pt_runtime_sync(uint32_t reason, int final, uint32_t end_how)
{
    /* A vfork child shares our memory but is another process: it must not touch the writer. */
    if ((uint32_t)syscall(SYS_getpid) != pt_pid)
        return;
    if (atomic_load(&pt_state) != PT_RUNNING) {
        /* The last flush is under way (say _exit's) and a signal came on top of it, which is
         * about to end the process (seen: multiprocessing's Pool.terminate() on a worker that
         * was exiting): let that flush finish first. */
        uint64_t last = atomic_load(&final_ticket);
        if (last && atomic_load(&pt_state) == PT_STOPPED)
            pt_writer_wait(last, pt_cfg.exit_wait_ms);
        return;
    }
    uint64_t ticket = pt_writer_request(reason, final, end_how);
    if (final) {
        atomic_store(&final_ticket, ticket);
        atomic_store(&pt_state, PT_STOPPED);
    }
    if (pt_writer_wait(ticket, pt_cfg.exit_wait_ms) != 0)
        pt_warn_raw("partrace: the last flush did not finish in time; the trace may lack its end\n");
}

/* The forking thread's signal mask while our locks are held across fork: a handler that forked
 * again in between would wait for locks its own thread holds. */
static __thread sigset_t fork_saved_mask __attribute__((tls_model("initial-exec")));

static void atfork_prepare(void)
{
    pt_writer_settle_before_fork();
    pt_lock_signals_blocked(&registry_lock, &fork_saved_mask);
    pt_comm_table_lock();
}

static void atfork_parent(void)
{
    pt_comm_table_unlock();
    pt_unlock_signals_restored(&registry_lock, &fork_saved_mask);
}

/* The child has only the forking thread. It keeps none of the parent's buffered records
 * (the parent writes those) and starts its own file at its first event. */
static void atfork_child(void)
{
    pthread_mutex_init(&registry_lock, NULL);
    pthread_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
    pt_comm_table_after_fork();
    pt_gpu_after_fork();
    pt_modules_forget();
    if (atomic_load(&pt_state) == PT_OFF)
        return;
    pt_pid = (uint32_t)getpid();
    pt_is_fork_child = 1;
    atomic_store(&final_ticket, 0);
    pt_writer_forget_after_fork();
    uint32_t n = atomic_load(&pt_ring_count);
    for (uint32_t i = 0; i < n; i++) {
        pt_ring_reset(pt_rings[i]);
        atomic_store(&pt_rings[i]->state, PT_RING_FREE);
    }
    atomic_store(&pt_global_dropped, 0);
    atomic_store(&pt_thread_serials, 0);
    pt_self.ring = NULL;
    pt_self.status = 0;
    pt_self.calls = 0;
    pt_self.serial = 0;
    atomic_store(&pt_state, PT_IDLE);
}

__attribute__((constructor)) static void pt_runtime_init(void)
{
    int saved = errno;
    pt_start_realtime_ns = pt_realtime_ns();
    pt_start_monotonic_ns = pt_now_ns();
    pt_pid = (uint32_t)getpid();
    pt_config_load();
    pt_clock_init(pt_cfg.clock);
    if (pt_cfg.disabled) {
        errno = saved;
        return;
    }
    pt_gpu_configure();
    pt_stacks_config();
    if (gethostname(pt_host, sizeof pt_host - 1) != 0)
        strcpy(pt_host, "unknown");
    for (char *p = pt_host; *p; p++)
        if (*p == '/' || *p == '.')
            *p = *p == '.' ? '\0' : '_'; /* short host name, safe in a file name */
    pt_run_dir_init();
    if (pthread_key_create(&thread_key, thread_exit) != 0 ||
        pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0) {
        pt_warn("cannot register thread or fork hooks; recording nothing");
        errno = saved;
        return;
    }
    atomic_store(&pt_state, PT_IDLE);
    errno = saved;
}

__attribute__((destructor)) static void pt_runtime_fini(void)
{
    int saved = errno;
    pt_runtime_sync(PT_FLUSH_EXIT, 1, PT_END_EXIT);
    errno = saved;
}
