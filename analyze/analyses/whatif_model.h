/* `partrace whatif`'s model (docs/WHATIF.md): what one step of the serving loop costs under a
 * layout, from a profile measured in one run. The profile holds the run's step costs fitted per
 * kernel class as fixed + per-token + per-attended-pair terms, normalised to one GPU; a layout
 * divides the classes that shard, adds the communication its groups move, drains the pipeline
 * for PP and splits the load over replicas for DP. */
#ifndef PT_WHATIF_MODEL_H
#define PT_WHATIF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "analyses/whatif_sched.h"
#include "read/hf_config.h"

/* Kernel classes by what a layout does to them: X(name, label). */
#define PT_WI_CLASSES(X)                                                       \
    X(GEMM,       "GEMM")       /* sharded by TP; experts' part by EP */       \
    X(ATTENTION,  "attention")  /* sharded by TP (heads) */                    \
    X(SHARDED,    "per-head")   /* RoPE, KV-cache stores, activations: by TP */ \
    X(REPLICATED, "replicated") /* norms, residual adds, sampling: on every rank */

enum pt_wi_class {
#define PT_X(name, label) PT_WI_##name,
    PT_WI_CLASSES(PT_X)
#undef PT_X
    PT_WI_CLASS_COUNT
};
extern const char *const pt_wi_class_labels[PT_WI_CLASS_COUNT];

/* The class of a compute kernel's name (communication kernels are not asked). */
enum pt_wi_class pt_wi_kernel_class(const char *name);

/* A cost in ns: fixed + per_token × tokens + per_pair × attended pairs + per_ctx × the longest
 * context (attention: one query's walk over its context bounds a step whose queries do not fill
 * the GPU; the pairs bound one whose queries do). */
struct pt_wi_cost {
    double fixed, per_token, per_pair, per_ctx;
};
double pt_wi_cost_at(const struct pt_wi_cost *c, double tokens, double pairs, double ctx);

/* A collective's time: latency + bytes × factor / busbw (factor: nccl-tests' bus bandwidth
 * factor of the op over n ranks). */
struct pt_wi_link {
    double latency_us, busbw_gbs;
};

struct pt_wi_profile {
    struct pt_model_shape shape;
    const char *shape_from;                 /* "config.json" path, or NULL */
    int tp_measured;                        /* the run's TP: its sharded costs × tp are one GPU's */
    int gpus_measured;
    struct pt_wi_cost cls[PT_WI_CLASS_COUNT]; /* one GPU's */
    struct pt_wi_cost gaps;                 /* GPU idle between a step's kernels (launches) */
    struct pt_wi_cost host;                 /* the step's time outside its kernels' span */
    struct pt_wi_link allreduce, p2p, alltoall;
    const char *links_from;                 /* "the run's collectives" or "the built-in table" */
    struct pt_wi_load load;
    struct pt_wi_sched_cfg sched;
    size_t steps_measured, steps_replayed, rows_matched;
    double fit_error_pct;                   /* replayed steps: RMS error of the fitted step times */
    double mem_peak_gib;                    /* per GPU in the run, NaN when not recorded */
    uint32_t micro_batches;                 /* PP: micro-batches per step, 0: as many as stages */
};

struct pt_wi_layout {
    int tp, pp, dp, ep;
};

/* Checks a layout against the model and the GPU count: TP divides the heads and KV heads, PP the
 * layers, EP the experts (and only with experts), tp·pp·dp = gpus with ep dividing dp·tp... Returns 0, or
 * -1 with one line in err. */
int pt_wi_layout_check(const struct pt_wi_layout *l, const struct pt_model_shape *s, int gpus,
                       char *err, size_t errlen);
/* "TP2×PP2", "DP4", "EP4", "1 GPU" */
void pt_wi_layout_label(const struct pt_wi_layout *l, char *out, size_t cap);

/* Shares of each GPU's time, as the report's categories. */
enum { PT_WI_SHARE_COMPUTE, PT_WI_SHARE_TP, PT_WI_SHARE_PP, PT_WI_SHARE_EP, PT_WI_SHARE_IDLE,
       PT_WI_SHARES };

struct pt_wi_prediction {
    struct pt_wi_layout l;
    char label[64];
    struct pt_wi_result res;
    double share_pct[PT_WI_SHARES];
    double mem_gib;           /* weights and KV cache per GPU (the run's buffers scaled) */
};

/* What one step of a replica costs under layout l (ns). */
double pt_wi_step_ns(const struct pt_wi_profile *p, const struct pt_wi_layout *l, const struct pt_wi_step *st);

/* Predicts the run's load under layout l. Returns 0, -1 when out of memory. */
int pt_wi_predict(const struct pt_wi_profile *p, const struct pt_wi_layout *l,
                  struct pt_wi_prediction *out);

#endif
