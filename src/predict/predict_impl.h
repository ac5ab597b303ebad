#pragma once
/* Pieces of the predict module shared between its files; not part of the public API. */
#include "cnndyn/predict.h"

/* Allocating versions of the public void functions, so cdn_predict_cv can report a failed
   allocation instead of silently working on a sentinel. */
PetscErrorCode cdn_median_classes_ex(const double *y, int n, int *cls);
PetscErrorCode cdn_folds_grouped_ex(int n, const int *group, int k, uint64_t seed, int *fold, int *k_used);

/* One fold of a learner: fit on the rows train[0..ntr), predict the rows test[0..nte). X is n x d
   row-major over all models; y and cls are indexed by model. */
typedef struct {
  int           d;
  const double *X, *y;
  const int    *cls;
  const int    *train, *test;
  int           ntr, nte;
} cdn_fold_t;

PetscErrorCode cdn_linear_fold(const cdn_fold_t *f, double lambda, double c, double *pred, int *pred_class);
PetscErrorCode cdn_score_fold(const cdn_fold_t *f, double *pred, int *pred_class);
