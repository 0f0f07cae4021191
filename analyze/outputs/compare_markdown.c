/* `partrace compare --markdown`: one GitHub-flavoured table of every run and column, the best
 * value of each column in bold, then the findings as a list. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "outputs/output.h"
#include "util/text_escape.h"

void pt_compare_markdown(FILE *out, const struct pt_compare *c)
{
    fprintf(out, "## partrace compare\n\n| run | layout | ranks |");
    for (int m = 0; m < PT_RUN_METRIC_COUNT; m++)
        fprintf(out, " %s |", pt_run_metric_labels[m]);
    fprintf(out, " busiest straggler |\n|---|---|---|");
    for (int m = 0; m < PT_RUN_METRIC_COUNT; m++)
        fprintf(out, "---|");
    fprintf(out, "---|\n");
    for (int i = 0; i < c->n; i++) {
        const struct pt_compare_run *r = &c->runs[i];
        fprintf(out, "| ");
        pt_md_escape(out, r->dir, strlen(r->dir));
        fprintf(out, " | %s | %d |", r->layout, r->ranks);
        for (int m = 0; m < PT_RUN_METRIC_COUNT; m++) {
            double v = r->v[m];
            const char *b = c->best[m] == i && c->n > 1 ? "**" : "";
            if (isnan(v))
                fprintf(out, " - |");
            else if (m == PT_RM_kv_hit_rate)
                fprintf(out, " %s%.1f %%%s |", b, 100 * v, b);
            else
                fprintf(out, " %s%.3f%s |", b, v, b);
        }
        if (r->straggler_rank >= 0)
            fprintf(out, " rank %d (%s), %.3f ms |\n", r->straggler_rank, r->straggler_role, r->straggler_wait_ms);
        else
            fprintf(out, " - |\n");
    }
    if (c->without_findings)
        return;
    fprintf(out, "\n### Findings\n\n");
    if (!c->n_findings)
        fprintf(out, "None.\n");
    for (int f = 0; f < c->n_findings; f++) {
        fprintf(out, "1. ");
        pt_md_escape(out, c->findings[f].text, strlen(c->findings[f].text));
        fprintf(out, ".\n");
    }
}
