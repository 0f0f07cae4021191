#include "read/run_merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The heads are kept as a sorted array rather than a heap: a source whose next event is again
 * the earliest goes back to the front, one whose next event is the latest (files taking turns,
 * as ranks do) to the back, each after one comparison; only the others are searched for and
 * moved. Both ends have room to grow; when one runs out, the array is centred again. */

/* Room for the n heads to slide: files taking turns move the array one place an event, so with
 * room for 64 times the heads it is centred once every ~60 n events, not every 2 n. */
#define ORDER_ROOM(n) (64 * (n) + 2)

/* The heads moved to the middle of the room. */
static void centre(struct pt_run *run)
{
    size_t n = run->hi - run->lo, lo = (run->room - n) / 2;
    memmove(run->order + lo, run->order + run->lo, n * sizeof *run->order);
    run->lo = lo, run->hi = lo + n;
}

/* k between the first and the last head, or either end out of room. */
__attribute__((noinline)) static void put_in_order_slow(struct pt_run *run, struct pt_run_key k)
{
    if (run->lo == 0 || run->hi == run->room)
        centre(run);
    struct pt_run_key *o = run->order;
    if (run->lo == run->hi || pt_run_key_earlier(k, o[run->lo])) {
        o[--run->lo] = k;
        return;
    }
    if (!pt_run_key_earlier(k, o[run->hi - 1])) {
        o[run->hi++] = k;
        return;
    }
    size_t a = run->lo + 1, b = run->hi - 1; /* k goes before o[p], p in [a, b] */
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (pt_run_key_earlier(k, o[m]))
            b = m;
        else
            a = m + 1;
    }
    if (a - run->lo < run->hi - a) { /* move the shorter side */
        memmove(o + run->lo - 1, o + run->lo, (a - run->lo) * sizeof *o);
        run->lo--;
        o[a - 1] = k;
    } else {
        memmove(o + a + 1, o + a, (run->hi - a) * sizeof *o);
        run->hi++;
        o[a] = k;
    }
}

/* The common cases inline: k goes last (files taking turns: tried first), or first, where
 * there is room. Going last is right for an empty array too, so that case needs no test of
 * its own: o[hi - 1] is then a head taken before (hi > 0 always: the array starts, and is
 * centred, away from index 0, and hi never decreases otherwise). */
static inline void put_in_order(struct pt_run *run, struct pt_run_key k)
{
    struct pt_run_key *o = run->order;
    if (run->hi < run->room && !pt_run_key_earlier(k, o[run->hi - 1]))
        o[run->hi++] = k;
    else if (run->lo > 0 && run->lo < run->hi && pt_run_key_earlier(k, o[run->lo]))
        o[--run->lo] = k;
    else
        put_in_order_slow(run, k);
}

/* The process's rank: RANK (or a launcher's equivalent) from its environment, else unknown. */
static int32_t rank_of(const struct pt_source *s)
{
    static const char *const names[] = {"RANK", "OMPI_COMM_WORLD_RANK", "SLURM_PROCID", "PMI_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *v = pt_source_env(s, names[i]);
        if (v && *v)
            return (int32_t)atoi(v);
    }
    return -1;
}

int pt_run_open(char **paths, size_t n, const int64_t *shift_ns, struct pt_run *run,
                void (*warn)(const char *msg, void *arg), void *arg)
{
    memset(run, 0, sizeof *run);
    run->sources = calloc(n ? n : 1, sizeof *run->sources);
    run->rank = calloc(n ? n : 1, sizeof *run->rank);
    run->room = ORDER_ROOM(n);
    run->order = calloc(run->room, sizeof *run->order);
    run->head = calloc(n ? n : 1, sizeof *run->head);
    if (!run->sources || !run->rank || !run->order || !run->head) {
        if (warn)
            warn("out of memory", arg);
        pt_run_close(run);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char err[1024];
        struct pt_source *s;
        if (pt_source_open(paths[i], (uint32_t)run->n, &s, err, sizeof err) != 0) {
            if (warn)
                warn(err, arg);
            continue;
        }
        if (shift_ns)
            pt_source_set_shift(s, shift_ns[i]);
        run->rank[run->n] = rank_of(s);
        run->sources[run->n++] = s;
    }
    run->lo = run->hi = run->room / 2;
    for (size_t i = 0; i < run->n; i++)
        if (pt_source_next(run->sources[i], &run->head[i]))
            put_in_order(run, (struct pt_run_key){run->head[i].ts_ns, (uint32_t)i});
    return run->n ? 0 : -1;
}

void pt_run_take_turns(struct pt_run *run, uint64_t ns) { run->turn_ns = ns; }

/* Flattened: the layers below (the file's reorder window, the reader, unpacking) are compiled
 * into this one loop, which spares a call and a return at every layer for every event. */
__attribute__((flatten)) int pt_run_next(struct pt_run *run, struct pt_event *ev)
{
    /* The event returned last time lives in its source's buffer: that source moves on only
     * now, when the caller is done with it (no copy per event). Its head left the order when
     * the event was returned. */
    if (run->due) {
        uint32_t top = (uint32_t)(run->due - 1);
        /* Still its turn, and its next record needs no checks: taken here, not through the
         * file's window and its head (without turns, turn_end is 0: never). */
        struct pt_held_range *ready = pt_source_ready(run->sources[top]);
        if (ready->next < ready->end && ready->next->ts < run->turn_end) {
            const struct pt_held *h = ready->next++;
            pt_held_prefetch(h);
            *ev = (struct pt_event){h->ts, top, h->seq, h->rec};
            return 1;
        }
        run->due = 0;
        if (pt_source_next(run->sources[top], &run->head[top])) {
            if (run->head[top].ts_ns < run->turn_end) { /* still its turn: no search */
                *ev = run->head[top];
                run->due = (size_t)top + 1;
                return 1;
            }
            put_in_order(run, (struct pt_run_key){run->head[top].ts_ns, top});
        }
    }
    if (run->lo == run->hi)
        return 0;
    uint32_t top = run->order[run->lo++].source;
    *ev = run->head[top];
    /* In turns, the first file past the turn starts the next one (without turns, turn_end
     * stays 0, and no event is before it). */
    if (run->turn_ns && ev->ts_ns >= run->turn_end)
        run->turn_end = ev->ts_ns + run->turn_ns;
    run->due = (size_t)top + 1;
    return 1;
}

void pt_run_close(struct pt_run *run)
{
    for (size_t i = 0; i < run->n; i++)
        pt_source_close(run->sources[i]);
    free(run->sources);
    free(run->rank);
    free(run->order);
    free(run->head);
    memset(run, 0, sizeof *run);
}
