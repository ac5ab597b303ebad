/* Feature preparation fitted on training rows only, so nothing about a test model leaks into its
   prediction. Weight-derived features span many decades and a diverged model brings 1e18 or NaN:
   a signed log tames the range; clipping to the training range keeps an outlier test model from
   extrapolating; imputing the training mean makes a non-finite value uninformative. The log alone
   leaves a 1e18 model 40 units out, where it alone sets the slope of the ridge fit (measured: tau
   fell from 0.89 to -0.07 on a test population), so the range is also cut at Tukey's far-out fences,
   3 interquartile ranges beyond the quartiles, when the quartiles differ. */
#include <math.h>
#include <stdlib.h>
#include "predict_impl.h"
#include "scale.h"

static double slog(double x) { return copysign(log1p(fabs(x)), x); }

static PetscErrorCode fit_indicators(cdn_scaler_t *s, const double *X, int d, const int *rows, int nr);

PetscErrorCode cdn_scaler_alloc(cdn_scaler_t *s, int d)
{
  PetscFunctionBeginUser;
  s->d = d, s->kept = s->nind = s->width = 0;
  PetscCall(PetscMalloc5(d, &s->col, d, &s->mean, d, &s->std, d, &s->lo, d, &s->hi));
  PetscCall(PetscMalloc3(d, &s->ind_col, d, &s->ind_mean, d, &s->ind_std));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_scaler_fit(cdn_scaler_t *s, const double *X, int d, const int *rows, int nr)
{
  double *v;

  PetscFunctionBeginUser;
  PetscCall(cdn_scaler_alloc(s, d));
  PetscCall(PetscMalloc1(nr > 0 ? nr : 1, &v));
  for (int j = 0; j < d; j++) {
    double sum = 0, ss = 0, lo, hi, q1, q3, mean, std;
    int    m = 0;
    for (int r = 0; r < nr; r++) {
      double t = slog(X[(size_t)rows[r] * d + j]);
      if (isfinite(t)) v[m++] = t;
    }
    if (!m) continue; /* nothing finite to learn from: drop the column */
    cdn_sort_doubles(v, m);
    lo = v[0], hi = v[m - 1], q1 = v[(m - 1) / 4], q3 = v[3 * (m - 1) / 4];
    if (q3 > q1) lo = fmax(lo, q1 - 3 * (q3 - q1)), hi = fmin(hi, q3 + 3 * (q3 - q1));
    for (int i = 0; i < m; i++) sum += fmin(fmax(v[i], lo), hi);
    mean = sum / m;
    for (int i = 0; i < m; i++) ss += (fmin(fmax(v[i], lo), hi) - mean) * (fmin(fmax(v[i], lo), hi) - mean);
    std = sqrt(ss / nr); /* imputed rows sit at the mean and add nothing */
    /* a constant column leaves round-off as its spread: it carries no signal, drop it */
    if (!(std > 1e-12 * fmax(1.0, fabs(mean)))) continue;
    s->col[s->kept]  = j;
    s->mean[s->kept] = mean;
    s->std[s->kept]  = std;
    s->lo[s->kept]   = lo;
    s->hi[s->kept]   = hi;
    s->kept++;
  }
  PetscCall(PetscFree(v));
  PetscCall(fit_indicators(s, X, d, rows, nr));
  PetscFunctionReturn(0);
}

static int missing(double x) { return !isfinite(slog(x)); }

/* Indicator columns for the input columns with both finite and non-finite values on the training
   rows, one per distinct pattern over those rows. */
static PetscErrorCode fit_indicators(cdn_scaler_t *s, const double *X, int d, const int *rows, int nr)
{
  PetscFunctionBeginUser;
  s->nind = 0;
  for (int j = 0; j < d; j++) {
    int miss = 0, dup = 0;
    for (int r = 0; r < nr; r++) miss += missing(X[(size_t)rows[r] * d + j]);
    if (miss == 0 || miss == nr) continue;
    for (int q = 0; q < s->nind && !dup; q++) {
      int same = 1;
      for (int r = 0; r < nr && same; r++)
        same = missing(X[(size_t)rows[r] * d + j]) == missing(X[(size_t)rows[r] * d + s->ind_col[q]]);
      dup = same;
    }
    if (dup) continue;
    s->ind_col[s->nind]  = j;
    s->ind_mean[s->nind] = (double)miss / nr;
    s->ind_std[s->nind]  = sqrt(s->ind_mean[s->nind] * (1 - s->ind_mean[s->nind]));
    s->nind++;
  }
  s->width = s->kept + s->nind;
  PetscFunctionReturn(0);
}

void cdn_scaler_apply(const cdn_scaler_t *s, const double *X, const int *rows, int nr, double *Z)
{
  for (int r = 0; r < nr; r++)
    for (int k = 0; k < s->kept; k++) {
      double v = slog(X[(size_t)rows[r] * s->d + s->col[k]]);
      if (!isfinite(v)) v = s->mean[k];
      v                          = fmin(fmax(v, s->lo[k]), s->hi[k]);
      Z[(size_t)r * s->width + k] = (v - s->mean[k]) / s->std[k];
    }
  for (int r = 0; r < nr; r++)
    for (int k = 0; k < s->nind; k++)
      Z[(size_t)r * s->width + s->kept + k] = (missing(X[(size_t)rows[r] * s->d + s->ind_col[k]]) - s->ind_mean[k]) / s->ind_std[k];
}

PetscErrorCode cdn_scaler_free(cdn_scaler_t *s)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree5(s->col, s->mean, s->std, s->lo, s->hi));
  PetscCall(PetscFree3(s->ind_col, s->ind_mean, s->ind_std));
  PetscFunctionReturn(0);
}
