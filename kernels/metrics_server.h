/* The engine's Prometheus endpoint (pt_engine --metrics-port P): each replica's leader serves its
 * serving counters, gauges and histograms on 127.0.0.1 under vLLM's metric names, so that the
 * path from a real server's /metrics to `partrace report` runs on a load whose truth we know.
 * Histograms have buckets 3 % apart (vLLM's are coarser): a percentile read back from them is
 * within about 3 % of the engine's own. Every call is thread-safe; observing takes one lock. */
#ifndef PT_METRICS_SERVER_H
#define PT_METRICS_SERVER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define PT_HIST_BUCKETS 460 /* 0.1 ms × 1.03^k: up to ~80 s, then +Inf */

struct pt_hist {
    uint64_t counts[PT_HIST_BUCKETS + 1]; /* not cumulative; the last is +Inf */
    uint64_t count;
    double sum;
};

struct pt_metrics {
    pthread_mutex_t lock;
    struct pt_hist ttft, itl, e2e;
    uint64_t prompt_tokens, generation_tokens, prefix_queries, prefix_hits, requests;
    double running, waiting, kv_usage;
    char model[64];
    int fd;                  /* listening socket; -1 when not serving */
    int port;                /* the port bound */
    int stop;
    pthread_t thread;
};

/* Binds 127.0.0.1:port (0: any free port, then m->port says which) and serves /metrics from a
 * thread of its own. Returns 0, or -1 with the reason in err. */
int pt_metrics_start(struct pt_metrics *m, int port, const char *model, char *err, size_t errlen);
void pt_metrics_stop(struct pt_metrics *m);

/* The request lifecycle, in seconds. */
void pt_metrics_arrive(struct pt_metrics *m);
void pt_metrics_first_token(struct pt_metrics *m, double ttft_s, uint32_t prompt_tokens,
                            uint32_t cached_tokens);
void pt_metrics_token(struct pt_metrics *m, double since_last_s); /* after the first */
void pt_metrics_finish(struct pt_metrics *m, double e2e_s);
void pt_metrics_kv_usage(struct pt_metrics *m, double used_share);

/* The exposition text as served (malloc'd, NUL-terminated); NULL when out of memory. */
char *pt_metrics_render(struct pt_metrics *m, size_t *len);

#endif
