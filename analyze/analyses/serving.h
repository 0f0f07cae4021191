/* Serving metrics from a server's own Prometheus endpoint, scraped into the run as metric
 * records (`partrace record --metrics`): TTFT and TPOT percentiles from histogram bucket
 * increases over the window (as PromQL's histogram_quantile of increase()), output tokens per
 * second, the prefix-cache hit rate, and the largest KV-cache use and queue lengths seen.
 * docs/METRICS.md, "Serving". */
#ifndef PT_SERVING_H
#define PT_SERVING_H

#include <stddef.h>
#include <stdint.h>

#include <partrace/format.h>

#include "format/server_metrics.h"
#include "util/u64_map.h"

/* What the report shows; NaN where the run does not tell. */
struct pt_serving_stats {
    double requests;              /* finished requests (the TTFT histogram's count increase) */
    double ttft_ms[3], tpot_ms[3]; /* p50, p90, p99 */
    double output_tokens_per_s;
    double kv_hit_rate;           /* 0..1 */
    double kv_usage_max;          /* 0..1 */
    double running_max, waiting_max;
    uint64_t samples;             /* metric records that counted */
};

/* A gauge family: the sum over its series at the current scrape, and over the scrapes. */
struct pt_gauge_sums {
    uint64_t ts;              /* the current scrape's time */
    double now, max, total;
    uint64_t scrapes;
};

struct pt_series;
struct pt_serving {
    struct pt_u64_map index;  /* (file, series id) → slot + 1; 0: of no known family */
    struct pt_series *series;
    size_t n, cap;
    struct pt_gauge_sums gauge[PT_SERVER_METRIC_COUNT];
    uint64_t samples;
};

void pt_serving_init(struct pt_serving *s);
/* Feeds one metric record of file `file`; series is its series text. In time order. */
void pt_serving_add(struct pt_serving *s, uint32_t file, const struct pt_rec_metric *m,
                    const char *series);
/* Returns 0 when no known metric was seen. */
int pt_serving_stats(const struct pt_serving *s, struct pt_serving_stats *out);
void pt_serving_free(struct pt_serving *s);

/* PromQL's histogram_quantile over n buckets sorted by upper bound le[] (the last +Inf) with
 * cumulative counts cum[]: NaN without observations. */
double pt_histogram_quantile(double q, const double *le, const double *cum, size_t n);

#endif
