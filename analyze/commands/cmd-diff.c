/* partrace diff [--json] [--max-regression PCT] [--phase NAME] BASE NEW: two runs side by side,
 * category by category (mean over ranks of each GPU's attribution), with the mean span per rank
 * and the collectives that changed; a CI gate on regressions (docs/partrace-diff.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyses/compare.h"
#include "commands/cli.h"
#include "commands/options.h"
#include "format/names.h"
#include "analyses/report_build.h"

/* What is compared of one run: means over the ranks that have GPU attribution, and the run's
 * serving figures (NaN where it has none). */
struct run_means {
    int ranks;
    double span_ms;          /* mean attributed span (GPU), else mean wall time (host) */
    double pct[PT_CATS];     /* mean share of each category, % */
    struct pt_compare_run run;
};

/* The serving figures diff shows: the run metrics before the GPU shares. */
#define SERVING_METRICS PT_RM_gpu_busy_pct

static void means_of(const struct pt_report *r, const char *path, struct run_means *m)
{
    memset(m, 0, sizeof *m);
    pt_compare_run_of(r, path, 0, &m->run); /* diff shows no memory */
    uint64_t span = 0, ns[PT_CATS];
    if (r->gpu) {
        m->ranks = pt_report_mean_shares(r, m->pct, ns, &span);
    } else {
        for (size_t i = 0; i < r->n; i++)
            if (r->totals[i].first_ns) {
                span += r->totals[i].last_ns - r->totals[i].first_ns;
                m->ranks++;
            }
    }
    if (m->ranks)
        m->span_ms = (double)span / 1e6 / m->ranks;
}

/* Totals of one (role, op, bytes) row of the collectives table. */
struct coll_total {
    const char *role;
    uint16_t op;
    uint64_t bytes, count, time_ns;
};

static size_t collect(const struct pt_report *r, struct coll_total *rows, size_t cap)
{
    size_t n = 0;
    for (struct pt_report_row w = {0}; pt_report_next_row(r, &w);) {
        const char *role = r->roles[w.comm].role;
        size_t j = 0;
        while (j < n && !(rows[j].op == w.op && rows[j].bytes == w.bytes && !strcmp(rows[j].role, role)))
            j++;
        if (j == n) {
            if (n == cap)
                continue;
            rows[n++] = (struct coll_total){role, w.op, w.bytes, 0, 0};
        }
        rows[j].count += w.k->count;
        rows[j].time_ns += w.k->transfer_ns;
    }
    return n;
}

static double change_pct(double base, double now)
{
    return base > 0 ? 100.0 * (now - base) / base : 0.0;
}

/* A regression beyond the limit: a slower mean span (%), or a larger share (points) of any
 * category that is not compute. Says each on stderr; returns how many. */
static int regressions(const struct run_means *a, const struct run_means *b, double limit)
{
    int n = 0;
    if (change_pct(a->span_ms, b->span_ms) > limit) {
        pt_error("diff: mean span per rank regressed %+.2f %% (%.3f -> %.3f ms), more than %g %%",
                  change_pct(a->span_ms, b->span_ms), a->span_ms, b->span_ms, limit);
        n++;
    }
    for (int k = PT_CAT_TP; k < PT_CATS; k++)
        if (b->pct[k] - a->pct[k] > limit) {
            pt_error("diff: %s grew %+.2f points (%.2f %% -> %.2f %%), more than %g", pt_cat_names[k],
                      b->pct[k] - a->pct[k], a->pct[k], b->pct[k], limit);
            n++;
        }
    for (int k = 0; k < SERVING_METRICS; k++) {
        double x = a->run.v[k], y = b->run.v[k], c = change_pct(x, y);
        if (isnan(x) || isnan(y) || !(pt_run_metric_higher_better[k] ? -c > limit : c > limit))
            continue;
        pt_error("diff: %s got worse by %.2f %% (%.3f -> %.3f), more than %g %%", pt_run_metric_names[k],
                 fabs(c), x, y, limit);
        n++;
    }
    return n;
}

static void print_text(const char *base, const char *now, const struct pt_report *ra,
                       const struct pt_report *rb, const struct run_means *a, const struct run_means *b)
{
    const struct pt_layout *la = &ra->layout, *lb = &rb->layout;
    printf("base: %s (%d ranks, TP=%d PP=%d DP=%d EP=%d)\n", base, la->world, la->tp, la->pp, la->dp, la->ep);
    printf("new:  %s (%d ranks, TP=%d PP=%d DP=%d EP=%d)\n\n", now, lb->world, lb->tp, lb->pp, lb->dp, lb->ep);
    printf("%-18s %12s %12s %10s\n", "", "base", "new", "change");
    printf("%-18s %12.3f %12.3f %+9.2f%%\n", ra->gpu ? "GPU span ms/rank" : "wall ms/rank",
           a->span_ms, b->span_ms, change_pct(a->span_ms, b->span_ms));
    for (int k = 0; ra->gpu && rb->gpu && k < PT_CATS; k++)
        printf("%-18s %11.2f%% %11.2f%% %+7.2f pts\n", pt_cat_names[k], a->pct[k], b->pct[k],
               b->pct[k] - a->pct[k]);
    for (int k = 0; k < SERVING_METRICS; k++) {
        double x = a->run.v[k], y = b->run.v[k];
        if (isnan(x) && isnan(y))
            continue;
        printf("%-18s", pt_run_metric_labels[k]);
        for (int side = 0; side < 2; side++) {
            double v = side ? y : x;
            if (isnan(v))
                printf(" %12s", "-");
            else
                printf(" %12.3f", k == PT_RM_kv_hit_rate ? 100 * v : v);
        }
        if (isnan(x) || isnan(y))
            printf("\n");
        else
            printf(" %+9.2f%%\n", change_pct(x, y));
    }
    struct coll_total ca[128], cb[128];
    size_t na = collect(ra, ca, 128), nb = collect(rb, cb, 128);
    printf("\n%-5s %-14s %10s %8s %8s %11s %11s %9s\n", "role", "op", "bytes", "count", "count",
           "time ms", "time ms", "change");
    for (size_t i = 0; i < na + nb; i++) {
        const struct coll_total *x = i < na ? &ca[i] : &cb[i - na], *y = NULL;
        const struct coll_total *other = i < na ? cb : ca;
        size_t n_other = i < na ? nb : na;
        for (size_t j = 0; j < n_other; j++)
            if (other[j].op == x->op && other[j].bytes == x->bytes && !strcmp(other[j].role, x->role))
                y = &other[j];
        if (i >= na && y)
            continue; /* printed with the base's row */
        const struct coll_total *p = i < na ? x : y, *q = i < na ? y : x;
        printf("%-5s %-14s %10llu %8llu %8llu %11.3f %11.3f", x->role, pt_op_name(x->op),
               (unsigned long long)x->bytes, p ? (unsigned long long)p->count : 0ull,
               q ? (unsigned long long)q->count : 0ull, p ? (double)p->time_ns / 1e6 : 0.0,
               q ? (double)q->time_ns / 1e6 : 0.0);
        if (p && q)
            printf(" %+8.1f%%\n", change_pct((double)p->time_ns, (double)q->time_ns));
        else
            printf(" %9s\n", p ? "gone" : "new");
    }
}

static void print_json(const struct pt_report *ra, const struct pt_report *rb,
                       const struct run_means *a, const struct run_means *b, int regressed)
{
    const struct run_means *m[2] = {a, b};
    const struct pt_report *r[2] = {ra, rb};
    printf("{\"schema\":\"partrace.diff/0\"");
    for (int side = 0; side < 2; side++) {
        const struct pt_layout *l = &r[side]->layout;
        printf(",\"%s\":{\"fidelity\":\"%s\",\"layout\":{\"tp\":%d,\"pp\":%d,\"dp\":%d,\"ep\":%d,"
               "\"world\":%d},\"span_ms\":%.6f,\"attribution_pct\":{",
               side ? "new" : "base", r[side]->gpu ? "gpu" : "host", l->tp, l->pp, l->dp, l->ep,
               l->world, m[side]->span_ms);
        for (int k = 0; k < PT_CATS; k++)
            printf("%s\"%s\":%.4f", k ? "," : "", pt_cat_names[k], m[side]->pct[k]);
        printf("}}");
    }
    printf(",\"span_change_pct\":%.4f,\"attribution_change_pts\":{", change_pct(a->span_ms, b->span_ms));
    for (int k = 0; k < PT_CATS; k++)
        printf("%s\"%s\":%.4f", k ? "," : "", pt_cat_names[k], b->pct[k] - a->pct[k]);
    printf("},\"serving\":{");
    for (int k = 0; k < SERVING_METRICS; k++) {
        printf("%s\"%s\":{\"base\":", k ? "," : "", pt_run_metric_names[k]);
        for (int side = 0; side < 2; side++) {
            double v = m[side]->run.v[k];
            printf(isnan(v) ? "%snull" : "%s%.9g", side ? ",\"new\":" : "", v);
        }
        double x = a->run.v[k], y = b->run.v[k];
        printf(isnan(x) || isnan(y) || !(x > 0) ? ",\"change_pct\":null}" : ",\"change_pct\":%.4f}",
               change_pct(x, y));
    }
    printf("},\"regressions\":%d}\n", regressed);
}

static const struct pt_option options[] = {
    {"--json", NULL, "print JSON", 0},
    {"--max-regression", "PCT", "exit 3 when a figure got worse by more than PCT %", 0},
    {"--phase", "NAME", "both runs inside NVTX ranges NAME", 0},
    {0},
};
const struct pt_command pt_cmd_diff = {
    "diff", "BASE NEW", "two runs, category by category; a CI gate", options, cmd_diff, 2, 2, 0,
    "docs/partrace-diff.md", "needs two runs, BASE and NEW"};

int cmd_diff(int argc, char **argv)
{
    struct pt_args a;
    int parsed = pt_args_parse(&pt_cmd_diff, argc, argv, &a);
    if (parsed)
        return parsed == 1 ? PT_EXIT_OK : PT_EXIT_USAGE;
    const char *paths[2] = {a.operands[0], a.operands[1]};
    int json = pt_flag(&a, "--json");
    double limit = NAN;
    struct pt_report_opts opts[2] = {{.window = {.from_s = 0, .to_s = -1}}, {.window = {.from_s = 0, .to_s = -1}}};
    opts[0].window.phase = opts[1].window.phase = pt_arg(&a, "--phase");
    const char *v = pt_arg(&a, "--max-regression");
    if (v) {
        char *end;
        limit = strtod(v, &end);
        if (end == v || *end || !(limit >= 0)) {
            pt_error("diff: --max-regression takes a percentage >= 0, not '%s'", v);
            return PT_EXIT_USAGE;
        }
    }
    struct pt_report rep[2];
    struct run_means m[2];
    memset(rep, 0, sizeof rep);
    for (int side = 0; side < 2; side++) {
        opts[side].quiet = 1;
        if (pt_report_build(paths[side], &opts[side], &rep[side]) != 0) {
            pt_report_free(&rep[0]);
            pt_report_free(&rep[1]);
            return 1;
        }
        means_of(&rep[side], paths[side], &m[side]);
    }
    if (rep[0].gpu != rep[1].gpu)
        pt_error("warning: %s has %s records, %s has %s: only spans are compared", paths[0],
                  rep[0].gpu ? "GPU" : "only host", paths[1], rep[1].gpu ? "GPU" : "only host");
    int regressed = isnan(limit) ? 0 : regressions(&m[0], &m[1], limit);
    if (json)
        print_json(&rep[0], &rep[1], &m[0], &m[1], regressed);
    else
        print_text(paths[0], paths[1], &rep[0], &rep[1], &m[0], &m[1]);
    pt_report_free(&rep[0]);
    pt_report_free(&rep[1]);
    return regressed ? PT_EXIT_GATE : PT_EXIT_OK;
}
