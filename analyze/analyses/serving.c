#include "analyses/serving.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format/prom_text.h"

/* One series of one file: its family, what part of it (a bucket and its bound, the sum, the
 * count, a counter, a gauge), and its increase over the window as PromQL's increase() counts
 * it: a drop is a restart of the server, and the value after it is all new. */
struct pt_series {
    int metric;
    enum pt_metric_part part;
    double le;
    double last, increase;
    uint64_t first_ts, last_ts;
    uint64_t rise_from, rise_to; /* the sample before its first increase, and its last increase */
    int seen;
};

void pt_serving_init(struct pt_serving *s)
{
    memset(s, 0, sizeof *s);
}

void pt_serving_free(struct pt_serving *s)
{
    pt_u64_map_free(&s->index);
    free(s->series);
    memset(s, 0, sizeof *s);
}

/* The slot of a series, made at its first sample; NULL for series of no known family. */
static struct pt_series *series_of(struct pt_serving *s, uint32_t file, uint32_t id, const char *text)
{
    uint64_t key = (uint64_t)file << 32 | id, slot;
    if (pt_u64_map_get(&s->index, key, &slot))
        return slot ? &s->series[slot - 1] : NULL;
    size_t len = strcspn(text, "{");
    enum pt_metric_part part = PT_PART_VALUE;
    int metric = pt_server_metric_of(text, len, &part);
    double le = NAN;
    if (metric >= 0 && part == PT_PART_BUCKET) {
        const char *labels = text + len + (text[len] == '{');
        char bound[64];
        if (!pt_prom_label(labels, strcspn(labels, "}"), "le", bound, sizeof bound) ||
            pt_prom_value(bound, strlen(bound), &le) != 0)
            metric = -1; /* a bucket without a bound cannot be used */
    }
    if (metric < 0) {
        pt_u64_map_put(&s->index, key, 0);
        return NULL;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct pt_series *more = realloc(s->series, cap * sizeof *more);
        if (!more)
            return NULL;
        s->series = more, s->cap = cap;
    }
    struct pt_series *x = &s->series[s->n++];
    *x = (struct pt_series){.metric = metric, .part = part, .le = le};
    pt_u64_map_put(&s->index, key, s->n);
    return x;
}

void pt_serving_add(struct pt_serving *s, uint32_t file, const struct pt_rec_metric *m, const char *series)
{
    struct pt_series *x = series_of(s, file, m->series_id, series);
    if (!x || isnan(m->value))
        return;
    s->samples++;
    if (pt_server_metric_is_gauge(x->metric)) {
        struct pt_gauge_sums *g = &s->gauge[x->metric];
        if (g->scrapes && g->ts != m->ts_ns) { /* a new scrape: the last one's sum is complete */
            g->max = g->scrapes == 1 || g->now > g->max ? g->now : g->max;
            g->total += g->now;
            g->now = 0;
        }
        if (!g->scrapes || g->ts != m->ts_ns)
            g->scrapes++, g->ts = m->ts_ns;
        g->now += m->value;
    }
    if (x->seen) {
        double up = m->value >= x->last ? m->value - x->last : m->value;
        if (up > 0) {
            if (x->increase == 0)
                x->rise_from = x->last_ts;
            x->rise_to = m->ts_ns;
        }
        x->increase += up;
    } else {
        x->first_ts = m->ts_ns;
    }
    x->last = m->value, x->last_ts = m->ts_ns, x->seen = 1;
}

double pt_histogram_quantile(double q, const double *le, const double *cum, size_t n)
{
    if (!n || !(cum[n - 1] > 0) || !isinf(le[n - 1]))
        return NAN;
    double rank = q * cum[n - 1];
    size_t b = 0;
    while (b < n - 1 && cum[b] < rank)
        b++;
    if (b == n - 1) /* in the +Inf bucket: the highest finite bound */
        return n > 1 ? le[n - 2] : NAN;
    double lower = b ? le[b - 1] : 0, below = b ? cum[b - 1] : 0;
    if (!b && le[0] <= 0)
        return le[0];
    double in = cum[b] - below;
    return in > 0 ? lower + (le[b] - lower) * (rank - below) / in : le[b];
}

static int by_bound(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A histogram family's increase per bound, summed over its series (every file and label set
 * that shares the bound, as `sum by (le)`); q = 0.5, 0.9, 0.99 into ms[]. Returns the count. */
static double quantiles_ms(const struct pt_serving *s, int metric, double ms[3])
{
    size_t n = 0;
    double (*pairs)[2] = malloc((s->n ? s->n : 1) * sizeof *pairs);
    ms[0] = ms[1] = ms[2] = NAN;
    if (!pairs)
        return 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct pt_series *x = &s->series[i];
        if (x->metric != metric || x->part != PT_PART_BUCKET)
            continue;
        size_t k = 0;
        while (k < n && pairs[k][0] != x->le)
            k++;
        if (k == n)
            pairs[n][0] = x->le, pairs[n][1] = 0, n++;
        pairs[k][1] += x->increase;
    }
    qsort(pairs, n, sizeof *pairs, by_bound);
    double *le = malloc((n ? n : 1) * 2 * sizeof *le), count = 0;
    if (le) {
        double *cum = le + (n ? n : 1);
        for (size_t k = 0; k < n; k++)
            le[k] = pairs[k][0], cum[k] = pairs[k][1];
        static const double q[3] = {0.5, 0.9, 0.99};
        for (int k = 0; k < 3; k++)
            ms[k] = pt_histogram_quantile(q[k], le, cum, n) * 1e3;
        count = n && isinf(le[n - 1]) ? cum[n - 1] : 0;
    }
    free(le);
    free(pairs);
    return count;
}

/* A counter family's increase over all its series, and the time it rose over (ns): from the
 * sample before its first increase to its last, so that a server idle before or after its load
 * (starting up, lingering) does not dilute the rate. */
static double counter_increase(const struct pt_serving *s, int metric, uint64_t *span_ns)
{
    double inc = 0;
    uint64_t first = UINT64_MAX, last = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct pt_series *x = &s->series[i];
        if (x->metric != metric || x->part != PT_PART_VALUE || !(x->increase > 0))
            continue;
        inc += x->increase;
        first = x->rise_from < first ? x->rise_from : first;
        last = x->rise_to > last ? x->rise_to : last;
    }
    *span_ns = last > first ? last - first : 0;
    return inc;
}

/* A gauge's largest and mean sum over its scrapes; NaN without any. */
static void gauge(const struct pt_serving *s, int metric, double *max, double *mean)
{
    struct pt_gauge_sums g = s->gauge[metric];
    *max = *mean = NAN;
    if (!g.scrapes)
        return;
    *max = g.scrapes == 1 || g.now > g.max ? g.now : g.max;
    *mean = (g.total + g.now) / (double)g.scrapes;
}

int pt_serving_stats(const struct pt_serving *s, struct pt_serving_stats *out)
{
    double mean;
    *out = (struct pt_serving_stats){.samples = s->samples};
    if (!s->samples)
        return 0;
    out->requests = quantiles_ms(s, PT_SM_ttft, out->ttft_ms);
    if (!out->requests)
        out->requests = NAN;
    if (!quantiles_ms(s, PT_SM_itl, out->tpot_ms))
        quantiles_ms(s, PT_SM_tpot, out->tpot_ms);
    uint64_t span;
    double tokens = counter_increase(s, PT_SM_generation_tokens, &span);
    out->output_tokens_per_s = span ? tokens / ((double)span / 1e9) : NAN;
    uint64_t qspan;
    double queries = counter_increase(s, PT_SM_prefix_queries, &qspan);
    double hits = counter_increase(s, PT_SM_prefix_hits, &qspan);
    out->kv_hit_rate = queries > 0 ? hits / queries : NAN;
    if (isnan(out->kv_hit_rate)) {
        double max;
        gauge(s, PT_SM_cache_hit_rate, &max, &mean);
        out->kv_hit_rate = mean;
    }
    gauge(s, PT_SM_kv_usage, &out->kv_usage_max, &mean);
    if (isnan(out->kv_usage_max))
        gauge(s, PT_SM_gpu_cache_usage, &out->kv_usage_max, &mean);
    gauge(s, PT_SM_running, &out->running_max, &mean);
    gauge(s, PT_SM_waiting, &out->waiting_max, &mean);
    return 1;
}
