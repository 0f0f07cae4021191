#include "serving_stats.h"

#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double pt_percentile(double *v, uint32_t n, double p)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    double at = p / 100 * (n - 1);
    uint32_t lo = (uint32_t)at;
    if (lo >= n - 1)
        return v[n - 1];
    return v[lo] + (at - lo) * (v[lo + 1] - v[lo]);
}

static double mean(const double *v, uint32_t n)
{
    double s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += v[i];
    return n ? s / n : 0;
}

int pt_serving_summarise(const struct pt_request_times *t, uint32_t n, struct pt_serving_summary *out)
{
    memset(out, 0, sizeof *out);
    out->requests = n;
    if (!n)
        return 0;
    double *ttft = malloc(n * sizeof *ttft), *tpot = malloc(n * sizeof *tpot);
    if (!ttft || !tpot) {
        free(ttft);
        free(tpot);
        return -1;
    }
    uint32_t n_tpot = 0;
    double start = t[0].arrive_s, end = t[0].end_s, out_tokens = 0, all_tokens = 0, prompt = 0, cached = 0;
    for (uint32_t i = 0; i < n; i++) {
        ttft[i] = t[i].first_s - t[i].arrive_s;
        if (t[i].out_tokens > 1)
            tpot[n_tpot++] = (t[i].end_s - t[i].first_s) / (t[i].out_tokens - 1);
        start = t[i].arrive_s < start ? t[i].arrive_s : start;
        end = t[i].end_s > end ? t[i].end_s : end;
        out_tokens += t[i].out_tokens;
        all_tokens += t[i].out_tokens + t[i].prompt_tokens;
        prompt += t[i].prompt_tokens;
        cached += t[i].cached_tokens;
    }
    out->ttft_mean_s = mean(ttft, n);
    out->ttft_p50_s = pt_percentile(ttft, n, 50);
    out->ttft_p99_s = pt_percentile(ttft, n, 99);
    out->tpot_mean_s = mean(tpot, n_tpot);
    out->tpot_p50_s = pt_percentile(tpot, n_tpot, 50);
    out->tpot_p99_s = pt_percentile(tpot, n_tpot, 99);
    out->span_s = end - start;
    if (out->span_s > 0) {
        out->output_tokens_per_s = out_tokens / out->span_s;
        out->total_tokens_per_s = all_tokens / out->span_s;
    }
    out->kv_hit_rate = prompt > 0 ? cached / prompt : 0;
    free(ttft);
    free(tpot);
    return 0;
}
