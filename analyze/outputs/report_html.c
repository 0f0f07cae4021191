/* `partrace report --html FILE`: one self-contained page (inline CSS, no script, no network)
 * with a stacked bar of each rank's attribution, a per-phase view, the collectives and the
 * stragglers. Bars are plain CSS widths, so the page renders anywhere, prints, and needs nothing but
 * itself. */
#include "outputs/output.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "format/names.h"
#include "outputs/report_print.h"
#include "util/text_escape.h"

static const char *const colours[PT_CATS] = {"#4c9a2a", "#d1495b", "#edae49", "#8e44ad",
                                             "#66a0c8", "#00798c", "#c8c8c8"};

static void esc(FILE *out, const char *s) { pt_html_escape(out, s, strlen(s)); }

/* A stacked bar of shares (percent) with a tooltip per segment. */
static void bar(FILE *out, const double *pct, const uint64_t *ns)
{
    fputs("<div class=bar>", out);
    for (int k = 0; k < PT_CATS; k++)
        if (pct[k] > 0.0)
            fprintf(out, "<span style=\"width:%.3f%%;background:%s\" title=\"%s %.2f %% (%.3f ms)\"></span>",
                    pct[k], colours[k], pt_cat_names[k], pct[k], (double)ns[k] / 1e6);
    fputs("</div>", out);
}

static void head(FILE *out, const char *source)
{
    fputs("<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>partrace report: ", out);
    esc(out, source);
    fputs("</title><style>\n"
          "body{font:14px system-ui,sans-serif;margin:2em;color:#222;max-width:70em}\n"
          "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}\n"
          "table{border-collapse:collapse}td,th{padding:.25em .7em;text-align:right;border-bottom:1px solid #ddd}\n"
          "th{background:#f4f4f4}td.l,th.l{text-align:left}\n"
          ".bar{display:flex;width:40em;height:1.3em;border:1px solid #999}.bar span{display:block;height:100%}\n"
          ".key span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;vertical-align:middle}\n"
          "</style></head><body>\n", out);
}

static void legend(FILE *out)
{
    fputs("<p class=key>", out);
    for (int k = 0; k < PT_CATS; k++)
        fprintf(out, "<span style=\"background:%s\"></span>%s", colours[k], pt_cat_names[k]);
    fputs("</p>\n", out);
}

static void ranks_section(FILE *out, const struct pt_report *r)
{
    fputs("<h2>Where each GPU's time went</h2>\n<p>Share of each rank's GPU span; compute &gt; "
          "communication &gt; copies &gt; idle, nothing counted twice.</p>\n", out);
    legend(out);
    fputs("<table><tr><th>rank</th><th class=l>host</th><th>GPU</th><th>GPU span ms</th>", out);
    for (int k = 0; k < PT_CATS; k++)
        fprintf(out, "<th>%s %%</th>", pt_cat_names[k]);
    fputs("<th class=l></th></tr>\n", out);
    for (size_t o = 0; o < r->n; o++) {
        size_t i = r->by_rank[o];
        uint64_t cat[PT_CATS], hidden, span;
        double pct[PT_CATS];
        if (!pt_report_shares(r, i, cat, pct, &hidden, &span) || !span)
            continue;
        fprintf(out, "<tr><td>%d</td><td class=l>", r->totals[i].rank);
        esc(out, r->totals[i].host);
        if (r->totals[i].gpu >= 0)
            fprintf(out, "</td><td>%d</td>", r->totals[i].gpu);
        else
            fputs("</td><td>?</td>", out);
        fprintf(out, "<td>%.3f</td>", (double)span / 1e6);
        for (int k = 0; k < PT_CATS; k++)
            fprintf(out, "<td>%.1f</td>", pct[k]);
        fputs("<td class=l>", out);
        bar(out, pct, cat);
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void phases_section(FILE *out, const struct pt_report_phase *phases, int n)
{
    fputs("<h2>Per phase</h2>\n<p>Mean over ranks, inside the NVTX ranges of each name.</p>\n", out);
    if (!n) {
        fputs("<p>No NVTX ranges in this run: mark phases (e.g. <code>prefill</code>, "
              "<code>decode</code>) with NVTX to see them here.</p>\n", out);
        return;
    }
    legend(out);
    fputs("<table><tr><th class=l>phase</th>", out);
    for (int k = 0; k < PT_CATS; k++)
        fprintf(out, "<th>%s %%</th>", pt_cat_names[k]);
    fputs("<th class=l></th></tr>\n", out);
    for (int p = 0; p < n; p++) {
        double pct[PT_CATS];
        uint64_t ns[PT_CATS];
        pt_report_mean_shares(phases[p].report, pct, ns, NULL);
        fputs("<tr><td class=l>", out);
        esc(out, phases[p].name);
        fputs("</td>", out);
        for (int k = 0; k < PT_CATS; k++)
            fprintf(out, "<td>%.1f</td>", pct[k]);
        fputs("<td class=l>", out);
        bar(out, pct, ns);
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void collectives_section(FILE *out, const struct pt_report *r)
{
    fputs("<h2>Collectives</h2>\n<table><tr><th class=l>role</th><th class=l>communicator</th>"
          "<th>ranks</th><th class=l>op</th><th>bytes</th><th>count</th><th>timed on GPU</th><th>time ms</th>"
          "<th>busbw GB/s</th><th>wait ms</th></tr>\n", out);
    for (struct pt_report_row w = {0}; pt_report_next_row(r, &w);) {
        struct pt_row_cells cell;
        pt_report_row_cells(&w, &cell);
        fprintf(out, "<tr><td class=l>%s</td><td class=l><code>%016" PRIx64 "</code></td><td>%s</td>"
                     "<td class=l>%s</td><td>%s</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td>"
                     "<td>%.3f</td><td>%s</td><td>%.3f</td></tr>\n",
                r->roles[w.comm].role, w.s->id, cell.ranks, pt_op_name(w.op), cell.bytes, w.k->count,
                w.k->gpu_timed, (double)w.k->transfer_ns / 1e6, cell.busbw, (double)w.k->wait_ns / 1e6);
    }
    fputs("</table>\n<h2>Stragglers</h2>\n<table><tr><th class=l>role</th><th class=l>communicator"
          "</th><th>rank</th><th>last in</th><th>of</th><th>waiting caused ms</th><th>share</th></tr>\n",
          out);
    for (size_t i = 0; i < pt_collectives_count(r->c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(r->c, i);
        uint64_t total;
        int32_t worst = pt_report_straggler(s, &total);
        if (worst >= 0)
            fprintf(out, "<tr><td class=l>%s</td><td class=l><code>%016" PRIx64 "</code></td><td>%d"
                         "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%.3f</td><td>%.0f %%</td></tr>\n",
                    r->roles[i].role, s->id, s->member_rank[worst], s->last_count[worst],
                    s->instances + s->pairs,
                    (double)s->late_cost_ns[worst] / 1e6,
                    total ? 100.0 * (double)s->late_cost_ns[worst] / (double)total : 0.0);
    }
    fputs("</table>\n", out);
}

/* Seed and serving metrics, and EP groups' receive imbalance, as one paragraph. */
static void summary(FILE *out, const struct pt_report *r)
{
    double busy, exposed;
    struct pt_request_stats q;
    fputs("<p>", out);
    if (r->gpu) {
        pt_report_seed(r, &busy, &exposed);
        fprintf(out, "GPU busy <b>%.1f %%</b>, exposed communication <b>%.1f %%</b> (means over "
                     "ranks). ", busy, exposed);
    }
    struct pt_report_serving sv;
    if (pt_requests_stats(&r->requests, &q))
        fprintf(out, "%zu requests, %.1f tokens/s; TTFT p50 %.3f ms, p99 %.3f ms; TPOT p50 %.3f ms, "
                     "p99 %.3f ms. ", q.requests, q.tokens_per_s, q.ttft_ms[0], q.ttft_ms[2],
                q.tpot_ms[0], q.tpot_ms[2]);
    else if (pt_report_serving(r, &sv))
        fprintf(out, "Server metrics: %.0f requests, %.1f output tokens/s; TTFT p50 %.3f ms, p99 %.3f ms; "
                     "TPOT p50 %.3f ms, p99 %.3f ms. ", sv.s.requests, sv.s.output_tokens_per_s,
                sv.s.ttft_ms[0], sv.s.ttft_ms[2], sv.s.tpot_ms[0], sv.s.tpot_ms[2]);
    else
        fputs("No request marks (NVTX <code>req ID arrive</code> / <code>req ID token</code>) and no "
              "server metrics (<code>partrace record --metrics URL</code>). ", out);
    if (pt_report_serving(r, &sv)) {
        const char *labels[] = {"KV cache hit rate %.1f %%. ", "KV cache use at most %.1f %%. ",
                                "At most %.0f requests running. ", "At most %.0f waiting. "};
        const double values[] = {100 * sv.s.kv_hit_rate, 100 * sv.s.kv_usage_max, sv.s.running_max,
                                 sv.s.waiting_max};
        for (int k = 0; k < 4; k++)
            if (!isnan(values[k]))
                fprintf(out, labels[k], values[k]);
    }
    for (size_t i = 0; i < pt_collectives_count(r->c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(r->c, i);
        double ratio;
        int32_t hot = pt_comm_hot_member(s, &ratio);
        if (hot >= 0 && !strcmp(r->roles[i].role, "EP"))
            fprintf(out, "EP group <code>%016" PRIx64 "</code>: rank %d received %.2f&times; the mean. ",
                    s->id, s->member_rank[hot], ratio);
    }
    fputs("</p>\n", out);
}

static void page(FILE *out, const char *source, const struct pt_report *r, const char *window_text,
                 const struct pt_report_phase *phases, int n_phases)
{
    const struct pt_layout *l = &r->layout;
    head(out, source);
    fputs("<h1>partrace report: ", out);
    esc(out, source);
    fprintf(out, "</h1>\n<p>%d ranks; layout TP=%d &times; PP=%d &times; DP=%d, EP=%d%s; timing from %s.",
            l->world, l->tp, l->pp, l->dp, l->ep, r->layout_given ? " (given)" : "",
            r->gpu ? "GPU kernels" : "host calls only (no GPU records: lower fidelity)");
    if (window_text) {
        fputs(" Window: ", out);
        esc(out, window_text);
        fputc('.', out);
    }
    fputs("</p>\n<table><tr><th class=l>communicator</th><th>ranks</th><th class=l>role</th>"
          "<th class=l>evidence</th></tr>\n", out);
    for (size_t i = 0; i < pt_collectives_count(r->c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(r->c, i);
        fprintf(out, "<tr><td class=l><code>%016" PRIx64 "</code></td><td>%d</td><td class=l>%s</td>"
                     "<td class=l>", s->id, s->nranks, r->roles[i].role);
        esc(out, r->roles[i].evidence);
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
    for (size_t i = 0; i < pt_collectives_count(r->c); i++) {
        char note[512];
        if (pt_report_missing_ranks(pt_collectives_comm(r->c, i), note, sizeof note)) {
            fputs("<p><b>Incomplete:</b> ", out);
            esc(out, note);
            fputs(".</p>\n", out);
        }
    }
    summary(out, r);
    if (r->gpu) {
        ranks_section(out, r);
        phases_section(out, phases, n_phases);
    } else {
        fputs("<h2>Where each GPU's time went</h2><p>No GPU records in this run: record with "
              "CUPTI (the default under <code>partrace record</code>) to see it.</p>\n", out);
    }
    collectives_section(out, r);
    fputs("<p><small>partrace; definitions in docs/METRICS.md.</small></p>\n</body></html>\n", out);
}

static void report_html(FILE *out, const struct pt_report_view *v)
{
    char window[512];
    if (v->window)
        pt_report_describe_window(v->window, window, sizeof window);
    page(out, v->source, v->rep, v->window ? window : NULL, v->phases, v->n_phases);
}

const struct pt_output pt_output_html = {.name = "html", .report = report_html, .compare = pt_compare_html};
