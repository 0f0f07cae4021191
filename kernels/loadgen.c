#include "loadgen.h"

#include <math.h>
#include <stdlib.h>

uint64_t pt_rand_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

const char *pt_load_check(const struct pt_load_config *c)
{
    if (!c->n_requests)
        return "the number of requests must be at least 1";
    if (!c->input_len || !c->output_len)
        return "input and output lengths must be at least 1 token";
    if (!(c->shared_prefix >= 0 && c->shared_prefix <= 1))
        return "the shared prefix is a share of the prompt, from 0 to 1";
    if (!c->concurrency && !(c->rate_per_s > 0 && isfinite(c->rate_per_s)))
        return "give a concurrency (closed loop) or a request rate above 0 (open loop)";
    if (c->vocab < 2)
        return "the vocabulary must have at least 2 tokens";
    return NULL;
}

struct pt_request *pt_load_make(const struct pt_load_config *c)
{
    if (pt_load_check(c))
        return NULL;
    struct pt_request *r = calloc(c->n_requests, sizeof *r);
    int32_t *shared = malloc(c->input_len * sizeof *shared);
    if (!r || !shared) {
        free(r);
        free(shared);
        return NULL;
    }
    uint32_t n_shared = (uint32_t)(c->shared_prefix * c->input_len);
    if (n_shared >= c->input_len) /* one token of each prompt is its own */
        n_shared = c->input_len - 1;
    uint64_t state = c->seed;
    for (uint32_t i = 0; i < n_shared; i++)
        shared[i] = (int32_t)(1 + pt_rand_next(&state) % (c->vocab - 1));
    double t = 0;
    for (uint32_t k = 0; k < c->n_requests; k++) {
        r[k].id = k;
        r[k].n_prompt = c->input_len;
        r[k].max_new = c->output_len;
        r[k].prompt = malloc(c->input_len * sizeof *r[k].prompt);
        if (!r[k].prompt) {
            pt_load_free(r, k);
            free(shared);
            return NULL;
        }
        for (uint32_t i = 0; i < c->input_len; i++)
            r[k].prompt[i] = i < n_shared ? shared[i] : (int32_t)(1 + pt_rand_next(&state) % (c->vocab - 1));
        if (!c->concurrency) { /* exponential gaps: a Poisson process */
            double u = (double)(pt_rand_next(&state) >> 11) / 9007199254740992.0;
            t += -log(1 - u) / c->rate_per_s;
            r[k].arrive_s = t;
        }
    }
    free(shared);
    return r;
}

void pt_load_free(struct pt_request *r, uint32_t n)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < n; i++)
        free(r[i].prompt);
    free(r);
}
