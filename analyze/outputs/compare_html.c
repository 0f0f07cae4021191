/* `partrace compare --html FILE`: one self-contained page (inline CSS and SVG, no script, no
 * network): the table of every run and column with the best value of each marked, a bar chart
 * per serving and GPU figure, and the findings. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "outputs/output.h"
#include "util/text_escape.h"

static void esc(FILE *out, const char *s) { pt_html_escape(out, s, strlen(s)); }

/* Horizontal bars of metric m, one per run that has it, scaled to the largest. */
static void chart(FILE *out, const struct pt_compare *c, int m)
{
    double max = 0;
    for (int i = 0; i < c->n; i++)
        if (!isnan(c->runs[i].v[m]) && c->runs[i].v[m] > max)
            max = c->runs[i].v[m];
    if (!(max > 0))
        return;
    int h = 22 * c->n + 8;
    fprintf(out, "<figure><figcaption>");
    esc(out, pt_run_metric_labels[m]);
    fprintf(out, " (%s is better)</figcaption><svg width=520 height=%d role=img>", pt_run_metric_higher_better[m] ? "higher" : "lower", h);
    for (int i = 0; i < c->n; i++) {
        double v = c->runs[i].v[m];
        int y = 4 + 22 * i;
        fprintf(out, "<text x=0 y=%d font-size=12>%c ", y + 14, 'A' + i);
        esc(out, c->runs[i].layout);
        fprintf(out, "</text>");
        if (isnan(v)) {
            fprintf(out, "<text x=110 y=%d font-size=12>-</text>", y + 14);
            continue;
        }
        double w = 300 * v / max;
        fprintf(out, "<rect x=110 y=%d width=%.1f height=16 fill=\"%s\"/><text x=%.1f y=%d font-size=12>%.*f</text>",
                y, w, c->best[m] == i ? "#4c9a2a" : "#66a0c8", 114 + w, y + 13,
                m == PT_RM_kv_hit_rate ? 3 : 2, v);
    }
    fprintf(out, "</svg></figure>\n");
}

void pt_compare_html(FILE *out, const struct pt_compare *c)
{
    fprintf(out, "<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>partrace compare</title><style>"
                 "body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}"
                 "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td.l,th.l{text-align:left}"
                 ".best{font-weight:bold;background:#e8f3e2}figure{display:inline-block;margin:1em}"
                 "</style></head><body>\n<h1>partrace compare</h1>\n<table><tr><th class=l>run</th>"
                 "<th class=l>layout</th><th>ranks</th>");
    for (int m = 0; m < PT_RUN_METRIC_COUNT; m++) {
        fprintf(out, "<th>");
        esc(out, pt_run_metric_labels[m]);
        fprintf(out, "</th>");
    }
    fprintf(out, "<th class=l>busiest straggler</th></tr>\n");
    for (int i = 0; i < c->n; i++) {
        const struct pt_compare_run *r = &c->runs[i];
        fprintf(out, "<tr><td class=l>%c ", 'A' + i);
        esc(out, r->dir);
        fprintf(out, "</td><td class=l>");
        esc(out, r->layout);
        fprintf(out, "</td><td>%d</td>", r->ranks);
        for (int m = 0; m < PT_RUN_METRIC_COUNT; m++) {
            fprintf(out, "<td%s>", c->best[m] == i && c->n > 1 ? " class=best" : "");
            if (isnan(r->v[m]))
                fprintf(out, "-");
            else
                fprintf(out, "%.3f", m == PT_RM_kv_hit_rate ? 100 * r->v[m] : r->v[m]);
            fprintf(out, "</td>");
        }
        if (r->straggler_rank >= 0)
            fprintf(out, "<td class=l>rank %d (%s), %.3f ms</td></tr>\n", r->straggler_rank,
                    r->straggler_role, r->straggler_wait_ms);
        else
            fprintf(out, "<td class=l>-</td></tr>\n");
    }
    fprintf(out, "</table>\n<h2>Serving and GPU time</h2>\n");
    static const int charted[] = {PT_RM_ttft_p50_ms, PT_RM_tpot_p50_ms, PT_RM_output_tokens_per_s,
                                  PT_RM_kv_hit_rate, PT_RM_gpu_busy_pct, PT_RM_exposed_comm_pct};
    for (size_t k = 0; k < sizeof charted / sizeof *charted; k++)
        chart(out, c, charted[k]);
    fprintf(out, "<h2>Findings, most costly first</h2>\n<ol>\n");
    for (int f = 0; f < c->n_findings; f++) {
        fprintf(out, "<li>");
        esc(out, c->findings[f].text);
        fprintf(out, ".</li>\n");
    }
    fprintf(out, "</ol>\n<p><small>partrace; definitions in docs/METRICS.md and "
                 "docs/partrace-compare.md.</small></p>\n</body></html>\n");
}
