/* The engine's one GEMM: y[n, out] = x[n, in] · W[out, in]ᵀ (row-major, weights as PyTorch
 * stores them), bf16 inputs, fp32 accumulation, bf16 or fp32 output, through cuBLAS. */
#ifndef PT_GEMM_H
#define PT_GEMM_H

#include <stdint.h>

#include <cublas_v2.h>

#include "ops.h"

/* Returns 0 (also for n = 0: nothing to do), -1 when cuBLAS fails. */
int pt_gemm(cublasHandle_t blas, const pt_bf16 *x, const pt_bf16 *w, uint32_t n, uint32_t in, uint32_t out, void *y,
            int fp32_out);

#endif
