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

#include "util/u64_map.h"

/* The families the report reads, one row each: X(field, type, vLLM's name, SGLang's name)
 * ("" where the server has none). Counters by their samples' name (with _total), histograms by
 * their family's (samples _bucket, _sum, _count). Where two rows give the same figure, the
 * first with data wins (itl before tpot; kv_usage before gpu_cache_usage). */
#define PT_SERVER_METRICS(X)                                                                          \
    X(ttft,              HISTOGRAM, "vllm:time_to_first_token_seconds",   "sglang:time_to_first_token_seconds")   \
    X(itl,               HISTOGRAM, "vllm:inter_token_latency_seconds",   "sglang:inter_token_latency_seconds")   \
    X(tpot,              HISTOGRAM, "vllm:time_per_output_token_seconds", "sglang:time_per_output_token_seconds") \
    X(e2e,               HISTOGRAM, "vllm:e2e_request_latency_seconds",   "sglang:e2e_request_latency_seconds")   \
    X(prompt_tokens,     COUNTER,   "vllm:prompt_tokens_total",           "sglang:prompt_tokens_total")           \
    X(generation_tokens, COUNTER,   "vllm:generation_tokens_total",       "sglang:generation_tokens_total")       \
    X(prefix_queries,    COUNTER,   "vllm:prefix_cache_queries_total",    "")                                     \
    X(prefix_hits,       COUNTER,   "vllm:prefix_cache_hits_total",       "")                                     \
    X(cache_hit_rate,    GAUGE,     "",                                   "sglang:cache_hit_rate")                \
    X(kv_usage,          GAUGE,     "vllm:kv_cache_usage_perc",           "sglang:token_usage")                   \
    X(gpu_cache_usage,   GAUGE,     "vllm:gpu_cache_usage_perc",          "")                                     \
    X(running,           GAUGE,     "vllm:num_requests_running",          "sglang:num_running_reqs")              \
    X(waiting,           GAUGE,     "vllm:num_requests_waiting",          "sglang:num_queue_reqs")

enum pt_server_metric {
#define PT_X(field, type, vllm, sglang) PT_SM_##field,
    PT_SERVER_METRICS(PT_X)
#undef PT_X
    PT_SERVER_METRIC_COUNT
};

/* The known family of a sample's name ("vllm:time_to_first_token_seconds_bucket" →
 * PT_SM_ttft), or -1. */
int pt_server_metric_of(const char *name, size_t len);

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
