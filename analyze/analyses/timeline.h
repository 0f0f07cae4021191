/* Attribution over time: each file's GPU time per category in buckets of one width over the run,
 * for the export's counter tracks. Taken in the report's pass as snapshots of the attribution's
 * running totals at bucket boundaries (the run is in time order: when it passes a boundary, every
 * interval that starts before it has been painted). When the buckets run out, neighbours merge
 * and the width doubles: memory is fixed by the bucket count, never by the run's length. */
#ifndef PT_TIMELINE_H
#define PT_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "analyses/attribution.h"

/* What a snapshot holds, per file: compute, copy, then each communicator slot's exposed time. */
enum { PT_TL_COMPUTE, PT_TL_COPY, PT_TL_COMM, PT_TL_VALUES = PT_TL_COMM + PT_ATTR_COMMS };

struct pt_timeline {
    uint64_t origin, width;    /* bucket i is [origin + i·width, origin + (i+1)·width) */
    uint64_t last;             /* the run's last time: the last bucket ends there */
    size_t files, cap, n;      /* n buckets complete, at most cap (even) */
    uint64_t *cum;             /* [files][cap][PT_TL_VALUES]: totals at the end of each bucket */
};

/* Returns 0, or -1 when out of memory. The first bucket starts at origin. */
int pt_timeline_init(struct pt_timeline *t, size_t files, uint64_t origin);
/* Completes every bucket that ends at or before now (the time of the next event of the run). */
void pt_timeline_step(struct pt_timeline *t, struct pt_attr_rank *attr, uint64_t now);
/* After pt_attr_finish: completes the bucket holding last, the run's last time. */
void pt_timeline_finish(struct pt_timeline *t, struct pt_attr_rank *attr, uint64_t last);
/* How long bucket i is: the width, less for the last (cut at the run's end). */
uint64_t pt_timeline_span(const struct pt_timeline *t, size_t i);
/* File f's time in bucket i, per value (ns). */
void pt_timeline_bucket(const struct pt_timeline *t, size_t f, size_t i, uint64_t *ns);
void pt_timeline_free(struct pt_timeline *t);

#endif
