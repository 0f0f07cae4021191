/* The report's attribution over time as counter tracks of the Perfetto export (exporter.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"


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

/* Writes bucket i of every exported rank: a value where it changed. */
static void timeline_bucket(struct exporter *x, size_t i, uint64_t start)
{
    const struct pt_timeline *tl = &x->rep.timeline;
    for (size_t f = 0; f < x->rep.n; f++) {
        const struct pt_attr_rank *a = &x->rep.attr[f];
        if (!x->keep[f] || !a->first_ns)
            continue;
        uint64_t ns[PT_TL_VALUES], cat[PT_CATS] = {0}, total[PT_CATS], hidden, busy = 0;
        uint64_t span = pt_timeline_span(tl, i);
        pt_timeline_bucket(tl, f, i, ns);
        cat[PT_CAT_COMPUTE] = ns[PT_TL_COMPUTE], cat[PT_CAT_COPY] = ns[PT_TL_COPY];
        for (int k = 0; k < a->n_comms; k++)
            cat[pt_report_comm_category(&x->rep, a->comms[k].comm)] += ns[PT_TL_COMM + k];
        pt_report_categories(&x->rep, f, total, &hidden);
        for (int c = 0; c < PT_CAT_IDLE; c++)
            busy += cat[c];
        for (int series = 0; series < TL_SERIES; series++) {
            if (series != TL_BUSY && !total[series - 1])
                continue;
            uint64_t v = series == TL_BUSY ? busy : cat[series - 1];
            int16_t pct = (int16_t)(v >= span ? 100 : (200 * v + span) / (2 * span));
            int16_t *last = &x->tl_last[f * TL_SERIES + (size_t)series];
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
    for (; x->tl_next < tl->n; x->tl_next++) {
        uint64_t start = tl->origin + x->tl_next * tl->width;
        if (start > t)
            break;
        if (start < x->from_ns || (x->to_ns && start >= x->to_ns))
            continue;
        pt_xp_flush_ends(x, start);
        timeline_bucket(x, x->tl_next, start);
    }
}

