/* Where each GPU's time went, over the span of its GPU activity, in categories that add up to
 * the whole span (docs/METRICS.md): compute (any kernel that is not communication), exposed
 * communication per communicator (NCCL kernels while no compute kernel runs; communication under
 * compute is "hidden" and reported apart), copies (memcpy/memset while neither runs), idle. One
 * rule for overlaps: compute > communication > copies > idle at every instant.
 * Streams in time order with only the intervals in flight kept: memory does not grow with the run. */
#ifndef PT_ATTRIBUTION_H
#define PT_ATTRIBUTION_H

#include <stdint.h>

#include "read/event_source.h"
#include "read/trace_context.h"

#define PT_ATTR_COMMS 16 /* communicators tracked per rank; more go to "other" */

struct pt_attr_comm {
    uint64_t comm;       /* 0: communication kernels of no known communicator */
    uint64_t exposed_ns, hidden_ns;
};

struct pt_attr_active {
    uint64_t end;
    uint8_t category;    /* 0 compute, 1 communication, 2 copy */
    uint8_t comm_slot;
};

struct pt_attr_rank {
    uint64_t first_ns, done_ns, last_ns; /* span start, attributed up to, span end */
    int paused;                          /* outside the report's window: time is not counted */
    uint64_t counted_ns;                 /* time attributed (the span, less paused time) */
    uint64_t compute_ns, copy_ns, idle_ns;
    struct pt_attr_comm comms[PT_ATTR_COMMS];
    int n_comms;
    struct pt_attr_active *active;       /* intervals started and not yet over */
    int n_active, cap_active;
};

/* Feeds one merged event, whose record is of kind `kind` (dispatched on by the caller);
 * ranks[ev->source] accumulates. For a kernel, name is its name's entry (pt_trace_ctx_name),
 * NULL when unknown, and comm the communicator of its NCCL call (what pt_collectives_add
 * returned), 0 when unknown: both looked up once by the caller for every analysis. */
void pt_attr_add(struct pt_attr_rank *ranks, const struct pt_event *ev, uint16_t kind,
                 const struct pt_ctx_string *name, uint64_t comm);
/* One GPU interval of category 0 compute, 1 communication (of comm), 2 copy; intervals must come
 * in order of start (later-starting ones that start before what is attributed are clipped). */
void pt_attr_interval(struct pt_attr_rank *r, uint64_t start, uint64_t end, uint8_t category,
                      uint64_t comm);

/* Opens (counting = 1) or closes the window at time t: attribution before t follows the old
 * state, after t the new one (report windows: --from/--to, --phase). */
void pt_attr_window(struct pt_attr_rank *r, uint64_t t, int counting);

/* Attributes up to t, or to the last end seen if that is earlier (what lies after it is not
 * known yet: idle, or the span's end): totals then describe everything before t. */
void pt_attr_advance(struct pt_attr_rank *r, uint64_t t);
/* Attributes what remains up to each rank's last end. */
void pt_attr_finish(struct pt_attr_rank *ranks, size_t n);
void pt_attr_free(struct pt_attr_rank *ranks, size_t n);

#endif
