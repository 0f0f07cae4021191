/* partrace report [--json] PATH: the run merged in time; communicators and their roles, the
 * layout, every collective matched across ranks (wait and transfer, nccl-tests bandwidths) and
 * the stragglers. A first version: attribution of GPU time, phases, hosts' clock alignment,
 * the CI gate and the other outputs are still to come (issue 4). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "attribution.h"
#include "clock_align.h"
#include "collectives.h"
#include "fail_if.h"
#include "names.h"
#include "report_window.h"
#include "run_merge.h"
#include "topology.h"
#include "trace_set.h"

/* Files in the order of their ranks, for printing; the hosts' clocks, for the JSON. */
static size_t *by_rank;
static const struct pt_clock_align *report_clocks;
static int clocks_trusted;
static int layout_given; /* --layout overrode (part of) the inferred layout */
static const struct pt_window *report_window; /* NULL: the whole run */

/* "from 7 s to 7.2 s after the run's first event, in NVTX ranges 'decode'" */
static void describe_window(char *out, size_t cap)
{
    const struct pt_window *w = report_window;
    int n = snprintf(out, cap, "from %g s", w->from_s);
    if (n > 0 && (size_t)n < cap && w->to_s >= 0)
        n += snprintf(out + n, cap - (size_t)n, " to %g s", w->to_s);
    if (n > 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, " after the run's first event");
    if (n > 0 && (size_t)n < cap && w->phase)
        snprintf(out + n, cap - (size_t)n, ", in NVTX ranges '%s'", w->phase);
}

struct rank_totals {
    int32_t rank;
    int32_t gpu;                /* CUDA device of its communicators, -1 unknown */
    const char *host;
    uint64_t first_ns, last_ns;
    uint64_t nccl_host_ns;     /* time inside NCCL calls, host side */
    uint64_t comm_kernel_ns;   /* NCCL kernels, summed */
    uint64_t other_kernel_ns;  /* all other kernels, summed */
    uint64_t kernels;
};

/* Attribution categories of the report, in order; each rank's add up to 100 %. */
enum { CAT_COMPUTE, CAT_TP, CAT_PP, CAT_EP, CAT_OTHER, CAT_COPY, CAT_IDLE, N_CATS };
static const char *const cat_names[N_CATS] = {"compute", "tp_comm", "pp_bubble", "ep_comm",
                                              "other_comm", "memcpy", "idle"};

static const char *role_of(const struct pt_collectives *c, const struct pt_role *roles, uint64_t comm)
{
    for (size_t i = 0; comm && i < pt_collectives_count(c); i++)
        if (pt_collectives_comm(c, i)->id == comm)
            return roles[i].role;
    return "other";
}

/* A rank's attributed time by category (ns), and the communication hidden under compute. */
static void categories(const struct pt_attr_rank *a, const struct pt_collectives *c,
                       const struct pt_role *roles, uint64_t *cat, uint64_t *hidden)
{
    memset(cat, 0, N_CATS * sizeof *cat);
    *hidden = 0;
    cat[CAT_COMPUTE] = a->compute_ns;
    cat[CAT_COPY] = a->copy_ns;
    cat[CAT_IDLE] = a->idle_ns;
    for (int i = 0; i < a->n_comms; i++) {
        const char *role = role_of(c, roles, a->comms[i].comm);
        int k = !strcmp(role, "TP") ? CAT_TP : !strcmp(role, "PP") ? CAT_PP
                : !strcmp(role, "EP") ? CAT_EP : CAT_OTHER;
        cat[k] += a->comms[i].exposed_ns;
        *hidden += a->comms[i].hidden_ns;
    }
}

/* A communicator whose ranks did not all show up: files missing from the run, or processes
 * that recorded nothing. The report goes on with what is there. */
static void warn_missing_ranks(const struct pt_collectives *c)
{
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        int seen = 0;
        for (int w = 0; w < PT_MAX_RANKS / 32; w++)
            seen += __builtin_popcount(s->ranks_seen[w]);
        if (seen < s->nranks)
            cli_error("warning: communicator %016" PRIx64 " has %d ranks, %d of them in this run: "
                      "%" PRIu64 " of %" PRIu64 " collectives lack a rank (a trace file missing?)",
                      s->id, s->nranks, seen, s->incomplete, s->instances);
    }
}

/* --layout: the given axes replace the inferred ones; a disagreement is said, not hidden. */
static void apply_layout(struct pt_layout *l, const struct pt_layout *given)
{
    int *have[] = {&l->tp, &l->pp, &l->dp, &l->ep};
    const int want[] = {given->tp, given->pp, given->dp, given->ep};
    static const char *const axes[] = {"TP", "PP", "DP", "EP"};
    for (int k = 0; k < 4; k++) {
        if (!want[k])
            continue;
        if (*have[k] != want[k])
            cli_error("warning: --layout sets %s=%d; the run's communicators suggest %s=%d",
                      axes[k], want[k], axes[k], *have[k]);
        *have[k] = want[k];
        layout_given = 1;
    }
    if (layout_given && l->world > 0 && l->tp * l->pp * l->dp != l->world)
        cli_error("warning: layout TP=%d x PP=%d x DP=%d is %d ranks; the run has %d", l->tp, l->pp,
                  l->dp, l->tp * l->pp * l->dp, l->world);
}

static void warn_file(const char *msg, void *arg)
{
    (void)arg;
    cli_error("warning: %s", msg);
}

static void track(struct rank_totals *t, uint64_t start, uint64_t end)
{
    if (!t->first_ns || start < t->first_ns)
        t->first_ns = start;
    if (end > t->last_ns)
        t->last_ns = end;
}

static void per_rank(struct rank_totals *t, const struct pt_run *run, const struct pt_event *ev)
{
    if (ev->rec->kind == PT_REC_NCCL_CALL) {
        const struct pt_rec_nccl_call *c = (const void *)ev->rec;
        t->nccl_host_ns += c->t_exit_ns - c->t_enter_ns;
        track(t, c->t_enter_ns, c->t_exit_ns);
    } else if (ev->rec->kind == PT_REC_KERNEL) {
        const struct pt_rec_kernel *k = (const void *)ev->rec;
        const char *cls = pt_trace_ctx_comm_class(pt_source_ctx(run->sources[ev->source]), k->name_id);
        uint64_t d = k->end_ns - k->start_ns;
        if (cls && !strcmp(cls, "nccl"))
            t->comm_kernel_ns += d;
        else
            t->other_kernel_ns += d;
        t->kernels++;
        track(t, k->start_ns, k->end_ns);
    }
}

static double gbps(uint64_t bytes, uint64_t ns)
{
    return ns ? (double)bytes / (double)ns : 0.0; /* bytes per ns = GB/s */
}

static void print_text(const struct pt_collectives *c, const struct pt_role *roles,
                       const struct pt_layout *l, const struct rank_totals *t, size_t n_files,
                       int gpu, const struct pt_attr_rank *attr)
{
    printf("run: %d ranks in %zu files; timing from %s\n", l->world, n_files,
           gpu ? "GPU kernels" : "host calls only (no GPU records: lower fidelity)");
    printf("layout: TP=%d PP=%d DP=%d EP=%d%s\n", l->tp, l->pp, l->dp, l->ep,
           layout_given ? " (given by --layout)" : "");
    if (report_window) {
        char w[512];
        describe_window(w, sizeof w);
        printf("window: %s (roles from the whole run)\n", w);
    }
    putchar('\n');
    printf("%-16s %5s %-5s  %s\n", "communicator", "ranks", "role", "evidence");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        printf("%016" PRIx64 " %5d %-5s  %s\n", s->id, s->nranks, roles[i].role, roles[i].evidence);
    }
    printf("\n%-5s %-14s %10s %8s %10s %10s %10s %10s\n", "role", "op", "bytes", "count",
           "time ms", "algbw GB/s", "busbw GB/s", "wait ms");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        for (int op = 1; op < PT_OP_LIMIT; op++)
            for (int b = 0; b < PT_SIZE_BUCKETS; b++) {
                const struct pt_coll_bucket *k = &s->ops[op][b];
                if (!k->count)
                    continue;
                double alg = gbps(k->bytes, k->transfer_ns);
                printf("%-5s %-14s %10" PRIu64 " %8" PRIu64 " %10.3f %10.2f %10.2f %10.3f\n",
                       roles[i].role, pt_op_name((uint16_t)op), k->bytes / k->count, k->count,
                       (double)k->transfer_ns / 1e6, alg, alg * pt_busbw_factor((uint16_t)op, s->nranks),
                       (double)k->wait_ns / 1e6);
            }
    }
    printf("\nstragglers (who arrived last, and what the others waited for them):\n");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        uint64_t total = 0;
        int32_t worst = -1;
        for (int r = 0; r < PT_MAX_RANKS; r++) {
            total += s->late_cost_ns[r];
            if (s->late_cost_ns[r] && (worst < 0 || s->late_cost_ns[r] > s->late_cost_ns[worst]))
                worst = r;
        }
        if (worst >= 0)
            printf("  %-5s %016" PRIx64 ": rank %d, last in %" PRIu64 " of %" PRIu64
                   " collectives, %.3f ms of waiting (%.0f %%)\n",
                   roles[i].role, s->id, worst, s->last_count[worst], s->instances,
                   (double)s->late_cost_ns[worst] / 1e6,
                   total ? 100.0 * (double)s->late_cost_ns[worst] / (double)total : 0.0);
    }
    if (gpu) {
        printf("\nwhere each GPU's time went (%% of its span; compute > communication > copies):\n");
        printf("%5s %9s %8s %8s %8s %8s %8s %8s %8s %10s\n", "rank", "span ms", "compute", "tp",
               "pp", "ep", "other", "memcpy", "idle", "hidden ms");
        for (size_t o = 0; o < n_files; o++) {
            size_t i = by_rank[o];
            const struct pt_attr_rank *a = &attr[i];
            if (!a->first_ns)
                continue;
            uint64_t cat[N_CATS], hidden, span = a->counted_ns;
            categories(a, c, roles, cat, &hidden);
            printf("%5d %9.3f", t[i].rank, (double)span / 1e6);
            for (int k = 0; k < N_CATS; k++)
                printf(" %7.1f%%", span ? 100.0 * (double)cat[k] / (double)span : 0.0);
            printf(" %10.3f\n", (double)hidden / 1e6);
        }
    }
    printf("\n%5s %10s %12s %14s %14s\n", "rank", "span ms", "NCCL host ms", "NCCL kernel ms",
           "other kernel ms");
    for (size_t o = 0; o < n_files; o++) {
        size_t i = by_rank[o];
        if (t[i].first_ns)
            printf("%5d %10.3f %12.3f %14.3f %14.3f\n", t[i].rank,
                   (double)(t[i].last_ns - t[i].first_ns) / 1e6, (double)t[i].nccl_host_ns / 1e6,
                   (double)t[i].comm_kernel_ns / 1e6, (double)t[i].other_kernel_ns / 1e6);
    }
}

/* The same content for a CI job summary (GitHub-flavoured Markdown tables). */
static void print_markdown(const struct pt_collectives *c, const struct pt_role *roles,
                           const struct pt_layout *l, const struct rank_totals *t, size_t n_files,
                           int gpu, const struct pt_attr_rank *attr)
{
    printf("## partrace report\n\n%d ranks, layout TP=%d PP=%d DP=%d EP=%d; timing from %s.\n\n",
           l->world, l->tp, l->pp, l->dp, l->ep, gpu ? "GPU kernels" : "host calls only");
    if (report_window) {
        char w[512];
        describe_window(w, sizeof w);
        printf("Window: %s.\n\n", w);
    }
    if (gpu) {
        printf("| rank | span ms |");
        for (int k = 0; k < N_CATS; k++)
            printf(" %s %% |", cat_names[k]);
        printf(" hidden comm ms |\n|---|---|");
        for (int k = 0; k < N_CATS; k++)
            printf("---|");
        printf("---|\n");
        for (size_t o = 0; o < n_files; o++) {
            size_t i = by_rank[o];
            if (!attr[i].first_ns)
                continue;
            uint64_t cat[N_CATS], hidden, span = attr[i].counted_ns;
            categories(&attr[i], c, roles, cat, &hidden);
            printf("| %d | %.3f |", t[i].rank, (double)span / 1e6);
            for (int k = 0; k < N_CATS; k++)
                printf(" %.1f |", span ? 100.0 * (double)cat[k] / (double)span : 0.0);
            printf(" %.3f |\n", (double)hidden / 1e6);
        }
        printf("\n");
    }
    printf("| role | communicator | op | bytes | count | time ms | algbw GB/s | busbw GB/s | wait ms |\n"
           "|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        for (int op = 1; op < PT_OP_LIMIT; op++)
            for (int b = 0; b < PT_SIZE_BUCKETS; b++) {
                const struct pt_coll_bucket *k = &s->ops[op][b];
                if (!k->count)
                    continue;
                double alg = gbps(k->bytes, k->transfer_ns);
                printf("| %s | `%016" PRIx64 "` | %s | %" PRIu64 " | %" PRIu64 " | %.3f | %.2f | %.2f | %.3f |\n",
                       roles[i].role, s->id, pt_op_name((uint16_t)op), k->bytes / k->count, k->count,
                       (double)k->transfer_ns / 1e6, alg, alg * pt_busbw_factor((uint16_t)op, s->nranks),
                       (double)k->wait_ns / 1e6);
            }
    }
    printf("\n| role | communicator | straggler | last in | waiting caused ms |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        int32_t worst = -1;
        for (int r = 0; r < PT_MAX_RANKS; r++)
            if (s->late_cost_ns[r] && (worst < 0 || s->late_cost_ns[r] > s->late_cost_ns[worst]))
                worst = r;
        if (worst >= 0)
            printf("| %s | `%016" PRIx64 "` | rank %d | %" PRIu64 " of %" PRIu64 " | %.3f |\n",
                   roles[i].role, s->id, worst, s->last_count[worst], s->instances,
                   (double)s->late_cost_ns[worst] / 1e6);
    }
}

/* A rank's host, GPU and coordinates along each axis, as JSON members. */
static void print_rank_place(const struct pt_collectives *c, const struct pt_role *roles,
                             const struct rank_totals *t)
{
    static const char *const axes[] = {"TP", "PP", "DP", "EP"}, *const keys[] = {"tp", "pp", "dp", "ep"};
    printf(",\"host\":");
    cli_json_string(t->host, strlen(t->host));
    if (t->gpu >= 0)
        printf(",\"gpu\":%d", t->gpu);
    else
        printf(",\"gpu\":null");
    printf(",\"coords\":{");
    for (int k = 0; k < 4; k++) {
        int at = pt_topology_coord(c, roles, axes[k], t->rank);
        printf("%s\"%s\":%d", k ? "," : "", keys[k], at < 0 ? 0 : at);
    }
    putchar('}');
}

static void print_json(const struct pt_collectives *c, const struct pt_role *roles,
                       const struct pt_layout *l, const struct rank_totals *t, size_t n_files,
                       int gpu, const struct pt_attr_rank *attr)
{
    printf("{\"schema\":\"partrace.report/0\",\"fidelity\":\"%s\",", gpu ? "gpu" : "host");
    printf("\"layout\":{\"tp\":%d,\"pp\":%d,\"dp\":%d,\"ep\":%d,\"world\":%d,\"given\":%s},",
           l->tp, l->pp, l->dp, l->ep, l->world, layout_given ? "true" : "false");
    if (report_window) {
        printf("\"window\":{\"from_s\":%.9g,\"to_s\":", report_window->from_s);
        if (report_window->to_s >= 0)
            printf("%.9g", report_window->to_s);
        else
            printf("null");
        printf(",\"phase\":");
        if (report_window->phase)
            cli_json_string(report_window->phase, strlen(report_window->phase));
        else
            printf("null");
        printf("},");
    }
    printf("\"clocks\":{\"trusted\":%s,\"hosts\":[", clocks_trusted ? "true" : "false");
    for (int h = 0; report_clocks && h < report_clocks->n_hosts; h++) {
        const struct pt_clock_host *x = &report_clocks->hosts[h];
        printf("%s{\"host\":\"%s\",\"offset_ns\":%" PRId64 ",\"residual_ns\":%" PRIu64
               ",\"samples\":%" PRIu64 "}",
               h ? "," : "", x->name, clocks_trusted ? 0 : x->offset_ns, x->residual_ns, x->samples);
    }
    printf("]},\"communicators\":[");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        printf("%s{\"id\":\"%016" PRIx64 "\",\"nranks\":%d,\"role\":\"%s\",\"evidence\":\"%s\","
               "\"instances\":%" PRIu64 ",\"incomplete\":%" PRIu64 ",\"gpu_timed\":%d}",
               i ? "," : "", s->id, s->nranks, roles[i].role, roles[i].evidence, s->instances,
               s->incomplete, s->gpu_times);
    }
    printf("],\"collectives\":[");
    int first = 1;
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        for (int op = 1; op < PT_OP_LIMIT; op++)
            for (int b = 0; b < PT_SIZE_BUCKETS; b++) {
                const struct pt_coll_bucket *k = &s->ops[op][b];
                if (!k->count)
                    continue;
                double alg = gbps(k->bytes, k->transfer_ns);
                printf("%s{\"comm\":\"%016" PRIx64 "\",\"role\":\"%s\",\"op\":\"%s\",\"bytes\":%" PRIu64
                       ",\"count\":%" PRIu64 ",\"transfer_ns\":%" PRIu64 ",\"wait_ns\":%" PRIu64
                       ",\"algbw_gbps\":%.9g,\"busbw_gbps\":%.9g}",
                       first ? "" : ",", s->id, roles[i].role, pt_op_name((uint16_t)op),
                       k->bytes / k->count, k->count, k->transfer_ns, k->wait_ns, alg,
                       alg * pt_busbw_factor((uint16_t)op, s->nranks));
                first = 0;
            }
    }
    printf("],\"stragglers\":[");
    first = 1;
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        for (int r = 0; r < PT_MAX_RANKS; r++)
            if (s->last_count[r]) {
                printf("%s{\"comm\":\"%016" PRIx64 "\",\"rank\":%d,\"last\":%" PRIu64
                       ",\"cost_ns\":%" PRIu64 "}",
                       first ? "" : ",", s->id, r, s->last_count[r], s->late_cost_ns[r]);
                first = 0;
            }
    }
    printf("],\"ranks\":[");
    first = 1;
    for (size_t o = 0; o < n_files; o++) {
        size_t i = by_rank[o];
        if (!t[i].first_ns)
            continue;
        printf("%s{\"rank\":%d,\"wall_ns\":%" PRIu64 ",\"nccl_host_ns\":%" PRIu64
               ",\"nccl_kernel_ns\":%" PRIu64 ",\"other_kernel_ns\":%" PRIu64 ",\"kernels\":%" PRIu64,
               first ? "" : ",", t[i].rank, t[i].last_ns - t[i].first_ns, t[i].nccl_host_ns,
               t[i].comm_kernel_ns, t[i].other_kernel_ns, t[i].kernels);
        print_rank_place(c, roles, &t[i]);
        if (gpu && attr[i].first_ns) {
            uint64_t cat[N_CATS], hidden, span = attr[i].counted_ns;
            categories(&attr[i], c, roles, cat, &hidden);
            printf(",\"gpu_span_ns\":%" PRIu64 ",\"hidden_comm_ns\":%" PRIu64 ",\"attribution_ns\":{", span,
                   hidden);
            for (int k = 0; k < N_CATS; k++)
                printf("%s\"%s\":%" PRIu64, k ? "," : "", cat_names[k], cat[k]);
            printf("},\"attribution_pct\":{");
            for (int k = 0; k < N_CATS; k++)
                printf("%s\"%s\":%.3f", k ? "," : "", cat_names[k],
                       span ? 100.0 * (double)cat[k] / (double)span : 0.0);
            printf("}");
        }
        printf("}");
        first = 0;
    }
    printf("]}\n");
}

/* Evaluates every --fail-if over the ranks' attribution. Returns 3 when any holds, else 0. */
static int run_gates(const struct pt_gate *gates, int n_gates, const struct pt_attr_rank *attr,
                     const struct pt_collectives *c, const struct pt_role *roles, size_t n)
{
    double (*pct)[PT_GATE_METRICS] = calloc(n ? n : 1, sizeof *pct);
    size_t ranks = 0;
    for (size_t i = 0; pct && i < n; i++) {
        if (!attr[i].first_ns)
            continue;
        uint64_t cat[N_CATS], hidden, span = attr[i].counted_ns;
        categories(&attr[i], c, roles, cat, &hidden);
        for (int k = 0; k < PT_GATE_METRICS; k++)
            pct[ranks][k] = span ? 100.0 * (double)cat[k] / (double)span : 0.0;
        ranks++;
    }
    int status = 0;
    for (int g = 0; g < n_gates; g++) {
        double v = 0;
        int holds = pct ? pt_gate_eval(&gates[g], (const double(*)[PT_GATE_METRICS])pct, ranks, &v) : -1;
        if (holds < 0) {
            cli_error("fail-if '%s': no GPU attribution in this run (no kernel records)", gates[g].text);
            status = 3;
        } else if (holds) {
            cli_error("fail-if '%s' holds: %.3f over %zu ranks", gates[g].text, v, ranks);
            status = 3;
        }
    }
    free(pct);
    return status;
}

int cmd_report(int argc, char **argv)
{
    int json = 0, markdown = 0, n_gates = 0, trust_clocks = 0;
    struct pt_window win = {0, -1, NULL, 0};
    struct pt_layout given = {0};
    struct pt_gate gates[16];
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--markdown") == 0)
            markdown = 1;
        else if (strcmp(argv[i], "--trust-clocks") == 0)
            trust_clocks = 1;
        else if ((strcmp(argv[i], "--from") == 0 || strcmp(argv[i], "--to") == 0) && i + 1 < argc) {
            char *end = NULL;
            double v = strtod(argv[i + 1], &end);
            if (end == argv[i + 1] || *end || v < 0) {
                cli_error("report: %s takes seconds after the run's start, not '%s'", argv[i],
                          argv[i + 1]);
                return 2;
            }
            *(argv[i][2] == 'f' ? &win.from_s : &win.to_s) = v;
            i++;
        } else if (strcmp(argv[i], "--layout") == 0 && i + 1 < argc) {
            char err[256];
            if (pt_layout_parse(argv[i + 1], &given, err, sizeof err) != 0) {
                cli_error("report: --layout '%s': %s", argv[i + 1], err);
                return 2;
            }
            i++;
        } else if (strcmp(argv[i], "--phase") == 0 && i + 1 < argc && argv[i + 1][0])
            win.phase = argv[++i];
        else if (strcmp(argv[i], "--fail-if") == 0) {
            char err[512];
            if (i + 1 >= argc) {
                cli_error("report: --fail-if needs an expression, e.g. 'tp_comm_pct > 15'");
                return 2;
            }
            if (n_gates == 16) {
                cli_error("report: at most 16 --fail-if");
                return 2;
            }
            if (pt_gate_parse(argv[++i], &gates[n_gates], err, sizeof err) != 0) {
                cli_error("report: --fail-if %s", err);
                return 2;
            }
            n_gates++;
        }
        else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("report: unknown option '%s' (usage: partrace report [--json|--markdown] "
                      "[--from S] [--to S] [--phase NAME] [--layout tp=N,pp=N,dp=N,ep=N] [--trust-clocks] "
                      "[--fail-if EXPR]... PATH)",
                      argv[i]);
            return 2;
        } else if (!path)
            path = argv[i];
        else {
            cli_error("report: more than one PATH ('%s', '%s')", path, argv[i]);
            return 2;
        }
    }
    if (!path) {
        cli_error("report: missing PATH (usage: partrace report [--json|--markdown] "
                  "[--fail-if EXPR]... PATH)");
        return 2;
    }
    if (json && markdown) {
        cli_error("report: choose one of --json and --markdown");
        return 2;
    }
    if (win.to_s >= 0 && win.to_s <= win.from_s) {
        cli_error("report: --to (%g s) must come after --from (%g s)", win.to_s, win.from_s);
        return 2;
    }
    char err[1024];
    struct pt_trace_set set;
    if (pt_trace_set_open(path, &set, err, sizeof err) != 0) {
        cli_error("%s", err);
        return 1;
    }
    /* Other hosts' clocks: estimated from the ends of the same collectives, unless trusted. */
    struct pt_clock_align clocks;
    int64_t *shift = calloc(set.count ? set.count : 1, sizeof *shift);
    if (!shift || pt_clock_align_run(set.paths, set.count, &clocks) != 0) {
        cli_error("out of memory");
        return 1;
    }
    for (size_t i = 0; !trust_clocks && i < set.count; i++)
        if (clocks.host_of_file[i] > 0)
            shift[i] = clocks.hosts[clocks.host_of_file[i]].offset_ns;
    for (int h = 1; h < clocks.n_hosts; h++) {
        const struct pt_clock_host *x = &clocks.hosts[h];
        if (trust_clocks)
            continue;
        if (!x->samples)
            cli_error("warning: host %s shares no collective with host %s: its clock is taken as is",
                      x->name, clocks.hosts[0].name);
        else if (!json)
            fprintf(stderr, "partrace: clock of host %s: %+.3f us against %s (residual %.3f us, "
                            "%" PRIu64 " collectives)\n",
                    x->name, (double)x->offset_ns / 1e3, clocks.hosts[0].name,
                    (double)x->residual_ns / 1e3, x->samples);
    }
    report_clocks = &clocks;
    clocks_trusted = trust_clocks;
    struct pt_run run;
    if (pt_run_open(set.paths, set.count, shift, &run, warn_file, NULL) != 0) {
        cli_error("%s: no trace could be read", path);
        pt_trace_set_free(&set);
        return 1;
    }
    struct pt_collectives *c = pt_collectives_new();
    struct rank_totals *totals = calloc(run.n, sizeof *totals);
    struct pt_attr_rank *attr = calloc(run.n, sizeof *attr);
    if (!c || !totals || !attr) {
        cli_error("out of memory");
        return 1;
    }
    int gpu = 0, world = 0;
    for (size_t i = 0; i < run.n; i++) {
        totals[i].rank = run.rank[i] >= 0 ? run.rank[i] : (int32_t)i;
        totals[i].gpu = -1;
        totals[i].host = pt_source_header(run.sources[i])->host;
    }
    struct pt_rank_window *rw = calloc(run.n, sizeof *rw);
    if (!rw) {
        cli_error("out of memory");
        return 1;
    }
    struct pt_event ev;
    uint64_t last_ts = 0;
    while (pt_run_next(&run, &ev)) {
        last_ts = ev.ts_ns > last_ts ? ev.ts_ns : last_ts;
        if (ev.rec->kind == PT_REC_COMM_INIT && ((const struct pt_rec_comm_init *)ev.rec)->device >= 0)
            totals[ev.source].gpu = ((const struct pt_rec_comm_init *)ev.rec)->device;
        int in = pt_window_step(&win, &rw[ev.source], &attr[ev.source], &ev);
        /* Every event feeds the painter (paused outside the window, so edges clip exactly);
         * only those inside count as collectives. */
        if (!in && ev.rec->kind == PT_REC_NCCL_CALL)
            pt_collectives_note_call(c, &run, &ev);
        else
            pt_collectives_add(c, &run, &ev);
        pt_attr_add(attr, c, &run, &ev);
        if (!in)
            continue;
        per_rank(&totals[ev.source], &run, &ev);
        gpu |= ev.rec->kind == PT_REC_KERNEL;
    }
    pt_collectives_finish(c);
    pt_attr_finish(attr, run.n);
    for (size_t i = 0; i < run.n; i++)
        world += totals[i].first_ns != 0;
    for (size_t i = 0; i < run.n; i++) {
        const char *w = pt_source_warning(run.sources[i]);
        if (w)
            cli_error("warning: %s", w);
        if (pt_source_late(run.sources[i]))
            cli_error("warning: %s: %" PRIu64 " records came later than the reorder window; "
                      "they were counted out of order", set.paths[i], pt_source_late(run.sources[i]));
    }
    warn_missing_ranks(c);
    if (win.from_s > 0 || win.to_s >= 0 || win.phase) {
        report_window = &win;
        if (!world) {
            char w[512];
            describe_window(w, sizeof w);
            cli_error("report: nothing of the run falls inside the window (%s); the run spans "
                      "%.3f s", w, (double)(last_ts - win.run_start) / 1e9);
            return 1;
        }
    }
    by_rank = malloc(run.n * sizeof *by_rank);
    for (size_t i = 0; by_rank && i < run.n; i++) { /* insertion sort: ranks are few */
        size_t j = i;
        while (j > 0 && totals[by_rank[j - 1]].rank > totals[i].rank) {
            by_rank[j] = by_rank[j - 1];
            j--;
        }
        by_rank[j] = i;
    }
    struct pt_role *roles = calloc(pt_collectives_count(c) + 1, sizeof *roles);
    if (!by_rank || !roles) {
        cli_error("out of memory");
        return 1;
    }
    struct pt_layout layout;
    pt_topology_infer(c, world, roles, &layout);
    apply_layout(&layout, &given);
    (json ? print_json : markdown ? print_markdown : print_text)(c, roles, &layout, totals, run.n,
                                                                 gpu, attr);
    fflush(stdout);
    int status = run_gates(gates, n_gates, attr, c, roles, run.n);
    pt_attr_free(attr, run.n);
    free(attr);
    free(rw);
    free(by_rank);
    free(roles);
    free(totals);
    pt_collectives_free(c);
    pt_run_close(&run);
    pt_clock_align_free(&clocks);
    free(shift);
    pt_trace_set_free(&set);
    return status;
}
