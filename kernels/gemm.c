#include "gemm.h"

int pt_gemm(cublasHandle_t blas, const pt_bf16 *x, const pt_bf16 *w, uint32_t n, uint32_t in, uint32_t out, void *y,
            int fp32_out)
{
    if (!n)
        return 0;
    /* cuBLAS is column-major: x row-major [n, in] is x [in, n] column-major, W [out, in]
     * row-major is Wᵀ; so y [out, n] column-major = op(W) · x with op = transpose. */
    const float one = 1.0f, zero = 0.0f;
    return cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)out, (int)n, (int)in, &one, w, CUDA_R_16BF, (int)in, x,
                        CUDA_R_16BF, (int)in, &zero, y, fp32_out ? CUDA_R_32F : CUDA_R_16BF, (int)out,
                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT) == CUBLAS_STATUS_SUCCESS ? 0 : -1;
}
