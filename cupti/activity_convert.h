/* CUPTI activity records → partrace records. Runs on the writer thread only (the string table
 * and the correlation map are not shared), and calls no CUPTI function, so tests can feed it
 * records they build from cupti_activity.h's structs. */
#ifndef PT_ACTIVITY_CONVERT_H
#define PT_ACTIVITY_CONVERT_H

#include <cupti_activity.h>
#include <stddef.h>
#include <stdint.h>

#include <partrace/format.h>

#include "preload/gpu_hooks.h" /* pt_put_fn, the writer's sink */

#define PT_STRINGS_CAP 8192u      /* distinct names remembered; past it names are re-sent */
#define PT_CORR_CAP 65536u        /* correlation ids remembered (direct-mapped) */
#define PT_NODES_CAP 16384u       /* graph nodes remembered (direct-mapped) */
/* NCCL calls of non-blocking communicators awaiting a kernel. CUPTI hands kernel records back only
 * in whole buffers (one holds ~4,800 kernel records; several may come at once), so a kernel may
 * come that many calls after its call: the queue must hold them all, or kernels go untied and
 * later ones tie to wrong calls. */
#define PT_PENDING_CAP 32768u
#define PT_NONBLOCKING_CAP 256u   /* non-blocking communicators remembered */
#define PT_HELD_CAP 256u          /* untied NCCL kernels held back one pass for their calls */

struct pt_string_slot {
    uint64_t hash;
    uint32_t id, len;
    const char *text;             /* copy in the arena */
};

struct pt_convert {
    struct pt_string_slot *slots; /* PT_STRINGS_CAP */
    char *arena;
    size_t arena_used, arena_cap;
    uint32_t next_string_id;
    struct {
        uint32_t correlation_id;
        uint64_t nccl_call_id;
    } *corr;                      /* PT_CORR_CAP */
    struct {
        uint64_t node_id;
        uint64_t nccl_call_id;    /* captured nodes */
        uint64_t original_node_id; /* clones */
    } *nodes;                     /* PT_NODES_CAP */
    /* Non-blocking communicators launch from a NCCL thread, where no callback ties the kernel:
     * their calls wait here, in order, for an untied NCCL kernel of the same device and kind. */
    uint64_t nonblocking[PT_NONBLOCKING_CAP];
    uint32_t n_nonblocking;
    struct pt_pending_call {
        uint64_t call_id, group_id, t_enter_ns, stream; /* stream: cudaStream_t value */
        uint32_t device;
        uint8_t kind; /* PT_KERNEL_KIND_* of the kernel it launches */
        uint8_t done; /* its kernel came: skipped, and freed once it reaches the head */
        uint8_t dtype; /* element type class of the call (dtype_class), 0 unknown */
    } pending[PT_PENDING_CAP];
    uint32_t pending_head, pending_len;
    struct {
        uint64_t call_id, group_id;
    } group_ends[256];            /* GroupEnd call → its group, to retire a tied group */
    struct {
        uint64_t handle;
        uint32_t stream_id, known;
    } streams[1024];              /* cudaStream_t value → CUPTI stream id (direct-mapped) */
    /* A NCCL kernel can finish before its call's record reaches the rings (the record is written
     * when the call returns): one that found no call waits for the next pass, in order, since a
     * kernel left untied would make every later kernel of its kind take the call before its own. */
    struct {
        struct pt_rec_kernel rec;
        uint8_t kind, dtype;
    } held[PT_HELD_CAP];
    uint32_t n_held;
    int no_hold; /* the last pass: nothing is held back */
    /* NCCL nodes captured outside any call (on NCCL's own thread), bound to their calls one
     * writer pass later, once every thread's records up to them were learned. */
    struct {
        uint64_t node_id, ts, hint; /* hint: the call entered last when it was made */
        uint8_t kind, passes;
    } captured[64];
    uint32_t n_captured;
    uint64_t converted, skipped, matched_by_order;
    /* Name of a runtime (domain 1) or driver (domain 2) API callback id; NULL when unknown.
     * Set by the session (CUPTI knows the names); tests set their own. */
    const char *(*api_name)(int domain, uint32_t cbid);
};

struct pt_rec_stream;
/* Learns how CUPTI numbers a stream the application names. */
void pt_convert_stream(struct pt_convert *c, const struct pt_rec_stream *s);

struct pt_rec_comm_init;
struct pt_rec_nccl_call;
/* Learns communicators and NCCL calls from the rings (for non-blocking communicators). */
void pt_convert_comm(struct pt_convert *c, const struct pt_rec_comm_init *r);
void pt_convert_call(struct pt_convert *c, const struct pt_rec_nccl_call *r);

/* Retries the kernels held back at the last pass, now that more calls were learned, and puts them
 * (tied or not), in order. Call before converting a new pass's records. */
void pt_convert_release_held(struct pt_convert *c, pt_put_fn put, void *arg);

/* Maps its tables (no malloc). Returns 0 or -1. */
int pt_convert_init(struct pt_convert *c);
/* Forgets every string: a new trace file (fork child) must see them again. */
void pt_convert_reset_strings(struct pt_convert *c);

/* Converts one activity record, writing zero or more records through put (a STRING record
 * before the first kernel that uses a name). Returns 1 when converted, 0 for kinds not kept. */
int pt_convert_activity(struct pt_convert *c, const CUpti_Activity *a, pt_put_fn put, void *arg);

struct pt_rec_graph_node;
/* Learns a graph node record (captured inside a NCCL call, or a clone of one). A NCCL node
 * captured outside any call (on NCCL's own thread) carries in original_node_id the call entered
 * last (cleared here); pt_convert_graph_flush binds it at the end of a later writer pass. */
void pt_convert_graph_node(struct pt_convert *c, struct pt_rec_graph_node *g);
/* End of a writer pass (every ring drained): binds the captured nodes learned in the passes
 * before (a node whose hinted call is not learned yet waits up to 8 passes). final: all. */
void pt_convert_graph_flush(struct pt_convert *c, int final);

/* 1 + the kind of NCCL kernel a name says, or 0 when it is no NCCL kernel. */
uint8_t pt_nccl_kernel_kind(const char *name);

struct pt_rec_ext_corr;
/* Learns that a CUDA correlation id belongs to a NCCL call (from the launch callback). */
void pt_convert_correlation(struct pt_convert *c, const struct pt_rec_ext_corr *e);

/* Interns text (at most max_len bytes) and returns its id, sending a STRING record when the
 * text is new. Also used for NVTX domain names. */
uint32_t pt_convert_intern(struct pt_convert *c, const char *text, size_t max_len, pt_put_fn put,
                           void *arg);

#endif
