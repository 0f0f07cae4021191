#include "preload/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY 1 /* static cctx: zstd is linked statically */
#include <sys/mman.h>
#include <zstd.h>

#include <partrace/format.h>

#include "preload/gpu_hooks.h"
#include "preload/clock.h"
#include "preload/config.h"
#include "preload/log.h"
#include "preload/rundir.h"
#include "preload/runtime.h"
#include "preload/stacks.h"
#include "preload/trace_fd.h"

/* Uncompressed bytes per frame; below PT_FRAME_MAX_BYTES so readers can trust the bound. */
#define STAGING_BYTES (1u << 20)

static struct {
    pthread_t thread;
    sem_t wake;
    _Atomic int running;           /* the thread exists and has not finished */
    _Atomic int alive;             /* the thread has got as far as its own code */
    _Atomic uint64_t requested;    /* flush tickets handed out */
    _Atomic uint64_t done;         /* highest ticket whose flush is on disk */
    _Atomic uint32_t reason;       /* reason of the latest request */
    _Atomic int final;             /* an end record was asked for */
    _Atomic uint32_t end_how;
    struct pt_trace_fd file;       /* fd -1 when no file could be opened or writing failed */
    /* staging, out and the zstd workspace live in one mapping made once and kept by fork
     * children: the writer never calls malloc, so it never takes the application's (or a
     * sanitizer's) allocator lock, which a fork could leave held forever in the child. */
    char *mapping;
    size_t mapping_bytes;
    ZSTD_CCtx *cctx;
    char *staging, *packed, *out;
    size_t staging_len, out_cap;
    const char *attrs;
    size_t attrs_bytes;
    uint64_t records_total;
    uint64_t lost_by_writer;       /* records that could not be written */
    uint64_t released_dropped;     /* drops counted by rings that were since reused */
    uint64_t frame_index;
    int busy;                      /* last pass found a ring filling up: poll sooner */
    struct pt_tick_map ticks;      /* raw ticks in records → CLOCK_MONOTONIC ns */
    uint64_t frame_records;        /* records in staging */
} W = {.file.fd = -1};

static uint64_t dropped_total(void)
{
    uint64_t d = atomic_load(&pt_global_dropped) + W.lost_by_writer + W.released_dropped;
    uint32_t n = atomic_load(&pt_ring_count);
    for (uint32_t i = 0; i < n; i++)
        d += atomic_load_explicit(&pt_rings[i]->dropped, memory_order_relaxed);
    return d;
}

static int write_all(const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(W.file.fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void stop_writing(const char *why, int err)
{
    pt_warn("cannot write the trace file (%s: %s); further events are counted as dropped", why,
            strerror(err));
    pt_trace_fd_close(&W.file);
}

/* Packs the staging buffer (format.h, "packed frames"), compresses it into one frame and
 * appends it. */
static void write_frame(uint64_t records)
{
    if (!W.staging_len)
        return;
    unsigned reopened = W.file.reopened;
    if (W.file.fd >= 0 && pt_trace_fd_check(&W.file) != 0)
        stop_writing("the application took its descriptor, and the file is gone", errno);
    else if (W.file.reopened != reopened)
        pt_info("the application closed or replaced the trace file's descriptor; opened it again");
    if (W.file.fd >= 0) {
        size_t packed = pt_pack_records(W.staging, W.staging_len, W.packed);
        size_t n = packed ? ZSTD_compress2(W.cctx, W.out, W.out_cap, W.packed, packed) : 0;
        if (!packed || ZSTD_isError(n)) {
            pt_warn("%s; frame lost", packed ? ZSTD_getErrorName(n) : "a record of unknown kind");
            W.lost_by_writer += records;
        } else if (write_all(W.out, n) != 0) {
            int err = errno;
            W.lost_by_writer += records;
            stop_writing("write", err);
        } else {
            W.records_total += records;
        }
    } else {
        W.lost_by_writer += records;
    }
    W.frame_index++;
    W.staging_len = 0;
}

static void append(const void *rec, size_t bytes)
{
    memcpy(W.staging + W.staging_len, rec, bytes);
    W.staging_len += bytes;
}

static void append_flush_record(uint32_t reason)
{
    struct pt_rec_flush f = {0};
    f.hdr.kind = PT_REC_FLUSH;
    f.hdr.size = sizeof f;
    f.hdr.tid = 0;
    f.ts_ns = pt_now_ns();
    f.records_total = W.records_total;
    f.dropped_total = dropped_total();
    f.frame_index = W.frame_index;
    f.reason = reason;
    f.threads = atomic_load(&pt_thread_serials);
    append(&f, sizeof f);
}

#define RESERVE (sizeof(struct pt_rec_flush) + sizeof(struct pt_rec_end))

/* Closes the current frame with a flush record and writes it. */
static void end_frame(uint32_t reason)
{
    append_flush_record(reason);
    write_frame(W.frame_records + 1);
    W.frame_records = 0;
}

/* Appends one record made on the writer thread (GPU activity), starting a new frame when full. */
static void put_record(const void *rec, size_t bytes, void *arg)
{
    (void)arg;
    if (W.staging_len + bytes > STAGING_BYTES - RESERVE)
        end_frame(PT_FLUSH_PERIODIC);
    append(rec, bytes);
    W.frame_records++;
}

/* One pass: GPU activity that CUPTI has finished, then every thread's ring. Writes a frame
 * whenever staging is full, and a last one with a flush record when anything was found,
 * drops changed, or a flush was asked for. */
static void drain_pass(uint32_t reason, int forced, int final)
{
    static uint64_t last_dropped;
    W.busy = 0;
    pt_tick_map_update(&W.ticks);
    pt_modules_collect(put_record, NULL); /* before any stack that needs them */
    pt_gpu_before_drain(); /* first: the kernels it brings back have their calls in the rings now */
    uint32_t n = atomic_load(&pt_ring_count);
    for (uint32_t i = 0; i < n; i++) {
        struct pt_ring *r = pt_rings[i];
        int state = atomic_load_explicit(&r->state, memory_order_acquire);
        if (state == PT_RING_FREE)
            continue;
        if (pt_ring_pending(r) > r->size / 4)
            W.busy = 1;
        for (;;) {
            size_t got = pt_ring_drain(r, W.staging + W.staging_len,
                                       STAGING_BYTES - RESERVE - W.staging_len, &W.frame_records);
            pt_records_ticks_to_ns(W.staging + W.staging_len, got, &W.ticks);
            pt_gpu_learn(W.staging + W.staging_len, got);
            W.staging_len += got;
            if (pt_ring_pending(r) == 0)
                break;
            if (got == 0 || STAGING_BYTES - RESERVE - W.staging_len < 256)
                end_frame(PT_FLUSH_PERIODIC);
        }
        if (state == PT_RING_RETIRED && pt_ring_pending(r) == 0)
            W.released_dropped += pt_ring_release_if_drained(r);
    }
    /* GPU activity after the rings: graph nodes and NCCL calls recorded by application threads
     * before a kernel ran are then in the file before that kernel. */
    pt_gpu_after_drain(put_record, NULL, final);
    uint64_t dropped = dropped_total();
    if (W.frame_records || W.staging_len || forced || dropped != last_dropped)
        end_frame(reason);
    last_dropped = dropped;
}

static void write_end(uint32_t how)
{
    struct pt_rec_end e = {0};
    e.hdr.kind = PT_REC_END;
    e.hdr.size = sizeof e;
    e.ts_ns = pt_now_ns();
    e.records_total = W.records_total;
    e.dropped_total = dropped_total();
    e.how = how;
    append(&e, sizeof e);
    write_frame(1);
}

static void open_trace_file(void)
{
    char dir[PATH_MAX], path[PATH_MAX];
    char why[320];
    int named = pt_run_dir(dir, sizeof dir) == 0;
    if (named && pt_run_dir_unsafe(dir, why, sizeof why)) {
        pt_warn("run directory '%s' %s; recording nothing", dir, why);
        return;
    }
    if (!named || pt_mkdirs(dir, 0750) != 0) {
        pt_warn("cannot create run directory '%s': %s; recording nothing", dir, strerror(errno));
        return;
    }
    if (pt_run_dir_unsafe(dir, why, sizeof why)) { /* again: someone may have raced mkdir */
        pt_warn("run directory '%s' %s; recording nothing", dir, why);
        return;
    }
    uint32_t exec_index = 0;
    for (; exec_index < 1000; exec_index++) {
        int n = exec_index ? snprintf(path, sizeof path, "%s/%s-%u.%u%s", dir, pt_host, pt_pid,
                                      exec_index, PT_FILE_SUFFIX)
                           : snprintf(path, sizeof path, "%s/%s-%u%s", dir, pt_host, pt_pid,
                                      PT_FILE_SUFFIX);
        if (n < 0 || (size_t)n >= sizeof path) {
            pt_warn("run directory path too long: %s", dir);
            return;
        }
        if (pt_trace_fd_create(&W.file, path) == 0 || errno != EEXIST)
            break;
    }
    if (W.file.fd < 0) {
        pt_warn("cannot create trace file in '%s': %s; recording nothing", dir, strerror(errno));
        return;
    }
    struct pt_file_header h;
    pt_file_header_init(&h);
    h.pid = pt_pid;
    h.ppid = (uint32_t)getppid();
    h.start_realtime_ns = pt_start_realtime_ns;
    h.start_monotonic_ns = pt_start_monotonic_ns;
    h.flags = pt_is_fork_child ? PT_FILE_FORKED : 0;
    h.exec_index = exec_index;
    snprintf(h.host, sizeof h.host, "%s", pt_host);
    if (write_all(&h, sizeof h) != 0)
        stop_writing("header", errno);
    pt_info("tracing to %s", path);
}

static void *writer_main(void *arg)
{
    (void)arg;
    atomic_store(&W.alive, 1);
    prctl(PR_SET_NAME, "partrace-writer");
    open_trace_file();
    if (W.attrs_bytes <= STAGING_BYTES / 2) {
        append(W.attrs, W.attrs_bytes);
        uint64_t n = 0;
        for (size_t off = 0; off < W.attrs_bytes; off += ((struct pt_rec_hdr *)(W.attrs + off))->size)
            n++;
        W.staging_len = W.attrs_bytes;
        write_frame(n);
    }
    W.attrs = NULL;
    for (;;) {
        uint64_t ticket = atomic_load(&W.requested);
        if (ticket == atomic_load(&W.done) && !atomic_load(&W.final)) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            long wait_ms = W.busy ? 1 : pt_cfg.flush_ms;
            ts.tv_sec += wait_ms / 1000;
            ts.tv_nsec += (wait_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            while (sem_clockwait(&W.wake, CLOCK_MONOTONIC, &ts) != 0 && errno == EINTR) {
            }
            ticket = atomic_load(&W.requested);
        }
        int final = atomic_load(&W.final);
        int forced = ticket != atomic_load(&W.done);
        drain_pass(forced ? atomic_load(&W.reason) : PT_FLUSH_PERIODIC, forced, final);
        if (final) {
            write_end(atomic_load(&W.end_how));
            pt_trace_fd_close(&W.file);
            atomic_store(&W.done, ticket);
            atomic_store(&W.running, 0);
            return NULL;
        }
        atomic_store(&W.done, ticket);
    }
}

static int map_buffers(void)
{
    size_t work = ZSTD_estimateCCtxSize((int)pt_cfg.zstd_level);
    W.out_cap = ZSTD_compressBound(STAGING_BYTES);
    W.mapping_bytes = 2 * STAGING_BYTES + PT_PACK_SLACK + W.out_cap + work + 2 * 4096;
    void *m = mmap(NULL, W.mapping_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    W.mapping = m;
    W.staging = m;
    W.packed = W.staging + STAGING_BYTES;
    W.out = W.packed + STAGING_BYTES + PT_PACK_SLACK;
    return 0;
}

int pt_writer_start(const char *attrs, size_t attrs_bytes)
{
    W.attrs = attrs;
    W.attrs_bytes = attrs_bytes;
    W.staging_len = 0;
    if (!W.mapping && map_buffers() != 0)
        goto fail;
    char *work = W.out + W.out_cap;
    work += (4096 - (uintptr_t)work % 4096) % 4096;
    W.cctx = ZSTD_initStaticCCtx(work, (size_t)(W.mapping + W.mapping_bytes - work));
    /* Every frame carries its content size (readers size their buffer by it; a static context
     * starts with every parameter at 0) and zstd's checksum of its content: damage inside a
     * frame is found by the reader instead of decoding into wrong records. */
    if (!W.cctx ||
        ZSTD_isError(ZSTD_CCtx_setParameter(W.cctx, ZSTD_c_compressionLevel, (int)pt_cfg.zstd_level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(W.cctx, ZSTD_c_contentSizeFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(W.cctx, ZSTD_c_checksumFlag, 1)) ||
        sem_init(&W.wake, 0, 0) != 0)
        goto fail;
    /* The writer must never run an application's signal handler. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    atomic_store(&W.running, 1);
    int rc = pthread_create(&W.thread, &attr, writer_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        return 0;
    atomic_store(&W.running, 0);
    errno = rc;
fail:
    pt_warn("cannot start the writer thread: %s; recording nothing", strerror(errno));
    return -1;
}

uint64_t pt_writer_request(uint32_t reason, int final, uint32_t end_how)
{
    atomic_store(&W.reason, reason);
    if (final) {
        atomic_store(&W.end_how, end_how);
        atomic_store(&W.final, 1);
    }
    uint64_t ticket = atomic_fetch_add(&W.requested, 1) + 1;
    if (atomic_load(&W.running))
        sem_post(&W.wake);
    return ticket;
}

int pt_writer_wait(uint64_t ticket, long timeout_ms)
{
    const struct timespec ms = {0, 1000000L};
    for (long waited = 0; waited <= timeout_ms; waited++) {
        if (atomic_load(&W.done) >= ticket)
            return 0;
        if (!atomic_load(&W.running))
            return atomic_load(&W.done) >= ticket ? 0 : -1;
        nanosleep(&ms, NULL);
    }
    return -1;
}

void pt_writer_settle_before_fork(void)
{
    const struct timespec ms = {0, 1000000L};
    for (int i = 0; i < 1000 && atomic_load(&W.running) && !atomic_load(&W.alive); i++)
        nanosleep(&ms, NULL);
}

void pt_writer_forget_after_fork(void)
{
    pt_trace_fd_close(&W.file);
    /* The buffers stay mapped in the child and are reused by its own writer. */
    W.cctx = NULL;
    W.attrs = NULL;
    W.staging_len = 0;
    W.records_total = W.lost_by_writer = W.released_dropped = W.frame_index = 0;
    W.busy = 0;
    atomic_store(&W.running, 0);
    atomic_store(&W.alive, 0);
    atomic_store(&W.requested, 0);
    atomic_store(&W.done, 0);
    atomic_store(&W.final, 0);
    sem_init(&W.wake, 0, 0);
}
