#include "analyses/timeline.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_WIDTH_NS 10000u      /* 10 µs; doubled as often as the run needs */
#define BUDGET_VALUES (4u << 20)   /* 32 MiB of snapshots at most, over all files */
#define MAX_BUCKETS 1024u

int pt_timeline_init(struct pt_timeline *t, size_t files, uint64_t origin)
{
    memset(t, 0, sizeof *t);
    size_t cap = files ? BUDGET_VALUES / PT_TL_VALUES / files : MAX_BUCKETS;
    cap = cap > MAX_BUCKETS ? MAX_BUCKETS : cap < 16 ? 16 : cap & ~(size_t)1;
    t->origin = origin, t->width = FIRST_WIDTH_NS, t->files = files, t->cap = cap;
    t->cum = calloc(files * cap * PT_TL_VALUES, sizeof *t->cum);
    return t->cum || !files ? 0 : -1;
}

static uint64_t *snap(const struct pt_timeline *t, size_t f, size_t i)
{
    return &t->cum[(f * t->cap + i) * PT_TL_VALUES];
}

/* Every other boundary kept: bucket i of the new width ends where bucket 2i+1 of the old did. */
static void merge(struct pt_timeline *t)
{
    for (size_t f = 0; f < t->files; f++)
        for (size_t i = 0; i < t->n / 2; i++)
            memcpy(snap(t, f, i), snap(t, f, 2 * i + 1), PT_TL_VALUES * sizeof *t->cum);
    t->n /= 2;
    t->width *= 2;
}

/* Where bucket n ends; 0 past what 64 bits hold (a damaged trace's times). */
static uint64_t bucket_end(const struct pt_timeline *t, size_t n)
{
    uint64_t k = (uint64_t)n + 1;
    return t->width > (UINT64_MAX - t->origin) / k ? 0 : t->origin + k * t->width;
}

/* Completes bucket n (room for it is there). */
static void take(struct pt_timeline *t, struct pt_attr_rank *attr)
{
    uint64_t boundary = bucket_end(t, t->n);
    if (!boundary)
        return;
    for (size_t f = 0; f < t->files; f++) {
        pt_attr_advance(&attr[f], boundary);
        uint64_t *s = snap(t, f, t->n);
        s[PT_TL_COMPUTE] = attr[f].compute_ns;
        s[PT_TL_COPY] = attr[f].copy_ns;
        for (int k = 0; k < PT_ATTR_COMMS; k++)
            s[PT_TL_COMM + k] = k < attr[f].n_comms ? attr[f].comms[k].exposed_ns : 0;
    }
    t->n++;
}

void pt_timeline_step(struct pt_timeline *t, struct pt_attr_rank *attr, uint64_t now)
{
    if (!t->cum)
        return;
    for (uint64_t end; (end = bucket_end(t, t->n)) && now >= end;) {
        if (t->n < t->cap)
            take(t, attr);
        else if (t->width < UINT64_MAX / 4)
            merge(t);
        else
            return;
    }
}

void pt_timeline_finish(struct pt_timeline *t, struct pt_attr_rank *attr, uint64_t last)
{
    if (!t->cum || last < t->origin)
        return;
    t->last = last;
    pt_timeline_step(t, attr, last);
    if (t->n == t->cap && t->width < UINT64_MAX / 4)
        merge(t);
    if (t->n < t->cap)
        take(t, attr);
}

uint64_t pt_timeline_span(const struct pt_timeline *t, size_t i)
{
    uint64_t start = t->origin + i * t->width, end = start + t->width;
    end = t->last && t->last < end ? t->last : end;
    return end > start ? end - start : 1;
}

void pt_timeline_bucket(const struct pt_timeline *t, size_t f, size_t i, uint64_t *ns)
{
    const uint64_t *now = snap(t, f, i), *before = i ? snap(t, f, i - 1) : NULL;
    for (int v = 0; v < PT_TL_VALUES; v++)
        ns[v] = now[v] - (before ? before[v] : 0);
}

void pt_timeline_free(struct pt_timeline *t)
{
    free(t->cum);
    memset(t, 0, sizeof *t);
}
