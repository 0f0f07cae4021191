/* The writer's side of packed frames (include/partrace/format.h): each record becomes
 * the 32-bit words that changed since the last record of its kind in the frame, as zigzag
 * varint deltas, or the whole record when that is not shorter. Runs on the writer thread, never
 * on the application's: no allocation, no state beyond the frame being packed. */
#include <partrace/format.h>

#include <string.h>

static uint8_t *put_varint(uint8_t *o, uint64_t v)
{
    while (v >= 0x80) {
        *o++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    return o;
}

static uint32_t zigzag32(uint32_t delta)
{
    int32_t d = (int32_t)delta;
    return ((uint32_t)d << 1) ^ (uint32_t)(d >> 31);
}

static uint32_t word_at(const uint8_t *rec, size_t i)
{
    uint32_t w;
    memcpy(&w, rec + 4 * i, sizeof w);
    return w;
}

/* The record as the changed words of prev's (same kind and size). Returns the end of what it
 * wrote, which may run past the whole-record form by up to PT_PACK_SLACK bytes. */
static uint8_t *put_delta(uint8_t *o, const uint8_t *rec, const uint8_t *prev, size_t words)
{
    uint64_t mask = 0;
    for (size_t i = 1; i < words; i++)
        if (word_at(rec, i) != word_at(prev, i))
            mask |= 1ull << (i - 1);
    o = put_varint(o, mask);
    for (uint64_t m = mask; m; m &= m - 1) {
        size_t i = (size_t)__builtin_ctzll(m) + 1;
        o = put_varint(o, zigzag32(word_at(rec, i) - word_at(prev, i)));
    }
    return o;
}

size_t pt_pack_records(const void *recs, size_t len, void *out)
{
    const uint8_t *prev[PT_PACK_KIND_LIMIT] = {0};
    const uint8_t *p = recs, *end = p + len;
    uint8_t *o = out;
    while (p < end) {
        const struct pt_rec_hdr *h = (const void *)p;
        if (h->kind == 0 || h->kind >= PT_PACK_KIND_LIMIT)
            return 0;
        const uint8_t *last = prev[h->kind];
        uint8_t *start = o;
        if (last && ((const struct pt_rec_hdr *)last)->size == h->size &&
            h->size <= PT_PACK_DELTA_MAX_BYTES) {
            *o++ = (uint8_t)h->kind;
            o = put_delta(o, p, last, h->size / 4u);
            if ((size_t)(o - start) < h->size) {
                prev[h->kind] = p;
                p += h->size;
                continue;
            }
            o = start; /* no shorter than the record: write it whole */
        }
        *o++ = (uint8_t)(h->kind | PT_PACK_RAW);
        o = put_varint(o, h->size);
        memcpy(o, p + 4, h->size - 4u);
        o += h->size - 4u;
        prev[h->kind] = p;
        p += h->size;
    }
    return (size_t)(o - (uint8_t *)out);
}
