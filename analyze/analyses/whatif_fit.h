/* Least squares with coefficients that may not be negative, over at most PT_FIT_MAX features:
 * how `partrace whatif` turns a run's measured steps into a step's cost (docs/WHATIF.md, "Fitting
 * the steps"). Every subset of the features is solved by its normal equations and the best one
 * whose coefficients are all ≥ 0 is kept: exact for so few features, and easy to check by hand. */
#ifndef PT_WHATIF_FIT_H
#define PT_WHATIF_FIT_H

#include <stddef.h>

#define PT_FIT_MAX 3

/* Sums of the normal equations: one observation y over features x[0..n). */
struct pt_fit {
    int n;
    double xx[PT_FIT_MAX][PT_FIT_MAX], xy[PT_FIT_MAX], yy;
    size_t count;
};

void pt_fit_init(struct pt_fit *f, int n_features);
void pt_fit_add(struct pt_fit *f, const double *x, double y);
/* The coefficients c[0..n) ≥ 0 of least squared error (0 for a feature left out). Returns the
 * mean squared error. */
double pt_fit_solve(const struct pt_fit *f, double *c);

#endif
