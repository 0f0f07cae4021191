/* `partrace compare` on the terminal: a legend of the runs (letter, layout, directory), the
 * serving table and the GPU-time table with the best value of each column marked '*', then the
 * findings, most costly first. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "outputs/output.h"
#include "util/text_escape.h"

static void cell(FILE *out, const struct pt_compare *c, int run, int m, int width)
{
    double v = c->runs[run].v[m];
    char buf[32];
    if (isnan(v))
        snprintf(buf, sizeof buf, "-");
    else if (m == PT_RM_kv_hit_rate)
        snprintf(buf, sizeof buf, "%.1f%%%s", 100 * v, c->best[m] == run && c->n > 1 ? "*" : "");
    else
        snprintf(buf, sizeof buf, "%.*f%s", m == PT_RM_output_tokens_per_s ? 1 : m == PT_RM_mem_peak_gib ? 2 : m >= PT_RM_gpu_busy_pct ? 1 : 3,
                 v, c->best[m] == run && c->n > 1 ? "*" : "");
    fprintf(out, " %*s", width, buf);
}

static void table(FILE *out, const struct pt_compare *c, int from, int to, int straggler)
{
    fprintf(out, "%-4s", "run");
    for (int m = from; m < to; m++)
        fprintf(out, " %13s", pt_run_metric_labels[m]);
    if (straggler)
        fprintf(out, "  busiest straggler");
    fputc('\n', out);
    for (int i = 0; i < c->n; i++) {
        fprintf(out, "%-4c", 'A' + i);
        for (int m = from; m < to; m++)
            cell(out, c, i, m, 13);
        const struct pt_compare_run *r = &c->runs[i];
        if (straggler && r->straggler_rank >= 0)
            fprintf(out, "  rank %d (%s), %.3f ms", r->straggler_rank, r->straggler_role, r->straggler_wait_ms);
        else if (straggler)
            fprintf(out, "  -");
        fputc('\n', out);
    }
}

void pt_compare_text(FILE *out, const struct pt_compare *c)
{
    fprintf(out, "runs:\n");
    for (int i = 0; i < c->n; i++) {
        const struct pt_compare_run *r = &c->runs[i];
        /* padded by characters, not bytes: the layout's '×' is two bytes */
        int width = 0;
        for (const char *p = r->layout; *p; p++)
            width += ((unsigned char)*p & 0xc0) != 0x80;
        fprintf(out, "  %c  %s%*s %3d ranks  serving from %-10s ", 'A' + i, r->layout,
                width < 14 ? 14 - width : 0, "", r->ranks, r->serving_source ? r->serving_source : "-");
        pt_term_escape(out, r->dir, strlen(r->dir));
        fputc('\n', out);
    }
    fprintf(out, "\nserving (* best):\n");
    table(out, c, PT_RM_ttft_p50_ms, PT_RM_gpu_busy_pct, 0);
    fprintf(out, "\nGPU time (%% of each rank's span, mean over ranks; * best):\n");
    table(out, c, PT_RM_gpu_busy_pct, PT_RUN_METRIC_COUNT, 1);
    if (c->without_findings)
        return;
    fprintf(out, "\nfindings, most costly first:\n");
    if (!c->n_findings)
        fprintf(out, "  none\n");
    for (int f = 0; f < c->n_findings; f++) {
        fprintf(out, "  %c. ", 'A' + c->findings[f].run);
        pt_term_escape(out, c->findings[f].text, strlen(c->findings[f].text));
        fprintf(out, ".\n");
    }
}
