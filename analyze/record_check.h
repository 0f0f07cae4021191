/* The checks a reader makes of every record it hands out, shared by reading record by record
 * (trace_reader.c) and unpacking a frame whole (record_unpack.c): sizes against the record's
 * kind, and the lengths it holds inside (texts, frames) against its size. */
#ifndef PT_RECORD_CHECK_H
#define PT_RECORD_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <partrace/format.h>

/* Smallest valid size of a known record kind, 0 for unknown kinds. */
static inline size_t pt_rec_min_size_of(uint16_t kind)
{
    switch (kind) {
#define PT_X(name, val, st, label) \
    case PT_REC_##name:            \
        return sizeof(struct st);
        PT_REC_KINDS(PT_X)
#undef PT_X
    }
    return 0;
}

/* Kinds below 64 that this reader knows, and those of them with lengths inside: one test of a
 * bit where a switch would jump. */
#define PT_X(name, val, st, label) | (1ull << (val))
static const uint64_t pt_known_kinds = 0 PT_REC_KINDS(PT_X);
#undef PT_X
#define PT_LENGTH_KINDS \
    (1ull << PT_REC_ATTR | 1ull << PT_REC_STRING | 1ull << PT_REC_STACK | 1ull << PT_REC_NVTX)

static inline int pt_rec_known(uint16_t kind)
{
    return kind < 64 ? (int)(pt_known_kinds >> kind & 1) : pt_rec_min_size_of(kind) != 0;
}

/* The lengths a record holds inside fit its size, which is at least its kind's minimum. */
static inline int pt_rec_lengths_ok(const struct pt_rec_hdr *h)
{
    if (h->kind < 64 && !(PT_LENGTH_KINDS >> h->kind & 1))
        return 1;
    switch (h->kind) {
    case PT_REC_ATTR:
        return ((const struct pt_rec_attr *)h)->value_bytes <= h->size - sizeof(struct pt_rec_attr);
    case PT_REC_STRING:
        return ((const struct pt_rec_string *)h)->text_bytes <= h->size - sizeof(struct pt_rec_string);
    case PT_REC_STACK:
        return ((const struct pt_rec_stack *)h)->frames <= (h->size - sizeof(struct pt_rec_stack)) / 8;
    case PT_REC_NVTX:
        return ((const struct pt_rec_nvtx *)h)->text_bytes <= h->size - sizeof(struct pt_rec_nvtx);
    }
    return 1;
}

/* A record's declared sizes fit its kind and the avail bytes it lies in. */
static inline int pt_rec_ok(const struct pt_rec_hdr *h, size_t avail)
{
    if (h->size < sizeof *h || h->size % PT_REC_ALIGN || h->size > avail)
        return 0;
    size_t min = pt_rec_min_size_of(h->kind);
    if (min && h->size < min)
        return 0;
    return pt_rec_lengths_ok(h);
}

#endif
