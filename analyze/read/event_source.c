#include "read/event_source.h"

#include "read/clock_align.h"
#include "util/min_heap.h"
#include "format/record_copy.h"
#include "format/record_kinds.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The reader hands over a frame's records at once, unpacked into an arena. Records that follow
 * the newest record held there stay where they are: the arenas form one run whose records are
 * not copied (in order, the generated and most GPU runs have nearly all their records there). A
 * record that comes out of order is copied into a slot and held by the structures below. An
 * arena is reused once its last held record is handed out. */
struct arena {
    struct pt_records recs;
    struct pt_held *held;       /* its records in the arenas' run, in order */
    size_t n_held, cap_held, next; /* next: the first not handed out */
    struct arena *later;        /* the next arena of the run (or of the spare list) */
};

/* Other held records live in a few FIFOs ("runs") and a heap. A file interleaves streams that
 * are each in time order (the threads' NCCL calls, CUPTI's kernel buffers that come back late,
 * copies): a record goes to the run whose newest it follows most closely, and only a record
 * that follows none goes to the heap. The next record is the smallest of the runs' heads, the
 * arenas' head and the heap's top. With one run, GPU traces sent most records through the heap
 * (an eighth of the export's time). */
#define RUNS 4
/* Records held out of the arenas are copied into fixed slots recycled through a free list: no
 * malloc per event. Records larger than a slot (rare: long NVTX texts, stacks) are allocated
 * one by one. */
#define SLOT_BYTES 128
#define FIRST_CHUNK_SLOTS 64    /* chunks double up to MAX_CHUNK_SLOTS: small files stay small */
#define MAX_CHUNK_SLOTS 4096
#define FIRST_HELD 256          /* the heap, FIFOs and arenas' lists double as needed */
/* Arenas holding records may take this much of a file's memory (a window of in-order records
 * takes about a quarter of it); past it, the oldest arena's records are copied into slots and
 * the arena freed. Without the bound, a stream that puts one record in each frame's arena and
 * holds it long (a clock far ahead) would keep every frame. */
#define MAX_ARENA_BYTES (32u << 20)
#define SPARE_ARENAS 2          /* arenas kept for reuse, at most */

union slot {
    union slot *next;
    uint64_t align;
    char bytes[SLOT_BYTES];
};

struct slot_chunk {
    struct slot_chunk *next;
    union slot slots[];
};

struct pt_source {
    struct pt_reader *reader;
    union slot *free_slots;
    struct slot_chunk *chunks;
    size_t chunk_slots;         /* slots in the newest chunk */
    uint32_t index, next_seq;
    struct pt_trace_ctx ctx;
    struct pt_held *heap;
    size_t n, heap_cap;         /* records in the heap, its room */
    struct run {
        struct pt_held *ring;   /* of cap (a power of two) */
        size_t head, len, cap;
        uint64_t tail_ts;       /* time of the newest record in it (valid while len > 0) */
    } runs[RUNS];
    size_t in_runs;             /* records in all runs */
    struct run *last_run;       /* where the last record went */
    struct arena *first, *last; /* the arenas holding records, oldest first */
    struct arena *spare;        /* arenas to reuse */
    size_t n_spare;
    size_t arena_bytes;         /* memory of the arenas from first to last */
    size_t slot_bytes;          /* memory of the slots' chunks and of records too large for one */
    struct arena *finished;     /* its last record was handed out: reused at the next call */
    size_t in_arenas;           /* records held in the arenas */
    size_t held;                /* records held: n + in_runs + in_arenas */
    size_t window;              /* frames are read while fewer records are held */
    int trial;                  /* the first PT_REORDER_WINDOW records: the window is large */
    size_t most_reach;          /* the furthest a record read out of order reached back */
    /* The fast path's records: [ready.next, ready.end) of the head arena may be handed out as
     * they are (here, or by the caller: pt_source_ready); those before ready.next from the
     * arena's `next` on are not yet counted out (settle_fast). */
    struct pt_held_range ready;
    uint64_t ready_after;       /* last_ts when it was armed: its records earlier are late */
    size_t held_per_frame;      /* most records a frame has held in its arena */
    uint64_t arena_ts;          /* time of the newest record held in the arenas */
    struct pt_rec_hdr *current; /* a slot handed out, freed at the next call */
    uint64_t last_ts, late;
    int64_t shift;
    int eof;
    char **env;                 /* NAME=value strings from ATTR records */
    size_t n_env;
};

static size_t arena_footprint(const struct arena *a)
{
    return sizeof *a + a->recs.cap + a->cap_held * sizeof *a->held;
}

static struct pt_rec_hdr *record_alloc(struct pt_source *s, size_t n)
{
    if (n > SLOT_BYTES) {
        struct pt_rec_hdr *h = malloc(n);
        s->slot_bytes += h ? n : 0;
        return h;
    }
    if (!s->free_slots) {
        size_t slots = s->chunk_slots ? s->chunk_slots * 2 : FIRST_CHUNK_SLOTS;
        if (slots > MAX_CHUNK_SLOTS)
            slots = MAX_CHUNK_SLOTS;
        struct slot_chunk *c = malloc(sizeof *c + slots * sizeof c->slots[0]);
        if (!c)
            return NULL;
        c->next = s->chunks;
        s->chunks = c;
        s->chunk_slots = slots;
        s->slot_bytes += sizeof *c + slots * sizeof c->slots[0];
        for (size_t i = slots; i-- > 0;) {
            c->slots[i].next = s->free_slots;
            s->free_slots = &c->slots[i];
        }
    }
    union slot *sl = s->free_slots;
    s->free_slots = sl->next;
    return (struct pt_rec_hdr *)sl;
}

static void record_release(struct pt_source *s, struct pt_rec_hdr *h)
{
    if (!h)
        return;
    if (h->size > SLOT_BYTES) {
        s->slot_bytes -= h->size;
        free(h);
        return;
    }
    union slot *sl = (union slot *)h;
    sl->next = s->free_slots;
    s->free_slots = sl;
}

static int before(const struct pt_held *a, const struct pt_held *b)
{
    return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

PT_MIN_HEAP(held_heap, struct pt_held, before)

static size_t held_count(const struct pt_source *s)
{
    return s->held;
}

static struct pt_held *run_at(const struct run *r, size_t i) { return &r->ring[(r->head + i) & (r->cap - 1)]; }

/* Doubles a run's ring, the wrapped part moved behind the old end. Returns 0, -1 when out of
 * memory. */
static int grow_run(struct run *r)
{
    size_t cap = r->cap ? r->cap * 2 : FIRST_HELD;
    struct pt_held *p = realloc(r->ring, cap * sizeof *p);
    if (!p)
        return -1;
    if (r->head + r->len > r->cap)
        memcpy(p + r->cap, p, (r->head + r->len - r->cap) * sizeof *p);
    r->ring = p, r->cap = cap;
    return 0;
}

/* Keeps a record back: at the end of the run whose newest it follows most closely, else (or an
 * empty run) in the heap. Returns 0, -1 when out of memory. */
static int hold(struct pt_source *s, struct pt_held h)
{
    struct run *best = s->last_run;
    /* The common case, the same stream as the record before and in order, needs no search. A
     * record read later than a run's newest (a larger seq) goes before it only by time. */
    if (!best || !best->len || h.ts < best->tail_ts) {
        struct run *empty = NULL;
        best = NULL;
        for (int i = 0; i < RUNS; i++) {
            struct run *r = &s->runs[i];
            if (!r->len) {
                empty = empty ? empty : r;
                continue;
            }
            const struct pt_held *tail = run_at(r, r->len - 1);
            if (!before(&h, tail) && (!best || before(run_at(best, best->len - 1), tail)))
                best = r;
        }
        if (!best)
            best = empty;
    }
    if (best) {
        if (best->len == best->cap && grow_run(best))
            return -1;
        *run_at(best, best->len++) = h;
        best->tail_ts = h.ts;
        s->in_runs++;
        s->held++;
        s->last_run = best;
        return 0;
    }
    if (s->n == s->heap_cap) {
        size_t cap = s->heap_cap ? s->heap_cap * 2 : FIRST_HELD;
        struct pt_held *p = realloc(s->heap, cap * sizeof *p);
        if (!p)
            return -1;
        s->heap = p, s->heap_cap = cap;
    }
    held_heap_push(s->heap, &s->n, h);
    s->held++;
    return 0;
}

/* The earliest record held; held_count(s) > 0. A record from a slot becomes s->current, an
 * arena that gave its last record s->finished: both are reused at the next call. */
static struct pt_held take(struct pt_source *s)
{
    struct arena *a = s->first;
    if (!s->n && !s->in_runs) /* everything held is in the arenas: the in-order case */
        goto from_arena;
    struct run *from = NULL;
    if (s->in_runs && s->last_run && s->last_run->len == s->in_runs)
        from = s->last_run; /* the only run holding records */
    else
        for (int i = 0; i < RUNS; i++) {
            struct run *r = &s->runs[i];
            if (r->len && (!from || before(&r->ring[r->head], &from->ring[from->head])))
                from = r;
        }
    if (s->in_arenas && (!from || before(&a->held[a->next], &from->ring[from->head])) &&
        (!s->n || before(&a->held[a->next], &s->heap[0])))
        goto from_arena;
    struct pt_held h;
    if (from && (!s->n || before(&from->ring[from->head], &s->heap[0]))) {
        h = from->ring[from->head];
        from->head = (from->head + 1) & (from->cap - 1);
        if (--from->len) /* the run's next record, read soon: in cache by then */
            __builtin_prefetch(from->ring[from->head].rec);
        s->in_runs--;
    } else {
        h = held_heap_pop(s->heap, &s->n);
    }
    s->current = h.rec;
    s->held--;
    return h;
from_arena:;
    struct pt_held ah = a->held[a->next++];
    s->in_arenas--;
    s->held--;
    if (a->next == a->n_held) {
        s->first = a->later;
        s->arena_bytes -= arena_footprint(a);
        s->finished = a;
    }
    return ah;
}

static void keep_env(struct pt_source *s, const struct pt_rec_attr *a)
{
    char **p = realloc(s->env, (s->n_env + 1) * sizeof *p);
    if (!p)
        return;
    s->env = p;
    if ((s->env[s->n_env] = strndup(a->value, a->value_bytes)))
        s->n_env++;
}

static void free_arena(struct arena *a)
{
    free(a->recs.data);
    free(a->held);
    free(a);
}

static void reuse_arena(struct pt_source *s, struct arena *a)
{
    if (s->n_spare == SPARE_ARENAS) {
        free_arena(a);
        return;
    }
    a->later = s->spare;
    s->spare = a;
    s->n_spare++;
}

/* The first of n entries in time order later than ts; n when none is. */
static size_t first_later(const struct pt_held *v, size_t n, uint64_t ts)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (v[m].ts > ts)
            hi = m;
        else
            lo = m + 1;
    }
    return lo;
}

/* Arena a still holds a record later than ts (its held records are in time order). */
static int holds_later(const struct arena *a, uint64_t ts)
{
    return a->next < a->n_held && a->held[a->n_held - 1].ts > ts;
}

/* How far back a record of time ts, read now out of order, reaches: the records read since the
 * earliest held one later than ts, among those the arenas and the runs hold (each in time and
 * in read order; the heap's are left out). `cur` is the arena being read, not yet linked. 0
 * when none is later. */
static size_t reach(const struct pt_source *s, const struct arena *cur, uint64_t ts)
{
    uint32_t first = s->next_seq;
    const struct arena *a = s->first; /* arenas are in time order: the first that holds one */
    while (a && !holds_later(a, ts))
        a = a->later;
    if (!a && holds_later(cur, ts))
        a = cur;
    if (a)
        first = a->held[a->next + first_later(a->held + a->next, a->n_held - a->next, ts)].seq;
    for (int k = 0; k < RUNS; k++) {
        const struct run *r = &s->runs[k];
        if (!r->len || r->tail_ts <= ts)
            continue;
        /* The ring in its two pieces: from head to the end of the array, then the wrapped part
         * (which holds the later one when the first piece does not). */
        size_t n1 = r->cap - r->head < r->len ? r->cap - r->head : r->len;
        size_t i = first_later(r->ring + r->head, n1, ts);
        const struct pt_held *h = i < n1 ? &r->ring[r->head + i]
                                      : &r->ring[first_later(r->ring, r->len - n1, ts)];
        first = h->seq < first ? h->seq : first;
    }
    return s->next_seq - first;
}

/* Doubles an arena's list of held records. Returns 0, -1 when out of memory. */
static int grow_held(struct arena *a)
{
    size_t cap = a->cap_held ? 2 * a->cap_held : FIRST_HELD;
    struct pt_held *p = realloc(a->held, cap * sizeof *p);
    if (!p)
        return -1;
    a->held = p, a->cap_held = cap;
    return 0;
}

/* Keeps back the record h (time ts) of arena a that came out of order (earlier than the
 * arenas' newest): a copy goes to the runs or the heap. The records that follow the arenas'
 * newest stay in their arena (read_frame). */
static void hold_out_of_order(struct pt_source *s, struct arena *a, struct pt_rec_hdr *h, uint64_t ts)
{
    uint32_t seq = s->next_seq++;
    /* Only while it can change the window: in the trial until a record reaches back past a
     * quarter of the small window (the file then keeps the large one), and in the small one. */
    if ((s->trial && s->most_reach <= PT_FIRST_WINDOW / 4) || s->window < PT_REORDER_WINDOW) {
        size_t r = reach(s, a, ts);
        s->most_reach = r > s->most_reach ? r : s->most_reach;
        if (2 * r > s->window)
            s->window = PT_REORDER_WINDOW;
    }
    struct pt_rec_hdr *copy = record_alloc(s, h->size);
    if (!copy)
        return;
    pt_record_copy(copy, h, h->size);
    if (hold(s, (struct pt_held){ts, seq, copy}))
        record_release(s, copy);
}

/* Copies the oldest arena's records still held into slots (the other runs or the heap take
 * them: the same records, held as before) and lets the arena go. */
static void evict_first(struct pt_source *s)
{
    struct arena *a = s->first;
    s->first = a->later;
    s->arena_bytes -= arena_footprint(a);
    size_t left = a->n_held - a->next;
    s->in_arenas -= left;
    s->held -= left;
    for (size_t i = a->next; i < a->n_held; i++) {
        struct pt_held h = a->held[i];
        struct pt_rec_hdr *copy = record_alloc(s, h.rec->size);
        if (!copy)
            continue;
        pt_record_copy(copy, h.rec, h.rec->size);
        h.rec = copy;
        if (hold(s, h))
            record_release(s, copy);
    }
    reuse_arena(s, a);
}

/* Kinds with a time that the context does not learn from and that are not attributes: most
 * records (kernels, calls), whose time is all there is to take. */
#define TIMED_ONLY (PT_TIMED_KINDS & ~(uint64_t)PT_CTX_LEARNS & ~(1ull << PT_REC_ATTR))

/* Reads the next frame: its records are learnt and held. Returns 0 at the end. */
static int read_frame(struct pt_source *s)
{
    struct arena *a = s->spare;
    if (a)
        s->spare = a->later, s->n_spare--;
    else if (!(a = calloc(1, sizeof *a)))
        return 0;
    a->n_held = a->next = 0;
    a->later = NULL;
    if (a->cap_held < s->held_per_frame) { /* as many as the largest frame held so far */
        free(a->held);
        a->cap_held = 0;
        if ((a->held = malloc(s->held_per_frame * sizeof *a->held)))
            a->cap_held = s->held_per_frame;
    }
    if (!pt_reader_next_frame(s->reader, &a->recs)) {
        reuse_arena(s, a);
        return 0;
    }
    /* A record that follows the arenas' newest (or comes when they hold none) stays where it
     * is, in the arenas' run: the common case, with its counts in locals (written back before
     * any other call and at the end). */
    uint32_t seq = s->next_seq;
    uint64_t arena_ts = s->arena_ts;
    size_t in_arenas = s->in_arenas, n_held = a->n_held;
    for (size_t pos = 0; pos < a->recs.len;) {
        struct pt_rec_hdr *h = (struct pt_rec_hdr *)(a->recs.data + pos);
        pos += h->size;
        /* Most records (kernels, calls) have a time and nothing to learn: one test for them. */
        uint64_t ts;
        if (h->kind < 64 && (TIMED_ONLY >> h->kind & 1)) {
            ts = pt_rec_time(h);
        } else {
            pt_trace_ctx_learn(&s->ctx, h);
            if (h->kind == PT_REC_ATTR && ((const struct pt_rec_attr *)h)->attr == PT_ATTR_ENV)
                keep_env(s, (const void *)h);
            ts = pt_rec_time(h);
        }
        if (!ts)
            continue;
        if (ts >= arena_ts || !in_arenas) {
            if (n_held == a->cap_held && grow_held(a)) {
                seq++; /* out of memory: the record is lost, its place in read order is not */
                continue;
            }
            a->held[n_held++] = (struct pt_held){ts, seq++, h};
            arena_ts = ts;
            in_arenas++;
            continue;
        }
        s->held += in_arenas - s->in_arenas;
        s->next_seq = seq, s->arena_ts = arena_ts, s->in_arenas = in_arenas, a->n_held = n_held;
        hold_out_of_order(s, a, h, ts);
        /* It changes only next_seq here; reading all four back, in step with the write above,
         * lets the flattened loop keep them in registers (fewer instructions than reading
         * next_seq alone). */
        seq = s->next_seq, arena_ts = s->arena_ts, in_arenas = s->in_arenas, n_held = a->n_held;
    }
    s->held += in_arenas - s->in_arenas;
    s->next_seq = seq, s->arena_ts = arena_ts, s->in_arenas = in_arenas, a->n_held = n_held;
    if (a->n_held > s->held_per_frame)
        s->held_per_frame = a->n_held;
    if (!a->n_held) { /* every record learnt or copied: the arena is free again */
        reuse_arena(s, a);
        return 1;
    }
    if (s->last && s->first)
        s->last->later = a;
    else
        s->first = a;
    s->last = a;
    s->arena_bytes += arena_footprint(a);
    while (s->arena_bytes > MAX_ARENA_BYTES && s->first != a)
        evict_first(s);
    return 1;
}

/* Reads frames until the window's records are held, or the end. */
static void fill(struct pt_source *s)
{
    while (!s->eof && held_count(s) < s->window)
        if (!read_frame(s))
            s->eof = 1;
}

int pt_source_open(const char *path, uint32_t index, struct pt_source **out, char *err, size_t errlen)
{
    struct pt_source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (pt_reader_open(path, &s->reader, err, errlen) != 0) {
        free(s);
        return -1;
    }
    s->index = index;
    s->window = PT_REORDER_WINDOW;
    s->trial = 1;
    /* Read ahead now: the process's attributes (rank, ...) are known before any event. */
    fill(s);
    *out = s;
    return 0;
}

/* The records the fast path took: their counts, and where the head arena stands. */
static void settle_fast(struct pt_source *s)
{
    if (!s->ready.next)
        return;
    struct arena *a = s->first; /* the one armed: nothing else takes from it meanwhile */
    const struct pt_held *h = a->held + a->next;
    size_t taken = (size_t)(s->ready.next - h);
    /* The records taken are in order: those before the time handed out last are late (only
     * the first few can be), and the newest taken is the time handed out last. */
    for (size_t i = 0; i < taken && h[i].ts < s->ready_after; i++)
        s->late++;
    if (taken && h[taken - 1].ts > s->last_ts)
        s->last_ts = h[taken - 1].ts;
    a->next += taken;
    s->in_arenas -= taken;
    s->held -= taken;
    s->ready.next = s->ready.end = NULL;
}

/* While all the next calls would do is hand out the head arena's next record (nothing to
 * release, no frame to read, nothing held elsewhere that could be earlier, no shift, and not
 * the arena's last record), they take it without those checks. */
static void arm_fast(struct pt_source *s)
{
    struct arena *a = s->first;
    if (s->current || s->finished || s->shift || s->n || s->in_runs || !a || a->next + 1 >= a->n_held)
        return;
    size_t m = a->n_held - 1 - a->next; /* all but the arena's last */
    if (!s->eof) { /* a call finds held >= window, or it reads a frame */
        if (s->held < s->window)
            return;
        m = m < s->held - s->window + 1 ? m : s->held - s->window + 1;
    }
    s->ready.next = a->held + a->next;
    s->ready.end = s->ready.next + m;
    s->ready_after = s->last_ts;
}

int pt_source_next(struct pt_source *s, struct pt_event *ev)
{
    if (s->ready.next < s->ready.end) {
        const struct pt_held *h = s->ready.next++;
        pt_held_prefetch(h);
        *ev = (struct pt_event){h->ts, s->index, h->seq, h->rec};
        return 1;
    }
    settle_fast(s);
    if (s->current) {
        record_release(s, s->current);
        s->current = NULL;
    }
    if (s->finished) {
        reuse_arena(s, s->finished);
        s->finished = NULL;
    }
    if (s->trial && s->next_seq >= PT_REORDER_WINDOW) {
        s->trial = 0;
        if (s->most_reach <= PT_FIRST_WINDOW / 4)
            s->window = PT_FIRST_WINDOW;
    }
    if (held_count(s) < s->window)
        fill(s);
    if (!held_count(s))
        return 0;
    struct pt_held h = take(s);
    if (h.ts < s->last_ts)
        s->late++;
    else
        s->last_ts = h.ts;
    if (s->shift) {
        pt_rec_shift_times(h.rec, s->shift);
        h.ts = (uint64_t)((int64_t)h.ts + s->shift);
    }
    *ev = (struct pt_event){h.ts, s->index, h.seq, h.rec};
    arm_fast(s);
    return 1;
}

void pt_source_set_shift(struct pt_source *s, int64_t delta)
{
    settle_fast(s); /* the next events are shifted: through the general path */
    s->shift = delta;
}

struct pt_held_range *pt_source_ready(struct pt_source *s) { return &s->ready; }

const struct pt_file_header *pt_source_header(const struct pt_source *s) { return pt_reader_header(s->reader); }
const struct pt_trace_ctx *pt_source_ctx(const struct pt_source *s) { return &s->ctx; }
const struct pt_reader_stats *pt_source_stats(const struct pt_source *s) { return pt_reader_stats(s->reader); }
const char *pt_source_warning(const struct pt_source *s) { return pt_reader_warning(s->reader); }
uint64_t pt_source_late(const struct pt_source *s) { return s->late; }
size_t pt_source_window(const struct pt_source *s) { return s->window; }

size_t pt_source_window_bytes(const struct pt_source *s)
{
    size_t b = s->arena_bytes + s->slot_bytes + s->heap_cap * sizeof *s->heap;
    for (int i = 0; i < RUNS; i++)
        b += s->runs[i].cap * sizeof *s->runs[i].ring;
    for (const struct arena *a = s->spare; a; a = a->later)
        b += arena_footprint(a);
    return b;
}

const char *pt_source_env(const struct pt_source *s, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < s->n_env; i++)
        if (strncmp(s->env[i], name, n) == 0 && s->env[i][n] == '=')
            return s->env[i] + n + 1;
    return NULL;
}

void pt_source_close(struct pt_source *s)
{
    if (!s)
        return;
    settle_fast(s);
    record_release(s, s->current);
    s->current = NULL;
    while (held_count(s)) {
        take(s);
        record_release(s, s->current); /* NULL for a record of an arena */
        s->current = NULL;
        if (s->finished)
            reuse_arena(s, s->finished);
        s->finished = NULL;
    }
    if (s->finished)
        reuse_arena(s, s->finished);
    while (s->spare) {
        struct arena *a = s->spare;
        s->spare = a->later;
        free_arena(a);
    }
    while (s->chunks) {
        struct slot_chunk *next = s->chunks->next;
        free(s->chunks);
        s->chunks = next;
    }
    free(s->heap);
    for (int i = 0; i < RUNS; i++)
        free(s->runs[i].ring);
    for (size_t i = 0; i < s->n_env; i++)
        free(s->env[i]);
    free(s->env);
    pt_trace_ctx_free(&s->ctx);
    pt_reader_close(s->reader);
    free(s);
}
