/* Feature preparation fitted on training rows only, so nothing about a test model leaks into its
   prediction. Weight-derived features span many decades and a diverged model brings 1e18 or NaN:
   a signed log tames the range, clipping to the training range keeps an outlier test model from
   extrapolating wildly, and imputing the training mean makes a non-finite value uninformative. */
#include <math.h>
#include "predict_impl.h"
#include "scale.h"

static double slog(double x) { return copysign(log1p(fabs(x)), x); }

PetscErrorCode cdn_scaler_fit(cdn_scaler_t *s, const double *X, int d, const int *rows, int nr)
{
  PetscFunctionBeginUser;
  s->d    = d;
  s->kept = 0;
  PetscCall(PetscMalloc5(d, &s->col, d, &s->mean, d, &s->std, d, &s->lo, d, &s->hi));
  for (int j = 0; j < d; j++) {
    double sum = 0, ss = 0, lo = INFINITY, hi = -INFINITY, mean, std;
    int    m = 0;
    for (int r = 0; r < nr; r++) {
      double v = slog(X[(size_t)rows[r] * d + j]);
      if (!isfinite(v)) continue;
      sum += v, m++;
      lo = fmin(lo, v), hi = fmax(hi, v);
    }
    if (!m) continue; /* nothing finite to learn from: drop the column */
    mean = sum / m;
    for (int r = 0; r < nr; r++) {
      double v = slog(X[(size_t)rows[r] * d + j]);
      if (isfinite(v)) ss += (v - mean) * (v - mean);
    }
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
  PetscFunctionReturn(0);
}

void cdn_scaler_apply(const cdn_scaler_t *s, const double *X, const int *rows, int nr, double *Z)
{
  for (int r = 0; r < nr; r++)
    for (int k = 0; k < s->kept; k++) {
      double v = slog(X[(size_t)rows[r] * s->d + s->col[k]]);
      if (!isfinite(v)) v = s->mean[k];
      v                          = fmin(fmax(v, s->lo[k]), s->hi[k]);
      Z[(size_t)r * s->kept + k] = (v - s->mean[k]) / s->std[k];
    }
}

PetscErrorCode cdn_scaler_destroy(cdn_scaler_t *s)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree5(s->col, s->mean, s->std, s->lo, s->hi));
  PetscFunctionReturn(0);
}
