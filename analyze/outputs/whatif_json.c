/* `partrace whatif --json` (schema in docs/partrace-whatif.md): {schema, run, gpus, load, model,
 * steps, costs, links, compare}, compare being `partrace compare --json` of the predicted rows. */
#include <stdio.h>
#include <string.h>

#include "outputs/output.h"
#include "util/text_escape.h"

static void string(FILE *out, const char *s) { pt_json_quoted(out, s, strlen(s)); }

static void link(FILE *out, const char *name, const struct pt_wi_link *k)
{
    fprintf(out, "\"%s\":{\"latency_us\":", name);
    pt_json_number(out, k->latency_us);
    fprintf(out, ",\"busbw_gbs\":");
    pt_json_number(out, k->busbw_gbs);
    fputc('}', out);
}

void pt_whatif_json(FILE *out, const struct pt_whatif *w, const struct pt_compare *c)
{
    const struct pt_wi_profile *p = &w->prof;
    const struct pt_model_shape *s = &p->shape;
    struct pt_whatif_facts f;
    pt_whatif_facts_of(w, &f);
    fprintf(out, "{\"schema\":\"partrace.whatif/0\",\"run\":");
    string(out, w->run);
    fprintf(out, ",\"gpus\":%d,\"load\":{\"requests\":%zu,\"concurrency\":%u,\"open_loop\":%s,\"prompt_mean\":",
            w->gpus, p->load.n, p->load.concurrency, p->load.concurrency ? "false" : "true");
    pt_json_number(out, f.prompt_mean);
    fprintf(out, ",\"cached_pct\":");
    pt_json_number(out, f.cached_pct);
    fprintf(out, ",\"output_mean\":");
    pt_json_number(out, f.output_mean);
    fprintf(out, ",\"max_batch_tokens\":%u,\"max_seqs\":%u},\"model\":{\"from\":", p->sched.max_tokens,
            p->sched.max_seqs);
    string(out, p->shape_from);
    fprintf(out, ",\"layers\":%u,\"hidden\":%u,\"heads\":%u,\"kv_heads\":%u,\"head_dim\":%u,\"intermediate\":%u,"
                 "\"experts\":%u,\"top_k\":%u,\"expert_intermediate\":%u,\"vocab\":%u,\"dtype_bytes\":%u},",
            s->layers, s->hidden, s->heads, s->kv_heads, s->head_dim, s->intermediate, s->experts, s->top_k,
            s->expert_intermediate, s->vocab, s->dtype_bytes);
    fprintf(out, "\"steps\":{\"measured\":%zu,\"replayed\":%zu,\"rows_matched_pct\":", p->steps_measured,
            p->steps_replayed);
    pt_json_number(out, f.rows_matched_pct);
    fprintf(out, ",\"fit_error_pct\":");
    pt_json_number(out, p->fit_error_pct);
    fprintf(out, "},\"costs\":{");
    for (int i = 0; i < PT_WHATIF_COSTS; i++) {
        fprintf(out, "%s\"%s\":{\"fixed_ns\":", i ? "," : "", f.cost_key[i]);
        pt_json_number(out, f.cost[i].fixed);
        fprintf(out, ",\"per_token_ns\":");
        pt_json_number(out, f.cost[i].per_token);
        fprintf(out, ",\"per_pair_ns\":");
        pt_json_number(out, f.cost[i].per_pair);
        fprintf(out, ",\"per_ctx_ns\":");
        pt_json_number(out, f.cost[i].per_ctx);
        fputc('}', out);
    }
    fprintf(out, "},\"links\":{\"from\":");
    string(out, p->links_from);
    fputc(',', out);
    link(out, "allreduce", &p->allreduce);
    fputc(',', out);
    link(out, "p2p", &p->p2p);
    fputc(',', out);
    link(out, "alltoall", &p->alltoall);
    fprintf(out, "},\"compare\":");
    pt_compare_json(out, c); /* its line ends inside the object: whitespace to JSON */
    fprintf(out, "}\n");
}
