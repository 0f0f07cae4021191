/* Each NCCL op's facts, taken from the columns of PT_NCCL_OPS (include/partrace/format.h): its
 * family, and how nccl-tests size it and turn its algorithm bandwidth into bus bandwidth. The
 * recorder's hot path and the analyses ask here, never by an op's place in the list. */
#ifndef PT_FORMAT_NCCL_OPS_H
#define PT_FORMAT_NCCL_OPS_H

#include <stdint.h>

#include <partrace/format.h>

#define PT_X(name, val, fam, busbw, bytes) && (val) < 64
_Static_assert(1 PT_NCCL_OPS(PT_X), "the op masks are 64-bit: ops 64 and up need another word");
#undef PT_X
#define PT_COLLECTIVE_OPS_BIT(name, val, fam, busbw, bytes) | (PT_FAMILY_##fam == PT_FAMILY_COLL ? 1ull << (val) : 0)
#define PT_COLLECTIVE_OPS (0 PT_NCCL_OPS(PT_COLLECTIVE_OPS_BIT))
#define PT_P2P_OPS_BIT(name, val, fam, busbw, bytes) | (PT_FAMILY_##fam == PT_FAMILY_P2P ? 1ull << (val) : 0)
#define PT_P2P_OPS (0 PT_NCCL_OPS(PT_P2P_OPS_BIT))
#define PT_PER_RANK_OPS_BIT(name, val, fam, busbw, bytes) | (PT_OPBYTES_##bytes == PT_OPBYTES_PER_RANK ? 1ull << (val) : 0)
#define PT_PER_RANK_OPS (0 PT_NCCL_OPS(PT_PER_RANK_OPS_BIT))

static inline int pt_op_in(uint64_t mask, uint16_t op) { return op < 64 && (mask >> op & 1); }

/* A collective: one instance per (communicator, seq), on every rank of the communicator. */
static inline int pt_op_is_collective(uint16_t op) { return pt_op_in(PT_COLLECTIVE_OPS, op); }
/* A send or a receive: one instance per (communicator, pair, seq). */
static inline int pt_op_is_p2p(uint16_t op) { return pt_op_in(PT_P2P_OPS, op); }
/* Moves data between ranks (a collective or a send/receive): what launches a kernel of NCCL's. */
static inline int pt_op_moves_data(uint16_t op) { return pt_op_in(PT_COLLECTIVE_OPS | PT_P2P_OPS, op); }

/* nccl-tests' bus bandwidth over algorithm bandwidth for an op on n ranks (1 for n <= 1). */
double pt_busbw_factor(uint16_t op, int32_t n);

/* nccl-tests' size S of a call of call_bytes on n ranks: the whole buffer. */
uint64_t pt_total_bytes(uint16_t op, uint64_t call_bytes, int32_t n);

#endif
