/* Builds what `partrace report` and `partrace diff` print: one pass over a run, merged in time,
 * through the collectives' matching, the attribution painter and the per-rank totals, inside
 * the chosen window; then roles and layout. Messages about the input go to stderr. */
#ifndef PT_REPORT_BUILD_H
#define PT_REPORT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "analyses/attribution.h"
#include "read/clock_align.h"
#include "analyses/collectives.h"
#include "analyses/report_window.h"
#include "analyses/requests.h"
#include "analyses/serving.h"
#include "read/run_merge.h"
#include "analyses/timeline.h"
#include "analyses/topology.h"
#include "read/trace_set.h"

/* Attribution categories, in order; each rank's add up to 100 % of its span. */
enum { PT_CAT_COMPUTE, PT_CAT_TP, PT_CAT_PP, PT_CAT_EP, PT_CAT_OTHER, PT_CAT_COPY, PT_CAT_IDLE, PT_CATS };
extern const char *const pt_cat_names[PT_CATS]; /* "compute", "tp_comm", ... as in the JSON */

struct pt_rank_totals {
    int32_t rank;
    int32_t gpu;               /* CUDA device of its communicators, -1 unknown */
    const char *host;
    uint64_t first_ns, last_ns;
    uint64_t nccl_host_ns;     /* time inside NCCL calls, host side */
    uint64_t nccl_calls;       /* NCCL calls it made (in the window) */
    uint64_t comm_kernel_ns;   /* NCCL kernels, summed */
    uint64_t other_kernel_ns;  /* all other kernels, summed */
    uint64_t kernels;
};

#define PT_REPORT_PHASES 8

struct pt_report_opts {
    struct pt_window window;   /* {0, -1, NULL}: the whole run */
    struct pt_layout given;    /* --layout: non-zero axes replace the inferred ones */
    int trust_clocks;
    int quiet;                 /* no per-host clock lines on stderr (JSON output) */
    int again;                 /* this run was reported already: no warnings this time */
    int timeline;              /* also the attribution over time (pt_report.timeline) */
};

struct pt_outside;

struct pt_report {
    size_t n;                  /* trace files */
    struct pt_collectives *c;
    struct pt_outside *outside;    /* communication kernels outside NCCL, until matched */
    struct pt_rank_totals *totals; /* [n] */
    struct pt_attr_rank *attr;     /* [n] */
    struct pt_role *roles;         /* [communicators] */
    size_t *by_rank;               /* files in rank order */
    struct pt_layout layout;
    int layout_given, gpu, world, windowed;
    struct pt_clock_align clocks;
    int64_t *shift;
    struct pt_trace_set set;
    struct pt_run run;
    char phase_names[PT_REPORT_PHASES][64]; /* NVTX range names seen, in order of appearance */
    struct pt_run_key phase_first[PT_REPORT_PHASES]; /* each name's first range (run_key.h) */
    int n_phase_names;
    struct pt_requests requests;            /* serving marks inside the window */
    struct pt_serving serving;              /* server metrics scraped inside the window */
    struct pt_timeline timeline;            /* when asked for (opts.timeline) */
    uint64_t capture_ranges;                /* PT_CAPTURE_RANGE_NAME ranges seen (all files) */
};

/* Returns 0, or 1 when the input could not be read (or the window holds nothing): said on stderr,
 * and r is then empty (nothing to free). */
int pt_report_build(const char *path, struct pt_report_opts *o, struct pt_report *r);
/* The category of exposed communication on comm: by the role inferred for it. */
int pt_report_comm_category(const struct pt_report *r, uint64_t comm);
/* File i's attributed time by category (ns), and the communication hidden under compute. */
void pt_report_categories(const struct pt_report *r, size_t i, uint64_t *cat, uint64_t *hidden);
/* The same with each category's share of the rank's span (%, 0 for an empty span) and the span.
 * Returns 0 when file i has no GPU attribution. */
int pt_report_shares(const struct pt_report *r, size_t i, uint64_t *cat, double *pct, uint64_t *hidden,
                     uint64_t *span);
/* Over the ranks with a non-empty attributed span: the mean share of each category (%), the ns
 * of each summed, and (span_total, may be NULL) their spans summed. Returns how many ranks. */
int pt_report_mean_shares(const struct pt_report *r, double *pct, uint64_t *ns, uint64_t *span_total);

/* One row of the collectives table: a communicator, an op, a size bucket that saw instances. */
struct pt_report_row {
    size_t next;                      /* cursor: set to 0 before the first call */
    size_t comm;                      /* index of the communicator (and of its role) */
    const struct pt_comm_stats *s;
    uint16_t op;
    const struct pt_coll_bucket *k;
    uint64_t bytes;                   /* per instance */
    double algbw, busbw;              /* GB/s, nccl-tests' formulas */
};
/* Moves row to the next row of the table. Returns 0 after the last. */
int pt_report_next_row(const struct pt_report *r, struct pt_report_row *row);
/* A communicator some of whose ranks are not in the run (a trace file missing): one sentence
 * into out saying what its numbers then cover; 0 (and nothing) when it is whole. */
int pt_report_missing_ranks(const struct pt_comm_stats *s, char *out, size_t cap);
/* Whether a file is one of the job's ranks: its launcher gave it a rank, or it made NCCL calls
 * (a process that creates its communicators with no launcher variables). */
int pt_report_is_rank(const struct pt_report *r, size_t file);
/* Its rank (the launcher's, else its place among the run's files, as the report numbers it), or
 * -1 when it is none. */
int32_t pt_report_rank_of(const struct pt_report *r, size_t file);
/* The straggler of a communicator: the member whose lateness cost the others most (-1: none;
 * of equal costs, the lowest global rank); its global rank is s->member_rank[member]. *total
 * gets the waiting of all instances. */
int32_t pt_report_straggler(const struct pt_comm_stats *s, uint64_t *total);
/* "from 7 s to 7.2 s after the run's first event, in NVTX ranges 'decode'" */
void pt_report_describe_window(const struct pt_window *w, char *out, size_t cap);
/* Means over the ranks with attribution: GPU busy (not idle) and exposed communication, in %. */
void pt_report_seed(const struct pt_report *r, double *gpu_busy_pct, double *exposed_comm_pct);

/* The serving figures the outputs show: from the application's NVTX request marks when the run
 * has them, else from the server's scraped metrics; KV-cache and queue figures come from the
 * metrics either way (NaN without them). Returns 0 when the run has neither. */
struct pt_report_serving {
    const char *source; /* "nvtx" or "prometheus" */
    struct pt_serving_stats s;
};
int pt_report_serving(const struct pt_report *r, struct pt_report_serving *out);
void pt_report_free(struct pt_report *r);

#endif
