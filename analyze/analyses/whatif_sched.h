/* The serving loop `partrace whatif` replays: continuous batching as vLLM's and our engine's
 * schedulers do it (docs/WHATIF.md, "The serving loop"). Each step takes every running
 * sequence's next token or next prompt chunk, oldest first, then admits waiting requests while
 * the step's token budget and the sequence limit last. A closed loop keeps `concurrency`
 * requests in flight (a new one arrives when one finishes); an open loop admits each request at
 * its arrival time. Data-parallel replicas each take every d-th request and run on their own.
 * What a step costs is the caller's: a callback, so that one loop both replays a measured run
 * (its steps' measured times) and predicts another layout (the model's). */
#ifndef PT_WHATIF_SCHED_H
#define PT_WHATIF_SCHED_H

#include <stddef.h>
#include <stdint.h>

struct pt_wi_request {
    double arrive_s;          /* open loop: after the first arrival */
    uint32_t prompt, cached;  /* prompt tokens, and those the prefix cache held */
    uint32_t output;          /* tokens generated (≥ 1) */
};

struct pt_wi_load {
    struct pt_wi_request *req;
    size_t n;
    uint32_t concurrency;     /* closed loop: in flight at once over all replicas; 0: open loop */
};

struct pt_wi_sched_cfg {
    uint32_t max_tokens;      /* a step's token budget */
    uint32_t max_seqs;        /* sequences running at once */
    uint32_t replicas;        /* data-parallel replicas */
};

/* What one step computes. */
struct pt_wi_step {
    uint32_t tokens;          /* computed: prompt chunks and decodes */
    uint32_t prefill_tokens;
    uint32_t rows;            /* sequences that sample a token */
    double pairs;             /* attention's work: Σ over the step's tokens of the positions each attends to */
    uint32_t max_ctx;         /* the most positions one token attends to */
};

/* Seconds the step takes; step is its index in its replica. */
typedef double (*pt_wi_step_cost)(const struct pt_wi_step *st, size_t step, void *arg);

struct pt_wi_result {
    double ttft_ms[3], tpot_ms[3];  /* p50, p90, p99 over all requests (nearest rank) */
    double tokens_per_s;            /* all output tokens / (last token − first arrival) */
    uint64_t tokens;
    size_t steps;                   /* of every replica */
    double span_s;                  /* first arrival to last token */
};

/* Runs the load through the loop. Returns 0, or -1 when out of memory. */
int pt_wi_simulate(const struct pt_wi_load *load, const struct pt_wi_sched_cfg *cfg,
                   pt_wi_step_cost cost, void *arg, struct pt_wi_result *out);

#endif
