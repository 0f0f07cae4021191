/* The reader's side of packed frames (include/partrace/format.h): rebuilds the records a
 * packed (2.x, 3.x) frame holds, a frame at a time (pt_unpack_records; pt_unpack_checked, what
 * the reader uses when it hands out whole frames) or a record at a time (pt_unpack_next, reading
 * record by record), each checked against the frame's bounds, so damaged or hostile input ends
 * in an error with its offset, never a read or write out of bounds. This runs once per record
 * of every trace read, so the common case (a short delta) takes few instructions. */
#include <partrace/format.h>

#include <stdlib.h>
#include <string.h>

#include "format/record_copy.h"
#include "format/record_kinds.h"
#include "format/record_unpack.h"

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
    /* Each byte but the last has its top bit set: added whole and the set bits taken off
     * once, rather than masked one by one. */
    uint32_t x = p[0];
    if (x < 0x80) {
        *v = x;
        return p + 1;
    }
    uint32_t b = p[1];
    x += b << 7;
    if (b < 0x80) {
        *v = x - 0x80;
        return p + 2;
    }
    b = p[2], x += b << 14;
    if (b < 0x80) {
        *v = x - (0x80 + (0x80u << 7));
        return p + 3;
    }
    b = p[3], x += b << 21;
    if (b < 0x80) {
        *v = x - (0x80 + (0x80u << 7) + (0x80u << 14));
        return p + 4;
    }
    b = p[4];
    if (b > 0x0f)
        return NULL;
    *v = x - (0x80 + (0x80u << 7) + (0x80u << 14) + (0x80u << 21)) + (b << 28);
    return p + 5;
}

static inline uint32_t unzigzag32(uint32_t z)
{
    return (z >> 1) ^ (uint32_t)-(int32_t)(z & 1);
}

/* Reads a whole record's size (the varint after its lead byte) and checks it. Returns the byte
 * after it, or NULL with *why. */
static inline const uint8_t *get_whole_size(const uint8_t *p, const uint8_t *end, uint64_t *size,
                                            const char **why)
{
    p = get_varint(p, end, size, 16);
    if (!p || *size < sizeof(struct pt_rec_hdr) || *size % PT_REC_ALIGN) {
        *why = "bad record size";
        return NULL;
    }
    return p;
}

/* Adds a zigzag-coded change to word i of rec. */
static inline void change_word(uint8_t *rec, size_t i, uint32_t z)
{
    uint32_t w;
    memcpy(&w, rec + 4 * i, sizeof w);
    w += unzigzag32(z);
    memcpy(rec + 4 * i, &w, sizeof w);
}

/* The mask bits that lie past a record of 4 n bytes, n < 33 (bit i is its word i + 1): a
 * table, since the check comes with every delta. */
#define PAST_WORDS(n) (~0u << ((n) - 1))
static const uint32_t past_words[33] = {
    ~0u, /* no record is this small */
    PAST_WORDS(1),  PAST_WORDS(2),  PAST_WORDS(3),  PAST_WORDS(4),
    PAST_WORDS(5),  PAST_WORDS(6),  PAST_WORDS(7),  PAST_WORDS(8),  PAST_WORDS(9),
    PAST_WORDS(10), PAST_WORDS(11), PAST_WORDS(12), PAST_WORDS(13), PAST_WORDS(14),
    PAST_WORDS(15), PAST_WORDS(16), PAST_WORDS(17), PAST_WORDS(18), PAST_WORDS(19),
    PAST_WORDS(20), PAST_WORDS(21), PAST_WORDS(22), PAST_WORDS(23), PAST_WORDS(24),
    PAST_WORDS(25), PAST_WORDS(26), PAST_WORDS(27), PAST_WORDS(28), PAST_WORDS(29),
    PAST_WORDS(30), PAST_WORDS(31), PAST_WORDS(32)};
#undef PAST_WORDS

/* Applies a delta's change mask and word changes at p to rec, a record of size bytes. Returns
 * the byte after them, or NULL with *why. */
static inline const uint8_t *apply_changes(const uint8_t *p, const uint8_t *end, uint8_t *rec,
                                           size_t size, const char **why)
{
    /* Each change is at most 5 bytes and a record has at most 64: away from the end of the
     * frame (nearly always) the reads below do not check the end at every byte, in a loop of
     * their own. */
    int roomy = end - p >= 10 + 5 * 64;
    uint64_t mask;
    uint32_t m32;
    const uint8_t *q = roomy ? get_u32_unrolled(p, &m32) : NULL;
    /* Bit i of the mask is word i + 1 of the record: none may lie past its size / 4 words. */
    if (q) { /* masks of records up to 132 bytes: at most 5 bytes and 32 bits */
        mask = m32, p = q;
        if (size < 4 * 33 && (m32 & past_words[size / 4])) /* 32 bits reach no further */
            goto beyond;
    } else if (!(p = get_varint(p, end, &mask, 64))) {
        *why = "bad change mask";
        return NULL;
    } else if (size / 4 - 1 < 64 && mask >> (size / 4 - 1)) {
        goto beyond;
    }
    if (roomy) {
        for (; mask; mask &= mask - 1) {
            uint32_t z;
            if (!(p = get_u32_unrolled(p, &z))) {
                *why = "bad word change";
                return NULL;
            }
            change_word(rec, (size_t)__builtin_ctzll(mask) + 1, z);
        }
        return p;
    }
    for (; mask; mask &= mask - 1) {
        uint64_t z;
        if (!(p = get_varint(p, end, &z, 32))) {
            *why = "bad word change";
            return NULL;
        }
        change_word(rec, (size_t)__builtin_ctzll(mask) + 1, (uint32_t)z);
    }
    return p;
beyond:
    *why = "change mask beyond the record";
    return NULL;
}

/* Writes kind and size into a record's first word (the packed form leaves them out). */
static inline void set_head(uint8_t *rec, unsigned kind, uint64_t size)
{
    struct pt_rec_hdr h;
    memcpy(&h, rec, sizeof h);
    h.kind = (uint16_t)kind;
    h.size = (uint16_t)size;
    memcpy(rec, &h, sizeof h);
}

/* What a lead byte holds in format `major`: the kind (lead & kind_mask) and which of the last
 * `refs` records of the kind a delta changes (lead >> PT_PACK3_REF_SHIFT & ref_mask, 0 the
 * newest). 3.x keeps the last PT_PACK_REFS; 2.x only the last. */
struct lead_layout {
    unsigned kind_mask, ref_mask, refs;
};

static struct lead_layout lead_layout(unsigned major)
{
    if (major >= 3)
        return (struct lead_layout){PT_PACK3_KIND_MASK, PT_PACK_REFS - 1, PT_PACK_REFS};
    return (struct lead_layout){0x7fu, 0, 1};
}

#define BAD(what)                                     \
    do {                                              \
        *bad_at = (size_t)(at - (const uint8_t *)in); \
        *why = what;                                  \
        s->out_len = used;                            \
        return -1;                                    \
    } while (0)

void pt_unpack_begin(struct pt_unpack_state *s, unsigned major)
{
    memset(s, 0, sizeof *s);
    s->major = major;
}

/* pt_unpack_records, and with counts the reader's checks of every record (record_check.h): a
 * whole record's sizes, a delta's lengths inside (its size is its base's, checked already). */
static inline __attribute__((always_inline)) int
unpack_frame_as(struct pt_unpack_state *s, const void *in, size_t len, void *out, size_t cap,
                size_t *bad_at, const char **why, struct pt_unpack_counts *counts,
                const struct lead_layout lead_is)
{
    if (s->in_pos >= len) /* also an empty frame, whose buffer may be NULL */
        return 0;
    const uint8_t *p = (const uint8_t *)in + s->in_pos, *end = (const uint8_t *)in + len;
    uint8_t *o = out;
    size_t used = s->out_len;
    int rc = 0;
    while (p < end) {
        const uint8_t *at = p;
        uint8_t lead = *p++;
        unsigned kind = lead & lead_is.kind_mask;
        int whole = lead & PT_PACK_RAW;
        if (!kind)
            BAD("record of kind 0");
        uint64_t size;
        if (whole) {
            if (!(p = get_whole_size(p, end, &size, why)))
                BAD(*why);
            if (size > cap - used) {
                p = at, rc = 1;
                break;
            }
            if ((size_t)(end - p) < size - 4)
                BAD("record cut short");
            memcpy(o + used + 4, p, size - 4);
            p += size - 4;
            set_head(o + used, kind, size);
        } else { /* a copy of its base, whose kind and size it keeps */
            uint32_t base = s->last[kind][lead >> PT_PACK3_REF_SHIFT & lead_is.ref_mask];
            if (!base)
                BAD("changes to a record not seen in this frame");
            const uint8_t *last = o + base - 1;
            size = ((const struct pt_rec_hdr *)last)->size;
            if (size > cap - used) {
                p = at, rc = 1;
                break;
            }
            pt_record_copy(o + used, last, size);
            if (!(p = apply_changes(p, end, o + used, size, why)))
                BAD(*why);
        }
        if (counts && !whole && kind < 64 && ((PT_KNOWN_KINDS & ~PT_LENGTH_KINDS) >> kind & 1)) {
            counts->known++; /* a delta of a known kind without lengths inside: nothing to check */
        } else if (counts) {
            const struct pt_rec_hdr *h = (const void *)(o + used);
            if (whole ? !pt_rec_ok(h, size) : !pt_rec_lengths_ok(h)) {
                s->in_pos = (size_t)(at - (const uint8_t *)in);
                s->out_len = used;
                return -3;
            }
            if (pt_rec_known((uint16_t)kind))
                counts->known++;
            else
                counts->unknown++;
        }
        uint32_t *last = s->last[kind];
        _Static_assert(PT_PACK_REFS == 4, "the moves below keep the last 4 records");
        if (lead_is.refs > 1) /* moves, not a call to memmove per record */
            last[3] = last[2], last[2] = last[1], last[1] = last[0];
        last[0] = (uint32_t)used + 1;
        used += size;
    }
    s->in_pos = (size_t)(p - (const uint8_t *)in);
    s->out_len = used;
    return rc;
}

/* unpack_frame_as compiled once per lead-byte layout, so that the layout is constants in the
 * loop rather than fields read at every record. */
static inline __attribute__((always_inline)) int
unpack_by_layout(struct pt_unpack_state *s, const void *in, size_t len, void *out, size_t cap,
                 size_t *bad_at, const char **why, struct pt_unpack_counts *counts)
{
    if (s->major >= 3)
        return unpack_frame_as(s, in, len, out, cap, bad_at, why, counts, lead_layout(3));
    return unpack_frame_as(s, in, len, out, cap, bad_at, why, counts, lead_layout(2));
}

int pt_unpack_records(struct pt_unpack_state *s, const void *in, size_t len, void *out, size_t cap,
                      size_t *bad_at, const char **why)
{
    return unpack_by_layout(s, in, len, out, cap, bad_at, why, NULL);
}

int pt_unpack_checked(struct pt_unpack_state *s, const void *in, size_t len, void *out, size_t cap,
                      size_t *bad_at, const char **why, struct pt_unpack_counts *counts)
{
    return unpack_by_layout(s, in, len, out, cap, bad_at, why, counts);
}

#undef BAD

void pt_unpack_kinds_init(struct pt_unpack_kinds *k, unsigned major)
{
    memset(k, 0, sizeof *k);
    struct lead_layout lead_is = lead_layout(major);
    k->kind_mask = lead_is.kind_mask, k->ref_mask = lead_is.ref_mask, k->refs = lead_is.refs;
}

void pt_unpack_kinds_frame(struct pt_unpack_kinds *k) { memset(k->in_frame, 0, sizeof k->in_frame); }

void pt_unpack_kinds_free(struct pt_unpack_kinds *k)
{
    for (unsigned i = 0; i < PT_PACK_KIND_LIMIT; i++)
        for (unsigned j = 0; j < PT_PACK_REFS; j++)
            free(k->rec[i][j]);
    memset(k, 0, sizeof *k);
}

/* Makes every buffer of kind hold size bytes (all alike, so that a delta, which has its base's
 * size, always fits the buffer it goes to). Returns 0, -1 when out of memory. */
static int kind_room(struct pt_unpack_kinds *k, unsigned kind, size_t size)
{
    if (size <= k->cap[kind])
        return 0;
    size_t cap = size < 256 ? 256 : size;
    for (unsigned j = 0; j < k->refs; j++) {
        void *p = realloc(k->rec[kind][j], cap);
        if (!p)
            return -1;
        k->rec[kind][j] = p;
    }
    k->cap[kind] = (uint32_t)cap;
    return 0;
}

int pt_unpack_next(struct pt_unpack_kinds *k, const uint8_t **pos, const uint8_t *end,
                   const struct pt_rec_hdr **rec, const char **why)
{
    const uint8_t *p = *pos;
    uint8_t lead = *p++;
    unsigned kind = lead & k->kind_mask;
    int whole = lead & PT_PACK_RAW;
    if (!kind) {
        *why = "record of kind 0";
        return -1;
    }
    /* The kind's records are a ring of k->refs buffers; the new record takes the one after the
     * newest (with one buffer, the newest itself: a delta is applied in place). */
    unsigned newest = k->newest[kind], slot = (newest + 1) & (k->refs - 1);
    uint64_t size;
    uint8_t *r;
    if (whole) {
        if (!(p = get_whole_size(p, end, &size, why)))
            return -1;
        if ((size_t)(end - p) < size - 4) {
            *why = "record cut short";
            return -1;
        }
        if (kind_room(k, kind, size)) {
            *why = "out of memory";
            return -2;
        }
        r = (uint8_t *)k->rec[kind][slot];
        memcpy(r + 4, p, size - 4);
        p += size - 4;
        set_head(r, kind, size);
    } else {
        unsigned ref = lead >> PT_PACK3_REF_SHIFT & k->ref_mask;
        if (ref >= k->in_frame[kind]) {
            *why = "changes to a record not seen in this frame";
            return -1;
        }
        const struct pt_rec_hdr *base = k->rec[kind][(newest - ref) & (k->refs - 1)];
        size = base->size;
        if ((const void *)base != (const void *)k->rec[kind][slot])
            pt_record_copy(k->rec[kind][slot], base, size);
        r = (uint8_t *)k->rec[kind][slot];
        if (!(p = apply_changes(p, end, r, size, why)))
            return -1;
    }
    k->newest[kind] = (uint8_t)slot;
    k->in_frame[kind] += k->in_frame[kind] < k->refs;
    *pos = p;
    *rec = k->rec[kind][slot];
    return whole ? PT_UNPACK_WHOLE : PT_UNPACK_DELTA;
}
