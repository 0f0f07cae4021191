/* The writer's side of packed frames (include/partrace/format.h): each record becomes the 32-bit
 * words that changed since one of the last records of its kind in the frame (3.x: the one of the
 * last PT_PACK_REFS that changes fewest bytes; 2.x: the last), as zigzag varint deltas, or the
 * whole record when that is not shorter. Runs on the writer thread, never on the application's:
 * no allocation, no state beyond the frame being packed. */
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

static size_t varint_bytes(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80)
        v >>= 7, n++;
    return n;
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

/* Bytes of the record as changes to base's words, after the lead byte, and in *mask the words
 * that changed; stops counting once it reaches `enough` (no better than what the caller has,
 * and *mask then incomplete). */
static size_t delta_bytes(const uint8_t *rec, const uint8_t *base, size_t words, size_t enough,
                          uint64_t *mask)
{
    size_t n = 0;
    *mask = 0;
    for (size_t i = 1; i < words && n < enough; i++) {
        uint32_t a = word_at(rec, i), b = word_at(base, i);
        if (a != b) {
            *mask |= 1ull << (i - 1);
            n += varint_bytes(zigzag32(a - b));
        }
    }
    return n + varint_bytes(*mask);
}

/* The record as the words of base's (same kind and size) that mask names changed. Returns the
 * end of what it wrote. */
static uint8_t *put_delta(uint8_t *o, const uint8_t *rec, const uint8_t *base, uint64_t mask)
{
    o = put_varint(o, mask);
    for (uint64_t m = mask; m; m &= m - 1) {
        size_t i = (size_t)__builtin_ctzll(m) + 1;
        o = put_varint(o, zigzag32(word_at(rec, i) - word_at(base, i)));
    }
    return o;
}

/* A delta from the newest record of its kind this short is taken without looking further. */
#define SHORT_DELTA_BYTES 6

size_t pt_pack_records_as(const void *recs, size_t len, void *out, unsigned major)
{
    const unsigned refs = major >= 3 ? PT_PACK_REFS : 1;
    const unsigned limit = major >= 3 ? PT_PACK3_KIND_LIMIT : PT_PACK_KIND_LIMIT;
    /* The last records of each kind, [0] the newest (pointers into recs). */
    const uint8_t *last[PT_PACK_KIND_LIMIT][PT_PACK_REFS];
    memset(last, 0, sizeof last);
    const uint8_t *p = recs, *end = p + len;
    uint8_t *o = out;
    while (p < end) {
        const struct pt_rec_hdr *h = (const void *)p;
        if (h->kind == 0 || h->kind >= limit)
            return 0;
        const uint8_t **mine = last[h->kind];
        /* The base that changes fewest bytes, if it is shorter than the whole record; the last
         * record of the kind when that is already short (a stream in order: the search is
         * for kinds that interleave, and always taking the newest keeps zstd's input regular). */
        int best = -1;
        size_t best_bytes = h->size - 1; /* the delta's lead byte is 1 */
        uint64_t best_mask = 0;
        for (unsigned r = 0; h->size <= PT_PACK_DELTA_MAX_BYTES && r < refs && mine[r]; r++) {
            if (((const struct pt_rec_hdr *)mine[r])->size != h->size)
                continue;
            uint64_t mask;
            size_t n = delta_bytes(p, mine[r], h->size / 4u, best_bytes, &mask);
            if (n < best_bytes) /* counted to the end: mask is whole */
                best = (int)r, best_bytes = n, best_mask = mask;
            if (r == 0 && n <= SHORT_DELTA_BYTES)
                break;
        }
        if (best >= 0) {
            *o++ = (uint8_t)(h->kind | (unsigned)best << PT_PACK3_REF_SHIFT);
            o = put_delta(o, p, mine[best], best_mask);
        } else {
            *o++ = (uint8_t)(h->kind | PT_PACK_RAW);
            o = put_varint(o, h->size);
            memcpy(o, p + 4, h->size - 4u);
            o += h->size - 4u;
        }
        memmove(mine + 1, mine, (refs - 1) * sizeof *mine);
        mine[0] = p;
        p += h->size;
    }
    return (size_t)(o - (uint8_t *)out);
}

size_t pt_pack_records(const void *recs, size_t len, void *out)
{
    return pt_pack_records_as(recs, len, out, PT_VERSION_MAJOR);
}
