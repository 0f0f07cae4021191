/* The engine's built-in load: n requests with fixed input and output lengths, a share of each
 * prompt common to all of them (a system prompt, for prefix caching), random tokens from a
 * seed, and arrivals either closed-loop (a fixed number in flight) or open-loop (Poisson at a
 * rate). The same seed gives the same requests on every rank and every run. */
#ifndef PT_LOADGEN_H
#define PT_LOADGEN_H

#include <stdint.h>

struct pt_load_config {
    uint32_t n_requests;
    uint32_t input_len, output_len; /* tokens */
    double shared_prefix;           /* 0..1: share of each prompt common to all requests */
    uint32_t concurrency;           /* closed loop: requests in flight (0: open loop) */
    double rate_per_s;              /* open loop: mean arrival rate */
    uint32_t vocab;                 /* tokens are drawn from [1, vocab) */
    uint64_t seed;
};

struct pt_request {
    uint32_t id;
    double arrive_s;                /* open loop: after the start; closed loop: 0 */
    int32_t *prompt;
    uint32_t n_prompt, max_new;
};

/* Checks a configuration; returns NULL or what is wrong with it. */
const char *pt_load_check(const struct pt_load_config *c);
/* Makes the requests (arrival order). Returns the array (free with pt_load_free), NULL when
 * out of memory or the configuration is bad. */
struct pt_request *pt_load_make(const struct pt_load_config *c);
void pt_load_free(struct pt_request *r, uint32_t n);

/* The deterministic generator used for tokens and arrivals (splitmix64). */
uint64_t pt_rand_next(uint64_t *state);

#endif
