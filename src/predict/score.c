/* CDN_LEARNER_SCORE on one fold: a single early signal (validation accuracy at epoch k, say) used
   as the prediction. Its line and its threshold are fitted on the training rows, so the baseline is
   cross-validated exactly like the learned predictors it is compared with. */
#include <math.h>
#include <stdlib.h>
#include "predict_impl.h"

typedef cdn_pair_t scored_t; /* v: the score, i: the class */

/* The threshold t and direction dir (class 1 when dir * (s - t) > 0) with the best training
   accuracy, over cuts between distinct sorted scores and both ends. Ties go to dir = +1 first, then
   to the lowest cut, so the choice is deterministic. */
static void fit_threshold(scored_t *v, int n, double *t, int *dir)
{
  int ones = 0, best = -1, zeros_below = 0, ones_below = 0;

  for (int i = 0; i < n; i++) ones += v[i].i == 1;
  qsort(v, (size_t)n, sizeof *v, cdn_pair_cmp);
  *t = -INFINITY, *dir = 1;
  for (int c = 0; c <= n; c++) {
    if (c > 0) zeros_below += v[c - 1].i != 1, ones_below += v[c - 1].i == 1;
    if (c > 0 && c < n && v[c - 1].v == v[c].v) continue; /* no threshold separates equal scores */
    int    up = zeros_below + (ones - ones_below); /* correct when class 1 is above the cut */
    double tc = c == 0 ? -INFINITY : c == n ? INFINITY : 0.5 * v[c - 1].v + 0.5 * v[c].v;
    if (up > best) best = up, *t = tc, *dir = 1;
  }
  zeros_below = ones_below = 0;
  for (int c = 0; c <= n; c++) {
    if (c > 0) zeros_below += v[c - 1].i != 1, ones_below += v[c - 1].i == 1;
    if (c > 0 && c < n && v[c - 1].v == v[c].v) continue;
    int    down = ones_below + (n - c - (ones - ones_below)); /* class 1 below the cut */
    double tc   = c == 0 ? -INFINITY : c == n ? INFINITY : 0.5 * v[c - 1].v + 0.5 * v[c].v;
    if (down > best) best = down, *t = tc, *dir = -1;
  }
}

static double raw_at(const cdn_fitted_t *m, const double *X, int row) { return m->sgn * X[(size_t)row * m->d + m->col]; }

/* Several columns (a graph method's): the one whose Kendall tau with the training labels is largest
   in size (ties: the first), read the way it ranks them, so a single graph summary competes with
   the single curve values of the baselines. Only training rows are read. */
static void pick_column(const cdn_fold_t *f, cdn_fitted_t *m)
{
  double best = -1;
  m->col = 0, m->sgn = 1;
  for (int j = 0; j < f->d && f->d > 1; j++) {
    double s = 0, ta = 0, tb = 0, t;
    for (int x = 0; x < f->ntr; x++) {
      int    i = f->train[x];
      double a = f->X[(size_t)i * f->d + j];
      if (!isfinite(a)) continue;
      for (int z = x + 1; z < f->ntr; z++) {
        int    k = f->train[z];
        double c = f->X[(size_t)k * f->d + j];
        if (!isfinite(c)) continue;
        int da = (a > c) - (a < c), db = (f->y[i] > f->y[k]) - (f->y[i] < f->y[k]);
        s += da * db, ta += da != 0, tb += db != 0;
      }
    }
    t = ta > 0 && tb > 0 ? s / sqrt(ta * tb) : 0;
    if (fabs(t) > best) best = fabs(t), m->col = j, m->sgn = t < 0 ? -1 : 1;
  }
}

void cdn_score_rank(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *r)
{
  for (int i = 0; i < nr; i++) {
    double s = raw_at(m, X, rows[i]);
    r[i]     = isfinite(s) ? s : m->fill;
  }
}

PetscErrorCode cdn_score_fit(const cdn_fold_t *f, cdn_fitted_t *m)
{
  scored_t *v;
  double    fill = 0, sbar = 0, ybar = 0, sxx = 0, sxy = 0, lo = INFINITY, hi = -INFINITY, a, b;
  int       n = 0;

  PetscFunctionBeginUser;
  PetscCheck(f->d >= 1 && m->d == f->d, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "score learner: no column");
  pick_column(f, m);
  PetscCall(PetscMalloc1(f->ntr > 0 ? f->ntr : 1, &v));
  for (int i = 0; i < f->ntr; i++)
    if (isfinite(raw_at(m, f->X, f->train[i]))) fill += raw_at(m, f->X, f->train[i]), n++;
  fill = n ? fill / n : 0; /* a diverged model's NaN score says nothing: give it the average */
  if (!isfinite(fill)) fill = 0;
  for (int i = 0; i < f->ntr; i++) {
    double s = raw_at(m, f->X, f->train[i]);
    v[i]     = (scored_t){isfinite(s) ? s : fill, f->cls[f->train[i]]};
    sbar += v[i].v / f->ntr;
    lo = fmin(lo, v[i].v), hi = fmax(hi, v[i].v);
    ybar += f->y[f->train[i]] / f->ntr;
  }
  for (int i = 0; i < f->ntr; i++) {
    sxx += (v[i].v - sbar) * (v[i].v - sbar);
    sxy += (v[i].v - sbar) * (f->y[f->train[i]] - ybar);
  }
  b = sxx > 0 ? sxy / sxx : 0;
  if (!isfinite(b)) b = 0; /* scores near 1e200 overflow the sums: fall back to the mean */
  a = ybar - b * sbar;
  if (!isfinite(a)) a = ybar, b = 0;
  fit_threshold(v, f->ntr, &m->t, &m->cls);
  m->fill = fill, m->b0 = a, m->slope = b, m->lo = lo, m->hi = hi;
  PetscCall(PetscFree(v));
  PetscFunctionReturn(0);
}

/* More than two classes (more than one cut): the bins of the fitted line, since one threshold
   cannot make three classes. */
PetscErrorCode cdn_score_predict(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *pred, int *cls)
{
  PetscFunctionBeginUser;
  for (int i = 0; i < nr; i++) {
    double s = isfinite(raw_at(m, X, rows[i])) ? raw_at(m, X, rows[i]) : m->fill;
    pred[i]  = m->b0 + m->slope * fmin(fmax(s, m->lo), m->hi); /* the line is not extrapolated */
    cls[i]   = m->ncuts > 1 ? cdn_fitted_bin(m, pred[i]) : m->cls > 0 ? s > m->t : s < m->t;
  }
  PetscFunctionReturn(0);
}
