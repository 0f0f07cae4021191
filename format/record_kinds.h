/* Each record kind's facts, taken from the columns of PT_REC_KINDS (include/partrace/format.h):
 * its smallest size, whether this build knows it, the lengths it holds inside, and its time
 * words. The recorder (tick conversion), the codec and the reader (checks, ordering, clock
 * shifting) all ask here, so a kind added to the table is handled everywhere at once. */
#ifndef PT_FORMAT_RECORD_KINDS_H
#define PT_FORMAT_RECORD_KINDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <partrace/format.h>

/* Kinds below 64 as bit masks of the table's columns: one test of a bit where a switch would
 * jump (the reader asks once or twice per record). */
#define PT_KNOWN_KINDS_BIT(name, val, st, label, time, start, end, stamp, tail, unit) | (1ull << (val))
#define PT_KNOWN_KINDS (0 PT_REC_KINDS(PT_KNOWN_KINDS_BIT))
#define PT_TIMED_KINDS_BIT(name, val, st, label, time, start, end, stamp, tail, unit) \
    | (PT_TIME_##time != PT_TIME_NONE ? 1ull << (val) : 0)
#define PT_TIMED_KINDS (0 PT_REC_KINDS(PT_TIMED_KINDS_BIT))
#define PT_SPAN_KINDS_BIT(name, val, st, label, time, start, end, stamp, tail, unit) \
    | (PT_TIME_##time == PT_TIME_SPAN ? 1ull << (val) : 0)
#define PT_SPAN_KINDS (0 PT_REC_KINDS(PT_SPAN_KINDS_BIT))
#define PT_TICK_KINDS_BIT(name, val, st, label, time, start, end, stamp, tail, unit) \
    | (PT_STAMP_##stamp == PT_STAMP_TICKS ? 1ull << (val) : 0)
#define PT_TICK_KINDS (0 PT_REC_KINDS(PT_TICK_KINDS_BIT))
#define PT_LENGTH_KINDS_BIT(name, val, st, label, time, start, end, stamp, tail, unit) | ((unit) ? 1ull << (val) : 0)
#define PT_LENGTH_KINDS (0 PT_REC_KINDS(PT_LENGTH_KINDS_BIT))
#define PT_X(name, val, st, label, time, start, end, stamp, tail, unit) && (val) < 64
_Static_assert(1 PT_REC_KINDS(PT_X), "the kind masks are 64-bit: kinds 64 and up need another word");
#undef PT_X

/* The table's time columns hold what the masks above assume: the start right after the header,
 * a span's end right after the start. */
#define PT_X(name, val, st, label, time, start, end, stamp, tail, unit)                             \
    _Static_assert(PT_TIME_##time == PT_TIME_NONE ||                                              \
                       offsetof(struct st, start) == sizeof(struct pt_rec_hdr),                   \
                   #name ": its time follows the header");                                         \
    _Static_assert(PT_TIME_##time != PT_TIME_SPAN ||                                              \
                       offsetof(struct st, end) == sizeof(struct pt_rec_hdr) + sizeof(uint64_t),  \
                   #name ": its end follows its start");
PT_REC_KINDS(PT_X)
#undef PT_X

/* Smallest valid size of a known record kind, 0 for unknown kinds. */
static inline size_t pt_rec_min_size_of(uint16_t kind)
{
    switch (kind) {
#define PT_X(name, val, st, label, time, start, end, stamp, tail, unit) \
    case PT_REC_##name:                                                  \
        return sizeof(struct st);
        PT_REC_KINDS(PT_X)
#undef PT_X
    }
    return 0;
}

static inline int pt_rec_known(uint16_t kind)
{
    return kind < 64 ? (int)(PT_KNOWN_KINDS >> kind & 1) : 0;
}

/* Where a kind's tail count lies: its offset, its width in bytes, bytes per unit (0: none). */
struct pt_rec_tail {
    uint8_t offset, width, unit;
};
static inline struct pt_rec_tail pt_rec_tail_of(uint16_t kind)
{
    switch (kind) {
#define PT_X(name, val, st, label, time, start, end, stamp, tail, unit)                              \
    case PT_REC_##name:                                                                               \
        return (struct pt_rec_tail){offsetof(struct st, tail), sizeof(((struct st *)0)->tail), unit};
        PT_REC_KINDS(PT_X)
#undef PT_X
    }
    return (struct pt_rec_tail){0, 0, 0};
}

/* The lengths a record holds inside fit its size, which is at least its kind's minimum. */
static inline int pt_rec_lengths_ok(const struct pt_rec_hdr *h)
{
    if (h->kind >= 64 || !(PT_LENGTH_KINDS >> h->kind & 1))
        return 1;
    struct pt_rec_tail t = pt_rec_tail_of(h->kind);
    const unsigned char *p = (const unsigned char *)h + t.offset;
    uint32_t n = 0;
    if (t.width == 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        n = v;
    } else {
        memcpy(&n, p, 4);
    }
    return (uint64_t)n * t.unit <= h->size - pt_rec_min_size_of(h->kind);
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

/* How many time words a record has (0, 1 or 2), right after its header. */
static inline int pt_rec_time_words(uint16_t kind)
{
    if (kind >= 64 || !(PT_TIMED_KINDS >> kind & 1))
        return 0;
    return PT_SPAN_KINDS >> kind & 1 ? 2 : 1;
}

/* The time of a record (its start), 0 for kinds without one. */
static inline uint64_t pt_rec_time(const struct pt_rec_hdr *h)
{
    uint64_t t = 0;
    if (h->kind < 64 && (PT_TIMED_KINDS >> h->kind & 1))
        memcpy(&t, (const char *)h + sizeof *h, sizeof t);
    return t;
}

/* Applies f to each of a record's time words, in place. */
static inline void pt_rec_map_times(struct pt_rec_hdr *h, uint64_t (*f)(uint64_t, const void *),
                                    const void *arg)
{
    char *w = (char *)h + sizeof *h;
    for (int i = pt_rec_time_words(h->kind); i > 0; i--, w += sizeof(uint64_t)) {
        uint64_t t;
        memcpy(&t, w, sizeof t);
        t = f(t, arg);
        memcpy(w, &t, sizeof t);
    }
}

static inline uint64_t pt_time_plus(uint64_t t, const void *delta)
{
    return (uint64_t)((int64_t)t + *(const int64_t *)delta);
}

/* Moves a record's times by delta ns (clock alignment of hosts). */
static inline void pt_rec_shift_times(struct pt_rec_hdr *h, int64_t delta)
{
    pt_rec_map_times(h, pt_time_plus, &delta);
}

/* Whether a kind's times are stamped in ticks on host threads (turned into ns by the writer). */
static inline int pt_rec_stamped_in_ticks(uint16_t kind)
{
    return kind < 64 && (PT_TICK_KINDS >> kind & 1);
}

#endif
