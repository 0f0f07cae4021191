/* What the serving loop reports: per request its arrival, first token and end (seconds on one
 * clock), and from them TTFT and TPOT percentiles and throughput, as inference servers
 * report them (TPOT: (end − first token) / (output tokens − 1), requests of one token left out). */
#ifndef PT_SERVING_STATS_H
#define PT_SERVING_STATS_H

#include <stdint.h>

struct pt_request_times {
    double arrive_s, first_s, end_s;
    uint32_t out_tokens, cached_tokens, prompt_tokens;
};

struct pt_serving_summary {
    uint32_t requests;
    double ttft_p50_s, ttft_p99_s, ttft_mean_s;
    double tpot_p50_s, tpot_p99_s, tpot_mean_s;
    double span_s;               /* first arrival to last end */
    double output_tokens_per_s, total_tokens_per_s;
    double kv_hit_rate;          /* prompt tokens served from the prefix cache */
};

/* The p-th percentile (0..100) of v[0, n), linear between ranks; v is sorted in place. 0 when n = 0. */
double pt_percentile(double *v, uint32_t n, double p);
/* Summarises n requests. Returns 0, -1 when out of memory. */
int pt_serving_summarise(const struct pt_request_times *t, uint32_t n, struct pt_serving_summary *out);

#endif
