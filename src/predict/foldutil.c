/* Helpers every learner's fold shares: class bins and the inner folds. */
#include <math.h>
#include <stdlib.h>
#include "predict_impl.h"

static int cmp_double(const void *p, const void *q)
{
  double a = *(const double *)p, b = *(const double *)q;
  return (a > b) - (a < b);
}

double cdn_fold_train_median(const cdn_fold_t *f)
{
  double *v = malloc(sizeof(double) * (size_t)(f->ntr > 0 ? f->ntr : 1)), med = NAN;
  if (!v) return NAN;
  for (int i = 0; i < f->ntr; i++) v[i] = f->y[f->train[i]];
  qsort(v, (size_t)f->ntr, sizeof *v, cmp_double);
  if (f->ntr) med = f->ntr % 2 ? v[f->ntr / 2] : 0.5 * (v[f->ntr / 2 - 1] + v[f->ntr / 2]);
  free(v);
  return med;
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
