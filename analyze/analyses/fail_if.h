/* The CI gate of `partrace report --fail-if EXPR`. Grammar (docs/partrace-report.md):
 *   EXPR   := VALUE OP NUMBER
 *   VALUE  := METRIC | AGG "(" "rank." METRIC ")" | RUN_METRIC
 *   AGG    := "max" | "min" | "mean"
 *   METRIC := compute_pct | tp_comm_pct | pp_bubble_pct | ep_comm_pct | other_comm_pct |
 *             memcpy_pct | idle_pct | tp_comm.exposed_pct (= tp_comm_pct)
 *   RUN_METRIC := a figure of the whole run (PT_RUN_METRICS, analyses/compare.h): ttft_p50_ms,
 *             ttft_p99_ms, tpot_p50_ms, tpot_p99_ms, output_tokens_per_s, kv_hit_rate,
 *             gpu_busy_pct, exposed_comm_pct, mem_peak_gib
 *   OP     := ">" | ">=" | "<" | "<=" | "==" | "!="
 * A bare METRIC is the mean over ranks. */
#ifndef PT_FAIL_IF_H
#define PT_FAIL_IF_H

#include <stddef.h>

#define PT_GATE_METRICS 7 /* in report category order: compute ... idle */

struct pt_gate {
    char text[128];
    int agg;       /* 0 mean, 1 max, 2 min */
    int metric;    /* index into the report's categories, or -1 for a run metric */
    int run_metric; /* with metric -1: enum pt_run_metric */
    int op;        /* 0 >, 1 >=, 2 <, 3 <=, 4 ==, 5 != */
    double threshold;
};

/* Parses an expression. Returns 0, or -1 with a message in err that points at the problem. */
int pt_gate_parse(const char *text, struct pt_gate *g, char *err, size_t errlen);

/* Evaluates a gate over per-rank percentages pct[rank][metric] (n ranks). Returns 1 when the
 * condition holds, 0 when it does not, -1 when there is nothing to evaluate; *value gets the
 * aggregated value. A gate of a run metric is evaluated with pt_gate_eval_value. */
int pt_gate_eval(const struct pt_gate *g, const double (*pct)[PT_GATE_METRICS], size_t n,
                 double *value);

/* A gate of a run metric against the run's value of it (NaN: -1, nothing to evaluate). */
int pt_gate_eval_value(const struct pt_gate *g, double v);

#endif
