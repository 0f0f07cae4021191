#include "analyses/compare.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read/trace_summary.h"
#include "util/diag.h"

const char *const pt_run_metric_names[PT_RUN_METRIC_COUNT] = {
#define PT_X(name, label, better, group) #name,
    PT_RUN_METRICS(PT_X)
#undef PT_X
};
const char *const pt_run_metric_labels[PT_RUN_METRIC_COUNT] = {
#define PT_X(name, label, better, group) label,
    PT_RUN_METRICS(PT_X)
#undef PT_X
};
#define LOW 0
#define HIGH 1
const int pt_run_metric_higher_better[PT_RUN_METRIC_COUNT] = {
#define PT_X(name, label, better, group) better,
    PT_RUN_METRICS(PT_X)
#undef PT_X
};

const char *const pt_run_metric_groups[PT_RUN_METRIC_COUNT] = {
#define PT_X(name, label, better, group) #group,
    PT_RUN_METRICS(PT_X)
#undef PT_X
};

int pt_run_metric_find(const char *name)
{
    for (int m = 0; m < PT_RUN_METRIC_COUNT; m++)
        if (!strcmp(pt_run_metric_names[m], name))
            return m;
    return -1;
}

/* "TP4×PP2": the axes larger than one, "1 GPU" when none is. */
static void layout_label(const struct pt_layout *l, char *out, size_t cap)
{
    const char *axes[] = {"TP", "PP", "DP", "EP"};
    const int size[] = {l->tp, l->pp, l->dp, l->ep};
    size_t n = 0;
    out[0] = 0;
    for (int k = 0; k < 4 && n < cap; k++)
        if (size[k] > 1)
            n += (size_t)snprintf(out + n, cap - n, "%s%s%d", n ? "×" : "", axes[k], size[k]);
    if (!n)
        snprintf(out, cap, "%d GPU%s", l->world > 1 ? l->world : 1, l->world > 1 ? "s" : "");
}

/* The largest device memory in use at once on any GPU of the run (GiB), from its files'
 * allocation records; NaN when none were recorded. */
static double memory_peak_gib(const struct pt_report *r)
{
    struct pt_trace_summary *s = malloc(sizeof *s);
    int64_t peak = -1;
    for (size_t i = 0; s && i < r->set.count; i++) {
        char err[256];
        if (pt_trace_summarize(r->set.paths[i], s, err, sizeof err) != 0)
            continue;
        for (int d = 0; d < 16; d++)
            if (s->device_peak[d] > peak && (s->device_peak[d] > 0 || s->by_kind[PT_REC_MEMORY]))
                peak = s->device_peak[d];
    }
    free(s);
    return peak > 0 ? (double)peak / (1024.0 * 1024.0 * 1024.0) : NAN;
}

void pt_compare_run_of(const struct pt_report *r, const char *dir, int with_memory,
                       struct pt_compare_run *out)
{
    memset(out, 0, sizeof *out);
    out->dir = dir;
    out->l = r->layout;
    out->ranks = r->layout.world;
    layout_label(&r->layout, out->layout, sizeof out->layout);
    for (int m = 0; m < PT_RUN_METRIC_COUNT; m++)
        out->v[m] = NAN;
    struct pt_report_serving sv;
    if (pt_report_serving(r, &sv)) {
        out->serving_source = sv.source;
        out->v[PT_RM_ttft_p50_ms] = sv.s.ttft_ms[0];
        out->v[PT_RM_ttft_p99_ms] = sv.s.ttft_ms[2];
        out->v[PT_RM_tpot_p50_ms] = sv.s.tpot_ms[0];
        out->v[PT_RM_tpot_p99_ms] = sv.s.tpot_ms[2];
        out->v[PT_RM_output_tokens_per_s] = sv.s.output_tokens_per_s;
        out->v[PT_RM_kv_hit_rate] = sv.s.kv_hit_rate;
    }
    double pct[PT_CATS];
    uint64_t ns[PT_CATS];
    if (r->gpu && pt_report_mean_shares(r, pct, ns, NULL)) {
        out->v[PT_RM_gpu_busy_pct] = 100.0 - pct[PT_CAT_IDLE];
        out->v[PT_RM_exposed_comm_pct] = pct[PT_CAT_TP] + pct[PT_CAT_PP] + pct[PT_CAT_EP] + pct[PT_CAT_OTHER];
        out->v[PT_RM_tp_comm_pct] = pct[PT_CAT_TP];
        out->v[PT_RM_pp_bubble_pct] = pct[PT_CAT_PP];
        out->v[PT_RM_ep_comm_pct] = pct[PT_CAT_EP];
        out->v[PT_RM_idle_pct] = pct[PT_CAT_IDLE];
    }
    if (with_memory)
        out->v[PT_RM_mem_peak_gib] = memory_peak_gib(r);
    out->straggler_rank = -1;
    uint64_t worst = 0;
    for (size_t i = 0; i < pt_collectives_count(r->c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(r->c, i);
        uint64_t total;
        int32_t m = pt_report_straggler(s, &total);
        if (m >= 0 && s->late_cost_ns[m] > worst) {
            worst = s->late_cost_ns[m]; /* what the others waited for it */
            out->straggler_rank = s->member_rank[m];
            snprintf(out->straggler_role, sizeof out->straggler_role, "%s", r->roles[i].role);
        }
    }
    out->straggler_wait_ms = (double)worst / 1e6;
}

static void add_finding(struct pt_compare *c, int run, double cost_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add_finding(struct pt_compare *c, int run, double cost_ms, const char *fmt, ...)
{
    if (c->n_findings == PT_COMPARE_MAX_FINDINGS)
        return;
    struct pt_finding *f = &c->findings[c->n_findings++];
    f->run = run, f->cost_ms = cost_ms;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof f->text, fmt, ap);
    va_end(ap);
}

/* The findings of one run, from its report. */
static void find(struct pt_compare *c, int run, const struct pt_report *r, const struct pt_window *w)
{
    const struct pt_compare_run *x = &c->runs[run];
    double pct[PT_CATS];
    uint64_t ns[PT_CATS], span = 0;
    int ranks = r->gpu ? pt_report_mean_shares(r, pct, ns, &span) : 0;
    double span_ms = ranks ? (double)span / 1e6 / ranks : 0;
    if (ranks) {
        /* Host-bound: the GPU waits for work. The rank that waits most, and how many do. */
        int over = 0;
        double worst = 0;
        int32_t worst_rank = -1;
        for (size_t i = 0; i < r->n; i++) {
            uint64_t cat[PT_CATS], hidden, s;
            double p[PT_CATS];
            if (!pt_report_shares(r, i, cat, p, &hidden, &s))
                continue;
            over += p[PT_CAT_IDLE] >= 30.0;
            if (p[PT_CAT_IDLE] > worst)
                worst = p[PT_CAT_IDLE], worst_rank = r->totals[i].rank;
        }
        if (over)
            add_finding(c, run, pct[PT_CAT_IDLE] / 100.0 * span_ms,
                        "%s (%s): %d of %d ranks are host-bound, their GPU idle for 30 %% of its span "
                        "or more (rank %d: %.1f %%, %.1f ms a rank on average): launches and "
                        "scheduling do not keep it fed; CUDA graphs or larger batches help",
                        x->dir, x->layout, over, ranks, worst_rank, worst,
                        pct[PT_CAT_IDLE] / 100.0 * span_ms);
        /* The pipeline bubble against (p-1)/(m+p-1) of m micro-batches. */
        int p = r->layout.pp;
        double b = pct[PT_CAT_PP] / 100.0;
        if (p > 1 && b > 0.005) {
            double m = b < 1 ? (p - 1) * (1 - b) / b : 0;
            add_finding(c, run, b * span_ms,
                        "%s (%s): the pipeline bubble is %.1f %% of GPU time (%.1f ms a rank), as "
                        "(p-1)/(m+p-1) is with %d stages and m = %.1f micro-batches in flight; more "
                        "micro-batches shrink it",
                        x->dir, x->layout, 100 * b, b * span_ms, p, m);
        }
        /* EP: one member receiving more than the others makes them all wait at the combine. */
        for (size_t i = 0; i < pt_collectives_count(r->c); i++) {
            double ratio;
            const struct pt_comm_stats *s = pt_collectives_comm(r->c, i);
            int32_t hot = strcmp(r->roles[i].role, "EP") ? -1 : pt_comm_hot_member(s, &ratio);
            if (hot >= 0 && ratio >= 1.2)
                add_finding(c, run, pct[PT_CAT_EP] / 100.0 * span_ms * (1 - 1 / ratio),
                            "%s (%s): EP rank %d receives %.2f times the mean bytes (hot experts); "
                            "EP communication is %.1f %% of GPU time",
                            x->dir, x->layout, s->member_rank[hot], ratio, pct[PT_CAT_EP]);
        }
    }
    if (x->straggler_rank >= 0 && x->straggler_wait_ms > 0 && x->ranks > 1)
        add_finding(c, run, x->straggler_wait_ms / x->ranks,
                    "%s (%s): rank %d is the busiest straggler, on its %s communicator: the others "
                    "waited %.3f ms for it in all (%.3f ms a rank)",
                    x->dir, x->layout, x->straggler_rank, x->straggler_role, x->straggler_wait_ms,
                    x->straggler_wait_ms / x->ranks);
    /* Start-up: a whole-run report whose NVTX phases start late in the run. */
    if (!w->phase && !r->windowed && r->n_phase_names > 0) {
        uint64_t first = UINT64_MAX, last = 0;
        for (int p = 0; p < r->n_phase_names; p++)
            first = r->phase_first[p].ts < first ? r->phase_first[p].ts : first;
        /* The phase to suggest: the first that is not a warm-up. */
        const char *suggest = r->phase_names[0];
        for (int p = 0; p < r->n_phase_names; p++)
            if (!strstr(r->phase_names[p], "warm")) {
                suggest = r->phase_names[p];
                break;
            }
        for (size_t i = 0; i < r->n; i++)
            last = r->totals[i].last_ns > last ? r->totals[i].last_ns : last;
        uint64_t start = w->run_start;
        if (last > start && first > start && first < last &&
            (double)(first - start) > 0.2 * (double)(last - start))
            add_finding(c, run, (double)(first - start) / 1e6,
                        "%s (%s): start-up is %.0f %% of this report (its first NVTX phase, '%s', "
                        "starts %.3f s into %.3f s): compare with --phase %s",
                        x->dir, x->layout, 100.0 * (double)(first - start) / (double)(last - start),
                        r->phase_names[0], (double)(first - start) / 1e9, (double)(last - start) / 1e9,
                        suggest);
    }
}

static int costlier(const void *a, const void *b)
{
    const struct pt_finding *x = a, *y = b;
    return x->cost_ms > y->cost_ms ? -1 : x->cost_ms < y->cost_ms ? 1 : x->run - y->run;
}

int pt_compare_build(const char *const *dirs, int n, const struct pt_window *w, struct pt_compare *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < n && i < PT_COMPARE_MAX_RUNS; i++) {
        struct pt_report_opts o = {.window = *w, .quiet = 1};
        struct pt_report r;
        if (pt_report_build(dirs[i], &o, &r) != 0) {
            pt_report_free(&r);
            return 1;
        }
        pt_compare_run_of(&r, dirs[i], 1, &c->runs[i]);
        c->n = i + 1;
        find(c, i, &r, &o.window);
        pt_report_free(&r);
    }
    pt_compare_rank(c);
    return 0;
}

void pt_compare_rank(struct pt_compare *c)
{
    for (int m = 0; m < PT_RUN_METRIC_COUNT; m++) {
        c->best[m] = -1;
        for (int i = 0; i < c->n; i++) {
            double v = c->runs[i].v[m];
            if (isnan(v))
                continue;
            int b = c->best[m];
            if (b < 0 || (pt_run_metric_higher_better[m] ? v > c->runs[b].v[m] : v < c->runs[b].v[m]))
                c->best[m] = i;
        }
    }
    qsort(c->findings, (size_t)c->n_findings, sizeof *c->findings, costlier);
}
