/* `partrace whatif` on the terminal: what the prediction stands on (the run's load, the model's
 * shapes, how well the fitted step costs give back the measured steps, the links), then the
 * predicted layouts as `compare` shows runs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "outputs/output.h"
#include "util/text_escape.h"

void pt_whatif_text(FILE *out, const struct pt_whatif *w, const struct pt_compare *c)
{
    const struct pt_wi_profile *p = &w->prof;
    struct pt_whatif_facts f;
    pt_whatif_facts_of(w, &f);
    fprintf(out, "whatif: ");
    pt_term_escape(out, w->run, strlen(w->run));
    fprintf(out, ", measured as %s, predicted for %d GPUs\n", w->measured.layout, w->gpus);
    if (p->load.concurrency)
        fprintf(out, "load: %zu requests, closed loop at concurrency %u", p->load.n, p->load.concurrency);
    else
        fprintf(out, "load: %zu requests, open loop at their measured arrival times", p->load.n);
    fprintf(out, "; prompts %.0f tokens (mean), %.1f %% from the prefix cache; outputs %.0f tokens (mean)\n",
            f.prompt_mean, f.cached_pct, f.output_mean);
    fprintf(out, "scheduler: %u tokens a step, %u sequences at once\n", p->sched.max_tokens, p->sched.max_seqs);
    const struct pt_model_shape *s = &p->shape;
    fprintf(out, "model: %u layers, hidden %u, %u heads (%u KV) of %u", s->layers, s->hidden, s->heads,
            s->kv_heads, s->head_dim);
    if (s->experts)
        fprintf(out, ", %u experts (top-%u) of width %u", s->experts, s->top_k, s->expert_intermediate);
    else
        fprintf(out, ", MLP %u", s->intermediate);
    fprintf(out, ", vocab %u, %u-byte weights, from ", s->vocab, s->dtype_bytes);
    pt_term_escape(out, p->shape_from, strlen(p->shape_from));
    fprintf(out, "\nsteps: %zu measured, %zu replayed through the serving loop, sampled rows equal in %.1f %%; "
                 "fitted step times off by %.1f %% (RMS of the mean step)\n",
            p->steps_measured, p->steps_replayed, f.rows_matched_pct, p->fit_error_pct);
    fprintf(out, "step costs of one GPU:  %-12s %10s %14s %12s %12s\n", "class", "fixed us", "per token ns",
            "per pair ps", "per ctx ns");
    for (int i = 0; i < PT_WHATIF_COSTS; i++)
        fprintf(out, "                        %-12s %10.2f %14.3f %12.4f %12.3f\n", f.cost_label[i],
                f.cost[i].fixed / 1e3, f.cost[i].per_token, f.cost[i].per_pair * 1e3, f.cost[i].per_ctx);
    fprintf(out, "links: all-reduce %.1f us + bytes at %.0f GB/s bus bandwidth; send/recv %.1f us + %.0f GB/s; "
                 "all-to-all %.1f us + %.0f GB/s (%s)\n\n",
            p->allreduce.latency_us, p->allreduce.busbw_gbs, p->p2p.latency_us, p->p2p.busbw_gbs,
            p->alltoall.latency_us, p->alltoall.busbw_gbs, p->links_from);
    pt_compare_text(out, c);
}
