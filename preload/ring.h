/* A per-thread single-producer single-consumer byte ring. The owning thread appends whole
 * records (no lock, no syscall, no allocation); the writer thread drains them. When a record
 * does not fit it is dropped and counted, never waited for. */
#ifndef PT_RING_H
#define PT_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum pt_ring_state { PT_RING_FREE = 0, PT_RING_ACTIVE = 1, PT_RING_RETIRED = 2 };

struct pt_ring {
    _Atomic uint64_t head;      /* bytes ever appended; written by the owner only */
    char pad0[56];
    _Atomic uint64_t tail;      /* bytes ever drained; written by the writer only */
    char pad1[56];
    _Atomic uint64_t dropped;   /* records dropped because the ring was full; owner writes */
    _Atomic int state;          /* enum pt_ring_state */
    uint32_t tid;
    uint64_t size;              /* power of two, multiple of 8 */
    char *data;
};

/* Reserves `bytes` (a multiple of 8, below 64 KiB) of contiguous space for one record and
 * returns it, with the head value to publish in *commit_at; NULL (and counted) when full.
 * A record that would straddle the end is preceded by a padding record (kind 0) that the
 * writer skips. pt_ring_commit() makes the record visible. */
static inline void *pt_ring_reserve(struct pt_ring *r, size_t bytes, uint64_t *commit_at)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    size_t off = (size_t)(head & (r->size - 1));
    size_t pad = off + bytes > r->size ? r->size - off : 0;
    if (head - tail + pad + bytes > r->size) {
        uint64_t d = atomic_load_explicit(&r->dropped, memory_order_relaxed);
        atomic_store_explicit(&r->dropped, d + 1, memory_order_relaxed);
        return NULL;
    }
    if (pad) {
        uint16_t *p = (uint16_t *)(r->data + off);
        p[0] = 0;             /* kind 0: padding */
        p[1] = (uint16_t)pad; /* size */
        head += pad;
        off = 0;
    }
    *commit_at = head + bytes;
    return r->data + off;
}

static inline void pt_ring_commit(struct pt_ring *r, uint64_t commit_at)
{
    atomic_store_explicit(&r->head, commit_at, memory_order_release);
}

/* Appends one record of `bytes` (a multiple of 8). Returns 0, or -1 if it was dropped. */
static inline int pt_ring_push(struct pt_ring *r, const void *rec, size_t bytes)
{
    uint64_t commit_at;
    void *dst = pt_ring_reserve(r, bytes, &commit_at);
    if (!dst)
        return -1;
    memcpy(dst, rec, bytes);
    pt_ring_commit(r, commit_at);
    return 0;
}

/* Writer side: copies whole records from the ring into dst (at most cap bytes).
 * Returns bytes copied and adds the number of records to *records. */
size_t pt_ring_drain(struct pt_ring *r, char *dst, size_t cap, uint64_t *records);

/* Bytes waiting in the ring (writer side). */
static inline uint64_t pt_ring_pending(struct pt_ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_acquire) -
           atomic_load_explicit(&r->tail, memory_order_relaxed);
}

/* Empties the ring and its counters (fork child, reuse after a thread exited). */
void pt_ring_reset(struct pt_ring *r);

#endif
