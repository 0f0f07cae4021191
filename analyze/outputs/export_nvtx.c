/* NVTX records in the Perfetto export (exporter.h): push/pop ranges and marks on their thread's
 * track, start/end ranges on lane tracks of their process. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/exporter.h"

/* The track of lane `lane` of file's NVTX start/end ranges, described when new. */
static uint64_t lane_track(struct exporter *x, size_t file, int lane)
{
    int fresh;
    uint64_t uuid = pt_xp_new_track(x, file, TRACK_RANGES, (uint64_t)lane, &fresh);
    if (fresh) {
        char name[32];
        snprintf(name, sizeof name, "NVTX ranges %d", lane + 1);
        pt_pf_track(&x->out, uuid, pt_xp_track_uuid(x, file, TRACK_PROCESS, 0), name, 500 + lane);
    }
    return uuid;
}

/* An NVTX range opened on track t: a slice whose end comes with its pop or end record. */
static void begin_nvtx_slice(struct exporter *x, uint64_t track, struct track *t, uint64_t ts, const char *text)
{
    uint64_t name = pt_pf_intern(&x->out, PT_PF_EVENT_NAME, text);
    pt_pf_begin(&x->out, ts, track, pt_xp_category(x, C_NVTX), name, NULL, 0, 0, 0, 0);
    t->ends[t->depth++] = UINT64_MAX;
    x->st->slices++;
}

static void end_nvtx_slice(struct exporter *x, uint64_t track, struct track *t, uint64_t ts)
{
    pt_pf_end(&x->out, ts, track);
    t->depth--;
}

/* A start/end range: its start takes the process's first free lane, its end frees it. */
static void on_range(struct exporter *x, size_t file, const struct pt_rec_nvtx *r, const char *text)
{
    if (r->event == PT_NVTX_START) {
        uint32_t busy = x->lanes_busy[file];
        if (busy == UINT32_MAX || x->n_ranges == MAX_OPEN_RANGES) {
            x->st->ranges_left_out++;
            return;
        }
        int lane = __builtin_ctz(~busy);
        uint64_t track = lane_track(x, file, lane);
        int fresh;
        struct track *t = pt_xp_track_get(x, track, &fresh);
        if (!t)
            return;
        begin_nvtx_slice(x, track, t, r->ts_ns, text);
        x->lanes_busy[file] |= 1u << lane;
        x->ranges[x->n_ranges++] = (struct open_range){file, r->range_id, lane};
        return;
    }
    for (size_t i = 0; i < x->n_ranges; i++) {
        struct open_range *o = &x->ranges[i];
        if (o->file != file || o->id != r->range_id)
            continue;
        uint64_t track = lane_track(x, file, o->lane);
        int fresh;
        struct track *t = pt_xp_track_get(x, track, &fresh);
        if (t && t->depth)
            end_nvtx_slice(x, track, t, r->ts_ns);
        x->lanes_busy[file] &= ~(1u << o->lane);
        *o = x->ranges[--x->n_ranges];
        return;
    }
}

void pt_xp_on_nvtx(struct exporter *x, size_t file, const struct pt_rec_nvtx *r)
{
    char text[256];
    snprintf(text, sizeof text, "%.*s", (int)r->text_bytes, r->text);
    uint64_t track = pt_xp_file_track(x, file, TRACK_THREAD, r->hdr.tid);
    int fresh;
    struct track *t = pt_xp_track_get(x, track, &fresh);
    if (!t || r->ts_ns < x->from_ns || (x->to_ns && r->ts_ns >= x->to_ns))
        return;
    pt_xp_flush_ends(x, r->ts_ns);
    if (r->event == PT_NVTX_START || r->event == PT_NVTX_END)
        on_range(x, file, r, text);
    else if (r->event == PT_NVTX_PUSH && t->depth < MAX_DEPTH)
        begin_nvtx_slice(x, track, t, r->ts_ns, text);
    else if (r->event == PT_NVTX_POP && t->depth && t->ends[t->depth - 1] == UINT64_MAX)
        end_nvtx_slice(x, track, t, r->ts_ns);
    else if (r->event == PT_NVTX_MARK) {
        uint64_t name = pt_pf_intern(&x->out, PT_PF_EVENT_NAME, text);
        pt_pf_instant(&x->out, r->ts_ns, track, pt_xp_category(x, C_NVTX), name, NULL, 0);
    }
}

