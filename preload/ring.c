#include "preload/ring.h"

#include <partrace/format.h>

size_t pt_ring_drain(struct pt_ring *r, char *dst, size_t cap, uint64_t *records)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t copied = 0;
    while (tail < head) {
        /* Records are 8-aligned and the ring size is a multiple of 8: a header never wraps. */
        const struct pt_rec_hdr *h = (const void *)(r->data + (tail & (r->size - 1)));
        size_t n = h->size;
        if (n < sizeof *h || n % PT_REC_ALIGN || n > head - tail) {
            /* Cannot happen with our producers; resynchronise by discarding the rest. */
            tail = head;
            break;
        }
        if (h->kind == 0) { /* padding up to the end of the ring */
            tail += n;
            continue;
        }
        if (copied + n > cap)
            break;
        size_t off = (size_t)(tail & (r->size - 1));
        size_t first = r->size - off < n ? r->size - off : n;
        memcpy(dst + copied, r->data + off, first);
        if (first < n)
            memcpy(dst + copied + first, r->data, n - first);
        copied += n;
        tail += n;
        (*records)++;
    }
    atomic_store_explicit(&r->tail, tail, memory_order_release);
    return copied;
}

void pt_ring_reset(struct pt_ring *r)
{
    atomic_store(&r->head, 0);
    atomic_store(&r->tail, 0);
    atomic_store(&r->dropped, 0);
}
