/* The report's window: a time range (--from/--to, seconds after the run's first event) and/or
 * an NVTX phase (--phase NAME: the push/pop and start/end ranges of that name on each rank).
 * Collectives are counted when their call falls inside; GPU time is attributed only for the
 * part of it inside (the painter is paused outside, so kernels are clipped at the edges). */
#ifndef PT_REPORT_WINDOW_H
#define PT_REPORT_WINDOW_H

#include <stdint.h>

#include "analyses/attribution.h"
#include "read/run_merge.h"

struct pt_window {
    double from_s, to_s; /* to_s < 0: no end */
    const char *phase;   /* NULL: no phase */
    uint64_t run_start;  /* the first merged event's time: set by the first pt_window_step */
    uint64_t from_ns, to_ns; /* the edges on the runs' clock, from run_start */
    int open_ended;      /* no end and no phase: set with run_start */
};

#define PT_WINDOW_THREADS 64

/* One rank's state: where it is in the time range and in the phase's ranges. */
struct pt_rank_window {
    int started, in_time, phase_depth;
    struct {
        uint32_t tid;
        uint64_t bits; /* one per nesting level: 1 where that range is the phase */
    } threads[PT_WINDOW_THREADS];
    int n_threads;
    uint64_t ranges[64]; /* start/end ranges of the phase still open */
    int n_ranges;
};

/* Follows the window's edges up to event ev of rank state rw, opening and closing the
 * attribution of that rank (a) at the edges. Returns 1 when ev is inside the window. */
int pt_window_step(struct pt_window *w, struct pt_rank_window *rw, struct pt_attr_rank *a,
                   const struct pt_event *ev);
/* 1 once every later event of the rank is inside as well: the window has no end and no phase,
 * and the rank has entered it. A caller may then skip pt_window_step for that rank (the
 * report, for every event of a whole-run report, keeps this in a flag per rank). */
static inline int pt_window_settled(const struct pt_window *w, const struct pt_rank_window *rw)
{
    return rw->in_time & w->open_ended;
}

#endif
