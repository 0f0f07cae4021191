/* The profile `partrace whatif` predicts from (whatif_model.h), read from one run: the load
 * (each request's prompt, prefix-cache hits, output and arrival; closed loop or open), the first
 * replica's steps (NVTX ranges "prefill" and "decode" on its leader, with the kernels inside
 * them by class), each step's work found by replaying the load through the serving loop
 * (whatif_sched.h), and the step costs fitted to them (docs/WHATIF.md, "From the run"). */
#ifndef PT_WHATIF_PROFILE_H
#define PT_WHATIF_PROFILE_H

#include <stddef.h>

#include "analyses/compare.h"
#include "analyses/whatif_model.h"

/* Builds p from run, the model's shapes from config (a config.json path), and the run's own
 * figures as `compare` shows them into measured. Returns 0, 1 when the run cannot be read or
 * does not show what the model needs, 2 for a bad or missing config: one line in err. */
int pt_wi_profile_build(const char *run, const char *config, struct pt_wi_profile *p,
                        struct pt_compare_run *measured, char *err, size_t errlen);
void pt_wi_profile_free(struct pt_wi_profile *p);

#endif
