#pragma once
/* Pieces of the predict module shared between its files; not part of the public API. */
#include "cnndyn/predict.h"
#include "cnndyn/util.h"

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
  const int    *group;      /* by model; NULL: each model its own group */
  int           nclasses;   /* >= 2 */
  const double *thresholds; /* nclasses - 1 label cuts, or NULL for the median task */
  int           inner_folds;
  uint64_t      seed;       /* for the inner folds */
  double        lambda, c;  /* used when inner_folds = 0 */
} cdn_fold_t;

PetscErrorCode cdn_linear_fold(const cdn_fold_t *f, double *pred, int *pred_class);
PetscErrorCode cdn_score_fold(const cdn_fold_t *f, double *pred, int *pred_class);
PetscErrorCode cdn_svr_fold(const cdn_fold_t *f, double *pred, int *pred_class);
PetscErrorCode cdn_xgb_fold(const cdn_fold_t *f, double *pred, int *pred_class);
PetscErrorCode cdn_majority_fold(const cdn_fold_t *f, double *pred, int *pred_class);

/* The class of a regression prediction: the number of f->thresholds below it; for the median task
   (thresholds NULL) the cut is the median of the training labels. */
int cdn_fold_bin(const cdn_fold_t *f, double median_train, double v);
double cdn_fold_train_median(const cdn_fold_t *f);

/* Inner grouped folds over the training rows of f: fold[i] for train[i], k_used folds. */
PetscErrorCode cdn_inner_folds(const cdn_fold_t *f, int *fold, int *k_used);

/* Boosted trees outside cross-validation (saved predictors): fit on n rows, predict, as
   cdn_xgb_fold does per fold. The booster is an XGBoost BoosterHandle (XGBoosterFree). */
PetscErrorCode cdn_xgb_fit(const float *X, const float *y, int n, int d, void **booster);
PetscErrorCode cdn_xgb_predict(void *booster, const float *X, int n, int d, double *pred);
void           cdn_xgb_to_float(const double *X, int n, int d, float *out);
