/* `partrace whatif --markdown`: what the prediction stands on as a list and the step costs as a
 * table, then the predicted layouts as `compare --markdown` shows runs. */
#include <stdio.h>
#include <string.h>

#include "outputs/output.h"
#include "util/text_escape.h"

void pt_whatif_markdown(FILE *out, const struct pt_whatif *w, const struct pt_compare *c)
{
    const struct pt_wi_profile *p = &w->prof;
    const struct pt_model_shape *s = &p->shape;
    struct pt_whatif_facts f;
    pt_whatif_facts_of(w, &f);
    fprintf(out, "## What if: ");
    pt_md_escape(out, w->run, strlen(w->run));
    fprintf(out, " on %d GPUs\n\n- Measured as %s.\n", w->gpus, w->measured.layout);
    if (p->load.concurrency)
        fprintf(out, "- Load: %zu requests, closed loop at concurrency %u", p->load.n, p->load.concurrency);
    else
        fprintf(out, "- Load: %zu requests, open loop at their measured arrival times", p->load.n);
    fprintf(out, "; prompts %.0f tokens (mean), %.1f %% from the prefix cache; outputs %.0f tokens (mean); "
                 "%u tokens a step, %u sequences at once.\n",
            f.prompt_mean, f.cached_pct, f.output_mean, p->sched.max_tokens, p->sched.max_seqs);
    fprintf(out, "- Model (");
    pt_md_escape(out, p->shape_from, strlen(p->shape_from));
    fprintf(out, "): %u layers, hidden %u, %u heads (%u KV) of %u, ", s->layers, s->hidden, s->heads, s->kv_heads,
            s->head_dim);
    if (s->experts)
        fprintf(out, "%u experts (top-%u) of width %u", s->experts, s->top_k, s->expert_intermediate);
    else
        fprintf(out, "MLP %u", s->intermediate);
    fprintf(out, ", vocab %u, %u-byte weights.\n", s->vocab, s->dtype_bytes);
    fprintf(out, "- Steps: %zu measured, %zu replayed, sampled rows equal in %.1f %%; fitted step times off by "
                 "%.1f %% (RMS of the mean step).\n",
            p->steps_measured, p->steps_replayed, f.rows_matched_pct, p->fit_error_pct);
    fprintf(out, "- Links (%s): all-reduce %.1f µs + %.0f GB/s, send/recv %.1f µs + %.0f GB/s, all-to-all "
                 "%.1f µs + %.0f GB/s (bus bandwidth).\n\n",
            p->links_from, p->allreduce.latency_us, p->allreduce.busbw_gbs, p->p2p.latency_us, p->p2p.busbw_gbs,
            p->alltoall.latency_us, p->alltoall.busbw_gbs);
    fprintf(out, "| step cost (one GPU) | fixed µs | per token ns | per pair ps | per ctx ns |\n"
                 "|---|---|---|---|---|\n");
    for (int i = 0; i < PT_WHATIF_COSTS; i++)
        fprintf(out, "| %s | %.2f | %.3f | %.4f | %.3f |\n", f.cost_label[i], f.cost[i].fixed / 1e3,
                f.cost[i].per_token, f.cost[i].per_pair * 1e3, f.cost[i].per_ctx);
    fputc('\n', out);
    pt_compare_markdown(out, c);
}
