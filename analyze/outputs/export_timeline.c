/* The report's attribution over time as counter tracks of the Perfetto export (exporter.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/exporter.h"

static uint64_t timeline_track(struct exporter *x, size_t file, int series)
{
    int fresh;
    uint64_t uuid = pt_xp_new_track(x, file, TRACK_TIMELINE, (uint64_t)series, &fresh);
    if (fresh) {
        char name[64];
        if (series == TL_BUSY)
            snprintf(name, sizeof name, "GPU busy (%%)");
        else
            snprintf(name, sizeof name, "%s (%% of GPU time)", pt_cat_names[series - 1]);
        pt_pf_counter_track(&x->out, uuid, pt_xp_track_uuid(x, file, TRACK_PROCESS, 0), name, 0);
    }
    return uuid;
}

int pt_xp_timeline_start(struct exporter *x)
{
    size_t n = x->rep.n;
    x->tl.last = malloc(n * TL_SERIES * sizeof *x->tl.last);
    x->tl.shown = calloc(n, sizeof *x->tl.shown);
    x->tl.comm_cat = calloc(n * PT_ATTR_COMMS, sizeof *x->tl.comm_cat);
    if (!x->tl.last || !x->tl.shown || !x->tl.comm_cat)
        return -1;
    memset(x->tl.last, 0xff, n * TL_SERIES * sizeof *x->tl.last); /* -1: nothing written */
    for (size_t f = 0; f < n; f++) {
        const struct pt_attr_rank *a = &x->rep.attr[f];
        uint64_t total[PT_CATS], hidden;
        pt_report_categories(&x->rep, f, total, &hidden);
        x->tl.shown[f] = 1u << TL_BUSY;
        for (int c = 0; c < PT_CAT_IDLE; c++)
            x->tl.shown[f] |= total[c] ? 1u << (c + 1) : 0;
        for (int k = 0; k < a->n_comms; k++)
            x->tl.comm_cat[f * PT_ATTR_COMMS + (size_t)k] = (uint8_t)pt_report_comm_category(&x->rep, a->comms[k].comm);
    }
    return 0;
}

/* Writes bucket i of every exported rank: a value where it changed. */
static void timeline_bucket(struct exporter *x, size_t i, uint64_t start)
{
    const struct pt_timeline *tl = &x->rep.timeline;
    for (size_t f = 0; f < x->rep.n; f++) {
        const struct pt_attr_rank *a = &x->rep.attr[f];
        if (!x->keep[f] || !a->first_ns)
            continue;
        uint64_t ns[PT_TL_VALUES], cat[PT_CATS] = {0}, busy = 0;
        uint64_t span = pt_timeline_span(tl, i);
        pt_timeline_bucket(tl, f, i, ns);
        cat[PT_CAT_COMPUTE] = ns[PT_TL_COMPUTE], cat[PT_CAT_COPY] = ns[PT_TL_COPY];
        for (int k = 0; k < a->n_comms; k++)
            cat[x->tl.comm_cat[f * PT_ATTR_COMMS + (size_t)k]] += ns[PT_TL_COMM + k];
        for (int c = 0; c < PT_CAT_IDLE; c++)
            busy += cat[c];
        for (int series = 0; series < TL_SERIES; series++) {
            if (!(x->tl.shown[f] >> series & 1))
                continue;
            uint64_t v = series == TL_BUSY ? busy : cat[series - 1];
            int16_t pct = (int16_t)(v >= span ? 100 : (200 * v + span) / (2 * span));
            int16_t *last = &x->tl.last[f * TL_SERIES + (size_t)series];
            if (*last == pct)
                continue;
            *last = pct;
            pt_pf_counter_int(&x->out, start, timeline_track(x, f, series), pct);
            x->st->counters++;
        }
    }
}

/* Writes the buckets that start at or before t (and inside the window). */
void pt_xp_timeline_until(struct exporter *x, uint64_t t)
{
    const struct pt_timeline *tl = &x->rep.timeline;
    for (; x->tl.next < tl->n; x->tl.next++) {
        uint64_t start = tl->origin + x->tl.next * tl->width;
        if (start > t)
            break;
        if (start < x->from_ns || (x->to_ns && start >= x->to_ns))
            continue;
        pt_xp_flush_ends(x, start);
        timeline_bucket(x, x->tl.next, start);
    }
}
