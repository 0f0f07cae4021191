/* `partrace compare`: runs of the same model under different layouts, side by side: each run's
 * inferred layout, serving figures, where the GPUs' time went, peak memory and busiest
 * straggler; the best value of each column; and findings, each one sentence with its number,
 * most costly first (docs/partrace-compare.md). */
#ifndef PT_COMPARE_H
#define PT_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "analyses/report_build.h"

#define PT_COMPARE_MAX_RUNS 26 /* lettered A to Z */
#define PT_COMPARE_MAX_FINDINGS 64

/* The columns, one row each: X(name, label, better, group). name is the JSON key (and the
 * metric's name wherever a run's figure is named: diff, --fail-if); better: LOW or HIGH; group:
 * the JSON object of `compare` that holds it (serving, shares, memory). */
#define PT_RUN_METRICS(X)                                                      \
    X(ttft_p50_ms,         "TTFT p50 ms",    LOW,  serving)                    \
    X(ttft_p99_ms,         "TTFT p99 ms",    LOW,  serving)                    \
    X(tpot_p50_ms,         "TPOT p50 ms",    LOW,  serving)                    \
    X(tpot_p99_ms,         "TPOT p99 ms",    LOW,  serving)                    \
    X(output_tokens_per_s, "out tok/s",      HIGH, serving)                    \
    X(kv_hit_rate,         "KV hit",         HIGH, serving)                    \
    X(gpu_busy_pct,        "GPU busy %",     HIGH, shares)                     \
    X(exposed_comm_pct,    "exposed comm %", LOW,  shares)                     \
    X(tp_comm_pct,         "TP %",           LOW,  shares)                     \
    X(pp_bubble_pct,       "PP bubble %",    LOW,  shares)                     \
    X(ep_comm_pct,         "EP %",           LOW,  shares)                     \
    X(idle_pct,            "idle %",         LOW,  shares)                     \
    X(mem_peak_gib,        "peak mem GiB",   LOW,  memory)

enum pt_run_metric {
#define PT_X(name, label, better, group) PT_RM_##name,
    PT_RUN_METRICS(PT_X)
#undef PT_X
    PT_RUN_METRIC_COUNT
};
extern const char *const pt_run_metric_names[PT_RUN_METRIC_COUNT];
extern const char *const pt_run_metric_labels[PT_RUN_METRIC_COUNT];
extern const int pt_run_metric_higher_better[PT_RUN_METRIC_COUNT];
extern const char *const pt_run_metric_groups[PT_RUN_METRIC_COUNT];

/* The index of a metric by name, or -1. */
int pt_run_metric_find(const char *name);

struct pt_compare_run {
    const char *dir;
    char layout[64];                 /* "TP4×PP2", "DP8", "1 GPU" */
    struct pt_layout l;
    int ranks;
    const char *serving_source;      /* "nvtx", "prometheus" or NULL */
    double v[PT_RUN_METRIC_COUNT];   /* NaN where the run does not tell */
    int32_t straggler_rank;          /* -1: none */
    char straggler_role[16];
    double straggler_wait_ms;        /* what the others waited for it */
};

struct pt_finding {
    double cost_ms;                  /* GPU time per rank it costs, to order findings by */
    int run;
    char text[320];
};

struct pt_compare {
    int n;
    struct pt_compare_run runs[PT_COMPARE_MAX_RUNS];
    int best[PT_RUN_METRIC_COUNT];   /* the run with the best value, -1 when none has one */
    struct pt_finding findings[PT_COMPARE_MAX_FINDINGS];
    int n_findings;
    int without_findings;            /* rows with no reports behind them (whatif's): no section */
};

/* One run's figures from its built report. Peak memory (NaN without with_memory) takes one more
 * read of every trace file: only callers that show it ask for it. */
void pt_compare_run_of(const struct pt_report *r, const char *dir, int with_memory,
                       struct pt_compare_run *out);

/* Builds the comparison of n runs (at most PT_COMPARE_MAX_RUNS), each reported over window w.
 * Returns 0, or 1 when a run could not be read (said on stderr). */
int pt_compare_build(const char *const *dirs, int n, const struct pt_window *w, struct pt_compare *c);
/* Marks each column's best run and orders the findings, most costly first (again after rows
 * were added: `compare --whatif`). */
void pt_compare_rank(struct pt_compare *c);

#endif
