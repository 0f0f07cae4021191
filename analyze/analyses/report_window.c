/* The report's window (report_window.h). */
#include "analyses/report_window.h"

#include <math.h>
#include <string.h>

#include <partrace/format.h>

static int inside(const struct pt_window *w, const struct pt_rank_window *rw)
{
    return rw->in_time && (!w->phase || rw->phase_depth > 0);
}

static void edge(struct pt_attr_rank *a, const struct pt_window *w, const struct pt_rank_window *rw,
                 uint64_t t, int was)
{
    int now = inside(w, rw);
    if (now != was)
        pt_attr_window(a, t, now);
}

static uint64_t at(const struct pt_window *w, double s)
{
    return w->run_start + (uint64_t)llround(s * 1e9);
}

/* NVTX ranges of the phase's name: push/pop nest per thread, start/end pair by id. */
static void follow_phase(const struct pt_window *w, struct pt_rank_window *rw, const struct pt_event *ev)
{
    const struct pt_rec_nvtx *n = (const void *)ev->rec;
    size_t len = strlen(w->phase);
    int is_phase = n->text_bytes == len && !memcmp(n->text, w->phase, len);
    if (n->event == PT_NVTX_PUSH || n->event == PT_NVTX_POP) {
        int t = 0;
        while (t < rw->n_threads && rw->threads[t].tid != ev->rec->tid)
            t++;
        if (t == rw->n_threads) {
            if (t == PT_WINDOW_THREADS)
                return;
            rw->threads[rw->n_threads++].tid = ev->rec->tid;
        }
        if (n->event == PT_NVTX_PUSH) {
            rw->threads[t].bits = rw->threads[t].bits << 1 | (uint64_t)is_phase;
            rw->phase_depth += is_phase;
        } else {
            rw->phase_depth -= (int)(rw->threads[t].bits & 1);
            rw->threads[t].bits >>= 1;
        }
    } else if (n->event == PT_NVTX_START && is_phase && rw->n_ranges < 64) {
        rw->ranges[rw->n_ranges++] = n->range_id;
        rw->phase_depth++;
    } else if (n->event == PT_NVTX_END) {
        for (int i = 0; i < rw->n_ranges; i++)
            if (rw->ranges[i] == n->range_id) {
                rw->ranges[i] = rw->ranges[--rw->n_ranges];
                rw->phase_depth--;
                break;
            }
    }
}

int pt_window_step(struct pt_window *w, struct pt_rank_window *rw, struct pt_attr_rank *a,
                   const struct pt_event *ev)
{
    if (!w->run_start) {
        w->run_start = ev->ts_ns;
        w->from_ns = at(w, w->from_s);
        w->to_ns = w->to_s < 0 ? UINT64_MAX : at(w, w->to_s);
        w->open_ended = w->to_s < 0 && !w->phase;
    }
    const uint64_t from = w->from_ns, to = w->to_ns;
    if (!rw->started) {
        rw->started = 1;
        rw->in_time = ev->ts_ns >= from && ev->ts_ns < to;
        pt_attr_window(a, ev->ts_ns, inside(w, rw));
    }
    int was = inside(w, rw);
    if (!rw->in_time && ev->ts_ns >= from && ev->ts_ns < to) {
        rw->in_time = 1;
        edge(a, w, rw, from, was);
    } else if (rw->in_time && ev->ts_ns >= to) {
        rw->in_time = 0;
        edge(a, w, rw, to, was);
    }
    if (w->phase && ev->rec->kind == PT_REC_NVTX) {
        was = inside(w, rw);
        follow_phase(w, rw, ev);
        edge(a, w, rw, ev->ts_ns, was);
    }
    return inside(w, rw);
}
