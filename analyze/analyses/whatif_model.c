/* A step's cost under a layout, and the predictions built on it (whatif_model.h; the formulas
 * are docs/WHATIF.md's, term by term). */
#include "analyses/whatif_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const pt_wi_class_labels[PT_WI_CLASS_COUNT] = {
#define PT_X(name, label) label,
    PT_WI_CLASSES(PT_X)
#undef PT_X
};

/* Substrings of kernel names, first match wins; the rest are replicated. */
static const struct {
    const char *substring;
    enum pt_wi_class cls;
} kernel_words[] = {
    {"gemm", PT_WI_GEMM}, {"Gemm", PT_WI_GEMM}, {"GEMM", PT_WI_GEMM}, {"cutlass", PT_WI_GEMM},
    {"xmma", PT_WI_GEMM}, {"cublas", PT_WI_GEMM}, {"nvjet", PT_WI_GEMM}, {"matmul", PT_WI_GEMM},
    {"attention", PT_WI_ATTENTION}, {"attn", PT_WI_ATTENTION}, {"flash", PT_WI_ATTENTION},
    {"fmha", PT_WI_ATTENTION}, {"mha", PT_WI_ATTENTION},
    {"rope", PT_WI_SHARDED}, {"rotary", PT_WI_SHARDED}, {"kv_store", PT_WI_SHARDED},
    {"reshape_and_cache", PT_WI_SHARDED}, {"silu", PT_WI_SHARDED}, {"gelu", PT_WI_SHARDED},
    {"act_and_mul", PT_WI_SHARDED}, {"swiglu", PT_WI_SHARDED},
};

enum pt_wi_class pt_wi_kernel_class(const char *name)
{
    for (size_t i = 0; i < sizeof kernel_words / sizeof kernel_words[0]; i++)
        if (strstr(name, kernel_words[i].substring))
            return kernel_words[i].cls;
    return PT_WI_REPLICATED;
}

double pt_wi_cost_at(const struct pt_wi_cost *c, double tokens, double pairs, double ctx)
{
    return c->fixed + c->per_token * tokens + c->per_pair * pairs + c->per_ctx * ctx;
}

int pt_wi_layout_check(const struct pt_wi_layout *l, const struct pt_model_shape *s, int gpus,
                       char *err, size_t errlen)
{
    if (l->tp < 1 || l->pp < 1 || l->dp < 1 || l->ep < 1) {
        snprintf(err, errlen, "every axis of a layout is at least 1");
        return -1;
    }
    if (gpus && l->tp * l->pp * l->dp != gpus) {
        snprintf(err, errlen, "tp×pp×dp = %d, not the %d GPUs asked for", l->tp * l->pp * l->dp, gpus);
        return -1;
    }
    if (s->heads % l->tp || s->kv_heads % l->tp) {
        snprintf(err, errlen, "tp=%d does not divide the model's %u attention and %u KV heads", l->tp,
                 s->heads, s->kv_heads);
        return -1;
    }
    if (s->layers % l->pp) {
        snprintf(err, errlen, "pp=%d does not divide the model's %u layers", l->pp, s->layers);
        return -1;
    }
    if (l->ep > 1 && !s->experts) {
        snprintf(err, errlen, "ep=%d, but the model has no experts", l->ep);
        return -1;
    }
    if (l->ep > 1 && (s->experts % l->ep || (l->dp * l->tp) % l->ep)) {
        snprintf(err, errlen, "ep=%d must divide the model's %u experts and the %d ranks of a stage",
                 l->ep, s->experts, l->dp * l->tp);
        return -1;
    }
    return 0;
}

void pt_wi_layout_label(const struct pt_wi_layout *l, char *out, size_t cap)
{
    const int v[4] = {l->tp, l->pp, l->dp, l->ep};
    const char *names[4] = {"TP", "PP", "DP", "EP"};
    size_t at = 0;
    out[0] = 0;
    for (int i = 0; i < 4 && at < cap; i++)
        if (v[i] > 1)
            at += (size_t)snprintf(out + at, cap - at, "%s%s%d", at ? "×" : "", names[i], v[i]);
    if (!out[0])
        snprintf(out, cap, "1 GPU");
}

/* The share of the GEMMs' work that is the experts' (0 for a dense model): their weights' share
 * of a token's GEMM weights, counting the k experts a token visits. */
static double expert_fraction(const struct pt_model_shape *s)
{
    if (!s->experts)
        return 0.0;
    double h = s->hidden, hd = s->head_dim;
    double attn = h * hd * (s->heads + 2.0 * s->kv_heads) + hd * s->heads * h + h * s->experts;
    double experts = s->top_k * 3.0 * h * s->expert_intermediate;
    return experts / (attn + experts);
}

static double link_us(const struct pt_wi_link *k, double bytes, double factor)
{
    return k->latency_us + (k->busbw_gbs > 0 ? bytes * factor / (k->busbw_gbs * 1e3) : 0.0);
}

/* One rank's share of a step of `tokens` tokens through `frac` of the layers, in ns, by part. */
struct stage_cost {
    double compute, gaps, tp, ep;
};

static struct stage_cost stage(const struct pt_wi_profile *p, const struct pt_wi_layout *l, double tokens,
                               double pairs, double ctx, double frac)
{
    const struct pt_model_shape *s = &p->shape;
    struct stage_cost c = {0};
    double tp = l->tp, fe = expert_fraction(s);
    const struct pt_wi_cost *g = &p->cls[PT_WI_GEMM], *a = &p->cls[PT_WI_ATTENTION];
    double dense = (1 - fe) * (g->fixed + g->per_token * tokens / tp);
    double experts = fe * (g->fixed / l->ep + g->per_token * tokens / tp);
    double attn = a->fixed + (a->per_token * tokens + a->per_pair * pairs) / tp + a->per_ctx * ctx;
    double sharded = pt_wi_cost_at(&p->cls[PT_WI_SHARDED], tokens / tp, 0, 0);
    double repl = pt_wi_cost_at(&p->cls[PT_WI_REPLICATED], tokens, 0, 0);
    c.compute = frac * (dense + experts + attn + sharded + repl);
    c.gaps = frac * pt_wi_cost_at(&p->gaps, tokens, 0, 0);
    double layers = frac * s->layers, row_bytes = (double)s->hidden * s->dtype_bytes;
    if (l->tp > 1) /* two all-reduces a layer: attention's output and the MLP's */
        c.tp = 2 * layers * 1e3 * link_us(&p->allreduce, tokens * row_bytes, 2.0 * (tp - 1) / tp);
    if (l->ep > 1) /* dispatch and combine: each token's k rows, all but 1/ep of them to others */
        c.ep = 2 * layers * 1e3 * link_us(&p->alltoall, tokens * s->top_k * row_bytes, (l->ep - 1.0) / l->ep);
    return c;
}

struct step_sum {
    const struct pt_wi_profile *p;
    const struct pt_wi_layout *l;
    double share_ns[PT_WI_SHARES], total_ns;
};

/* One step of a replica under the layout: with PP, m micro-batches through p stages, the next
 * step waiting for the last stage's tokens (the pipeline drains every step). */
static double step_ns(const struct pt_wi_profile *p, const struct pt_wi_layout *l, const struct pt_wi_step *st,
                      double *share)
{
    double host = pt_wi_cost_at(&p->host, st->tokens, 0, 0);
    int pp = l->pp;
    uint32_t m = pp > 1 ? (p->micro_batches ? p->micro_batches : (uint32_t)pp) : 1;
    if (m > st->tokens)
        m = st->tokens ? st->tokens : 1;
    struct stage_cost c = stage(p, l, (double)st->tokens / m, st->pairs / m, st->max_ctx, 1.0 / pp);
    double tau = c.compute + c.gaps + c.tp + c.ep, total, hop = 0;
    if (pp > 1) {
        hop = 1e3 * link_us(&p->p2p, (double)st->tokens / m * p->shape.hidden * p->shape.dtype_bytes, 1.0);
        total = host + m * tau + (pp - 1) * (tau + hop) + 1e3 * p->p2p.latency_us; /* tokens back */
    } else {
        total = host + tau;
    }
    if (share) {
        share[PT_WI_SHARE_COMPUTE] += m * c.compute;
        share[PT_WI_SHARE_TP] += m * c.tp;
        share[PT_WI_SHARE_EP] += m * c.ep;
        share[PT_WI_SHARE_IDLE] += host + m * c.gaps;
        share[PT_WI_SHARE_PP] += total - host - m * tau;
    }
    return total;
}

double pt_wi_step_ns(const struct pt_wi_profile *p, const struct pt_wi_layout *l, const struct pt_wi_step *st)
{
    return step_ns(p, l, st, NULL);
}

static double predicted_step(const struct pt_wi_step *st, size_t step, void *arg)
{
    (void)step;
    struct step_sum *s = arg;
    double ns = step_ns(s->p, s->l, st, s->share_ns);
    s->total_ns += ns;
    return ns / 1e9;
}

/* Weights per GPU (bytes) under a layout: a stage's layers with their TP and EP shards, and half
 * of the embedding and output head on each end stage (both on one without PP). */
static double weight_bytes(const struct pt_model_shape *s, const struct pt_wi_layout *l)
{
    double h = s->hidden;
    double experts = s->experts ? s->experts * 3.0 * h * s->expert_intermediate : 0.0;
    double layer = pt_model_layer_params(s) - experts;
    double per_layer = layer / l->tp + experts / (l->tp * l->ep);
    double other = pt_model_other_params(s) / l->tp / (l->pp > 1 ? 2 : 1);
    return (per_layer * s->layers / l->pp + other) * s->dtype_bytes;
}

int pt_wi_predict(const struct pt_wi_profile *p, const struct pt_wi_layout *l, struct pt_wi_prediction *out)
{
    memset(out, 0, sizeof *out);
    out->l = *l;
    pt_wi_layout_label(l, out->label, sizeof out->label);
    struct step_sum sum = {.p = p, .l = l};
    struct pt_wi_sched_cfg cfg = p->sched;
    cfg.replicas = (uint32_t)l->dp;
    if (pt_wi_simulate(&p->load, &cfg, predicted_step, &sum, &out->res) != 0)
        return -1;
    for (int i = 0; i < PT_WI_SHARES; i++)
        out->share_pct[i] = sum.total_ns > 0 ? 100.0 * sum.share_ns[i] / sum.total_ns : 0.0;
    const struct pt_wi_layout measured = {p->tp_measured, 1, 1, 1};
    double w = weight_bytes(&p->shape, l), gib = 1024.0 * 1024.0 * 1024.0;
    out->mem_gib = w / gib;
    if (!isnan(p->mem_peak_gib)) { /* the rest (KV cache, buffers) shrinks with the shard of heads and layers */
        double rest = p->mem_peak_gib * gib - weight_bytes(&p->shape, &measured);
        if (rest > 0)
            out->mem_gib += rest * p->tp_measured / (l->tp * l->pp) / gib;
    }
    return 0;
}
