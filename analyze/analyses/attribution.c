#include "analyses/attribution.h"

#include <stdlib.h>
#include <string.h>


static int comm_slot(struct pt_attr_rank *r, uint64_t comm)
{
    for (int i = 0; i < r->n_comms; i++)
        if (r->comms[i].comm == comm)
            return i;
    if (r->n_comms < PT_ATTR_COMMS) {
        r->comms[r->n_comms].comm = comm;
        return r->n_comms++;
    }
    return PT_ATTR_COMMS - 1; /* full: the last slot takes the rest */
}

/* Counts len ns of the rank's time under what is in flight: compute (communication under it is
 * hidden), else communication of slot comm (exposed), else a copy, else idle. */
static void attribute(struct pt_attr_rank *r, uint64_t len, int compute, int comm, int copy)
{
    if (r->paused)
        return; /* outside the window */
    if (compute) {
        r->compute_ns += len;
        if (comm >= 0)
            r->comms[comm].hidden_ns += len;
    } else if (comm >= 0) {
        r->comms[comm].exposed_ns += len;
    } else if (copy) {
        r->copy_ns += len;
    } else {
        r->idle_ns += len;
    }
    r->counted_ns += len;
}

/* Attributes [done, t) from the intervals in flight, segment by segment. Every interval in
 * flight ends after done. */
static void advance(struct pt_attr_rank *r, uint64_t t)
{
    /* One interval or none in flight, the common case of a GPU that runs one kernel at a time:
     * it, up to its end, then idle. */
    if (r->n_active <= 1) {
        if (r->n_active) {
            const struct pt_attr_active a = r->active[0];
            uint64_t b = a.end < t ? a.end : t;
            attribute(r, b - r->done_ns, a.category == 0, a.category == 1 ? a.comm_slot : -1,
                      a.category == 2);
            r->done_ns = b;
            r->n_active = a.end > b;
        }
        if (r->done_ns < t) {
            attribute(r, t - r->done_ns, 0, -1, 0);
            r->done_ns = t;
        }
        return;
    }
    while (r->done_ns < t) {
        uint64_t b = t;
        int compute = 0, comm = -1, copy = 0;
        for (int i = 0; i < r->n_active; i++) {
            const struct pt_attr_active *a = &r->active[i];
            if (a->end <= r->done_ns)
                continue;
            b = a->end < b ? a->end : b;
            if (a->category == 0)
                compute = 1;
            else if (a->category == 1 && comm < 0)
                comm = a->comm_slot;
            else if (a->category == 2)
                copy = 1;
        }
        attribute(r, b - r->done_ns, compute, comm, copy);
        r->done_ns = b;
        int kept = 0;
        for (int i = 0; i < r->n_active; i++)
            if (r->active[i].end > r->done_ns)
                r->active[kept++] = r->active[i];
        r->n_active = kept;
    }
}

static void add_interval(struct pt_attr_rank *r, uint64_t start, uint64_t end, uint8_t category,
                         uint8_t slot)
{
    if (end <= start)
        return;
    if (!r->first_ns) {
        r->first_ns = r->done_ns = start;
    }
    /* Late records (out of order beyond the reorder window) only extend what is left. */
    if (start > r->done_ns)
        advance(r, start);
    if (end <= r->done_ns)
        return;
    if (r->n_active == r->cap_active) {
        int cap = r->cap_active ? 2 * r->cap_active : 16;
        struct pt_attr_active *p = realloc(r->active, (size_t)cap * sizeof *p);
        if (!p)
            return;
        r->active = p;
        r->cap_active = cap;
    }
    r->active[r->n_active++] = (struct pt_attr_active){end, category, slot};
    r->last_ns = end > r->last_ns ? end : r->last_ns;
}

void pt_attr_interval(struct pt_attr_rank *r, uint64_t start, uint64_t end, uint8_t category,
                      uint64_t comm)
{
    add_interval(r, start, end, category, category == 1 ? (uint8_t)comm_slot(r, comm) : 0);
}

void pt_attr_add(struct pt_attr_rank *ranks, const struct pt_event *ev, uint16_t kind,
                 const struct pt_ctx_string *name, uint64_t comm)
{
    struct pt_attr_rank *r = &ranks[ev->source];
    switch (kind) {
    case PT_REC_KERNEL: {
        const struct pt_rec_kernel *k = (const void *)ev->rec;
        if (!name || !name->comm_class) {
            add_interval(r, k->start_ns, k->end_ns, 0, 0);
            break;
        }
        add_interval(r, k->start_ns, k->end_ns, 1, (uint8_t)comm_slot(r, comm));
        break;
    }
    case PT_REC_MEMCPY: {
        const struct pt_rec_memcpy *m = (const void *)ev->rec;
        add_interval(r, m->start_ns, m->end_ns, 2, 0);
        break;
    }
    case PT_REC_MEMSET: {
        const struct pt_rec_memset *m = (const void *)ev->rec;
        add_interval(r, m->start_ns, m->end_ns, 2, 0);
        break;
    }
    }
}

void pt_attr_window(struct pt_attr_rank *r, uint64_t t, int counting)
{
    if (r->first_ns && t > r->done_ns)
        advance(r, t);
    r->paused = !counting;
}

void pt_attr_advance(struct pt_attr_rank *r, uint64_t t)
{
    t = t < r->last_ns ? t : r->last_ns;
    if (r->first_ns && t > r->done_ns)
        advance(r, t);
}

void pt_attr_finish(struct pt_attr_rank *ranks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ranks[i].first_ns)
            advance(&ranks[i], ranks[i].last_ns);
}

void pt_attr_free(struct pt_attr_rank *ranks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ranks[i].active);
}
