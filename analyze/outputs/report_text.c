/* `partrace report`'s text: communicators and roles, the layout, the collectives matched across
 * ranks, the stragglers, where each GPU's time went, for a terminal of 100 columns. */
#include <inttypes.h>
#include <math.h>
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
static const struct pt_report_view *view;

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
        fprintf(out, "%.*s\n%*s", shown_len, text, column, "");
        text += cut;
        left -= (size_t)cut;
    }
    fprintf(out, "%s\n", text);
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
            fprintf(out, "\nimbalance (bytes received over send/recv: the most loaded member over the mean):\n");
        fprintf(out, "  %-5s %016" PRIx64 ": rank %d received %.2fx the mean%s\n", shown->roles[i].role,
               s->id, s->member_rank[hot], ratio, ratio >= 1.5 ? " (a hot expert?)" : "");
    }
}

/* v × scale in fmt, or "-" when the run does not tell (NaN). */
static const char *figure(char *buf, size_t cap, const char *fmt, double v, double scale)
{
    if (isnan(v))
        return "-";
    snprintf(buf, cap, fmt, v * scale);
    return buf;
}

/* One line of seed metrics: GPU busy and exposed communication, then the serving metrics when
 * the application marked its requests (`prefix` starts each line). */
static void print_seed_line(const char *prefix)
{
    double busy, exposed;
    struct pt_request_stats q;
    if (shown->gpu) {
        pt_report_seed(shown, &busy, &exposed);
        fprintf(out, "%sGPU busy %.1f %%, exposed communication %.1f %% (means over ranks)\n", prefix, busy,
               exposed);
    }
    struct pt_report_serving sv;
    int serving = pt_report_serving(shown, &sv);
    if (pt_requests_stats(&shown->requests, &q)) {
        fprintf(out, "%srequests %zu, tokens %" PRIu64 ", %.1f tokens/s\n", prefix, q.requests, q.tokens,
               q.tokens_per_s);
        fprintf(out, "%sTTFT ms p50 %.3f p90 %.3f p99 %.3f (%zu requests)\n", prefix, q.ttft_ms[0],
               q.ttft_ms[1], q.ttft_ms[2], q.with_ttft);
        fprintf(out, "%sTPOT ms p50 %.3f p90 %.3f p99 %.3f (%zu requests)\n", prefix, q.tpot_ms[0],
               q.tpot_ms[1], q.tpot_ms[2], q.with_tpot);
    } else if (serving) {
        char a[32], b[32], c[32];
        fprintf(out, "%sserver metrics: %s requests, %s output tokens/s\n", prefix,
                figure(a, sizeof a, "%.0f", sv.s.requests, 1), figure(b, sizeof b, "%.1f", sv.s.output_tokens_per_s, 1));
        fprintf(out, "%sTTFT ms p50 %s p90 %s p99 %s\n", prefix, figure(a, sizeof a, "%.3f", sv.s.ttft_ms[0], 1),
                figure(b, sizeof b, "%.3f", sv.s.ttft_ms[1], 1), figure(c, sizeof c, "%.3f", sv.s.ttft_ms[2], 1));
        fprintf(out, "%sTPOT ms p50 %s p90 %s p99 %s\n", prefix, figure(a, sizeof a, "%.3f", sv.s.tpot_ms[0], 1),
                figure(b, sizeof b, "%.3f", sv.s.tpot_ms[1], 1), figure(c, sizeof c, "%.3f", sv.s.tpot_ms[2], 1));
    } else
        fprintf(out, "%srequests: none marked (NVTX marks \"req ID arrive\", \"req ID token\": docs/METRICS.md)\n",
               prefix);
    if (serving && sv.s.samples) {
        char a[32], b[32], c[32], d[32];
        fprintf(out, "%sKV cache hit rate %s, KV cache use max %s, running max %s, waiting max %s\n", prefix,
                figure(a, sizeof a, "%.1f %%", sv.s.kv_hit_rate, 100), figure(b, sizeof b, "%.1f %%", sv.s.kv_usage_max, 100),
                figure(c, sizeof c, "%.0f", sv.s.running_max, 1), figure(d, sizeof d, "%.0f", sv.s.waiting_max, 1));
    }
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
            fprintf(out, "\nsend/recv hops (who waited for whom; receiver waiting = the sender was late):\n"
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
            fprintf(out, "  %-5s %016" PRIx64 " %11s %9" PRIu64 " %11.3f %18.3f %16.3f\n", shown->roles[i].role,
                   s->id, hop, h->pairs, (double)h->bytes / 1048576.0, (double)h->recv_wait_ns / 1e6,
                   (double)h->send_wait_ns / 1e6);
        }
        if (s->n_hops > n_shown)
            fprintf(out, "  (%d more hops of %016" PRIx64 " in --json)\n", s->n_hops - n_shown, s->id);
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
    fprintf(out, "run: %d ranks in %zu files; timing from %s\n", l->world, n_files,
           gpu ? "GPU kernels" : "host calls only (no GPU records: lower fidelity)");
    fprintf(out, "layout: TP=%d PP=%d DP=%d EP=%d%s\n", l->tp, l->pp, l->dp, l->ep,
           shown->layout_given ? " (given by --layout)" : "");
    if (report_window) {
        char w[512], shown_w[2048];
        pt_report_describe_window(report_window, w, sizeof w);
        fprintf(out, "window: ");
        print_wrapped(pt_term_escape_buf(shown_w, sizeof shown_w, w, strlen(w)), 8);
    }
    fputc('\n', out);
    fprintf(out, "%-16s %5s %-5s  %s\n", "communicator", "ranks", "role", "evidence");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        fprintf(out, "%016" PRIx64 " %5d %-5s  ", s->id, s->nranks, roles[i].role);
        print_wrapped(roles[i].evidence, 30);
    }
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        char note[512];
        if (pt_report_missing_ranks(pt_collectives_comm(c, i), note, sizeof note)) {
            fprintf(out, "INCOMPLETE: ");
            print_wrapped(note, 12);
        }
    }
    /* Each row names its communicator (the first 8 hex digits of the id above) and how many of
     * its instances were timed by their kernels (the others by the host calls). */
    fprintf(out, "\n%-5s %-8s %-13s %10s %8s %6s %10s %10s %10s %10s\n", "role", "comm", "op", "bytes",
           "count", "on GPU", "time ms", "algbw GB/s", "busbw GB/s", "wait ms");
    int lacking = 0; /* rows of a communicator that lacks a rank: marked, and the mark said */
    for (struct pt_report_row w = {0}; pt_report_next_row(shown, &w);) {
        struct pt_row_cells cell;
        pt_report_row_cells(&w, &cell);
        char role[8];
        snprintf(role, sizeof role, "%s%s", roles[w.comm].role, cell.lacks ? "*" : "");
        lacking |= cell.lacks;
        fprintf(out, "%-5s %08" PRIx64 " %-13s %10s %8" PRIu64 " %6" PRIu64 " %10.3f %10s %10s %10.3f\n",
               role, w.s->id >> 32, pt_op_name(w.op), cell.bytes, w.k->count,
               w.k->gpu_timed, (double)w.k->transfer_ns / 1e6, cell.algbw, cell.busbw,
               (double)w.k->wait_ns / 1e6);
    }
    if (lacking)
        fprintf(out, "* its communicator lacks a rank in this run (INCOMPLETE above): the row counts the ranks present\n");
    fprintf(out, "\nstragglers (who arrived last, and what the others waited for them):\n");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        uint64_t total;
        int32_t worst = pt_report_straggler(s, &total);
        if (worst >= 0)
            fprintf(out, "  %-5s %016" PRIx64 ": rank %d, last in %" PRIu64 " of %" PRIu64
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
        fprintf(out, "\nwhere each GPU's time went (%% of its span; compute > communication > copies):\n");
        fprintf(out, "%5s %11s %8s %8s %8s %8s %8s %8s %8s %10s\n", "rank", "GPU span ms", "compute", "tp",
               "pp", "ep", "other", "memcpy", "idle", "hidden ms");
        for (size_t o = 0; o < n_files; o++) {
            size_t i = by_rank[o];
            uint64_t cat[PT_CATS], hidden, span;
            double pct[PT_CATS];
            if (!pt_report_shares(shown, i, cat, pct, &hidden, &span))
                continue;
            fprintf(out, "%5d %11.3f", t[i].rank, (double)span / 1e6);
            for (int k = 0; k < PT_CATS; k++)
                fprintf(out, " %7.1f%%", pct[k]);
            fprintf(out, " %10.3f\n", (double)hidden / 1e6);
        }
        if (view->n_phases) {
            fprintf(out, "\nper phase (NVTX ranges of each name; %% of GPU time inside them, mean over ranks):\n");
            fprintf(out, "%-16s %11s %8s %8s %8s %8s %8s %8s %8s\n", "phase", "GPU ms/rank", "compute", "tp",
                    "pp", "ep", "other", "memcpy", "idle");
        }
        for (int p = 0; p < view->n_phases; p++) {
            double pct[PT_CATS];
            uint64_t ns[PT_CATS], span = 0;
            int ranks = pt_report_mean_shares(view->phases[p].report, pct, ns, &span);
            char name[64];
            pt_term_escape_buf(name, sizeof name, view->phases[p].name, strlen(view->phases[p].name));
            fprintf(out, "%-16s %11.3f", name, ranks ? (double)span / 1e6 / ranks : 0.0);
            for (int k = 0; k < PT_CATS; k++)
                fprintf(out, " %7.1f%%", pct[k]);
            fputc('\n', out);
        }
    }
    fputc('\n', out);
    print_seed_line("");
    /* "events": first to last event of any kind (host calls too), which the GPU span is not. */
    fprintf(out, "\n%5s %10s %12s %14s %14s\n", "rank", "events ms", "NCCL host ms", "NCCL kernel ms",
           "other kernel ms");
    for (size_t o = 0; o < n_files; o++) {
        size_t i = by_rank[o];
        if (t[i].first_ns)
            fprintf(out, "%5d %10.3f %12.3f %14.3f %14.3f\n", t[i].rank,
                   (double)(t[i].last_ns - t[i].first_ns) / 1e6, (double)t[i].nccl_host_ns / 1e6,
                   (double)t[i].comm_kernel_ns / 1e6, (double)t[i].other_kernel_ns / 1e6);
    }
}

void pt_report_row_cells(const struct pt_report_row *w, struct pt_row_cells *out)
{
    int32_t seen = pt_comm_members_seen(w->s);
    out->lacks = seen < w->s->nranks;
    snprintf(out->ranks, sizeof out->ranks, "%d of %d%s", seen, w->s->nranks, out->lacks ? " (incomplete)" : "");
    if (w->s->outside_class) {
        strcpy(out->bytes, "-"), strcpy(out->algbw, "-"), strcpy(out->busbw, "-");
        return;
    }
    snprintf(out->bytes, sizeof out->bytes, "%" PRIu64, w->bytes);
    snprintf(out->algbw, sizeof out->algbw, "%.2f", w->algbw);
    snprintf(out->busbw, sizeof out->busbw, "%.2f", w->busbw);
}

void pt_report_print_seed(FILE *to, const struct pt_report *rep, const char *prefix)
{
    out = to;
    shown = rep;
    print_seed_line(prefix);
}

static void report_text(FILE *to, const struct pt_report_view *v)
{
    out = to;
    view = v;
    shown = v->rep;
    report_window = v->window;
    print_text();
}

const struct pt_output pt_output_text = {.name = "text", .report = report_text, .compare = pt_compare_text,
                                       .whatif = pt_whatif_text};
