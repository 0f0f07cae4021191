/* Non-negative least squares by subsets (whatif_fit.h). */
#include "analyses/whatif_fit.h"

#include <math.h>
#include <string.h>

void pt_fit_init(struct pt_fit *f, int n_features)
{
    memset(f, 0, sizeof *f);
    f->n = n_features;
}

void pt_fit_add(struct pt_fit *f, const double *x, double y)
{
    for (int i = 0; i < f->n; i++) {
        for (int j = 0; j < f->n; j++)
            f->xx[i][j] += x[i] * x[j];
        f->xy[i] += x[i] * y;
    }
    f->yy += y * y;
    f->count++;
}

/* Solves a[k][k] c = b by Gaussian elimination with partial pivoting; -1 when singular. */
static int solve(int k, double a[PT_FIT_MAX][PT_FIT_MAX + 1], double *c)
{
    for (int col = 0; col < k; col++) {
        int p = col;
        for (int r = col + 1; r < k; r++)
            if (fabs(a[r][col]) > fabs(a[p][col]))
                p = r;
        if (fabs(a[p][col]) < 1e-12 * (1.0 + fabs(a[col][col])))
            return -1;
        for (int j = 0; j <= k; j++) {
            double t = a[col][j];
            a[col][j] = a[p][j];
            a[p][j] = t;
        }
        for (int r = 0; r < k; r++)
            if (r != col) {
                double m = a[r][col] / a[col][col];
                for (int j = col; j <= k; j++)
                    a[r][j] -= m * a[col][j];
            }
    }
    for (int i = 0; i < k; i++)
        c[i] = a[i][k] / a[i][i];
    return 0;
}

double pt_fit_solve(const struct pt_fit *f, double *c)
{
    double best = INFINITY;
    memset(c, 0, (size_t)f->n * sizeof *c);
    if (!f->count)
        return 0.0;
    for (unsigned set = 1; set < 1u << f->n; set++) {
        int idx[PT_FIT_MAX], k = 0;
        for (int i = 0; i < f->n; i++)
            if (set >> i & 1)
                idx[k++] = i;
        double a[PT_FIT_MAX][PT_FIT_MAX + 1], s[PT_FIT_MAX];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++)
                a[i][j] = f->xx[idx[i]][idx[j]];
            a[i][k] = f->xy[idx[i]];
        }
        if (solve(k, a, s) != 0)
            continue;
        int ok = 1;
        for (int i = 0; i < k; i++)
            ok &= s[i] >= 0;
        if (!ok)
            continue;
        /* Σ(y − c·x)² = yy − 2 c·xy + cᵀ xx c */
        double err = f->yy;
        for (int i = 0; i < k; i++) {
            err -= 2 * s[i] * f->xy[idx[i]];
            for (int j = 0; j < k; j++)
                err += s[i] * s[j] * f->xx[idx[i]][idx[j]];
        }
        if (err < best) {
            best = err;
            memset(c, 0, (size_t)f->n * sizeof *c);
            for (int i = 0; i < k; i++)
                c[idx[i]] = s[i];
        }
    }
    if (best == INFINITY)
        return f->yy / (double)f->count; /* all zero */
    return (best > 0 ? best : 0) / (double)f->count;
}
