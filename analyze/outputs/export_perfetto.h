/* `partrace export --perfetto`: a run as a Perfetto trace. One process track per rank (in rank
 * order, named with rank, coordinates, host:pid and GPU), a "GPU" group in it with one track
 * per CUDA stream (kernels, copies, memsets), its host threads (NCCL calls, NVTX ranges), a
 * device-memory counter per GPU; a flow from each NCCL call to its kernel, and the same
 * collective on every rank sharing one correlation id. */
#ifndef PT_EXPORT_PERFETTO_H
#define PT_EXPORT_PERFETTO_H

#include <stddef.h>
#include <stdint.h>

#include "analyses/report_window.h"

struct pt_export_opts {
    const char *run;           /* run directory or trace file */
    const char *out;           /* output path */
    int gz;                    /* gzip the output */
    int force;                 /* overwrite an existing output */
    struct pt_window window;   /* --from/--to/--phase */
    const char *ranks;         /* --ranks "0,2-3", NULL: all */
};

struct pt_export_stats {
    uint64_t events_in, slices, flows, counters, packets, bytes, clipped;
    uint64_t timed; /* collective slices that got this rank's wait and transfer */
    uint64_t ranges_left_out; /* NVTX start/end ranges beyond the lanes (32 a process open at once) */
};

/* Returns 0, 1 when the run could not be read or the output not written, 2 for a bad --ranks
 * list (said on stderr). */
int pt_export_perfetto(const struct pt_export_opts *o, struct pt_export_stats *st);

struct pt_report;
/* "rank 3 · TP1 PP0 · node1:4711 · GPU3": the name of file `file`'s process in a built report. */
void pt_export_process_name(const struct pt_report *r, size_t file, char *out, size_t cap);

#endif
