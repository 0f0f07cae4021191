/* `partrace compare --json` (schema in docs/partrace-compare.md): {schema, runs: [{dir, layout,
 * ranks, serving_source, metrics, straggler}], best: {metric: dir}, findings: [{cost_ms, run,
 * text}]}. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "outputs/output.h"
#include "util/text_escape.h"

static void string(FILE *out, const char *s)
{
    fputc('"', out);
    pt_json_escape(out, s, strlen(s));
    fputc('"', out);
}

static void number(FILE *out, double v)
{
    if (isnan(v) || isinf(v))
        fprintf(out, "null");
    else
        fprintf(out, "%.9g", v);
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
        fprintf(out, ",\"tp\":%d,\"pp\":%d,\"dp\":%d,\"ep\":%d},\"ranks\":%d,\"serving_source\":",
                r->l.tp, r->l.pp, r->l.dp, r->l.ep, r->ranks);
        if (r->serving_source)
            string(out, r->serving_source);
        else
            fprintf(out, "null");
        fprintf(out, ",\"metrics\":{");
        for (int m = 0; m < PT_RUN_METRIC_COUNT; m++) {
            fprintf(out, "%s\"%s\":", m ? "," : "", pt_run_metric_names[m]);
            number(out, r->v[m]);
        }
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
    fprintf(out, "},\"findings\":[");
    for (int f = 0; f < c->n_findings; f++) {
        fprintf(out, "%s{\"cost_ms\":%.9g,\"run\":", f ? "," : "", c->findings[f].cost_ms);
        string(out, c->runs[c->findings[f].run].dir);
        fprintf(out, ",\"text\":");
        string(out, c->findings[f].text);
        fputc('}', out);
    }
    fprintf(out, "]}\n");
}
