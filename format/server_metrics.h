/* The server metrics partrace reads: the families of vLLM's and SGLang's Prometheus endpoints
 * that give the serving figures (docs/METRICS.md, "Serving"), one table, used by both scrapers
 * (`partrace record --metrics` and the recorder's PARTRACE_METRICS_URL) to keep only these, and
 * by the report to read them. */
#ifndef PT_FORMAT_SERVER_METRICS_H
#define PT_FORMAT_SERVER_METRICS_H

#include <stddef.h>

#include "format/prom_text.h"

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


/* A sample's part of its family. */
enum pt_metric_part { PT_PART_VALUE, PT_PART_BUCKET, PT_PART_SUM, PT_PART_COUNT };

/* The known family of a sample's name ("vllm:time_to_first_token_seconds_bucket" →
 * PT_SM_ttft, part PT_PART_BUCKET), or -1. part may be NULL. */
int pt_server_metric_of(const char *name, size_t len, enum pt_metric_part *part);

/* The series text a scraper keeps of a sample of a known family, `name{labels}` as the endpoint
 * wrote it, into out. Returns its length, or 0 for a sample of no known family or a text longer
 * than cap - 1. */
size_t pt_server_series_text(const struct pt_prom_sample *p, char *out, size_t cap);

/* One scrape of an endpoint, as both scrapers make it: a GET within timeout_ms (a body of at
 * most 16 MiB), the whole answer checked as Prometheus text before any sample goes to take, so
 * garbage is refused whole. Returns 0; -1 when the endpoint did not answer, -2 when its answer
 * is not the text format, with the reason in err. */
int pt_server_scrape(const char *url, int timeout_ms,
                     int (*take)(const struct pt_prom_sample *s, void *arg), void *arg, char *err,
                     size_t errlen);

/* Whether a family is a gauge (else a counter or a histogram). */
int pt_server_metric_is_gauge(int metric);

#endif
