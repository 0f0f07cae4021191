/* The serving loop (whatif_sched.h). */
#include "analyses/whatif_sched.h"

#include <stdlib.h>
#include <string.h>

#include "analyses/requests.h"

/* A request's state in its replica. */
struct seq {
    const struct pt_wi_request *r;
    uint32_t to_compute;      /* prompt tokens not yet computed */
    uint32_t at;              /* position of the next token to compute */
    uint32_t generated;
    double arrive_s, first_s, last_s;
};

/* Σ_{j=at}^{at+n−1} (j + 1): the positions n tokens from position `at` attend to. */
static double pairs(uint32_t at, uint32_t n)
{
    return (double)n * at + (double)n * (n + 1) / 2.0;
}

/* One replica: its requests s[0..n) in arrival order. Fills each one's times. */
static int run_replica(struct seq *s, size_t n, uint32_t conc, const struct pt_wi_sched_cfg *cfg,
                       pt_wi_step_cost cost, void *arg, struct pt_wi_result *out)
{
    size_t *running = malloc((n ? n : 1) * sizeof *running), n_running = 0;
    uint32_t *chunk = malloc((n ? n : 1) * sizeof *chunk);
    if (!running || !chunk) {
        free(running);
        free(chunk);
        return -1;
    }
    size_t next = 0, waiting = 0, done = 0, in_flight = 0, steps = 0; /* waiting: [waiting, next) */
    double t = 0;
    while (done < n) {
        /* Arrivals. */
        if (conc) {
            for (; next < n && in_flight < conc; next++, in_flight++)
                s[next].arrive_s = t;
        } else {
            for (; next < n && s[next].r->arrive_s <= t; next++)
                s[next].arrive_s = s[next].r->arrive_s;
        }
        /* Plan: running sequences first, oldest first, then waiting ones in arrival order. */
        struct pt_wi_step st = {0};
        uint32_t budget = cfg->max_tokens;
        for (size_t i = 0; i < n_running; i++) {
            struct seq *q = &s[running[i]];
            uint32_t k = q->to_compute ? (q->to_compute < budget ? q->to_compute : budget) : budget ? 1 : 0;
            chunk[i] = k;
            budget -= k;
        }
        while (waiting < next && budget && n_running < cfg->max_seqs) {
            struct seq *q = &s[waiting++];
            uint32_t k = q->to_compute < budget ? q->to_compute : budget;
            running[n_running] = (size_t)(q - s);
            chunk[n_running++] = k;
            budget -= k;
        }
        for (size_t i = 0; i < n_running; i++) {
            struct seq *q = &s[running[i]];
            uint32_t k = chunk[i];
            if (!k)
                continue;
            st.tokens += k;
            st.pairs += pairs(q->at, k);
            if (q->at + k > st.max_ctx)
                st.max_ctx = q->at + k;
            if (q->to_compute)
                st.prefill_tokens += k;
            if (!q->to_compute || k == q->to_compute)
                st.rows++;
        }
        if (!st.tokens) {
            if (!conc && next < n) { /* idle until the next arrival */
                t = s[next].r->arrive_s;
                continue;
            }
            break; /* cannot happen: a running sequence always gets a token */
        }
        double dt = cost(&st, steps++, arg);
        t += dt > 0 ? dt : 0;
        /* Results: each sampled row gets its token; finished sequences leave. */
        size_t kept = 0;
        for (size_t i = 0; i < n_running; i++) {
            struct seq *q = &s[running[i]];
            uint32_t k = chunk[i];
            int sample = k && (!q->to_compute || k == q->to_compute);
            q->at += k;
            q->to_compute -= q->to_compute ? k : 0;
            if (sample) {
                if (!q->generated++)
                    q->first_s = t;
                q->last_s = t;
            }
            if (q->generated >= q->r->output) {
                done++;
                in_flight--;
            } else {
                running[kept] = running[i];
                chunk[kept++] = 0;
            }
        }
        n_running = kept;
    }
    out->steps += steps;
    free(running);
    free(chunk);
    return 0;
}

int pt_wi_simulate(const struct pt_wi_load *load, const struct pt_wi_sched_cfg *cfg,
                   pt_wi_step_cost cost, void *arg, struct pt_wi_result *out)
{
    memset(out, 0, sizeof *out);
    uint32_t d = cfg->replicas ? cfg->replicas : 1;
    size_t n = load->n;
    double *ttft = malloc((n ? n : 1) * sizeof *ttft), *tpot = malloc((n ? n : 1) * sizeof *tpot);
    struct seq *mine = calloc(n ? n : 1, sizeof *mine);
    int rc = 0;
    if (!ttft || !tpot || !mine) {
        rc = -1;
        goto out;
    }
    uint32_t conc = load->concurrency ? (load->concurrency + d - 1) / d : 0;
    size_t n_ttft = 0, n_tpot = 0;
    double first = -1, last = 0;
    for (uint32_t rep = 0; rep < d; rep++) {
        size_t k = 0;
        for (size_t i = rep; i < n; i += d) {
            const struct pt_wi_request *r = &load->req[i];
            uint32_t cached = r->cached < r->prompt ? r->cached : (r->prompt ? r->prompt - 1 : 0);
            mine[k] = (struct seq){.r = r, .to_compute = r->prompt - cached, .at = cached};
            if (!mine[k].to_compute) /* a request with no prompt computes one token */
                mine[k].to_compute = 1;
            k++;
        }
        if (run_replica(mine, k, conc, cfg, cost, arg, out) != 0) {
            rc = -1;
            goto out;
        }
        for (size_t j = 0; j < k; j++) {
            const struct seq *q = &mine[j];
            double arrive = q->arrive_s;
            if (first < 0 || arrive < first)
                first = arrive;
            if (q->last_s > last)
                last = q->last_s;
            out->tokens += q->generated;
            if (q->generated) {
                ttft[n_ttft++] = (q->first_s - arrive) * 1e3;
                if (q->generated >= 2)
                    tpot[n_tpot++] = (q->last_s - q->first_s) * 1e3 / (q->generated - 1);
            }
        }
    }
    pt_percentiles(ttft, n_ttft, out->ttft_ms);
    pt_percentiles(tpot, n_tpot, out->tpot_ms);
    out->span_s = first >= 0 && last > first ? last - first : 0;
    out->tokens_per_s = out->span_s > 0 ? (double)out->tokens / out->span_s : 0;
out:
    free(ttft);
    free(tpot);
    free(mine);
    return rc;
}
