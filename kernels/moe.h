/* The MoE MLP of the engine's layers: a router (replicated) picks each token's top-k experts,
 * whose SwiGLU MLPs run on the tokens routed to them and are summed with the router's softmax
 * weights. Without EP every rank holds every expert (its TP shard of each: the caller
 * all-reduces the partial sums, as for a dense MLP). With EP the experts are split over the EP
 * group: token rows are dispatched to their experts' ranks and the results combined back, each
 * an all-to-all of uneven sizes (grouped ncclSend/ncclRecv, the sizes shared by an all-gather). */
#ifndef PT_MOE_H
#define PT_MOE_H

#include <stddef.h>
#include <stdint.h>

#include <cublas_v2.h>
#include <nccl.h>

#include "layout.h"
#include "model_config.h"
#include "ops.h"

struct pt_moe;

/* The MoE of this rank's layers. route_skew: added to expert 0's router logit (a hot expert).
 * *bytes grows by the GPU memory taken. NULL with a message when out of memory. */
struct pt_moe *pt_moe_new(const struct pt_model_config *cfg, const struct pt_layout *l, const struct pt_coords *at,
                          uint32_t max_tokens, float route_skew, cublasHandle_t blas, cudaStream_t stream,
                          ncclComm_t ep_comm, uint64_t *bytes, char *err, size_t errlen);
void pt_moe_free(struct pt_moe *moe);
/* out[n, d] = the MoE MLP of local layer `layer` on h[n, d]. With EP every rank of the group
 * calls it for every layer of every step, with n = 0 when it has no tokens. Returns 0, -1 with a
 * message. */
int pt_moe_forward(struct pt_moe *moe, uint32_t layer, const pt_bf16 *h, uint32_t n, pt_bf16 *out, char *err,
                   size_t errlen);
/* Token rows this rank sent to each EP rank's experts, summed over the run (ep entries). */
const uint64_t *pt_moe_sent_rows(const struct pt_moe *moe);

#endif
