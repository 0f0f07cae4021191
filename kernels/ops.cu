// The engine's kernels (ops.h). Simple and exact rather than fast: one thread block per token
// (and head), fp32 arithmetic on bf16 data.
#include "ops.h"

#include <cuda_bf16.h>

namespace {

__device__ inline float ld(const pt_bf16 *p, size_t i)
{
    return __bfloat162float(reinterpret_cast<const __nv_bfloat16 *>(p)[i]);
}

__device__ inline void st(pt_bf16 *p, size_t i, float v)
{
    reinterpret_cast<__nv_bfloat16 *>(p)[i] = __float2bfloat16(v);
}

__device__ inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

__global__ void init_weights(pt_bf16 *out, uint32_t rows, uint32_t cols, uint32_t row0, uint32_t col0,
                             uint64_t seed, uint64_t tensor, float scale, float shift)
{
    uint64_t n = (uint64_t)rows * cols;
    for (uint64_t i = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; i < n; i += (uint64_t)gridDim.x * blockDim.x) {
        uint64_t r = row0 + i / cols, c = col0 + i % cols;
        uint64_t h = mix64(mix64(seed * 0x9e3779b97f4a7c15ull + tensor) ^ (r << 32 | c));
        float u = (float)(h >> 40) / 16777216.0f * 2.0f - 1.0f; /* [-1, 1) */
        st(out, i, u * scale + shift);
    }
}

__global__ void embed(const pt_bf16 *table, const int32_t *tokens, uint32_t d, pt_bf16 *out)
{
    const pt_bf16 *row = table + (size_t)tokens[blockIdx.x] * d;
    for (uint32_t i = threadIdx.x; i < d; i += blockDim.x)
        out[(size_t)blockIdx.x * d + i] = row[i];
}

// Sum of a float over the block (blockDim a multiple of 32, at most 1024).
__device__ float block_sum(float v)
{
    __shared__ float part[32];
    for (int o = 16; o; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    if ((threadIdx.x & 31) == 0)
        part[threadIdx.x >> 5] = v;
    __syncthreads();
    float total = 0;
    for (uint32_t w = 0; w < blockDim.x / 32; w++)
        total += part[w];
    __syncthreads();
    return total;
}

__device__ float block_max(float v)
{
    __shared__ float part[32];
    for (int o = 16; o; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    if ((threadIdx.x & 31) == 0)
        part[threadIdx.x >> 5] = v;
    __syncthreads();
    float m = part[0];
    for (uint32_t w = 1; w < blockDim.x / 32; w++)
        m = fmaxf(m, part[w]);
    __syncthreads();
    return m;
}

__global__ void rmsnorm(const pt_bf16 *x, const pt_bf16 *w, uint32_t d, float eps, pt_bf16 *out)
{
    size_t row = (size_t)blockIdx.x * d;
    float ss = 0;
    for (uint32_t i = threadIdx.x; i < d; i += blockDim.x) {
        float v = ld(x, row + i);
        ss += v * v;
    }
    float inv = rsqrtf(block_sum(ss) / d + eps);
    for (uint32_t i = threadIdx.x; i < d; i += blockDim.x)
        st(out, row + i, ld(x, row + i) * inv * ld(w, i));
}

__global__ void rope(pt_bf16 *qkv, const int32_t *pos, uint32_t hq, uint32_t hkv, uint32_t hd, float theta)
{
    uint32_t t = blockIdx.x, heads = hq + hkv, half = hd / 2;
    size_t row = (size_t)t * (hq + 2 * hkv) * hd;
    for (uint32_t j = threadIdx.x; j < heads * half; j += blockDim.x) {
        uint32_t h = j / half, i = j % half;
        float freq = powf(theta, -2.0f * i / hd), a = pos[t] * freq;
        float c = cosf(a), s = sinf(a);
        size_t at = row + (size_t)h * hd;
        float x1 = ld(qkv, at + i), x2 = ld(qkv, at + i + half);
        st(qkv, at + i, x1 * c - x2 * s);
        st(qkv, at + i + half, x2 * c + x1 * s);
    }
}

__global__ void kv_store(const pt_bf16 *qkv, const int32_t *slot, uint32_t hq, uint32_t hkv, uint32_t hd,
                         pt_bf16 *kc, pt_bf16 *vc)
{
    uint32_t t = blockIdx.x, w = hkv * hd;
    size_t row = (size_t)t * (hq + 2 * hkv) * hd, dst = (size_t)slot[t] * w;
    for (uint32_t i = threadIdx.x; i < w; i += blockDim.x) {
        kc[dst + i] = qkv[row + (size_t)hq * hd + i];
        vc[dst + i] = qkv[row + (size_t)(hq + hkv) * hd + i];
    }
}

// One block per (token, query head): scores of every earlier position in shared memory, a
// softmax, then each thread sums one output dimension over the positions.
__global__ void paged_attention(const pt_bf16 *qkv, const pt_bf16 *kc, const pt_bf16 *vc, const int32_t *pos,
                                const int32_t *table_at, const int32_t *tables, uint32_t hq, uint32_t hkv,
                                uint32_t hd, uint32_t bt, pt_bf16 *out)
{
    extern __shared__ float sh[];
    float *q = sh, *score = sh + hd;
    uint32_t t = blockIdx.x, h = blockIdx.y, kvh = h / (hq / hkv);
    int32_t p = pos[t];
    const int32_t *table = tables + table_at[t];
    size_t qrow = (size_t)t * (hq + 2 * hkv) * hd + (size_t)h * hd;
    for (uint32_t i = threadIdx.x; i < hd; i += blockDim.x)
        q[i] = ld(qkv, qrow + i);
    __syncthreads();
    float scale = rsqrtf((float)hd), m = -INFINITY;
    for (int32_t j = threadIdx.x; j <= p; j += blockDim.x) {
        size_t k = ((size_t)table[j / bt] * bt + j % bt) * hkv * hd + (size_t)kvh * hd;
        float s = 0;
        for (uint32_t i = 0; i < hd; i++)
            s += q[i] * ld(kc, k + i);
        score[j] = s * scale;
        m = fmaxf(m, score[j]);
    }
    m = block_max(m);
    float sum = 0;
    for (int32_t j = threadIdx.x; j <= p; j += blockDim.x) {
        score[j] = __expf(score[j] - m);
        sum += score[j];
    }
    sum = block_sum(sum); // also orders the score writes before the reads below
    for (uint32_t i = threadIdx.x; i < hd; i += blockDim.x) {
        float acc = 0;
        for (int32_t j = 0; j <= p; j++)
            acc += score[j] * ld(vc, ((size_t)table[j / bt] * bt + j % bt) * hkv * hd + (size_t)kvh * hd + i);
        st(out, (size_t)t * hq * hd + (size_t)h * hd + i, acc / sum);
    }
}

__global__ void silu_mul(const pt_bf16 *gu, uint32_t f, pt_bf16 *out)
{
    size_t row = (size_t)blockIdx.x * 2 * f;
    for (uint32_t i = threadIdx.x; i < f; i += blockDim.x) {
        float g = ld(gu, row + i), u = ld(gu, row + f + i);
        st(out, (size_t)blockIdx.x * f + i, g / (1.0f + __expf(-g)) * u);
    }
}

__global__ void add(pt_bf16 *x, const pt_bf16 *y, uint64_t n)
{
    for (uint64_t i = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; i < n; i += (uint64_t)gridDim.x * blockDim.x)
        st(x, i, ld(x, i) + ld(y, i));
}

__global__ void gather_rows(const pt_bf16 *x, const int32_t *rows, uint32_t d, pt_bf16 *out)
{
    for (uint32_t i = threadIdx.x; i < d; i += blockDim.x)
        out[(size_t)blockIdx.x * d + i] = x[(size_t)rows[blockIdx.x] * d + i];
}

__global__ void argmax(const float *logits, uint32_t vocab, int32_t *out)
{
    __shared__ float best_v[1024];
    __shared__ int32_t best_i[1024];
    const float *row = logits + (size_t)blockIdx.x * vocab;
    float v = -INFINITY;
    int32_t at = 0;
    for (uint32_t i = threadIdx.x; i < vocab; i += blockDim.x)
        if (row[i] > v)
            v = row[i], at = (int32_t)i;
    best_v[threadIdx.x] = v;
    best_i[threadIdx.x] = at;
    __syncthreads();
    for (uint32_t s = blockDim.x / 2; s; s >>= 1) {
        if (threadIdx.x < s) {
            float ov = best_v[threadIdx.x + s];
            int32_t oi = best_i[threadIdx.x + s];
            if (ov > best_v[threadIdx.x] || (ov == best_v[threadIdx.x] && oi < best_i[threadIdx.x]))
                best_v[threadIdx.x] = ov, best_i[threadIdx.x] = oi;
        }
        __syncthreads();
    }
    if (threadIdx.x == 0)
        out[blockIdx.x] = best_i[0];
}

__global__ void topk_softmax(const float *logits, const float *bias, uint32_t n, uint32_t e, uint32_t k,
                             int32_t *idx, float *w)
{
    uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n)
        return;
    const float *row = logits + (size_t)t * e;
    float best[16];
    int32_t at[16];
    for (uint32_t j = 0; j < k; j++) {
        float v = -INFINITY;
        int32_t a = -1;
        for (uint32_t x = 0; x < e; x++) {
            int taken = 0;
            for (uint32_t q = 0; q < j; q++)
                taken |= at[q] == (int32_t)x;
            float lx = row[x] + (bias ? bias[x] : 0.0f);
            if (!taken && (a < 0 || lx > v))
                v = lx, a = (int32_t)x;
        }
        best[j] = v, at[j] = a;
    }
    float sum = 0;
    for (uint32_t j = 0; j < k; j++)
        sum += __expf(best[j] - best[0]);
    for (uint32_t j = 0; j < k; j++) {
        idx[(size_t)t * k + j] = at[j];
        w[(size_t)t * k + j] = __expf(best[j] - best[0]) / sum;
    }
}

__global__ void scatter_add_rows(pt_bf16 *out, const pt_bf16 *src, const int32_t *src_rows, const int32_t *dst,
                                 const float *w, uint32_t d)
{
    uint32_t i = blockIdx.x;
    size_t from = (size_t)(src_rows ? src_rows[i] : (int32_t)i) * d, to = (size_t)dst[i] * d;
    for (uint32_t c = threadIdx.x; c < d; c += blockDim.x)
        st(out, to + c, ld(out, to + c) + w[i] * ld(src, from + c));
}

__global__ void scatter_rows(pt_bf16 *out, const pt_bf16 *src, const int32_t *dst, uint32_t d)
{
    for (uint32_t c = threadIdx.x; c < d; c += blockDim.x)
        out[(size_t)dst[blockIdx.x] * d + c] = src[(size_t)blockIdx.x * d + c];
}

__global__ void spin(uint64_t cycles)
{
    uint64_t start = clock64();
    while ((uint64_t)(clock64() - start) < cycles) {
    }
}

unsigned grid_for(uint64_t n) { return (unsigned)(n / 256 + 1 < 65535 ? n / 256 + 1 : 65535); }

} // namespace

extern "C" {

void pt_op_init_weights(pt_bf16 *out, uint32_t rows, uint32_t cols, uint32_t row0, uint32_t col0,
                        uint64_t seed, uint64_t tensor_id, float scale, float shift, cudaStream_t s)
{
    init_weights<<<grid_for((uint64_t)rows * cols), 256, 0, s>>>(out, rows, cols, row0, col0, seed, tensor_id, scale, shift);
}

void pt_op_embed(const pt_bf16 *table, const int32_t *tokens, uint32_t n, uint32_t d, pt_bf16 *out, cudaStream_t s)
{
    if (n)
        embed<<<n, 256, 0, s>>>(table, tokens, d, out);
}

void pt_op_rmsnorm(const pt_bf16 *x, const pt_bf16 *w, uint32_t n, uint32_t d, float eps, pt_bf16 *out, cudaStream_t s)
{
    if (n)
        rmsnorm<<<n, 256, 0, s>>>(x, w, d, eps, out);
}

void pt_op_rope(pt_bf16 *qkv, const int32_t *pos, uint32_t n, uint32_t hq, uint32_t hkv, uint32_t hd, float theta,
                cudaStream_t s)
{
    if (n)
        rope<<<n, 256, 0, s>>>(qkv, pos, hq, hkv, hd, theta);
}

void pt_op_kv_store(const pt_bf16 *qkv, const int32_t *slot, uint32_t n, uint32_t hq, uint32_t hkv, uint32_t hd,
                    pt_bf16 *k_cache, pt_bf16 *v_cache, cudaStream_t s)
{
    if (n)
        kv_store<<<n, 256, 0, s>>>(qkv, slot, hq, hkv, hd, k_cache, v_cache);
}

void pt_op_paged_attention(const pt_bf16 *qkv, const pt_bf16 *k_cache, const pt_bf16 *v_cache, const int32_t *pos,
                           const int32_t *table_at, const int32_t *tables, uint32_t n, uint32_t hq, uint32_t hkv,
                           uint32_t hd, uint32_t block_tokens, uint32_t max_pos, pt_bf16 *out, cudaStream_t s)
{
    if (!n)
        return;
    size_t shared = (hd + max_pos) * sizeof(float);
    paged_attention<<<dim3(n, hq), 128, shared, s>>>(qkv, k_cache, v_cache, pos, table_at, tables, hq, hkv, hd,
                                                     block_tokens, out);
}

void pt_op_silu_mul(const pt_bf16 *gu, uint32_t n, uint32_t f, pt_bf16 *out, cudaStream_t s)
{
    if (n)
        silu_mul<<<n, 256, 0, s>>>(gu, f, out);
}

void pt_op_add(pt_bf16 *x, const pt_bf16 *y, uint64_t n, cudaStream_t s)
{
    if (n)
        add<<<grid_for(n), 256, 0, s>>>(x, y, n);
}

void pt_op_gather_rows(const pt_bf16 *x, const int32_t *rows, uint32_t n, uint32_t d, pt_bf16 *out, cudaStream_t s)
{
    if (n)
        gather_rows<<<n, 256, 0, s>>>(x, rows, d, out);
}

void pt_op_argmax(const float *logits, uint32_t n, uint32_t vocab, int32_t *out, cudaStream_t s)
{
    if (n)
        argmax<<<n, 1024, 0, s>>>(logits, vocab, out);
}

void pt_op_topk_softmax(const float *logits, const float *bias, uint32_t n, uint32_t e, uint32_t k, int32_t *idx,
                        float *w, cudaStream_t s)
{
    if (n && k && k <= 16 && k <= e)
        topk_softmax<<<(n + 127) / 128, 128, 0, s>>>(logits, bias, n, e, k, idx, w);
}

void pt_op_scatter_add_rows(pt_bf16 *out, const pt_bf16 *src, const int32_t *src_rows, const int32_t *dst,
                            const float *w, uint32_t n, uint32_t d, cudaStream_t s)
{
    if (n)
        scatter_add_rows<<<n, 256, 0, s>>>(out, src, src_rows, dst, w, d);
}

void pt_op_scatter_rows(pt_bf16 *out, const pt_bf16 *src, const int32_t *dst, uint32_t n, uint32_t d, cudaStream_t s)
{
    if (n)
        scatter_rows<<<n, 256, 0, s>>>(out, src, dst, d);
}

void pt_op_spin(uint64_t cycles, cudaStream_t s)
{
    spin<<<1, 1, 0, s>>>(cycles);
}

} // extern "C"
