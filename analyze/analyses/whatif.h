/* `partrace whatif`: from one measured run, the serving figures and time shares of other layouts
 * of the same model and load (docs/WHATIF.md). */
#ifndef PT_WHATIF_H
#define PT_WHATIF_H

#include <stddef.h>

#include "analyses/compare.h"
#include "analyses/whatif_model.h"

#define PT_WHATIF_MAX (PT_COMPARE_MAX_RUNS - 2) /* with the run and its own layout, one comparison */

struct pt_whatif {
    const char *run;
    int gpus;                            /* the layouts' GPU count */
    struct pt_wi_profile prof;
    struct pt_compare_run measured;      /* the run's own figures, as compare shows them */
    struct pt_wi_prediction own;         /* the run's own layout through the model: how well it gives the run back */
    struct pt_wi_prediction pred[PT_WHATIF_MAX];
    int n;
};

/* What every output says of the profile, worked out once: the load's means and the step costs
 * as one table (the classes, then the launch gaps and the host's part). */
#define PT_WHATIF_COSTS (PT_WI_CLASS_COUNT + 2)
struct pt_whatif_facts {
    double prompt_mean, output_mean, cached_pct, rows_matched_pct;
    const char *cost_label[PT_WHATIF_COSTS];
    const char *cost_key[PT_WHATIF_COSTS];  /* JSON */
    struct pt_wi_cost cost[PT_WHATIF_COSTS];
};
void pt_whatif_facts_of(const struct pt_whatif *w, struct pt_whatif_facts *f);

/* Parses "tp=4,pp=2" (any of tp, pp, dp, ep; the rest 1; dp, when not given, fills gpus). Returns
 * 0, or -1 with one line in err. */
int pt_whatif_parse_layout(const char *text, int gpus, struct pt_wi_layout *l, char *err, size_t errlen);

/* Profiles run and predicts the asked layouts (n_asked 0: every layout of gpus GPUs that fits the
 * model; gpus 0: the run's). Returns 0; 1 when the run does not serve; 2 for a bad config or
 * layout: one line in err. */
int pt_whatif_build(const char *run, const char *config, const struct pt_wi_layout *asked, int n_asked,
                    int gpus, uint32_t max_tokens, uint32_t max_seqs, struct pt_whatif *w, char *err,
                    size_t errlen);
void pt_whatif_free(struct pt_whatif *w);

/* Adds the predictions to a comparison as rows whose serving source is "whatif": the run's own
 * layout through the model first, then each asked layout; the measured run before them when
 * with_measured. At most PT_COMPARE_MAX_RUNS rows in all. */
void pt_whatif_rows(const struct pt_whatif *w, struct pt_compare *c, int with_measured);

#endif
