/* Helpers every learner's fold shares: class bins and the inner folds. */
#include <math.h>
#include <stdlib.h>
#include "predict_impl.h"

double cdn_fold_train_median(const cdn_fold_t *f)
{
  double *v = malloc(sizeof(double) * (size_t)(f->ntr > 0 ? f->ntr : 1)), med = NAN;
  if (!v) return NAN;
  for (int i = 0; i < f->ntr; i++) v[i] = f->y[f->train[i]];
  cdn_sort_doubles(v, f->ntr);
  if (f->ntr) med = f->ntr % 2 ? v[f->ntr / 2] : 0.5 * (v[f->ntr / 2 - 1] + v[f->ntr / 2]);
  free(v);
  return med;
}

int cdn_fold_bin(const cdn_fold_t *f, double median_train, double v)
{
  int c = 0;
  if (!f->thresholds) return v > median_train;
  for (int t = 0; t < f->nclasses - 1; t++) c += v > f->thresholds[t];
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

PetscErrorCode cdn_majority_fold(const cdn_fold_t *f, double *pred, int *pred_class)
{
  int    *count, best = 0;
  double  mean = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1(f->nclasses, &count));
  for (int i = 0; i < f->ntr; i++) {
    mean += f->y[f->train[i]] / f->ntr;
    if (f->cls[f->train[i]] >= 0 && f->cls[f->train[i]] < f->nclasses) count[f->cls[f->train[i]]]++;
  }
  for (int c = 1; c < f->nclasses; c++)
    if (count[c] > count[best]) best = c;
  for (int i = 0; i < f->nte; i++) pred[f->test[i]] = mean, pred_class[f->test[i]] = best;
  PetscCall(PetscFree(count));
  PetscFunctionReturn(0);
}
