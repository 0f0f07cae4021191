/* What a reader must remember while walking one trace file to explain later records: interned
 * strings, which NCCL call each CUDA correlation id and each graph node belongs to. */
#ifndef PT_TRACE_CONTEXT_H
#define PT_TRACE_CONTEXT_H

#include <stdint.h>

#include <partrace/format.h>

#include "read/symbolize.h"
#include "util/u64_map.h"

/* One interned string: its text and, for a kernel name, its communication class (or NULL). */
struct pt_ctx_string {
    char *text;
    const char *comm_class;
    int nccl; /* comm_class is "nccl" */
};

struct pt_trace_ctx {
    /* Strings by id: the ids that come about in order (the writer's: 1, 2, 3, ...) in an
     * array; others (a damaged or foreign file) through a map into a second array, so that
     * a stray large id costs one entry, not an array up to it. */
    struct pt_ctx_string *dense;
    uint32_t n_dense, n_known;      /* slots, and those holding a string */
    struct pt_u64_map far_index;     /* id → index + 1 in far */
    struct pt_ctx_string *far;
    uint32_t n_far;
    struct pt_u64_map corr_to_call;  /* CUDA correlation id → NCCL call id */
    struct pt_u64_map node_to_call;  /* graph node created inside a NCCL call → call id */
    struct pt_u64_map clone_to_node; /* instantiated node → node it was cloned from */
    struct pt_symbolizer *symbols;   /* loaded objects, made at the first MODULE record */
};

/* The kinds a context learns from; the rest (most records: kernels, calls) are passed over
 * without a call. */
#define PT_CTX_LEARNS                                                                   \
    (1u << PT_REC_STRING | 1u << PT_REC_EXT_CORR | 1u << PT_REC_MODULE |                \
     1u << PT_REC_GRAPH_NODE)
void pt_trace_ctx_learn_record(struct pt_trace_ctx *c, const struct pt_rec_hdr *h);

/* Learns from a record (call for every record, in file order). */
static inline void pt_trace_ctx_learn(struct pt_trace_ctx *c, const struct pt_rec_hdr *h)
{
    if (h->kind < 32 && (PT_CTX_LEARNS >> h->kind & 1))
        pt_trace_ctx_learn_record(c, h);
}

/* Text of a string id, or "" when unknown. */
const char *pt_trace_ctx_string(const struct pt_trace_ctx *c, uint32_t id);

/* The communication class of the kernel named by a string id (kernel_class.h), or NULL;
 * decided once per name when the string is read. */
const char *pt_trace_ctx_comm_class(const struct pt_trace_ctx *c, uint32_t id);
/* The entry of a string id (its text and class), NULL when unknown: one lookup for a caller
 * that asks several things of one kernel's name. */
const struct pt_ctx_string *pt_trace_ctx_name(const struct pt_trace_ctx *c, uint32_t id);

uint64_t pt_trace_ctx_kernel_call_joined(const struct pt_trace_ctx *c,
                                         const struct pt_rec_kernel *k);

/* The NCCL call that launched a kernel: recorded by the writer, else through its correlation
 * id, else (graph replays) through its graph node and the node it was cloned from. 0: none.
 * Inline for the common case, a call the writer recorded. */
static inline uint64_t pt_trace_ctx_kernel_call(const struct pt_trace_ctx *c,
                                                const struct pt_rec_kernel *k)
{
    return k->nccl_call_id ? k->nccl_call_id : pt_trace_ctx_kernel_call_joined(c, k);
}

void pt_trace_ctx_free(struct pt_trace_ctx *c);

#endif
