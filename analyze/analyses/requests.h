/* Serving metrics from the application's NVTX marks (docs/METRICS.md, "Requests"): a mark
 * "req ID arrive" when request ID arrives, "req ID token" each time a token of it is produced.
 * TTFT = first token − arrival; TPOT = (last token − first token) / (tokens − 1); throughput =
 * tokens / (last token − first arrival). "req ID prefix HIT PROMPT": HIT of the request's PROMPT
 * tokens came from the prefix cache (KV hit rate = all hits / all prompt tokens). Each request's marks are taken from the process that
 * marked it first: data-parallel replicas each mark their own requests, and ranks that all
 * mark the same request (every TP rank, say) do not count it once per rank. */
#ifndef PT_REQUESTS_H
#define PT_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

#include "read/run_key.h"
#include "util/u64_map.h"

struct pt_request {
    uint64_t arrive_ns, first_ns, last_ns;
    uint32_t tokens;
    uint32_t prefix_hit, prefix_prompt; /* from its "prefix" mark */
    int has_prefix;
    struct pt_run_key owner;   /* the file whose marks of it count, and its earliest mark: the
                                * earliest of all in the run's order (run_key.h) */
};

struct pt_requests {
    struct pt_u64_map index;   /* request id + 1 → slot */
    struct pt_request *all;
    size_t n, cap;
    uint64_t bad_marks;        /* "req ..." marks that did not parse */
};

struct pt_request_stats {
    size_t requests, with_ttft, with_tpot;
    uint64_t tokens;
    double ttft_ms[3], tpot_ms[3]; /* p50, p90, p99 */
    double tokens_per_s;
    size_t with_prefix;            /* requests with a prefix mark */
    double kv_hit_rate;            /* their hits over their prompt tokens (0..1) */
};

void pt_requests_init(struct pt_requests *q);
/* Feeds an NVTX mark's text from file `source` at time ts. */
void pt_requests_mark(struct pt_requests *q, uint32_t source, const char *text, size_t len, uint64_t ts);
/* Returns 0 when no request was marked. */
int pt_requests_stats(const struct pt_requests *q, struct pt_request_stats *s);
void pt_requests_free(struct pt_requests *q);
/* p50, p90, p99 of v[0..n) (nearest rank, 0 when n is 0), sorting v. */
void pt_percentiles(double *v, size_t n, double out[3]);

#endif
