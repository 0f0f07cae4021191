/* `partrace report --json`: everything the report built, as one JSON object (schema in
 * docs/partrace-report.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/names.h"
#include "outputs/output.h"
#include "outputs/report_print.h"
#include "util/text_escape.h"

/* The report being printed and where (set at entry: the printers' common input). */
static FILE *out;
static const struct pt_report *shown;
static const struct pt_window *report_window; /* NULL: the whole run */
static int clocks_trusted; /* --trust-clocks */


static void percentiles(const double v[3])
{
    fprintf(out, "{\"p50\":");
    pt_json_number(out, v[0]);
    fprintf(out, ",\"p90\":");
    pt_json_number(out, v[1]);
    fprintf(out, ",\"p99\":");
    pt_json_number(out, v[2]);
    fputc('}', out);
}

static void print_seed_json(void)
{
    double busy, exposed;
    struct pt_request_stats q;
    fprintf(out, ",\"summary\":{");
    if (shown->gpu) {
        pt_report_seed(shown, &busy, &exposed);
        fprintf(out, "\"gpu_busy_pct\":%.3f,\"exposed_comm_pct\":%.3f,", busy, exposed);
    } else {
        fprintf(out, "\"gpu_busy_pct\":null,\"exposed_comm_pct\":null,");
    }
    if (pt_requests_stats(&shown->requests, &q))
        fprintf(out, "\"requests\":{\"count\":%zu,\"tokens\":%" PRIu64 ",\"tokens_per_s\":%.3f,"
               "\"ttft_ms\":{\"p50\":%.6f,\"p90\":%.6f,\"p99\":%.6f,\"n\":%zu},"
               "\"tpot_ms\":{\"p50\":%.6f,\"p90\":%.6f,\"p99\":%.6f,\"n\":%zu}}}",
               q.requests, q.tokens, q.tokens_per_s, q.ttft_ms[0], q.ttft_ms[1], q.ttft_ms[2],
               q.with_ttft, q.tpot_ms[0], q.tpot_ms[1], q.tpot_ms[2], q.with_tpot);
    else
        fprintf(out, "\"requests\":null}");
    struct pt_report_serving sv;
    if (!pt_report_serving(shown, &sv)) {
        fprintf(out, ",\"serving\":null");
        return;
    }
    const struct pt_serving_stats *s = &sv.s;
    fprintf(out, ",\"serving\":{\"source\":\"%s\",\"requests\":", sv.source);
    pt_json_number(out, s->requests);
    fprintf(out, ",\"ttft_ms\":");
    percentiles(s->ttft_ms);
    fprintf(out, ",\"tpot_ms\":");
    percentiles(s->tpot_ms);
    const char *names[] = {"output_tokens_per_s", "kv_hit_rate", "kv_usage_max", "running_max", "waiting_max"};
    const double values[] = {s->output_tokens_per_s, s->kv_hit_rate, s->kv_usage_max, s->running_max, s->waiting_max};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        fprintf(out, ",\"%s\":", names[i]);
        pt_json_number(out, values[i]);
    }
    fprintf(out, ",\"metric_samples\":%" PRIu64 "}", s->samples);
}

/* A rank's host, GPU and coordinates along each axis, as JSON members. */
static void print_rank_place(const struct pt_collectives *c, const struct pt_role *roles,
                             const struct pt_rank_totals *t)
{
    static const char *const axes[] = {"TP", "PP", "DP", "EP"}, *const keys[] = {"tp", "pp", "dp", "ep"};
    fprintf(out, ",\"host\":");
    pt_json_quoted(out, t->host, strlen(t->host));
    if (t->gpu >= 0)
        fprintf(out, ",\"gpu\":%d", t->gpu);
    else
        fprintf(out, ",\"gpu\":null");
    fprintf(out, ",\"coords\":{");
    for (int k = 0; k < 4; k++) {
        int at = pt_topology_coord(c, roles, axes[k], t->rank);
        fprintf(out, "%s\"%s\":%d", k ? "," : "", keys[k], at < 0 ? 0 : at);
    }
    fputc('}', out);
}

static void print_json(void)
{
    const struct pt_collectives *c = shown->c;
    const struct pt_role *roles = shown->roles;
    const struct pt_layout *l = &shown->layout;
    const struct pt_rank_totals *t = shown->totals;
    const size_t *by_rank = shown->by_rank;
    size_t n_files = shown->n;
    int gpu = shown->gpu;
    fprintf(out, "{\"schema\":\"partrace.report/0\",\"fidelity\":\"%s\",", gpu ? "gpu" : "host");
    fprintf(out, "\"layout\":{\"tp\":%d,\"pp\":%d,\"dp\":%d,\"ep\":%d,\"world\":%d,\"given\":%s},",
           l->tp, l->pp, l->dp, l->ep, l->world, shown->layout_given ? "true" : "false");
    if (report_window) {
        fprintf(out, "\"window\":{\"from_s\":%.9g,\"to_s\":", report_window->from_s);
        if (report_window->to_s >= 0)
            fprintf(out, "%.9g", report_window->to_s);
        else
            fprintf(out, "null");
        fprintf(out, ",\"phase\":");
        if (report_window->phase)
            pt_json_quoted(out, report_window->phase, strlen(report_window->phase));
        else
            fprintf(out, "null");
        fprintf(out, "},");
    }
    fprintf(out, "\"clocks\":{\"trusted\":%s,\"hosts\":[", clocks_trusted ? "true" : "false");
    for (int h = 0; 1 && h < shown->clocks.n_hosts; h++) {
        const struct pt_clock_host *x = &shown->clocks.hosts[h];
        fprintf(out, "%s{\"host\":", h ? "," : "");
        pt_json_quoted(out, x->name, strlen(x->name));
        fprintf(out, ",\"offset_ns\":%" PRId64 ",\"residual_ns\":%" PRIu64 ",\"samples\":%" PRIu64 "}",
               clocks_trusted ? 0 : x->offset_ns, x->residual_ns, x->samples);
    }
    fprintf(out, "]},\"communicators\":[");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        fprintf(out, "%s{\"id\":\"%016" PRIx64 "\",\"nranks\":%d,\"role\":\"%s\",\"evidence\":",
               i ? "," : "", s->id, s->nranks, roles[i].role);
        pt_json_quoted(out, roles[i].evidence, strlen(roles[i].evidence));
        fprintf(out, ",\"outside_nccl\":");
        if (s->outside_class) { /* kernels outside NCCL: their class, whose ranks, how they ended */
            fprintf(out, "{\"class\":");
            pt_json_quoted(out, s->outside_class, strlen(s->outside_class));
            if (s->follows)
                fprintf(out, ",\"follows\":\"%016" PRIx64 "\"", s->follows);
            else
                fprintf(out, ",\"follows\":null");
            fprintf(out, ",\"end_spread_ns\":%" PRIu64 "}", s->end_spread_ns);
        } else {
            fprintf(out, "null");
        }
        fprintf(out, ",\"ranks_in_run\":%d,\"instances\":%" PRIu64 ",\"incomplete\":%" PRIu64
               ",\"gpu_timed\":%d,\"pairs\":%" PRIu64 ",\"unpaired\":%" PRIu64 ",\"recv_imbalance\":",
               pt_comm_members_seen(s), s->instances, s->incomplete, s->gpu_times, s->pairs, s->unpaired);
        double ratio;
        int32_t hot = pt_comm_hot_member(s, &ratio);
        if (hot >= 0)
            fprintf(out, "{\"rank\":%d,\"member\":%d,\"max_over_mean\":%.6f}", s->member_rank[hot], hot, ratio);
        else
            fprintf(out, "null");
        fprintf(out, ",\"hops\":[");
        for (int h = 0; h < s->n_hops; h++)
            fprintf(out, "%s{\"from\":%d,\"to\":%d,\"pairs\":%" PRIu64 ",\"bytes\":%" PRIu64
                   ",\"recv_wait_ns\":%" PRIu64 ",\"send_wait_ns\":%" PRIu64 "}",
                   h ? "," : "", s->hops[h].from, s->hops[h].to, s->hops[h].pairs, s->hops[h].bytes,
                   s->hops[h].recv_wait_ns, s->hops[h].send_wait_ns);
        fprintf(out, "]}");
    }
    fprintf(out, "],\"collectives\":[");
    int first = 1;
    for (struct pt_report_row w = {0}; pt_report_next_row(shown, &w);) {
        fprintf(out, "%s{\"comm\":\"%016" PRIx64 "\",\"nranks\":%d,\"ranks_in_run\":%d,\"role\":\"%s\","
               "\"op\":\"%s\",\"bytes\":%" PRIu64
               ",\"count\":%" PRIu64 ",\"gpu_timed\":%" PRIu64 ",\"transfer_ns\":%" PRIu64
               ",\"wait_ns\":%" PRIu64 ",\"algbw_gbps\":%.9g,\"busbw_gbps\":%.9g}",
               first ? "" : ",", w.s->id, w.s->nranks, pt_comm_members_seen(w.s), roles[w.comm].role,
               pt_op_name(w.op), w.bytes, w.k->count,
               w.k->gpu_timed, w.k->transfer_ns, w.k->wait_ns, w.algbw, w.busbw);
        first = 0;
    }
    fprintf(out, "],\"stragglers\":[");
    first = 1;
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        int32_t *order = malloc((size_t)(s->members_cap ? s->members_cap : 1) * sizeof *order);
        int32_t n = order ? pt_comm_members_by_rank(s, order) : 0;
        for (int32_t j = 0; j < n; j++) {
            int32_t m = order[j];
            if (!s->last_count[m])
                continue;
            fprintf(out, "%s{\"comm\":\"%016" PRIx64 "\",\"rank\":%d,\"last\":%" PRIu64
                   ",\"cost_ns\":%" PRIu64 "}",
                   first ? "" : ",", s->id, s->member_rank[m], s->last_count[m], s->late_cost_ns[m]);
            first = 0;
        }
        free(order);
    }
    fprintf(out, "],\"ranks\":[");
    first = 1;
    for (size_t o = 0; o < n_files; o++) {
        size_t i = by_rank[o];
        if (!t[i].first_ns)
            continue;
        fprintf(out, "%s{\"rank\":%d,\"wall_ns\":%" PRIu64 ",\"nccl_host_ns\":%" PRIu64
               ",\"nccl_kernel_ns\":%" PRIu64 ",\"other_kernel_ns\":%" PRIu64 ",\"kernels\":%" PRIu64,
               first ? "" : ",", t[i].rank, t[i].last_ns - t[i].first_ns, t[i].nccl_host_ns,
               t[i].comm_kernel_ns, t[i].other_kernel_ns, t[i].kernels);
        print_rank_place(c, roles, &t[i]);
        uint64_t cat[PT_CATS], hidden, span;
        double pct[PT_CATS];
        if (gpu && pt_report_shares(shown, i, cat, pct, &hidden, &span)) {
            fprintf(out, ",\"gpu_span_ns\":%" PRIu64 ",\"hidden_comm_ns\":%" PRIu64 ",\"attribution_ns\":{", span,
                   hidden);
            for (int k = 0; k < PT_CATS; k++)
                fprintf(out, "%s\"%s\":%" PRIu64, k ? "," : "", pt_cat_names[k], cat[k]);
            fprintf(out, "},\"attribution_pct\":{");
            for (int k = 0; k < PT_CATS; k++)
                fprintf(out, "%s\"%s\":%.3f", k ? "," : "", pt_cat_names[k], pct[k]);
            fprintf(out, "}");
        }
        fprintf(out, "}");
        first = 0;
    }
    fprintf(out, "]");
    print_seed_json();
    fprintf(out, "}\n");
}

static void report_json(FILE *to, const struct pt_report_view *v)
{
    out = to;
    shown = v->rep;
    report_window = v->window;
    clocks_trusted = v->clocks_trusted;
    print_json();
}

const struct pt_output pt_output_json = {.name = "json", .report = report_json, .compare = pt_compare_json,
                                       .whatif = pt_whatif_json};
