#include "analyses/fail_if.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyses/compare.h"

static const char *const metrics[PT_GATE_METRICS] = {"compute_pct", "tp_comm_pct", "pp_bubble_pct",
                                                     "ep_comm_pct", "other_comm_pct", "memcpy_pct",
                                                     "idle_pct"};
static const char *const ops[] = {">=", "<=", "==", "!=", ">", "<"}; /* longest first */
static const int op_codes[] = {1, 3, 4, 5, 0, 2};

static void skip_space(const char **p)
{
    while (isspace((unsigned char)**p))
        (*p)++;
}

static int parse_metric(const char **p)
{
    if (strncmp(*p, "tp_comm.exposed_pct", 19) == 0) {
        *p += 19;
        return 1;
    }
    for (int i = 0; i < PT_GATE_METRICS; i++) {
        size_t n = strlen(metrics[i]);
        if (strncmp(*p, metrics[i], n) == 0 && !isalnum((unsigned char)(*p)[n]) && (*p)[n] != '_') {
            *p += n;
            return i;
        }
    }
    return -1;
}

int pt_gate_parse(const char *text, struct pt_gate *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    snprintf(g->text, sizeof g->text, "%s", text);
    const char *p = text;
    skip_space(&p);
    int wrapped = 0;
    static const char *const aggs[] = {"mean(", "max(", "min("};
    for (int i = 0; i < 3; i++)
        if (strncmp(p, aggs[i], strlen(aggs[i])) == 0) {
            g->agg = i;
            p += strlen(aggs[i]);
            wrapped = 1;
            skip_space(&p);
            if (strncmp(p, "rank.", 5) != 0) {
                snprintf(err, errlen, "'%s': expected 'rank.' at offset %d", text, (int)(p - text));
                return -1;
            }
            p += 5;
        }
    if ((g->metric = parse_metric(&p)) < 0) {
        char name[64];
        size_t n = 0;
        while (n + 1 < sizeof name && (isalnum((unsigned char)p[n]) || p[n] == '_'))
            name[n] = p[n], n++;
        name[n] = 0;
        g->run_metric = wrapped ? -1 : pt_run_metric_find(name);
        if (g->run_metric < 0) {
            snprintf(err, errlen, "'%s': unknown metric at offset %d (known: compute_pct, tp_comm_pct, "
                                  "pp_bubble_pct, ep_comm_pct, other_comm_pct, memcpy_pct, idle_pct, "
                                  "and of the whole run ttft_p50_ms, ttft_p99_ms, tpot_p50_ms, "
                                  "tpot_p99_ms, output_tokens_per_s, kv_hit_rate, gpu_busy_pct, "
                                  "exposed_comm_pct, mem_peak_gib)",
                     text, (int)(p - text));
            return -1;
        }
        p += n;
    }
    skip_space(&p);
    if (wrapped) {
        if (*p != ')') {
            snprintf(err, errlen, "'%s': expected ')' at offset %d", text, (int)(p - text));
            return -1;
        }
        p++;
        skip_space(&p);
    }
    size_t k = 0;
    while (k < sizeof ops / sizeof *ops && strncmp(p, ops[k], strlen(ops[k])) != 0)
        k++;
    if (k == sizeof ops / sizeof *ops) {
        snprintf(err, errlen, "'%s': expected a comparison (> >= < <= == !=) at offset %d", text,
                 (int)(p - text));
        return -1;
    }
    g->op = op_codes[k];
    p += strlen(ops[k]);
    skip_space(&p);
    char *end = NULL;
    g->threshold = strtod(p, &end);
    if (end == p) {
        snprintf(err, errlen, "'%s': expected a number at offset %d", text, (int)(p - text));
        return -1;
    }
    p = end;
    skip_space(&p);
    if (*p) {
        snprintf(err, errlen, "'%s': unexpected '%s' at offset %d", text, p, (int)(p - text));
        return -1;
    }
    return 0;
}

static int holds(const struct pt_gate *g, double v)
{
    switch (g->op) {
    case 0: return v > g->threshold;
    case 1: return v >= g->threshold;
    case 2: return v < g->threshold;
    case 3: return v <= g->threshold;
    case 4: return v == g->threshold;
    default: return v != g->threshold;
    }
}

int pt_gate_eval_value(const struct pt_gate *g, double v)
{
    return isnan(v) ? -1 : holds(g, v);
}

int pt_gate_eval(const struct pt_gate *g, const double (*pct)[PT_GATE_METRICS], size_t n,
                 double *value)
{
    if (!n)
        return -1;
    double v = g->agg == 0 ? 0.0 : pct[0][g->metric];
    for (size_t i = 0; i < n; i++) {
        double x = pct[i][g->metric];
        if (g->agg == 0)
            v += x / (double)n;
        else if (g->agg == 1 ? x > v : x < v)
            v = x;
    }
    *value = v;
    return holds(g, v);
}
