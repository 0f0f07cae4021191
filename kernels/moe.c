#include "moe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime.h>

#include "engine_error.h"
#include "gemm.h"

#define W_ROUTER 3000000u
#define W_EXPERT 4000000u /* + (layer · experts + e) · 3 + {gate, up, down} */

struct expert {
    pt_bf16 *wgu, *wdown; /* gate then up rows [2f, d]; down [d, f] (this rank's TP shard) */
};

struct pt_moe {
    struct pt_model_config cfg;
    uint32_t n_layers, first_layer, ep, ep_rank, per_rank, f, k, max_tokens;
    cublasHandle_t blas;
    cudaStream_t stream;
    ncclComm_t ep_comm;
    pt_bf16 **router;           /* per layer [experts, d] */
    struct expert *experts;     /* per layer × local expert */
    float *bias;                /* per expert: the skew */
    float *logits, *w_dev;      /* [T, experts], [T, k] */
    int32_t *idx_dev;           /* [T, k] */
    int32_t *lists_dev;         /* row lists for gathers and scatters */
    float *weights_dev;
    int32_t *counts_dev;        /* all-gathered per-expert counts [ep, experts] */
    pt_bf16 *send, *back;       /* [T·k, d]: rows in (rank, expert) order, and their results */
    pt_bf16 *recv, *ret;        /* [ep·T·k, d]: rows for this rank's experts, and their results */
    pt_bf16 *xin, *gu, *act, *yout;
    int32_t *idx;               /* host copies */
    float *w;
    int32_t *counts, *list, *list2;
    float *wlist;
    uint64_t *sent_rows;
};

static void *dev(uint64_t *bytes, size_t n)
{
    void *p = NULL;
    if (cudaMalloc(&p, n ? n : 1) != cudaSuccess)
        return NULL;
    *bytes += n;
    return p;
}

struct pt_moe *pt_moe_new(const struct pt_model_config *cfg, const struct pt_layout *l, const struct pt_coords *at,
                          uint32_t max_tokens, float route_skew, cublasHandle_t blas, cudaStream_t stream,
                          ncclComm_t ep_comm, uint64_t *bytes, char *err, size_t errlen)
{
    if (l->ep > 64) {
        pt_engine_fail(err, errlen, "ep=%u: the engine's MoE takes 64 ranks at most", l->ep);
        return NULL;
    }
    struct pt_moe *m = calloc(1, sizeof *m);
    if (!m) {
        pt_engine_fail(err, errlen, "out of memory");
        return NULL;
    }
    uint32_t E = cfg->n_experts, d = cfg->d_model;
    m->cfg = *cfg;
    m->n_layers = at->n_layers, m->first_layer = at->first_layer;
    m->ep = l->ep > 1 ? l->ep : 1;
    m->ep_rank = at->ep;
    m->per_rank = E / m->ep;
    m->f = cfg->expert_d_ff / l->tp;
    m->k = cfg->top_k;
    m->max_tokens = max_tokens;
    m->blas = blas, m->stream = stream, m->ep_comm = ep_comm;
    size_t pairs = (size_t)max_tokens * m->k, rows_in = pairs * m->ep;
    m->router = calloc(m->n_layers, sizeof *m->router);
    m->experts = calloc((size_t)m->n_layers * m->per_rank, sizeof *m->experts);
    m->bias = dev(bytes, E * sizeof(float));
    m->logits = dev(bytes, (size_t)max_tokens * E * sizeof(float));
    m->w_dev = dev(bytes, pairs * sizeof(float));
    m->idx_dev = dev(bytes, pairs * sizeof(int32_t));
    m->lists_dev = dev(bytes, 2 * rows_in * sizeof(int32_t));
    m->weights_dev = dev(bytes, pairs * sizeof(float));
    m->counts_dev = dev(bytes, (size_t)m->ep * E * sizeof(int32_t));
    m->send = dev(bytes, pairs * d * 2);
    m->back = dev(bytes, pairs * d * 2);
    m->recv = dev(bytes, rows_in * d * 2);
    m->ret = dev(bytes, rows_in * d * 2);
    m->xin = dev(bytes, rows_in * d * 2);
    m->gu = dev(bytes, rows_in * 2 * m->f * 2);
    m->act = dev(bytes, rows_in * m->f * 2);
    m->yout = dev(bytes, rows_in * d * 2);
    m->idx = malloc(pairs * sizeof *m->idx);
    m->w = malloc(pairs * sizeof *m->w);
    m->counts = malloc((size_t)m->ep * E * sizeof *m->counts);
    m->list = malloc(2 * rows_in * sizeof *m->list);
    m->list2 = malloc(rows_in * sizeof *m->list2);
    m->wlist = malloc(pairs * sizeof *m->wlist);
    m->sent_rows = calloc(m->ep, sizeof *m->sent_rows);
    int ok = m->router && m->experts && m->bias && m->logits && m->w_dev && m->idx_dev && m->lists_dev &&
             m->weights_dev && m->counts_dev && m->send && m->back && m->recv && m->ret && m->xin && m->gu &&
             m->act && m->yout && m->idx && m->w && m->counts && m->list && m->list2 && m->wlist && m->sent_rows;
    float scale_d = 1.0f / sqrtf((float)d), scale_f = 1.0f / sqrtf((float)cfg->expert_d_ff);
    for (uint32_t i = 0; ok && i < m->n_layers; i++) {
        uint32_t layer = m->first_layer + i;
        ok = (m->router[i] = dev(bytes, (size_t)E * d * 2)) != NULL;
        if (ok)
            pt_op_init_weights(m->router[i], E, d, 0, 0, cfg->seed, W_ROUTER + layer, scale_d, 0, stream);
        for (uint32_t j = 0; ok && j < m->per_rank; j++) {
            uint32_t e = m->ep_rank * m->per_rank + j;
            uint64_t id = W_EXPERT + ((uint64_t)layer * E + e) * 3;
            struct expert *x = &m->experts[(size_t)i * m->per_rank + j];
            x->wgu = dev(bytes, (size_t)2 * m->f * d * 2);
            x->wdown = dev(bytes, (size_t)d * m->f * 2);
            ok = x->wgu && x->wdown;
            if (!ok)
                break;
            pt_op_init_weights(x->wgu, m->f, d, at->tp * m->f, 0, cfg->seed, id, scale_d, 0, stream);
            pt_op_init_weights(x->wgu + (size_t)m->f * d, m->f, d, at->tp * m->f, 0, cfg->seed, id + 1, scale_d, 0,
                               stream);
            pt_op_init_weights(x->wdown, d, m->f, 0, at->tp * m->f, cfg->seed, id + 2, scale_f, 0, stream);
        }
    }
    if (ok) {
        float *bias = calloc(E, sizeof *bias);
        ok = bias != NULL;
        if (ok) {
            bias[0] = route_skew;
            ok = cudaMemcpy(m->bias, bias, E * sizeof *bias, cudaMemcpyHostToDevice) == cudaSuccess;
            free(bias);
        }
    }
    if (!ok) {
        pt_engine_fail(err, errlen, "out of memory for the MoE layers of model %s", cfg->name);
        pt_moe_free(m);
        return NULL;
    }
    return m;
}

void pt_moe_free(struct pt_moe *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; m->router && i < m->n_layers; i++)
        cudaFree(m->router[i]);
    for (size_t i = 0; m->experts && i < (size_t)m->n_layers * m->per_rank; i++)
        cudaFree(m->experts[i].wgu), cudaFree(m->experts[i].wdown);
    void *d[] = {m->bias, m->logits, m->w_dev, m->idx_dev, m->lists_dev, m->weights_dev, m->counts_dev, m->send,
                 m->back, m->recv, m->ret, m->xin, m->gu, m->act, m->yout};
    for (size_t i = 0; i < sizeof d / sizeof *d; i++)
        cudaFree(d[i]);
    free(m->router), free(m->experts), free(m->idx), free(m->w), free(m->counts), free(m->list);
    free(m->list2), free(m->wlist), free(m->sent_rows);
    free(m);
}

const uint64_t *pt_moe_sent_rows(const struct pt_moe *moe) { return moe->sent_rows; }

/* One expert's SwiGLU on c rows of xin, into yout. */
static int expert_mlp(struct pt_moe *m, const struct expert *x, uint32_t c)
{
    uint32_t d = m->cfg.d_model;
    int bad = pt_gemm(m->blas, m->xin, x->wgu, c, d, 2 * m->f, m->gu, 0);
    pt_op_silu_mul(m->gu, c, m->f, m->act, m->stream);
    return bad | pt_gemm(m->blas, m->act, x->wdown, c, m->f, d, m->yout, 0);
}

static int upload(struct pt_moe *m, const int32_t *list, size_t n_list, const float *w, size_t n_w)
{
    return cudaMemcpyAsync(m->lists_dev, list, n_list * 4, cudaMemcpyHostToDevice, m->stream) != cudaSuccess ||
           (n_w && cudaMemcpyAsync(m->weights_dev, w, n_w * 4, cudaMemcpyHostToDevice, m->stream) != cudaSuccess);
}

/* Every expert here, on the rows routed to it (no EP). */
static int forward_local(struct pt_moe *m, uint32_t layer, const pt_bf16 *h, uint32_t n, pt_bf16 *out)
{
    uint32_t E = m->cfg.n_experts, d = m->cfg.d_model, k = m->k;
    /* The (token, weight) lists of each expert, one after another. */
    uint32_t *start = calloc(E + 1, sizeof *start);
    if (!start)
        return -1;
    for (uint32_t p = 0; p < n * k; p++)
        start[m->idx[p] + 1]++;
    for (uint32_t e = 0; e < E; e++)
        start[e + 1] += start[e];
    uint32_t *fill = calloc(E, sizeof *fill);
    if (!fill) {
        free(start);
        return -1;
    }
    for (uint32_t p = 0; p < n * k; p++) {
        uint32_t e = (uint32_t)m->idx[p], at = start[e] + fill[e]++;
        m->list[at] = (int32_t)(p / k);
        m->wlist[at] = m->w[p];
    }
    free(fill);
    int bad = upload(m, m->list, n * k, m->wlist, n * k);
    cudaMemsetAsync(out, 0, (size_t)n * d * 2, m->stream);
    for (uint32_t e = 0; e < E && !bad; e++) {
        uint32_t c = start[e + 1] - start[e];
        if (!c)
            continue;
        const int32_t *rows = m->lists_dev + start[e];
        pt_op_gather_rows(h, rows, c, d, m->xin, m->stream);
        bad |= expert_mlp(m, &m->experts[(size_t)layer * m->per_rank + e], c);
        pt_op_scatter_add_rows(out, m->yout, NULL, rows, m->weights_dev + start[e], c, d, m->stream);
    }
    free(start);
    return bad;
}

/* An all-to-all of uneven sizes over the EP group, as one NCCL group of send/recv: to rank r the
 * out_n[r] rows at out_off[r] of out, from it the in_n[r] rows into in_off[r] of in (rows of
 * d_model). The dispatch sends rows to the experts, the combine the same sizes back. */
static int all_to_all(struct pt_moe *m, const pt_bf16 *out, const size_t *out_off, const size_t *out_n,
                      pt_bf16 *in, const size_t *in_off, const size_t *in_n)
{
    size_t d = m->cfg.d_model;
    ncclGroupStart();
    for (uint32_t r = 0; r < m->ep; r++) {
        if (out_n[r])
            ncclSend(out + out_off[r] * d, out_n[r] * d, ncclBfloat16, (int)r, m->ep_comm, m->stream);
        if (in_n[r])
            ncclRecv(in + in_off[r] * d, in_n[r] * d, ncclBfloat16, (int)r, m->ep_comm, m->stream);
    }
    return ncclGroupEnd() != ncclSuccess;
}

/* EP: rows to their experts' ranks, the experts here on what came, the results back. */
static int forward_ep(struct pt_moe *m, uint32_t layer, const pt_bf16 *h, uint32_t n, pt_bf16 *out)
{
    uint32_t E = m->cfg.n_experts, d = m->cfg.d_model, k = m->k, ep = m->ep, per = m->per_rank, me = m->ep_rank;
    /* Send order: pairs by expert (and so by rank); my count for each expert. */
    int32_t *mine = m->counts + (size_t)me * E;
    memset(mine, 0, E * sizeof *mine);
    for (uint32_t p = 0; p < n * k; p++)
        mine[m->idx[p]]++;
    uint32_t *start = calloc(E + 1, sizeof *start), *fill = calloc(E, sizeof *fill);
    if (!start || !fill) {
        free(start), free(fill);
        return -1;
    }
    for (uint32_t e = 0; e < E; e++)
        start[e + 1] = start[e] + (uint32_t)mine[e];
    int32_t *pos_of = m->list2; /* pair p → its place in the send order */
    for (uint32_t p = 0; p < n * k; p++) {
        uint32_t e = (uint32_t)m->idx[p], at = start[e] + fill[e]++;
        m->list[at] = (int32_t)(p / k);
        pos_of[p] = (int32_t)at;
    }
    free(fill);
    /* Everyone's counts: an all-gather of E ints per rank. */
    int bad = cudaMemcpyAsync(m->counts_dev + (size_t)me * E, mine, E * 4, cudaMemcpyHostToDevice, m->stream) != cudaSuccess;
    bad |= ncclAllGather(m->counts_dev + (size_t)me * E, m->counts_dev, E, ncclInt32, m->ep_comm, m->stream) != ncclSuccess;
    bad |= cudaMemcpyAsync(m->counts, m->counts_dev, (size_t)ep * E * 4, cudaMemcpyDeviceToHost, m->stream) != cudaSuccess;
    bad |= upload(m, m->list, n * k, NULL, 0);
    bad |= cudaStreamSynchronize(m->stream) != cudaSuccess;
    if (bad) {
        free(start);
        return -1;
    }
    pt_op_gather_rows(h, m->lists_dev, n * k, d, m->send, m->stream);
    /* Sizes: to rank r, my rows for its experts; from rank s, its rows for mine. */
    size_t send_off[64], send_n[64], recv_off[64], recv_n[64], so = 0, ro = 0;
    for (uint32_t r = 0; r < ep; r++) {
        send_off[r] = so, recv_off[r] = ro;
        send_n[r] = start[(r + 1) * per] - start[r * per];
        recv_n[r] = 0;
        for (uint32_t j = 0; j < per; j++)
            recv_n[r] += (size_t)m->counts[(size_t)r * E + me * per + j];
        so += send_n[r], ro += recv_n[r];
        m->sent_rows[r] += send_n[r];
    }
    free(start);
    bad |= all_to_all(m, m->send, send_off, send_n, m->recv, recv_off, recv_n);
    /* My experts, each on its rows from every sender (rank s's block: its rows for my experts in
     * expert order). */
    size_t at = 0;
    for (uint32_t j = 0; j < per; j++)
        for (uint32_t s = 0; s < ep; s++) {
            size_t off = recv_off[s];
            for (uint32_t q = 0; q < j; q++)
                off += (size_t)m->counts[(size_t)s * E + me * per + q];
            for (int32_t c = 0; c < m->counts[(size_t)s * E + me * per + j]; c++)
                m->list[at++] = (int32_t)(off + (size_t)c);
        }
    bad |= upload(m, m->list, at, NULL, 0);
    size_t first = 0;
    for (uint32_t j = 0; j < per && !bad; j++) {
        uint32_t c = 0;
        for (uint32_t s = 0; s < ep; s++)
            c += (uint32_t)m->counts[(size_t)s * E + me * per + j];
        if (c) {
            pt_op_gather_rows(m->recv, m->lists_dev + first, c, d, m->xin, m->stream);
            bad |= expert_mlp(m, &m->experts[(size_t)layer * per + j], c);
            pt_op_scatter_rows(m->ret, m->yout, m->lists_dev + first, c, d, m->stream);
        }
        first += c;
    }
    bad |= all_to_all(m, m->ret, recv_off, recv_n, m->back, send_off, send_n);
    /* Combine: one pass per top-k slot, so that no token is written twice in a pass. */
    cudaMemsetAsync(out, 0, (size_t)n * d * 2, m->stream);
    for (uint32_t j = 0; j < k && n && !bad; j++) {
        for (uint32_t t = 0; t < n; t++) {
            m->list[t] = pos_of[t * k + j];
            m->list[n + t] = (int32_t)t;
            m->wlist[t] = m->w[t * k + j];
        }
        bad |= upload(m, m->list, 2 * (size_t)n, m->wlist, n);
        pt_op_scatter_add_rows(out, m->back, m->lists_dev, m->lists_dev + n, m->weights_dev, n, d, m->stream);
    }
    return bad;
}

int pt_moe_forward(struct pt_moe *m, uint32_t layer, const pt_bf16 *h, uint32_t n, pt_bf16 *out, char *err,
                   size_t errlen)
{
    uint32_t E = m->cfg.n_experts, k = m->k;
    if (n > m->max_tokens)
        return pt_engine_fail(err, errlen, "MoE step of %u tokens, over %u", n, m->max_tokens);
    int bad = 0;
    if (n) {
        bad |= pt_gemm(m->blas, h, m->router[layer], n, m->cfg.d_model, E, m->logits, 1);
        pt_op_topk_softmax(m->logits, m->bias, n, E, k, m->idx_dev, m->w_dev, m->stream);
        bad |= cudaMemcpyAsync(m->idx, m->idx_dev, (size_t)n * k * 4, cudaMemcpyDeviceToHost, m->stream) != cudaSuccess;
        bad |= cudaMemcpyAsync(m->w, m->w_dev, (size_t)n * k * 4, cudaMemcpyDeviceToHost, m->stream) != cudaSuccess;
        bad |= cudaStreamSynchronize(m->stream) != cudaSuccess;
    }
    if (!bad)
        bad = m->ep > 1 ? forward_ep(m, layer, h, n, out) : forward_local(m, layer, h, n, out);
    return bad ? pt_engine_fail(err, errlen, "the MoE layer %u failed (CUDA, cuBLAS or NCCL)", m->first_layer + layer) : 0;
}
