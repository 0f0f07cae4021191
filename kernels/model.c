#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "engine_error.h"
#include "gemm.h"
#include "custom_allreduce.h"
#include "moe.h"
#include "ops.h"

/* Tensor ids for the deterministic weights: one per tensor of the whole model. */
enum { W_ATTN_NORM, W_Q, W_K, W_V, W_O, W_MLP_NORM, W_GATE, W_UP, W_DOWN, W_KINDS };
#define W_EMBED 1000000u
#define W_FINAL_NORM 1000001u
#define W_LM_HEAD 1000002u
/* Decode buckets under CUDA graphs: 1, 2, 4, ... tokens, and last the smaller of max_seqs and
 * max_batch_tokens (bucket_of). */
#define GRAPH_BUCKETS 16
#define BLAS_WORKSPACE (32u << 20)

struct layer {
    pt_bf16 *attn_norm, *wqkv, *wo, *mlp_norm, *wgu, *wdown;
    pt_bf16 *k_cache, *v_cache;
};

struct pt_model {
    struct pt_model_config cfg;
    struct pt_coords at;
    struct pt_model_opts o;
    uint32_t tp, hq, hkv, hd, ff;      /* this rank's heads and MLP width */
    uint32_t pp;
    int first, last;                   /* the pipeline's first / last stage */
    ncclComm_t tp_comm, pp_comm;
    struct pt_moe *moe;                /* MoE layers: their MLPs; NULL for a dense model */
    int ep;
    cublasHandle_t blas;
    cudaStream_t stream;
    pt_bf16 *embed, *final_norm, *lm_head;
    struct layer *layers;
    /* Scratch for max_batch_tokens tokens. */
    pt_bf16 *x, *h, *qkv, *attn, *proj, *gu, *act, *picked;
    float *logits;
    int32_t *meta, *sampled;           /* the step's input (device), the sampled tokens */
    int32_t *host_meta;                /* pinned */
    size_t meta_cap;                   /* int32s */
    uint64_t bytes;
    /* CUDA graphs of decode steps (decode_graph), one per batch-size bucket, made at first use. */
    cudaGraphExec_t graphs[GRAPH_BUCKETS];
    int32_t *host_sampled;             /* pinned: where a graph leaves the sampled tokens */
    void *blas_workspace;              /* cuBLAS's, fixed: a captured GEMM keeps its pointer */
    struct pt_custom_ar *car;          /* --allreduce custom with TP; NULL: NCCL's */
    uint32_t dummy_slot;               /* the KV slot padded rows write: a block of their own */
};

static int cuda_ok(cudaError_t e, const char *what, char *err, size_t errlen)
{
    return e == cudaSuccess ? 0 : pt_engine_fail(err, errlen, "%s: %s", what, cudaGetErrorString(e));
}

static void *dev_alloc(struct pt_model *m, size_t bytes)
{
    void *p = NULL;
    if (cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess)
        return NULL;
    m->bytes += bytes;
    return p;
}

/* A weight of rows × cols elements: the part [row0.., col0..) of tensor id of the full model. */
static pt_bf16 *weight(struct pt_model *m, uint32_t rows, uint32_t cols, uint32_t row0, uint32_t col0,
                       uint64_t id, float scale, float shift)
{
    pt_bf16 *p = dev_alloc(m, (size_t)rows * cols * sizeof *p);
    if (p)
        pt_op_init_weights(p, rows, cols, row0, col0, m->cfg.seed, id, scale, shift, m->stream);
    return p;
}

static uint64_t tensor_id(uint32_t layer, int kind) { return (uint64_t)layer * W_KINDS + kind; }

/* Fused QKV rows of this rank: its query heads, then its key heads, then its value heads,
 * each filled from its own tensor. */
static pt_bf16 *qkv_weight(struct pt_model *m, uint32_t layer)
{
    uint32_t d = m->cfg.d_model, hd = m->hd;
    size_t q_rows = (size_t)m->hq * hd, kv_rows = (size_t)m->hkv * hd;
    pt_bf16 *p = dev_alloc(m, (q_rows + 2 * kv_rows) * d * sizeof *p);
    if (!p)
        return NULL;
    float scale = 1.0f / sqrtf((float)d);
    pt_op_init_weights(p, (uint32_t)q_rows, d, m->at.tp * (uint32_t)q_rows, 0, m->cfg.seed, tensor_id(layer, W_Q), scale, 0, m->stream);
    pt_op_init_weights(p + q_rows * d, (uint32_t)kv_rows, d, m->at.tp * (uint32_t)kv_rows, 0, m->cfg.seed,
                       tensor_id(layer, W_K), scale, 0, m->stream);
    pt_op_init_weights(p + (q_rows + kv_rows) * d, (uint32_t)kv_rows, d, m->at.tp * (uint32_t)kv_rows, 0,
                       m->cfg.seed, tensor_id(layer, W_V), scale, 0, m->stream);
    return p;
}

/* Gate then up rows of this rank's MLP width. */
static pt_bf16 *gate_up_weight(struct pt_model *m, uint32_t layer)
{
    uint32_t d = m->cfg.d_model, f = m->ff;
    pt_bf16 *p = dev_alloc(m, (size_t)2 * f * d * sizeof *p);
    if (!p)
        return NULL;
    float scale = 1.0f / sqrtf((float)d);
    pt_op_init_weights(p, f, d, m->at.tp * f, 0, m->cfg.seed, tensor_id(layer, W_GATE), scale, 0, m->stream);
    pt_op_init_weights(p + (size_t)f * d, f, d, m->at.tp * f, 0, m->cfg.seed, tensor_id(layer, W_UP), scale, 0, m->stream);
    return p;
}

struct pt_model *pt_model_new(const struct pt_model_config *cfg, const struct pt_layout *layout,
                              const struct pt_coords *at, const struct pt_model_opts *o,
                              ncclComm_t tp_comm, ncclComm_t pp_comm, ncclComm_t ep_comm, char *err, size_t errlen)
{
    struct pt_model *m = calloc(1, sizeof *m);
    if (!m) {
        pt_engine_fail(err, errlen, "out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    m->at = *at;
    m->o = *o;
    m->tp = layout->tp;
    m->hq = cfg->n_heads / layout->tp;
    m->hkv = cfg->n_kv_heads / layout->tp;
    m->hd = cfg->head_dim;
    m->ff = cfg->d_ff / layout->tp;
    m->tp_comm = tp_comm;
    m->pp_comm = pp_comm;
    m->pp = layout->pp;
    m->first = at->stage == 0;
    m->last = at->stage + 1 == layout->pp;
    m->ep = layout->ep > 1;
    if (cuda_ok(cudaStreamCreateWithFlags(&m->stream, cudaStreamNonBlocking), "cudaStreamCreate", err, errlen) ||
        (cublasCreate(&m->blas) != CUBLAS_STATUS_SUCCESS && pt_engine_fail(err, errlen, "cublasCreate failed")) ||
        (cublasSetStream(m->blas, m->stream) != CUBLAS_STATUS_SUCCESS && pt_engine_fail(err, errlen, "cublasSetStream failed"))) {
        pt_model_free(m);
        return NULL;
    }
    uint32_t d = cfg->d_model, T = o->max_batch_tokens, qkv_w = (m->hq + 2 * m->hkv) * m->hd;
    if (m->first)
        m->embed = weight(m, cfg->vocab, d, 0, 0, W_EMBED, 1.0f, 0);
    if (m->last) {
        m->final_norm = weight(m, 1, d, 0, 0, W_FINAL_NORM, 0.1f, 1.0f);
        m->lm_head = weight(m, cfg->vocab, d, 0, 0, W_LM_HEAD, 1.0f / sqrtf((float)d), 0);
    }
    m->layers = calloc(at->n_layers, sizeof *m->layers);
    int ok = (!m->first || m->embed) && (!m->last || (m->final_norm && m->lm_head)) && m->layers;
    /* One block more than the scheduler's: the padded rows of a graphed decode step write there. */
    size_t cache = (size_t)(o->kv_blocks + 1) * o->block_tokens * m->hkv * m->hd;
    m->dummy_slot = o->kv_blocks * o->block_tokens;
    for (uint32_t i = 0; ok && i < at->n_layers; i++) {
        uint32_t l = at->first_layer + i;
        struct layer *L = &m->layers[i];
        L->attn_norm = weight(m, 1, d, 0, 0, tensor_id(l, W_ATTN_NORM), 0.1f, 1.0f);
        L->wqkv = qkv_weight(m, l);
        L->wo = weight(m, d, m->hq * m->hd, 0, at->tp * m->hq * m->hd, tensor_id(l, W_O),
                       1.0f / sqrtf((float)(cfg->n_heads * cfg->head_dim)), 0);
        L->mlp_norm = weight(m, 1, d, 0, 0, tensor_id(l, W_MLP_NORM), 0.1f, 1.0f);
        if (!cfg->n_experts) {
            L->wgu = gate_up_weight(m, l);
            L->wdown = weight(m, d, m->ff, 0, at->tp * m->ff, tensor_id(l, W_DOWN), 1.0f / sqrtf((float)cfg->d_ff), 0);
        }
        L->k_cache = dev_alloc(m, cache * sizeof(pt_bf16));
        L->v_cache = dev_alloc(m, cache * sizeof(pt_bf16));
        ok = L->attn_norm && L->wqkv && L->wo && L->mlp_norm && (cfg->n_experts || (L->wgu && L->wdown)) &&
             L->k_cache && L->v_cache;
    }
    if (ok && cfg->n_experts &&
        !(m->moe = pt_moe_new(cfg, layout, at, T, o->route_skew, m->blas, m->stream, ep_comm, &m->bytes, err, errlen))) {
        pt_model_free(m);
        return NULL;
    }
    m->x = dev_alloc(m, (size_t)T * d * 2);
    m->h = dev_alloc(m, (size_t)T * d * 2);
    m->qkv = dev_alloc(m, (size_t)T * qkv_w * 2);
    m->attn = dev_alloc(m, (size_t)T * m->hq * m->hd * 2);
    m->proj = dev_alloc(m, (size_t)T * d * 2);
    m->gu = dev_alloc(m, (size_t)T * 2 * m->ff * 2);
    m->act = dev_alloc(m, (size_t)T * m->ff * 2);
    m->picked = dev_alloc(m, (size_t)o->max_seqs * d * 2);
    m->logits = dev_alloc(m, (size_t)o->max_seqs * cfg->vocab * sizeof(float));
    m->sampled = dev_alloc(m, (size_t)o->max_seqs * sizeof(int32_t));
    /* Step input: 4 ints per token, the block tables, the sample rows. */
    m->meta_cap = (size_t)4 * T + (size_t)o->max_seqs * (o->max_pos / o->block_tokens + 1) + o->max_seqs;
    m->meta = dev_alloc(m, m->meta_cap * sizeof(int32_t));
    if (cudaMallocHost((void **)&m->host_meta, m->meta_cap * sizeof(int32_t)) != cudaSuccess)
        m->host_meta = NULL;
    /* The custom all-reduce up to 8 MiB a call (vLLM's limit), NCCL above. */
    size_t car_elems = (size_t)T * d < (4u << 20) ? (size_t)T * d : (4u << 20);
    if (ok && o->custom_allreduce && layout->tp > 1 &&
        !(m->car = pt_custom_ar_new(tp_comm, (int)at->tp, (int)layout->tp, car_elems, m->stream, err, errlen))) {
        pt_model_free(m);
        return NULL;
    }
    if (cudaMallocHost((void **)&m->host_sampled, o->max_seqs * sizeof(int32_t)) != cudaSuccess)
        m->host_sampled = NULL;
    if (o->cuda_graphs && (m->blas_workspace = dev_alloc(m, BLAS_WORKSPACE)) &&
        cublasSetWorkspace(m->blas, m->blas_workspace, BLAS_WORKSPACE) != CUBLAS_STATUS_SUCCESS)
        ok = 0;
    ok = ok && m->x && m->h && m->qkv && m->attn && m->proj && m->gu && m->act && m->picked && m->logits &&
         m->sampled && m->meta && m->host_meta && m->host_sampled && (!o->cuda_graphs || m->blas_workspace);
    if (!ok || cuda_ok(cudaStreamSynchronize(m->stream), "initialising the weights", err, errlen)) {
        if (!ok)
            pt_engine_fail(err, errlen, "out of GPU memory for model %s (%.1f GiB so far)", cfg->name, m->bytes / 1073741824.0);
        pt_model_free(m);
        return NULL;
    }
    return m;
}

void pt_model_free(struct pt_model *m)
{
    if (!m)
        return;
    for (int b = 0; b < GRAPH_BUCKETS; b++)
        if (m->graphs[b])
            cudaGraphExecDestroy(m->graphs[b]);
    void *all[] = {m->embed, m->final_norm, m->lm_head, m->x, m->h, m->qkv, m->attn, m->proj, m->gu,
                   m->act, m->picked, m->logits, m->sampled, m->meta, m->blas_workspace};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        cudaFree(all[i]);
    for (uint32_t i = 0; m->layers && i < m->at.n_layers; i++) {
        struct layer *L = &m->layers[i];
        void *w[] = {L->attn_norm, L->wqkv, L->wo, L->mlp_norm, L->wgu, L->wdown, L->k_cache, L->v_cache};
        for (size_t k = 0; k < sizeof w / sizeof *w; k++)
            cudaFree(w[k]);
    }
    free(m->layers);
    pt_moe_free(m->moe);
    pt_custom_ar_free(m->car);
    cudaFreeHost(m->host_meta);
    cudaFreeHost(m->host_sampled);
    if (m->blas)
        cublasDestroy(m->blas);
    if (m->stream)
        cudaStreamDestroy(m->stream);
    free(m);
}

uint64_t pt_model_bytes(const struct pt_model *m) { return m->bytes; }

static int linear(struct pt_model *m, const pt_bf16 *x, const pt_bf16 *w, uint32_t n, uint32_t in, uint32_t out,
                  void *y, int fp32_out)
{
    return pt_gemm(m->blas, x, w, n, in, out, y, fp32_out);
}

/* Sums a TP partial result over the rank's TP group, after the straggler's delay: with the
 * custom all-reduce when it takes the size, else NCCL. */
static int tp_reduce(struct pt_model *m, pt_bf16 *p, uint32_t n)
{
    if (m->tp == 1)
        return 0;
    if (m->o.straggle_cycles)
        pt_op_spin(m->o.straggle_cycles, m->stream);
    if (m->car && pt_custom_ar_reduce(m->car, p, (size_t)n * m->cfg.d_model, m->stream) == 0)
        return 0;
    return ncclAllReduce(p, p, (size_t)n * m->cfg.d_model, ncclBfloat16, ncclSum, m->tp_comm, m->stream) == ncclSuccess ? 0 : -1;
}

/* The layers of this stage on tokens [t0, t1) of the step, whose hidden states are x + t0·d. */
static int run_layers(struct pt_model *m, uint32_t max_pos, uint32_t t0, uint32_t t1,
                      const int32_t *pos, const int32_t *slot, const int32_t *table_at, const int32_t *tables,
                      char *err, size_t errlen)
{
    uint32_t n = t1 - t0, d = m->cfg.d_model, hd = m->hd, qkv_w = (m->hq + 2 * m->hkv) * hd;
    pt_bf16 *x = m->x + (size_t)t0 * d;
    pos += t0, slot += t0, table_at += t0;
    int bad = 0;
    for (uint32_t i = 0; i < m->at.n_layers && !bad; i++) {
        struct layer *L = &m->layers[i];
        pt_op_rmsnorm(x, L->attn_norm, n, d, m->cfg.norm_eps, m->h, m->stream);
        bad |= linear(m, m->h, L->wqkv, n, d, qkv_w, m->qkv, 0);
        pt_op_rope(m->qkv, pos, n, m->hq, m->hkv, hd, m->cfg.rope_theta, m->stream);
        pt_op_kv_store(m->qkv, slot, n, m->hq, m->hkv, hd, L->k_cache, L->v_cache, m->stream);
        pt_op_paged_attention(m->qkv, L->k_cache, L->v_cache, pos, table_at, tables, n, m->hq, m->hkv, hd,
                              m->o.block_tokens, max_pos, m->attn, m->stream);
        bad |= linear(m, m->attn, L->wo, n, m->hq * hd, d, m->proj, 0);
        bad |= tp_reduce(m, m->proj, n);
        pt_op_add(x, m->proj, (uint64_t)n * d, m->stream);
        pt_op_rmsnorm(x, L->mlp_norm, n, d, m->cfg.norm_eps, m->h, m->stream);
        if (m->moe) {
            if (pt_moe_forward(m->moe, i, m->h, n, m->proj, err, errlen))
                return -1;
        } else {
            bad |= linear(m, m->h, L->wgu, n, d, 2 * m->ff, m->gu, 0);
            pt_op_silu_mul(m->gu, n, m->ff, m->act, m->stream);
            bad |= linear(m, m->act, L->wdown, n, m->ff, d, m->proj, 0);
        }
        bad |= tp_reduce(m, m->proj, n);
        pt_op_add(x, m->proj, (uint64_t)n * d, m->stream);
    }
    return bad ? pt_engine_fail(err, errlen, "a cuBLAS or NCCL call failed in the forward pass") : 0;
}

/* The greedy next token of the s rows `rows` of the step's n hidden states, into host memory
 * `to` (pinned when the step is captured). */
static int sample(struct pt_model *m, uint32_t n, const int32_t *rows, uint32_t s, int32_t *to, char *err,
                  size_t errlen)
{
    uint32_t d = m->cfg.d_model;
    pt_op_rmsnorm(m->x, m->final_norm, n, d, m->cfg.norm_eps, m->h, m->stream);
    pt_op_gather_rows(m->h, rows, s, d, m->picked, m->stream);
    if (linear(m, m->picked, m->lm_head, s, d, m->cfg.vocab, m->logits, 1))
        return pt_engine_fail(err, errlen, "the LM head's cuBLAS call failed");
    pt_op_argmax(m->logits, s, m->cfg.vocab, m->sampled, m->stream);
    return cuda_ok(cudaMemcpyAsync(to, m->sampled, s * 4, cudaMemcpyDeviceToHost, m->stream), "copying tokens", err, errlen);
}

/* A decode step of B tokens (padded), all of its input in host_meta at fixed places: what a
 * bucket's graph holds. tcap: the room for block tables. */
static int decode_work(struct pt_model *m, uint32_t B, uint32_t tcap, char *err, size_t errlen)
{
    size_t need = (size_t)5 * B + tcap;
    if (cuda_ok(cudaMemcpyAsync(m->meta, m->host_meta, need * 4, cudaMemcpyHostToDevice, m->stream), "copying the step",
                err, errlen))
        return -1;
    const int32_t *tok = m->meta, *pos = m->meta + B, *slot = m->meta + 2 * B, *table_at = m->meta + 3 * B;
    const int32_t *tables = m->meta + 4 * B, *rows = tables + tcap;
    pt_op_embed(m->embed, tok, B, m->cfg.d_model, m->x, m->stream);
    /* The attention's scratch for the longest context any step may have: the graph keeps it. */
    if (run_layers(m, m->o.max_pos, 0, B, pos, slot, table_at, tables, err, errlen))
        return -1;
    return sample(m, B, rows, B, m->host_sampled, err, errlen);
}

/* The bucket of a decode step of n tokens: the smallest of 1, 2, 4, ... (and max_seqs) that holds
 * it; -1 when graphs do not run it. */
static int bucket_of(const struct pt_model *m, uint32_t n, uint32_t *size)
{
    uint32_t cap = m->o.max_seqs < m->o.max_batch_tokens ? m->o.max_seqs : m->o.max_batch_tokens;
    for (int b = 0; b < GRAPH_BUCKETS; b++) {
        uint32_t B = 1u << b < cap ? 1u << b : cap;
        if (n <= B) {
            *size = B;
            return b;
        }
        if (B == cap)
            break;
    }
    return -1;
}

/* A decode step through its bucket's CUDA graph, captured the first time (vLLM's way): the
 * input padded to the bucket's size at fixed places in the pinned buffer the graph copies
 * from, padded rows at position 0 of the first sequence's table, writing their KV to a block of
 * their own. Returns 1 when the step is not one graphs run (the caller runs it eagerly). */
static int decode_graph(struct pt_model *m, const struct pt_step_input *in, int32_t *sampled, char *err,
                        size_t errlen)
{
    uint32_t n = in->n_tokens, B;
    int b = bucket_of(m, n, &B);
    uint32_t tcap = B * (m->o.max_pos / m->o.block_tokens + 1);
    if (b < 0 || in->n_tables > tcap || (size_t)5 * B + tcap > m->meta_cap)
        return 1;
    int32_t *h = m->host_meta, *tables = h + 4 * B, *rows = tables + tcap;
    for (uint32_t i = 0; i < B; i++) {
        int real = i < n;
        h[i] = real ? in->tokens[i] : 0;
        h[B + i] = real ? in->pos[i] : 0;
        h[2 * B + i] = real ? in->slot[i] : (int32_t)m->dummy_slot;
        h[3 * B + i] = real ? in->table_at[i] : 0;
        rows[i] = real ? in->sample_rows[i] : (int32_t)i;
    }
    memcpy(tables, in->tables, in->n_tables * 4);
    if (!m->graphs[b]) {
        cudaGraph_t g = NULL;
        if (cuda_ok(cudaStreamBeginCapture(m->stream, cudaStreamCaptureModeThreadLocal), "capturing a decode step", err,
                    errlen))
            return -1;
        int bad = decode_work(m, B, tcap, err, errlen);
        cudaError_t e = cudaStreamEndCapture(m->stream, &g);
        if (!bad && !cuda_ok(e, "capturing a decode step", err, errlen))
            bad = cuda_ok(cudaGraphInstantiate(&m->graphs[b], g, 0), "instantiating a decode graph", err, errlen);
        if (g)
            cudaGraphDestroy(g);
        if (bad || e != cudaSuccess)
            return -1;
    }
    if (cuda_ok(cudaGraphLaunch(m->graphs[b], m->stream), "replaying a decode graph", err, errlen) ||
        cuda_ok(cudaStreamSynchronize(m->stream), "the step", err, errlen))
        return -1;
    memcpy(sampled, m->host_sampled, n * 4);
    return 0;
}

int pt_model_step(struct pt_model *m, const struct pt_step_input *in, int32_t *sampled, float *logits,
                  char *err, size_t errlen)
{
    uint32_t n = in->n_tokens, d = m->cfg.d_model;
    if (!n && !m->ep) /* with EP a step of no tokens still serves the experts */
        return 0;
    /* Decode (every token sampled) under graphs: one stage, no MoE (its routing is planned on the
     * host between kernels), no logits asked for. */
    if (m->o.cuda_graphs && m->pp == 1 && !m->moe && !logits && n && in->n_samples == n && n <= m->o.max_batch_tokens) {
        int r = decode_graph(m, in, sampled, err, errlen);
        if (r <= 0)
            return r;
    }
    size_t need = (size_t)4 * n + in->n_tables + in->n_samples;
    if (n > m->o.max_batch_tokens || in->n_samples > m->o.max_seqs || need > m->meta_cap)
        return pt_engine_fail(err, errlen, "step of %u tokens, %u samples, %u table entries is over the engine's limits",
                    n, in->n_samples, in->n_tables);
    int32_t *h = m->host_meta;
    memcpy(h, in->tokens, n * 4);
    memcpy(h + n, in->pos, n * 4);
    memcpy(h + 2 * n, in->slot, n * 4);
    memcpy(h + 3 * n, in->table_at, n * 4);
    memcpy(h + 4 * n, in->tables, in->n_tables * 4);
    memcpy(h + 4 * n + in->n_tables, in->sample_rows, in->n_samples * 4);
    if (cuda_ok(cudaMemcpyAsync(m->meta, h, need * 4, cudaMemcpyHostToDevice, m->stream), "copying the step", err, errlen))
        return -1;
    const int32_t *tok = m->meta, *pos = m->meta + n, *slot = m->meta + 2 * n, *table_at = m->meta + 3 * n;
    const int32_t *tables = m->meta + 4 * n, *rows = tables + in->n_tables;
    /* Micro-batches: each through this stage, from the previous stage and on to the next. */
    uint32_t micro = m->pp > 1 && in->n_micro > 1 ? (in->n_micro < n ? in->n_micro : n) : 1;
    int bad = 0;
    uint32_t prev = m->at.stage - 1, next = m->at.stage + 1;
    for (uint32_t k = 0; k < micro && !bad; k++) {
        uint32_t t0 = (uint32_t)((uint64_t)n * k / micro), t1 = (uint32_t)((uint64_t)n * (k + 1) / micro);
        size_t count = (size_t)(t1 - t0) * d;
        if (m->first)
            pt_op_embed(m->embed, tok + t0, t1 - t0, d, m->x + (size_t)t0 * d, m->stream);
        else
            bad |= ncclRecv(m->x + (size_t)t0 * d, count, ncclBfloat16, (int)prev, m->pp_comm, m->stream) != ncclSuccess;
        uint32_t max_pos = 0; /* the attention's scratch: the longest context of the slice */
        for (uint32_t i = t0; i < t1; i++)
            max_pos = (uint32_t)in->pos[i] + 1 > max_pos ? (uint32_t)in->pos[i] + 1 : max_pos;
        if (run_layers(m, max_pos, t0, t1, pos, slot, table_at, tables, err, errlen))
            return -1;
        if (!m->last)
            bad |= ncclSend(m->x + (size_t)t0 * d, count, ncclBfloat16, (int)next, m->pp_comm, m->stream) != ncclSuccess;
    }
    if (bad)
        return pt_engine_fail(err, errlen, "a cuBLAS or NCCL call failed in the forward pass");
    uint32_t s = in->n_samples;
    if (m->last && s) {
        if (sample(m, n, rows, s, sampled, err, errlen))
            return -1;
        if (logits && cuda_ok(cudaMemcpyAsync(logits, m->logits, (size_t)s * m->cfg.vocab * 4, cudaMemcpyDeviceToHost,
                                               m->stream), "copying logits", err, errlen))
            return -1;
    }
    return cuda_ok(cudaStreamSynchronize(m->stream), "the step", err, errlen);
}

const uint64_t *pt_model_ep_sent_rows(const struct pt_model *m) { return m->moe && m->ep ? pt_moe_sent_rows(m->moe) : NULL; }

int pt_model_send_tokens(struct pt_model *m, const int32_t *tokens, uint32_t n, uint32_t to, char *err, size_t errlen)
{
    if (!n)
        return 0;
    if (cuda_ok(cudaMemcpyAsync(m->sampled, tokens, n * 4, cudaMemcpyHostToDevice, m->stream), "copying tokens", err, errlen))
        return -1;
    if (ncclSend(m->sampled, n, ncclInt32, (int)to, m->pp_comm, m->stream) != ncclSuccess)
        return pt_engine_fail(err, errlen, "sending the sampled tokens to stage %u failed", to);
    return cuda_ok(cudaStreamSynchronize(m->stream), "sending tokens", err, errlen);
}

int pt_model_recv_tokens(struct pt_model *m, int32_t *tokens, uint32_t n, uint32_t from, char *err, size_t errlen)
{
    if (!n)
        return 0;
    if (ncclRecv(m->sampled, n, ncclInt32, (int)from, m->pp_comm, m->stream) != ncclSuccess)
        return pt_engine_fail(err, errlen, "receiving the sampled tokens from stage %u failed", from);
    if (cuda_ok(cudaMemcpyAsync(tokens, m->sampled, n * 4, cudaMemcpyDeviceToHost, m->stream), "copying tokens", err, errlen))
        return -1;
    return cuda_ok(cudaStreamSynchronize(m->stream), "receiving tokens", err, errlen);
}
