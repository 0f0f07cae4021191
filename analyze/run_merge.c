#include "run_merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "min_heap.h"

static int earlier(const struct pt_run_key *a, const struct pt_run_key *b)
{
    return a->ts < b->ts || (a->ts == b->ts && a->source < b->source);
}

PT_MIN_HEAP(key_heap, struct pt_run_key, earlier)

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
    run->heap = calloc(n ? n : 1, sizeof *run->heap);
    run->head = calloc(n ? n : 1, sizeof *run->head);
    if (!run->sources || !run->rank || !run->heap || !run->head) {
        warn("out of memory", arg);
        pt_run_close(run);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char err[1024];
        struct pt_source *s;
        if (pt_source_open(paths[i], (uint32_t)run->n, &s, err, sizeof err) != 0) {
            warn(err, arg);
            continue;
        }
        if (shift_ns)
            pt_source_set_shift(s, shift_ns[i]);
        run->rank[run->n] = rank_of(s);
        run->sources[run->n++] = s;
    }
    for (size_t i = 0; i < run->n; i++)
        if (pt_source_next(run->sources[i], &run->head[i]))
            run->heap[run->heap_n++] = (struct pt_run_key){run->head[i].ts_ns, (uint32_t)i};
    for (size_t i = run->heap_n; i-- > 0;)
        key_heap_sift_down(run->heap, run->heap_n, i);
    return run->n ? 0 : -1;
}

int pt_run_next(struct pt_run *run, struct pt_event *ev)
{
    /* The event returned last time lives in its source's buffer: that source moves on only
     * now, when the caller is done with it (no copy per event). */
    if (run->due) {
        uint32_t top = (uint32_t)(run->due - 1);
        run->due = 0;
        if (pt_source_next(run->sources[top], &run->head[top]))
            run->heap[0].ts = run->head[top].ts_ns;
        else
            run->heap[0] = run->heap[--run->heap_n];
        if (run->heap_n)
            key_heap_sift_down(run->heap, run->heap_n, 0);
    }
    if (!run->heap_n)
        return 0;
    uint32_t top = run->heap[0].source;
    *ev = run->head[top];
    run->due = (size_t)top + 1;
    return 1;
}

void pt_run_close(struct pt_run *run)
{
    for (size_t i = 0; i < run->n; i++)
        pt_source_close(run->sources[i]);
    free(run->sources);
    free(run->rank);
    free(run->heap);
    free(run->head);
    memset(run, 0, sizeof *run);
}
