#include "format/nccl_ops.h"

static int busbw_kind(uint16_t op)
{
    switch (op) {
#define PT_X(name, val, fam, busbw, bytes) \
    case val:                              \
        return PT_BUSBW_##busbw;
        PT_NCCL_OPS(PT_X)
#undef PT_X
    }
    return PT_BUSBW_ONE;
}

double pt_busbw_factor(uint16_t op, int32_t n)
{
    if (n <= 1)
        return 1.0;
    switch (busbw_kind(op)) {
    case PT_BUSBW_ALLREDUCE:
        return 2.0 * (n - 1) / n;
    case PT_BUSBW_SPREAD:
        return (double)(n - 1) / n;
    }
    return 1.0;
}

uint64_t pt_total_bytes(uint16_t op, uint64_t call_bytes, int32_t n)
{
    return pt_op_in(PT_PER_RANK_OPS, op) ? call_bytes * (uint64_t)(n > 0 ? n : 1) : call_bytes;
}
