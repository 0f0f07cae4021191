/* partrace report [--json|--markdown] [window] [--layout] [--fail-if]... PATH: prints what
 * report_build gathered: communicators and roles, the layout, the collectives matched across
 * ranks, the stragglers, where each GPU's time went; then runs the CI gates. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/cli.h"
#include "analyses/fail_if.h"
#include "format/names.h"
#include "analyses/report_build.h"
#include "outputs/report_html.h"
#include "util/text_escape.h"

/* The report being printed (its printers' common input). */
static const struct pt_report *shown;
static int clocks_trusted; /* --trust-clocks */
static const struct pt_window *report_window; /* NULL: the whole run */

/* Prints text from column `column` on, within 100 columns: breaks after "; " or ", " (or
 * spaces) and goes on at that column. */
static void print_wrapped(const char *text, int column)
{
    const int width = 100 - column;
    size_t left = strlen(text);
    while ((int)left > width) {
        int cut = width;
        while (cut > width / 2 && !(text[cut - 1] == ' ' && (text[cut - 2] == ';' || text[cut - 2] == ',')))
            cut--;
        if (cut == width / 2)
            for (cut = width; cut > 1 && text[cut - 1] != ' '; cut--)
                ;
        int shown_len = cut > 1 ? cut - 1 : width; /* no space at all: a hard break */
        if (cut <= 1)
            cut = width;
        printf("%.*s\n%*s", shown_len, text, column, "");
        text += cut;
        left -= (size_t)cut;
    }
    printf("%s\n", text);
}

/* Send/recv all-to-alls (EP): who received the most bytes, against the members' mean. */
static void print_imbalance(void)
{
    int header = 0;
    for (size_t i = 0; i < pt_collectives_count(shown->c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(shown->c, i);
        double ratio;
        int32_t hot = pt_comm_hot_member(s, &ratio);
        if (hot < 0 || strcmp(shown->roles[i].role, "EP"))
            continue;
        if (!header++)
            printf("\nimbalance (bytes received over send/recv: the most loaded member over the mean):\n");
        printf("  %-5s %016" PRIx64 ": rank %d received %.2fx the mean%s\n", shown->roles[i].role,
               s->id, s->member_rank[hot], ratio, ratio >= 1.5 ? " (a hot expert?)" : "");
    }
}

/* One line of seed metrics: GPU busy and exposed communication, then the serving metrics when
 * the application marked its requests (`prefix` starts each line). */
static void print_seed(const char *prefix)
{
    double busy, exposed;
    struct pt_request_stats q;
    if (shown->gpu) {
        pt_report_seed(shown, &busy, &exposed);
        printf("%sGPU busy %.1f %%, exposed communication %.1f %% (means over ranks)\n", prefix, busy,
               exposed);
    }
    if (pt_requests_stats(&shown->requests, &q)) {
        printf("%srequests %zu, tokens %" PRIu64 ", %.1f tokens/s\n", prefix, q.requests, q.tokens,
               q.tokens_per_s);
        printf("%sTTFT ms p50 %.3f p90 %.3f p99 %.3f (%zu requests)\n", prefix, q.ttft_ms[0],
               q.ttft_ms[1], q.ttft_ms[2], q.with_ttft);
        printf("%sTPOT ms p50 %.3f p90 %.3f p99 %.3f (%zu requests)\n", prefix, q.tpot_ms[0],
               q.tpot_ms[1], q.tpot_ms[2], q.with_tpot);
    } else
        printf("%srequests: none marked (NVTX marks \"req ID arrive\", \"req ID token\": docs/METRICS.md)\n",
               prefix);
}

static void print_seed_json(void)
{
    double busy, exposed;
    struct pt_request_stats q;
    printf(",\"summary\":{");
    if (shown->gpu) {
        pt_report_seed(shown, &busy, &exposed);
        printf("\"gpu_busy_pct\":%.3f,\"exposed_comm_pct\":%.3f,", busy, exposed);
    } else {
        printf("\"gpu_busy_pct\":null,\"exposed_comm_pct\":null,");
    }
    if (pt_requests_stats(&shown->requests, &q))
        printf("\"requests\":{\"count\":%zu,\"tokens\":%" PRIu64 ",\"tokens_per_s\":%.3f,"
               "\"ttft_ms\":{\"p50\":%.6f,\"p90\":%.6f,\"p99\":%.6f,\"n\":%zu},"
               "\"tpot_ms\":{\"p50\":%.6f,\"p90\":%.6f,\"p99\":%.6f,\"n\":%zu}}}",
               q.requests, q.tokens, q.tokens_per_s, q.ttft_ms[0], q.ttft_ms[1], q.ttft_ms[2],
               q.with_ttft, q.tpot_ms[0], q.tpot_ms[1], q.tpot_ms[2], q.with_tpot);
    else
        printf("\"requests\":null}");
}

static const struct pt_hop *sorting_hops; /* the hops more_waiting_first compares */

/* Hop indices by the waiting on them, most first; equal ones in the order they were seen. */
static int more_waiting_first(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    uint64_t wx = sorting_hops[x].recv_wait_ns + sorting_hops[x].send_wait_ns;
    uint64_t wy = sorting_hops[y].recv_wait_ns + sorting_hops[y].send_wait_ns;
    return wx != wy ? (wx < wy ? 1 : -1) : (x > y) - (x < y);
}

/* Send/recv traffic per direction, the hops with the most waiting first (16 at most). */
static void print_hops(void)
{
    const struct pt_collectives *c = shown->c;
    int any = 0;
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        if (!s->n_hops)
            continue;
        if (!any++)
            printf("\nsend/recv hops (who waited for whom; receiver waiting = the sender was late):\n"
                   "  %-5s %-16s %11s %9s %11s %18s %16s\n", "role", "communicator", "hop", "pairs",
                   "MiB", "receiver waited ms", "sender waited ms");
        int order[PT_MAX_HOPS];
        for (int h = 0; h < s->n_hops; h++)
            order[h] = h;
        sorting_hops = s->hops;
        qsort(order, (size_t)s->n_hops, sizeof *order, more_waiting_first);
        int n_shown = s->n_hops < 16 ? s->n_hops : 16;
        for (int k = 0; k < n_shown; k++) {
            const struct pt_hop *h = &s->hops[order[k]];
            char hop[32];
            snprintf(hop, sizeof hop, "%d -> %d", h->from, h->to);
            printf("  %-5s %016" PRIx64 " %11s %9" PRIu64 " %11.3f %18.3f %16.3f\n", shown->roles[i].role,
                   s->id, hop, h->pairs, (double)h->bytes / 1048576.0, (double)h->recv_wait_ns / 1e6,
                   (double)h->send_wait_ns / 1e6);
        }
        if (s->n_hops > n_shown)
            printf("  (%d more hops of %016" PRIx64 " in --json)\n", s->n_hops - n_shown, s->id);
    }
}

static void print_text(void)
{
    const struct pt_collectives *c = shown->c;
    const struct pt_role *roles = shown->roles;
    const struct pt_layout *l = &shown->layout;
    const struct pt_rank_totals *t = shown->totals;
    const size_t *by_rank = shown->by_rank;
    size_t n_files = shown->n;
    int gpu = shown->gpu;
    printf("run: %d ranks in %zu files; timing from %s\n", l->world, n_files,
           gpu ? "GPU kernels" : "host calls only (no GPU records: lower fidelity)");
    printf("layout: TP=%d PP=%d DP=%d EP=%d%s\n", l->tp, l->pp, l->dp, l->ep,
           shown->layout_given ? " (given by --layout)" : "");
    if (report_window) {
        char w[512], shown_w[2048];
        pt_report_describe_window(report_window, w, sizeof w);
        printf("window: ");
        print_wrapped(pt_term_escape_buf(shown_w, sizeof shown_w, w, strlen(w)), 8);
    }
    putchar('\n');
    printf("%-16s %5s %-5s  %s\n", "communicator", "ranks", "role", "evidence");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        printf("%016" PRIx64 " %5d %-5s  ", s->id, s->nranks, roles[i].role);
        print_wrapped(roles[i].evidence, 30);
    }
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        char note[512];
        if (pt_report_missing_ranks(pt_collectives_comm(c, i), note, sizeof note)) {
            printf("INCOMPLETE: ");
            print_wrapped(note, 12);
        }
    }
    /* Each row names its communicator (the first 8 hex digits of the id above) and how many of
     * its instances were timed by their kernels (the others by the host calls). */
    printf("\n%-5s %-8s %-13s %10s %8s %6s %10s %10s %10s %10s\n", "role", "comm", "op", "bytes",
           "count", "on GPU", "time ms", "algbw GB/s", "busbw GB/s", "wait ms");
    for (struct pt_report_row w = {0}; pt_report_next_row(shown, &w);)
        printf("%-5s %08" PRIx64 " %-13s %10" PRIu64 " %8" PRIu64 " %6" PRIu64 " %10.3f %10.2f %10.2f %10.3f\n",
               roles[w.comm].role, w.s->id >> 32, pt_op_name(w.op), w.bytes, w.k->count,
               w.k->gpu_timed, (double)w.k->transfer_ns / 1e6, w.algbw, w.busbw,
               (double)w.k->wait_ns / 1e6);
    printf("\nstragglers (who arrived last, and what the others waited for them):\n");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        uint64_t total;
        int32_t worst = pt_report_straggler(s, &total);
        if (worst >= 0)
            printf("  %-5s %016" PRIx64 ": rank %d, last in %" PRIu64 " of %" PRIu64
                   " %s, %.3f ms of waiting (%.0f %%)\n",
                   roles[i].role, s->id, s->member_rank[worst], s->last_count[worst],
                   s->instances + s->pairs, !s->pairs ? "collectives" : s->instances ? "collectives and send/recv pairs"
                                                            : "send/recv pairs",
                   (double)s->late_cost_ns[worst] / 1e6,
                   total ? 100.0 * (double)s->late_cost_ns[worst] / (double)total : 0.0);
    }
    print_imbalance();
    print_hops();
    if (gpu) {
        printf("\nwhere each GPU's time went (%% of its span; compute > communication > copies):\n");
        printf("%5s %11s %8s %8s %8s %8s %8s %8s %8s %10s\n", "rank", "GPU span ms", "compute", "tp",
               "pp", "ep", "other", "memcpy", "idle", "hidden ms");
        for (size_t o = 0; o < n_files; o++) {
            size_t i = by_rank[o];
            uint64_t cat[PT_CATS], hidden, span;
            double pct[PT_CATS];
            if (!pt_report_shares(shown, i, cat, pct, &hidden, &span))
                continue;
            printf("%5d %11.3f", t[i].rank, (double)span / 1e6);
            for (int k = 0; k < PT_CATS; k++)
                printf(" %7.1f%%", pct[k]);
            printf(" %10.3f\n", (double)hidden / 1e6);
        }
    }
    putchar('\n');
    print_seed("");
    /* "events": first to last event of any kind (host calls too), which the GPU span is not. */
    printf("\n%5s %10s %12s %14s %14s\n", "rank", "events ms", "NCCL host ms", "NCCL kernel ms",
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
static void print_markdown(void)
{
    const struct pt_collectives *c = shown->c;
    const struct pt_role *roles = shown->roles;
    const struct pt_layout *l = &shown->layout;
    const struct pt_rank_totals *t = shown->totals;
    const size_t *by_rank = shown->by_rank;
    size_t n_files = shown->n;
    int gpu = shown->gpu;
    printf("## partrace report\n\n%d ranks, layout TP=%d PP=%d DP=%d EP=%d; timing from %s.\n\n",
           l->world, l->tp, l->pp, l->dp, l->ep, gpu ? "GPU kernels" : "host calls only");
    if (report_window) {
        char w[512];
        pt_report_describe_window(report_window, w, sizeof w);
        printf("Window: ");
        pt_md_escape(stdout, w, strlen(w));
        printf(".\n\n");
    }
    if (gpu) {
        printf("| rank | GPU span ms |");
        for (int k = 0; k < PT_CATS; k++)
            printf(" %s %% |", pt_cat_names[k]);
        printf(" hidden comm ms |\n|---|---|");
        for (int k = 0; k < PT_CATS; k++)
            printf("---|");
        printf("---|\n");
        for (size_t o = 0; o < n_files; o++) {
            size_t i = by_rank[o];
            uint64_t cat[PT_CATS], hidden, span;
            double pct[PT_CATS];
            if (!pt_report_shares(shown, i, cat, pct, &hidden, &span))
                continue;
            printf("| %d | %.3f |", t[i].rank, (double)span / 1e6);
            for (int k = 0; k < PT_CATS; k++)
                printf(" %.1f |", pct[k]);
            printf(" %.3f |\n", (double)hidden / 1e6);
        }
        printf("\n");
    }
    print_seed("- ");
    printf("\n");
    printf("| role | communicator | op | bytes | count | timed on GPU | time ms | algbw GB/s | busbw GB/s "
           "| wait ms |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (struct pt_report_row w = {0}; pt_report_next_row(shown, &w);)
        printf("| %s | `%016" PRIx64 "` | %s | %" PRIu64 " | %" PRIu64 " | %" PRIu64
               " | %.3f | %.2f | %.2f | %.3f |\n",
               roles[w.comm].role, w.s->id, pt_op_name(w.op), w.bytes, w.k->count, w.k->gpu_timed,
               (double)w.k->transfer_ns / 1e6, w.algbw, w.busbw, (double)w.k->wait_ns / 1e6);
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        char note[512];
        if (pt_report_missing_ranks(pt_collectives_comm(c, i), note, sizeof note))
            printf("\n**Incomplete:** %s.\n", note);
    }
    printf("\n| role | communicator | straggler | last in | waiting caused ms |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        uint64_t total;
        int32_t worst = pt_report_straggler(s, &total);
        if (worst >= 0)
            printf("| %s | `%016" PRIx64 "` | rank %d | %" PRIu64 " of %" PRIu64 " | %.3f |\n",
                   roles[i].role, s->id, s->member_rank[worst], s->last_count[worst],
                   s->instances + s->pairs, (double)s->late_cost_ns[worst] / 1e6);
    }
}

/* A rank's host, GPU and coordinates along each axis, as JSON members. */
static void print_rank_place(const struct pt_collectives *c, const struct pt_role *roles,
                             const struct pt_rank_totals *t)
{
    static const char *const axes[] = {"TP", "PP", "DP", "EP"}, *const keys[] = {"tp", "pp", "dp", "ep"};
    printf(",\"host\":");
    pt_json_string(t->host, strlen(t->host));
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

static void print_json(void)
{
    const struct pt_collectives *c = shown->c;
    const struct pt_role *roles = shown->roles;
    const struct pt_layout *l = &shown->layout;
    const struct pt_rank_totals *t = shown->totals;
    const size_t *by_rank = shown->by_rank;
    size_t n_files = shown->n;
    int gpu = shown->gpu;
    printf("{\"schema\":\"partrace.report/0\",\"fidelity\":\"%s\",", gpu ? "gpu" : "host");
    printf("\"layout\":{\"tp\":%d,\"pp\":%d,\"dp\":%d,\"ep\":%d,\"world\":%d,\"given\":%s},",
           l->tp, l->pp, l->dp, l->ep, l->world, shown->layout_given ? "true" : "false");
    if (report_window) {
        printf("\"window\":{\"from_s\":%.9g,\"to_s\":", report_window->from_s);
        if (report_window->to_s >= 0)
            printf("%.9g", report_window->to_s);
        else
            printf("null");
        printf(",\"phase\":");
        if (report_window->phase)
            pt_json_string(report_window->phase, strlen(report_window->phase));
        else
            printf("null");
        printf("},");
    }
    printf("\"clocks\":{\"trusted\":%s,\"hosts\":[", clocks_trusted ? "true" : "false");
    for (int h = 0; 1 && h < shown->clocks.n_hosts; h++) {
        const struct pt_clock_host *x = &shown->clocks.hosts[h];
        printf("%s{\"host\":", h ? "," : "");
        pt_json_string(x->name, strlen(x->name));
        printf(",\"offset_ns\":%" PRId64 ",\"residual_ns\":%" PRIu64 ",\"samples\":%" PRIu64 "}",
               clocks_trusted ? 0 : x->offset_ns, x->residual_ns, x->samples);
    }
    printf("]},\"communicators\":[");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        printf("%s{\"id\":\"%016" PRIx64 "\",\"nranks\":%d,\"role\":\"%s\",\"evidence\":",
               i ? "," : "", s->id, s->nranks, roles[i].role);
        pt_json_string(roles[i].evidence, strlen(roles[i].evidence));
        printf(",\"ranks_in_run\":%d,\"instances\":%" PRIu64 ",\"incomplete\":%" PRIu64
               ",\"gpu_timed\":%d,\"pairs\":%" PRIu64 ",\"unpaired\":%" PRIu64 ",\"recv_imbalance\":",
               pt_comm_members_seen(s), s->instances, s->incomplete, s->gpu_times, s->pairs, s->unpaired);
        double ratio;
        int32_t hot = pt_comm_hot_member(s, &ratio);
        if (hot >= 0)
            printf("{\"rank\":%d,\"member\":%d,\"max_over_mean\":%.6f}", s->member_rank[hot], hot, ratio);
        else
            printf("null");
        printf(",\"hops\":[");
        for (int h = 0; h < s->n_hops; h++)
            printf("%s{\"from\":%d,\"to\":%d,\"pairs\":%" PRIu64 ",\"bytes\":%" PRIu64
                   ",\"recv_wait_ns\":%" PRIu64 ",\"send_wait_ns\":%" PRIu64 "}",
                   h ? "," : "", s->hops[h].from, s->hops[h].to, s->hops[h].pairs, s->hops[h].bytes,
                   s->hops[h].recv_wait_ns, s->hops[h].send_wait_ns);
        printf("]}");
    }
    printf("],\"collectives\":[");
    int first = 1;
    for (struct pt_report_row w = {0}; pt_report_next_row(shown, &w);) {
        printf("%s{\"comm\":\"%016" PRIx64 "\",\"role\":\"%s\",\"op\":\"%s\",\"bytes\":%" PRIu64
               ",\"count\":%" PRIu64 ",\"gpu_timed\":%" PRIu64 ",\"transfer_ns\":%" PRIu64
               ",\"wait_ns\":%" PRIu64 ",\"algbw_gbps\":%.9g,\"busbw_gbps\":%.9g}",
               first ? "" : ",", w.s->id, roles[w.comm].role, pt_op_name(w.op), w.bytes, w.k->count,
               w.k->gpu_timed, w.k->transfer_ns, w.k->wait_ns, w.algbw, w.busbw);
        first = 0;
    }
    printf("],\"stragglers\":[");
    first = 1;
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        int32_t *order = malloc((size_t)(s->members_cap ? s->members_cap : 1) * sizeof *order);
        int32_t n = order ? pt_comm_members_by_rank(s, order) : 0;
        for (int32_t j = 0; j < n; j++) {
            int32_t m = order[j];
            if (!s->last_count[m])
                continue;
            printf("%s{\"comm\":\"%016" PRIx64 "\",\"rank\":%d,\"last\":%" PRIu64
                   ",\"cost_ns\":%" PRIu64 "}",
                   first ? "" : ",", s->id, s->member_rank[m], s->last_count[m], s->late_cost_ns[m]);
            first = 0;
        }
        free(order);
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
        uint64_t cat[PT_CATS], hidden, span;
        double pct[PT_CATS];
        if (gpu && pt_report_shares(shown, i, cat, pct, &hidden, &span)) {
            printf(",\"gpu_span_ns\":%" PRIu64 ",\"hidden_comm_ns\":%" PRIu64 ",\"attribution_ns\":{", span,
                   hidden);
            for (int k = 0; k < PT_CATS; k++)
                printf("%s\"%s\":%" PRIu64, k ? "," : "", pt_cat_names[k], cat[k]);
            printf("},\"attribution_pct\":{");
            for (int k = 0; k < PT_CATS; k++)
                printf("%s\"%s\":%.3f", k ? "," : "", pt_cat_names[k], pct[k]);
            printf("}");
        }
        printf("}");
        first = 0;
    }
    printf("]");
    print_seed_json();
    printf("}\n");
}

/* Evaluates every --fail-if over the ranks' attribution. Returns 3 when any holds, else 0. */
static int run_gates(const struct pt_gate *gates, int n_gates)
{
    size_t n = shown->n;
    double (*pct)[PT_GATE_METRICS] = calloc(n ? n : 1, sizeof *pct);
    size_t ranks = 0;
    for (size_t i = 0; pct && i < n; i++) {
        uint64_t cat[PT_CATS], hidden, span;
        double share[PT_CATS];
        if (!pt_report_shares(shown, i, cat, share, &hidden, &span))
            continue;
        memcpy(pct[ranks++], share, sizeof pct[0]);
    }
    int status = 0;
    for (int g = 0; g < n_gates; g++) {
        double v = 0;
        int holds = pct ? pt_gate_eval(&gates[g], (const double(*)[PT_GATE_METRICS])pct, ranks, &v) : -1;
        if (holds < 0) {
            pt_error("fail-if '%s': no GPU attribution in this run (no kernel records)", gates[g].text);
            status = 3;
        } else if (holds) {
            pt_error("fail-if '%s' holds: %.3f over %zu ranks", gates[g].text, v, ranks);
            status = 3;
        }
    }
    free(pct);
    return status;
}

/* The HTML page: this report, and one more pass per NVTX range name for the per-phase view
 * (unless the report is itself one phase). Returns 0, or -1 when FILE could not be written. */
static int write_html(const char *file, const char *source, const struct pt_report *rep,
                      const struct pt_report_opts *opts)
{
    struct pt_report phase_reps[PT_REPORT_PHASES];
    struct pt_html_phase phases[PT_REPORT_PHASES];
    int n = 0;
    for (int p = 0; !opts->window.phase && p < rep->n_phase_names; p++) {
        struct pt_report_opts o = *opts;
        o.window.phase = rep->phase_names[p];
        o.window.run_start = 0;
        o.again = o.quiet = 1;
        if (pt_report_build(source, &o, &phase_reps[n]) != 0) {
            pt_report_free(&phase_reps[n]);
            continue;
        }
        phases[n] = (struct pt_html_phase){rep->phase_names[p], &phase_reps[n]};
        n++;
    }
    char window[512];
    if (rep->windowed)
        pt_report_describe_window(&opts->window, window, sizeof window);
    FILE *out = fopen(file, "w");
    int bad = !out;
    if (out) {
        pt_report_html(out, source, rep, rep->windowed ? window : NULL, phases, n);
        bad = ferror(out);
        bad |= fclose(out) != 0;
    }
    if (bad)
        pt_error("report: cannot write --html %s", file);
    for (int p = 0; p < n; p++)
        pt_report_free(&phase_reps[p]);
    return bad ? -1 : 0;
}

int cmd_report(int argc, char **argv)
{
    int json = 0, markdown = 0, n_gates = 0;
    const char *html = NULL;
    struct pt_report_opts opts = {.window = {.from_s = 0, .to_s = -1}};
    struct pt_gate gates[16];
    const char *path = NULL;
    static const char *const with_value[] = {"--from", "--to", "--phase", "--layout", "--html"};
    for (int i = 1; i < argc; i++) {
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
            if (!strcmp(argv[i], with_value[k]) && (i + 1 >= argc || !argv[i + 1][0])) {
                pt_error("report: %s needs a value", argv[i]);
                return 2;
            }
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--markdown") == 0)
            markdown = 1;
        else if (strcmp(argv[i], "--trust-clocks") == 0)
            opts.trust_clocks = 1;
        else if ((strcmp(argv[i], "--from") == 0 || strcmp(argv[i], "--to") == 0) && i + 1 < argc) {
            char *end = NULL;
            double v = strtod(argv[i + 1], &end);
            if (end == argv[i + 1] || *end || v < 0) {
                pt_error("report: %s takes seconds after the run's start, not '%s'", argv[i],
                          argv[i + 1]);
                return 2;
            }
            *(argv[i][2] == 'f' ? &opts.window.from_s : &opts.window.to_s) = v;
            i++;
        } else if (strcmp(argv[i], "--layout") == 0 && i + 1 < argc) {
            char err[256];
            if (pt_layout_parse(argv[i + 1], &opts.given, err, sizeof err) != 0) {
                pt_error("report: --layout '%s': %s", argv[i + 1], err);
                return 2;
            }
            i++;
        } else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc && argv[i + 1][0]) {
            html = argv[++i];
        } else if (strcmp(argv[i], "--phase") == 0 && i + 1 < argc && argv[i + 1][0])
            opts.window.phase = argv[++i];
        else if (strcmp(argv[i], "--fail-if") == 0) {
            char err[512];
            if (i + 1 >= argc) {
                pt_error("report: --fail-if needs an expression, e.g. 'tp_comm_pct > 15'");
                return 2;
            }
            if (n_gates == 16) {
                pt_error("report: at most 16 --fail-if");
                return 2;
            }
            if (pt_gate_parse(argv[++i], &gates[n_gates], err, sizeof err) != 0) {
                pt_error("report: --fail-if %s", err);
                return 2;
            }
            n_gates++;
        }
        else if (argv[i][0] == '-' && argv[i][1]) {
            pt_error("report: unknown option '%s' (usage: partrace report [--json|--markdown] "
                      "[--from S] [--to S] [--phase NAME] [--layout tp=N,pp=N,dp=N,ep=N] [--html FILE] [--trust-clocks] "
                      "[--fail-if EXPR]... PATH)",
                      argv[i]);
            return 2;
        } else if (!path)
            path = argv[i];
        else {
            pt_error("report: more than one PATH ('%s', '%s')", path, argv[i]);
            return 2;
        }
    }
    if (!path) {
        pt_error("report: missing PATH (usage: partrace report [--json|--markdown] "
                  "[--fail-if EXPR]... PATH)");
        return 2;
    }
    opts.quiet = json;
    if (json && markdown) {
        pt_error("report: choose one of --json and --markdown");
        return 2;
    }
    if (opts.window.to_s >= 0 && opts.window.to_s <= opts.window.from_s) {
        pt_error("report: --to (%g s) must come after --from (%g s)", opts.window.to_s,
                  opts.window.from_s);
        return 2;
    }
    struct pt_report rep;
    if (pt_report_build(path, &opts, &rep) != 0) {
        pt_report_free(&rep);
        return 1;
    }
    shown = &rep;
    clocks_trusted = opts.trust_clocks;
    report_window = rep.windowed ? &opts.window : NULL;
    (json ? print_json : markdown ? print_markdown : print_text)();
    fflush(stdout);
    int status = run_gates(gates, n_gates);
    if (html && write_html(html, path, &rep, &opts) != 0 && status == 0)
        status = 1;
    pt_report_free(&rep);
    return status;
}
