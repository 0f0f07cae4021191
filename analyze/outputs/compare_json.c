/* `partrace compare --json` (schema in docs/partrace-compare.md): {schema, runs: [{dir, layout,
 * ranks, serving, shares, memory, straggler}], best: {metric: dir}, best_row: {metric: index in runs}, findings: [{cost, run,
 * text}]}. */
#include <stdio.h>
#include <string.h>

#include "outputs/output.h"
#include "util/text_escape.h"

static void string(FILE *out, const char *s) { pt_json_quoted(out, s, strlen(s)); }

/* The run's metrics of one group as the members of an object. */
static void group(FILE *out, const struct pt_compare_run *r, const char *name)
{
    int first = 1;
    for (int m = 0; m < PT_RUN_METRIC_COUNT; m++) {
        if (strcmp(pt_run_metric_groups[m], name))
            continue;
        fprintf(out, "%s\"%s\":", first ? "" : ",", pt_run_metric_names[m]);
        pt_json_number(out, r->v[m]);
        first = 0;
    }
}

void pt_compare_json(FILE *out, const struct pt_compare *c)
{
    fprintf(out, "{\"schema\":\"partrace.compare/0\",\"runs\":[");
    for (int i = 0; i < c->n; i++) {
        const struct pt_compare_run *r = &c->runs[i];
        fprintf(out, "%s{\"dir\":", i ? "," : "");
        string(out, r->dir);
        fprintf(out, ",\"layout\":{\"label\":");
        string(out, r->layout);
        fprintf(out, ",\"tp\":%d,\"pp\":%d,\"dp\":%d,\"ep\":%d},\"ranks\":%d,\"serving\":",
                r->l.tp, r->l.pp, r->l.dp, r->l.ep, r->ranks);
        if (r->serving_source) {
            fprintf(out, "{\"source\":");
            string(out, r->serving_source);
            fputc(',', out);
            group(out, r, "serving");
            fputc('}', out);
        } else {
            fprintf(out, "null");
        }
        fprintf(out, ",\"shares\":{");
        group(out, r, "shares");
        fprintf(out, "},\"memory\":{");
        group(out, r, "memory");
        fprintf(out, "},\"straggler\":");
        if (r->straggler_rank >= 0) {
            fprintf(out, "{\"rank\":%d,\"role\":", r->straggler_rank);
            string(out, r->straggler_role);
            fprintf(out, ",\"wait_ms\":%.17g}", r->straggler_wait_ms);
        } else {
            fprintf(out, "null");
        }
        fputc('}', out);
    }
    fprintf(out, "],\"best\":{");
    int first = 1;
    for (int m = 0; m < PT_RUN_METRIC_COUNT; m++) {
        if (c->best[m] < 0)
            continue;
        fprintf(out, "%s\"%s\":", first ? "" : ",", pt_run_metric_names[m]);
        string(out, c->runs[c->best[m]].dir);
        first = 0;
    }
    fprintf(out, "},\"best_row\":{");
    first = 1;
    for (int m = 0; m < PT_RUN_METRIC_COUNT; m++)
        if (c->best[m] >= 0) {
            fprintf(out, "%s\"%s\":%d", first ? "" : ",", pt_run_metric_names[m], c->best[m]);
            first = 0;
        }
    fprintf(out, "},\"findings\":[");
    for (int f = 0; f < c->n_findings; f++) {
        fprintf(out, "%s{\"cost\":%.9g,\"run\":", f ? "," : "", c->findings[f].cost_ms);
        string(out, c->runs[c->findings[f].run].dir);
        fprintf(out, ",\"text\":");
        string(out, c->findings[f].text);
        fputc('}', out);
    }
    fprintf(out, "]}\n");
}
