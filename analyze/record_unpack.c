/* The reader's side of packed frames (include/partrace/format.h): rebuilds the records a
 * 2.x frame packs, each checked against the frame's bounds, so damaged or hostile input ends
 * in an error with its offset, never a read or write out of bounds. This runs once per record
 * of every trace read, so the common case (a short delta) takes few instructions. */
#include <partrace/format.h>

#include <string.h>

#include "record_copy.h"

/* Reads a varint of at most max_bits into *v. Returns the byte after it, or NULL. */
static inline const uint8_t *get_varint(const uint8_t *p, const uint8_t *end, uint64_t *v,
                                        unsigned max_bits)
{
    if (p < end && *p < 0x80) {
        *v = *p;
        return p + 1;
    }
    uint64_t x = 0;
    for (unsigned shift = 0; p < end && shift < max_bits; shift += 7) {
        uint8_t b = *p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            if (max_bits < 64 && x >> max_bits)
                return NULL;
            *v = x;
            return p;
        }
    }
    return NULL;
}

/* A 32-bit varint (at most 5 bytes) when 5 bytes are there to read: unrolled, since a report
 * reads several per record. Returns the byte after it, or NULL when it is longer or larger. */
static inline const uint8_t *get_u32_unrolled(const uint8_t *p, uint32_t *v)
{
    uint32_t b = p[0], x;
    if (b < 0x80) {
        *v = b;
        return p + 1;
    }
    x = b & 0x7f, b = p[1], x |= (b & 0x7f) << 7;
    if (b < 0x80) {
        *v = x;
        return p + 2;
    }
    b = p[2], x |= (b & 0x7f) << 14;
    if (b < 0x80) {
        *v = x;
        return p + 3;
    }
    b = p[3], x |= (b & 0x7f) << 21;
    if (b < 0x80) {
        *v = x;
        return p + 4;
    }
    b = p[4];
    if (b > 0x0f)
        return NULL;
    *v = x | b << 28;
    return p + 5;
}

static inline uint32_t unzigzag32(uint32_t z)
{
    return (z >> 1) ^ (uint32_t)-(int32_t)(z & 1);
}

#define BAD(what)                                     \
    do {                                              \
        *bad_at = (size_t)(at - (const uint8_t *)in); \
        *why = what;                                  \
        return -1;                                    \
    } while (0)

void pt_unpack_begin(struct pt_unpack_state *s) { memset(s, 0, sizeof *s); }

int pt_unpack_records(struct pt_unpack_state *s, const void *in, size_t len, void *out, size_t cap,
                      size_t *bad_at, const char **why)
{
    if (s->in_pos >= len) /* also an empty frame, whose buffer may be NULL */
        return 0;
    const uint8_t *p = (const uint8_t *)in + s->in_pos, *end = (const uint8_t *)in + len;
    uint8_t *o = out;
    size_t used = s->out_len;
    int rc = 0;
    while (p < end) {
        const uint8_t *at = p;
        unsigned kind = *p & 0x7fu;
        int raw = *p++ & PT_PACK_RAW;
        if (!kind)
            BAD("record of kind 0");
        uint64_t size;
        if (raw) {
            if (!(p = get_varint(p, end, &size, 16)))
                BAD("bad record size");
            if (size < sizeof(struct pt_rec_hdr) || size % PT_REC_ALIGN)
                BAD("bad record size");
            if (size > cap - used) {
                p = at, rc = 1;
                break;
            }
            if ((size_t)(end - p) < size - 4)
                BAD("record cut short");
            memcpy(o + used + 4, p, size - 4);
            p += size - 4;
        } else {
            if (!s->last[kind])
                BAD("changes to a record of a kind not seen in this frame");
            const uint8_t *last = o + s->last[kind] - 1;
            size = ((const struct pt_rec_hdr *)last)->size;
            if (size > cap - used) {
                p = at, rc = 1;
                break;
            }
            uint8_t *rec = o + used;
            pt_record_copy(rec, last, size);
            /* Each change is at most 5 bytes and a record has at most 64: away from the end of
             * the frame the reads below do not check the end at every byte. */
            int roomy = end - p >= 10 + 5 * 64;
            uint64_t mask;
            uint32_t m32;
            const uint8_t *q = roomy ? get_u32_unrolled(p, &m32) : NULL;
            if (q) /* masks of records up to 132 bytes: at most 5 bytes and 32 bits */
                mask = m32, p = q;
            else if (!(p = get_varint(p, end, &mask, 64)))
                BAD("bad change mask");
            if (size / 4 - 1 < 64 && mask >> (size / 4 - 1))
                BAD("change mask beyond the record");
            for (; mask; mask &= mask - 1) {
                size_t i = (size_t)__builtin_ctzll(mask) + 1;
                uint32_t z;
                uint64_t z64;
                if (roomy)
                    p = get_u32_unrolled(p, &z);
                else if ((p = get_varint(p, end, &z64, 32)))
                    z = (uint32_t)z64;
                if (!p)
                    BAD("bad word change");
                uint32_t w;
                memcpy(&w, rec + 4 * i, sizeof w);
                w += unzigzag32(z);
                memcpy(rec + 4 * i, &w, sizeof w);
            }
        }
        struct pt_rec_hdr h;
        memcpy(&h, o + used, sizeof h);
        h.kind = (uint16_t)kind;
        h.size = (uint16_t)size;
        memcpy(o + used, &h, sizeof h);
        s->last[kind] = (uint32_t)used + 1;
        used += size;
    }
    s->in_pos = (size_t)(p - (const uint8_t *)in);
    s->out_len = used;
    return rc;
}
