/* The engine's GPU kernels, callable from C. Tensors are bf16 (pt_bf16), row-major, on the
 * device; every launcher takes the stream to run on and returns nothing (errors surface at
 * the engine's next CUDA check). */
#ifndef PT_OPS_H
#define PT_OPS_H

#include <stdint.h>

#include <cuda_runtime_api.h>

typedef uint16_t pt_bf16;

#ifdef __cplusplus
extern "C" {
#endif

/* Deterministic weights: element (row, col) of tensor `tensor_id` of the whole model is a hash
 * of (seed, tensor_id, row, col) scaled into [-scale, scale], plus `shift`. A rank fills its
 * shard (rows [row0, row0 + rows), cols [col0, col0 + cols) of the full tensor), so every
 * layout holds exactly the single-GPU model's numbers. */
void pt_op_init_weights(pt_bf16 *out, uint32_t rows, uint32_t cols, uint32_t row0, uint32_t col0,
                        uint64_t seed, uint64_t tensor_id, float scale, float shift, cudaStream_t st);
/* out[t] = table[tokens[t]] (rows of d). */
void pt_op_embed(const pt_bf16 *table, const int32_t *tokens, uint32_t n, uint32_t d, pt_bf16 *out,
                 cudaStream_t st);
/* out[t] = x[t] / rms(x[t]) * w, rows of d. */
void pt_op_rmsnorm(const pt_bf16 *x, const pt_bf16 *w, uint32_t n, uint32_t d, float eps, pt_bf16 *out,
                   cudaStream_t st);
/* Rotary position embedding (rotate-half) in place on the query and key heads of a fused
 * [n, (hq + 2 hkv) · hd] QKV row; values are left as they are. */
void pt_op_rope(pt_bf16 *qkv, const int32_t *pos, uint32_t n, uint32_t hq, uint32_t hkv, uint32_t hd,
                float theta, cudaStream_t st);
/* Writes the keys and values of n tokens from the QKV rows into the paged cache
 * ([blocks, block_tokens, hkv, hd] each) at slot[t] = block · block_tokens + offset. */
void pt_op_kv_store(const pt_bf16 *qkv, const int32_t *slot, uint32_t n, uint32_t hq, uint32_t hkv,
                    uint32_t hd, pt_bf16 *k_cache, pt_bf16 *v_cache, cudaStream_t st);
/* Causal attention of n query tokens over the paged cache: token t (position pos[t] of the
 * sequence whose block table starts at tables + table_at[t]) attends to positions 0..pos[t].
 * out: [n, hq · hd]. max_pos: the largest position + 1 (sizes shared memory). */
void pt_op_paged_attention(const pt_bf16 *qkv, const pt_bf16 *k_cache, const pt_bf16 *v_cache,
                           const int32_t *pos, const int32_t *table_at, const int32_t *tables,
                           uint32_t n, uint32_t hq, uint32_t hkv, uint32_t hd, uint32_t block_tokens,
                           uint32_t max_pos, pt_bf16 *out, cudaStream_t st);
/* out[t, i] = silu(gu[t, i]) · gu[t, f + i] for i < f (gu: [n, 2f], the gate then the up). */
void pt_op_silu_mul(const pt_bf16 *gu, uint32_t n, uint32_t f, pt_bf16 *out, cudaStream_t st);
/* x += y, n elements. */
void pt_op_add(pt_bf16 *x, const pt_bf16 *y, uint64_t n, cudaStream_t st);
/* out[r] = x[rows[r]] (rows of d). */
void pt_op_gather_rows(const pt_bf16 *x, const int32_t *rows, uint32_t n, uint32_t d, pt_bf16 *out,
                       cudaStream_t st);
/* out[r] = the index of the largest of logits[r, 0..vocab) (fp32), the lowest on ties. */
void pt_op_argmax(const float *logits, uint32_t n, uint32_t vocab, int32_t *out, cudaStream_t st);
/* MoE routing: for each of n tokens, the k largest of logits[t, 0..e) + bias (bias may be NULL),
 * their expert ids in idx[t, 0..k) (largest first, the lowest id on ties) and their softmax
 * over those k in w[t, 0..k). */
void pt_op_topk_softmax(const float *logits, const float *bias, uint32_t n, uint32_t e, uint32_t k, int32_t *idx,
                        float *w, cudaStream_t st);
/* out[dst[i]] += w[i] · src[src_rows[i]] for i < n (rows of d); src_rows NULL: row i. No two i may
 * share a dst row in one call. */
void pt_op_scatter_add_rows(pt_bf16 *out, const pt_bf16 *src, const int32_t *src_rows, const int32_t *dst,
                            const float *w, uint32_t n, uint32_t d, cudaStream_t st);
/* out[dst[i]] = src[i] for i < n (rows of d). */
void pt_op_scatter_rows(pt_bf16 *out, const pt_bf16 *src, const int32_t *dst, uint32_t n, uint32_t d,
                        cudaStream_t st);
/* Keeps one SM busy for `cycles` clock cycles (the straggler knob: a delay on the stream). */
void pt_op_spin(uint64_t cycles, cudaStream_t st);

#ifdef __cplusplus
}
#endif

#endif
