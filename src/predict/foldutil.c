/* Helpers every learner's fold shares: class bins and the inner folds. */
#include <math.h>
#include <stdlib.h>
#include "predict_impl.h"

PetscErrorCode cdn_quantile_cuts(const double *y, const int *rows, int n, int nclasses, double *th)
{
  double *v;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n > 0 ? n : 1, &v));
  for (int i = 0; i < n; i++) v[i] = y[rows ? rows[i] : i];
  cdn_sort_doubles(v, n);
  for (int t = 1; t < nclasses; t++) th[t - 1] = n ? cdn_quantile_sorted(v, n, (double)t / nclasses) : 0;
  PetscCall(PetscFree(v));
  PetscFunctionReturn(0);
}

int cdn_class_of(double y, const double *th, int nclasses)
{
  int c = 0;
  for (int t = 0; t < nclasses - 1; t++) c += y > th[t];
  return c;
}

PetscErrorCode cdn_inner_folds(const cdn_fold_t *f, int *fold, int *k_used)
{
  int *g;

  PetscFunctionBeginUser;
  *k_used = 0;
  if (f->inner_folds < 2 || f->ntr < 4) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(f->ntr, &g));
  for (int i = 0; i < f->ntr; i++) g[i] = f->group ? f->group[f->train[i]] : f->train[i];
  PetscCall(cdn_folds_grouped_ex(f->ntr, g, f->inner_folds, cdn_hash64(f->seed, 0x696e6e6572ull), fold, k_used));
  PetscCall(PetscFree(g));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_class_cuts(const cdn_jobspec_t *spec, const double *y, int n, int *nclasses, double *th)
{
  PetscFunctionBeginUser;
  if (spec->class_task == CDN_CLASSES_THRESHOLDS) {
    *nclasses = spec->nthresholds + 1;
    for (int t = 0; t < spec->nthresholds; t++) th[t] = spec->thresholds[t];
    PetscFunctionReturn(0);
  }
  *nclasses = spec->class_task == CDN_CLASSES_TERCILES ? 3 : 2;
  PetscCall(cdn_quantile_cuts(y, NULL, n, *nclasses, th));
  PetscFunctionReturn(0);
}
