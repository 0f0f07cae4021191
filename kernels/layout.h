/* How the engine's ranks share the model: TP (each layer's heads and MLP width split, an
 * all-reduce after the attention output and the MLP down projection), PP (consecutive layers
 * per stage, activations sent stage to stage), DP (replicas, each with its own requests) and EP
 * (each MoE layer's experts split over the ranks of a stage, tokens dispatched and combined
 * by all-to-all). Ranks are numbered with TP innermost: rank = (dp · pp + stage) · tp + tp_index.
 * EP > 1 takes TP = 1 and EP = DP: attention runs data-parallel, the experts expert-parallel
 * (ranks of one stage step together). */
#ifndef PT_LAYOUT_H
#define PT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "model_config.h"

struct pt_layout {
    uint32_t tp, pp, dp, ep;
};

struct pt_coords {
    uint32_t rank, tp, stage, dp, ep;   /* ep: index in the stage's expert group */
    uint32_t first_layer, n_layers;     /* this stage's layers */
    uint32_t first_expert, n_experts;   /* experts this rank holds (all with ep = 1) */
};

/* Parses "tp=2,pp=2,dp=1,ep=1" (any subset, the others 1). Returns 0, or -1 with a message. */
int pt_layout_parse(const char *s, struct pt_layout *l, char *err, size_t errlen);
/* Whether the layout fits `world` ranks and the model. Returns 0, or -1 with a message. */
int pt_layout_check(const struct pt_layout *l, uint32_t world, const struct pt_model_config *m,
                    char *err, size_t errlen);
/* Where `rank` sits (the layout must have passed pt_layout_check). */
void pt_layout_coords(const struct pt_layout *l, const struct pt_model_config *m, uint32_t rank,
                      struct pt_coords *c);
uint32_t pt_layout_world(const struct pt_layout *l);

#endif
