/* `partrace whatif`'s analysis: a profile, then one prediction per layout (whatif.h). */
#include "analyses/whatif.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyses/whatif_profile.h"

int pt_whatif_parse_layout(const char *text, int gpus, struct pt_wi_layout *l, char *err, size_t errlen)
{
    *l = (struct pt_wi_layout){1, 1, 0, 1};
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int *axis = len > 3 && p[2] == '=' ? !strncmp(p, "tp", 2)   ? &l->tp
                                             : !strncmp(p, "pp", 2) ? &l->pp
                                             : !strncmp(p, "dp", 2) ? &l->dp
                                             : !strncmp(p, "ep", 2) ? &l->ep
                                                                    : NULL
                                           : NULL;
        char *stop;
        long v = axis ? strtol(p + 3, &stop, 10) : 0;
        if (!axis || stop != p + len || v < 1 || v > 4096) {
            snprintf(err, errlen, "--layout '%s': '%.*s' is not tp=N, pp=N, dp=N or ep=N", text, (int)len, p);
            return -1;
        }
        *axis = (int)v;
        p = end ? end + 1 : p + len;
    }
    if (!l->dp) {
        int rest = l->tp * l->pp;
        l->dp = gpus && gpus % rest == 0 ? gpus / rest : 1;
    }
    return 0;
}

/* Every layout of gpus GPUs that the model takes: tp·pp·dp = gpus, and for an MoE model each of
 * them with its experts over a stage's ranks (ep = tp·dp) too. */
static int all_layouts(const struct pt_model_shape *s, int gpus, struct pt_wi_layout *out, int cap)
{
    int n = 0;
    char err[160];
    for (int tp = 1; tp <= gpus; tp++)
        for (int pp = 1; tp * pp <= gpus; pp++) {
            if (gpus % (tp * pp))
                continue;
            int dp = gpus / (tp * pp);
            for (int with_ep = 0; with_ep < 2 && n < cap; with_ep++) {
                struct pt_wi_layout l = {tp, pp, dp, with_ep ? tp * dp : 1};
                if ((with_ep && l.ep < 2) || pt_wi_layout_check(&l, s, gpus, err, sizeof err) != 0)
                    continue;
                out[n++] = l;
            }
        }
    return n;
}

int pt_whatif_build(const char *run, const char *config, const struct pt_wi_layout *asked, int n_asked,
                    int gpus, uint32_t max_tokens, uint32_t max_seqs, struct pt_whatif *w, char *err,
                    size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->run = run;
    int rc = pt_wi_profile_build(run, config, &w->prof, &w->measured, err, errlen);
    if (rc != 0)
        return rc;
    if (max_tokens)
        w->prof.sched.max_tokens = max_tokens;
    if (max_seqs)
        w->prof.sched.max_seqs = max_seqs;
    w->gpus = gpus ? gpus : w->prof.gpus_measured;
    struct pt_wi_layout want[PT_WHATIF_MAX];
    int n = n_asked < PT_WHATIF_MAX ? n_asked : PT_WHATIF_MAX;
    if (n_asked)
        memcpy(want, asked, (size_t)n * sizeof *want);
    else
        n = all_layouts(&w->prof.shape, w->gpus, want, PT_WHATIF_MAX);
    for (int i = 0; i < n; i++) {
        char why[200];
        if (pt_wi_layout_check(&want[i], &w->prof.shape, n_asked && !gpus ? 0 : w->gpus, why, sizeof why) != 0) {
            char label[64];
            pt_wi_layout_label(&want[i], label, sizeof label);
            snprintf(err, errlen, "layout %s: %s", label, why);
            return 2;
        }
    }
    const struct pt_wi_layout own = {w->prof.tp_measured, 1, w->prof.gpus_measured / w->prof.tp_measured, 1};
    if (pt_wi_predict(&w->prof, &own, &w->own) != 0)
        goto oom;
    for (int i = 0; i < n; i++) {
        if (pt_wi_predict(&w->prof, &want[i], &w->pred[i]) != 0)
            goto oom;
        w->n = i + 1;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return 1;
}

void pt_whatif_free(struct pt_whatif *w)
{
    pt_wi_profile_free(&w->prof);
}

static void prediction_row(const struct pt_whatif *w, const struct pt_wi_prediction *p, struct pt_compare_run *r)
{
    memset(r, 0, sizeof *r);
    r->dir = w->run;
    snprintf(r->layout, sizeof r->layout, "%s", p->label);
    r->l = (struct pt_layout){p->l.tp, p->l.pp, p->l.dp, p->l.ep, p->l.tp * p->l.pp * p->l.dp};
    r->ranks = r->l.world;
    r->serving_source = "whatif";
    r->straggler_rank = -1;
    double *v = r->v;
    v[PT_RM_ttft_p50_ms] = p->res.ttft_ms[0];
    v[PT_RM_ttft_p99_ms] = p->res.ttft_ms[2];
    v[PT_RM_tpot_p50_ms] = p->res.tpot_ms[0];
    v[PT_RM_tpot_p99_ms] = p->res.tpot_ms[2];
    v[PT_RM_output_tokens_per_s] = p->res.tokens_per_s;
    v[PT_RM_kv_hit_rate] = w->measured.v[PT_RM_kv_hit_rate];
    v[PT_RM_gpu_busy_pct] = 100.0 - p->share_pct[PT_WI_SHARE_IDLE];
    v[PT_RM_tp_comm_pct] = p->share_pct[PT_WI_SHARE_TP];
    v[PT_RM_pp_bubble_pct] = p->share_pct[PT_WI_SHARE_PP];
    v[PT_RM_ep_comm_pct] = p->share_pct[PT_WI_SHARE_EP];
    v[PT_RM_exposed_comm_pct] = v[PT_RM_tp_comm_pct] + v[PT_RM_pp_bubble_pct] + v[PT_RM_ep_comm_pct];
    v[PT_RM_idle_pct] = p->share_pct[PT_WI_SHARE_IDLE];
    v[PT_RM_mem_peak_gib] = p->mem_gib;
}

void pt_whatif_rows(const struct pt_whatif *w, struct pt_compare *c, int with_measured)
{
    if (with_measured && c->n < PT_COMPARE_MAX_RUNS)
        c->runs[c->n++] = w->measured;
    if (c->n < PT_COMPARE_MAX_RUNS)
        prediction_row(w, &w->own, &c->runs[c->n++]);
    for (int i = 0; i < w->n && c->n < PT_COMPARE_MAX_RUNS; i++)
        prediction_row(w, &w->pred[i], &c->runs[c->n++]);
    pt_compare_rank(c);
}

void pt_whatif_facts_of(const struct pt_whatif *w, struct pt_whatif_facts *f)
{
    static const char *const keys[PT_WI_CLASS_COUNT] = {"gemm", "attention", "per_head", "replicated"};
    const struct pt_wi_profile *p = &w->prof;
    memset(f, 0, sizeof *f);
    double prompt = 0, cached = 0, output = 0;
    for (size_t i = 0; i < p->load.n; i++) {
        prompt += p->load.req[i].prompt;
        cached += p->load.req[i].cached;
        output += p->load.req[i].output;
    }
    if (p->load.n) {
        f->prompt_mean = prompt / p->load.n;
        f->output_mean = output / p->load.n;
    }
    f->cached_pct = prompt > 0 ? 100.0 * cached / prompt : 0;
    size_t both = p->steps_measured < p->steps_replayed ? p->steps_measured : p->steps_replayed;
    f->rows_matched_pct = both ? 100.0 * p->rows_matched / both : 0;
    for (int i = 0; i < PT_WI_CLASS_COUNT; i++) {
        f->cost_label[i] = pt_wi_class_labels[i];
        f->cost_key[i] = keys[i];
        f->cost[i] = p->cls[i];
    }
    f->cost_label[PT_WI_CLASS_COUNT] = "launch gaps", f->cost_key[PT_WI_CLASS_COUNT] = "launch_gaps";
    f->cost[PT_WI_CLASS_COUNT] = p->gaps;
    f->cost_label[PT_WI_CLASS_COUNT + 1] = "host", f->cost_key[PT_WI_CLASS_COUNT + 1] = "host";
    f->cost[PT_WI_CLASS_COUNT + 1] = p->host;
}
