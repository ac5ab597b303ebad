/* Cross-validation over models at the root: every model is predicted by a learner fitted on folds
   that hold none of its group's replicates, then scored against its label. */
#include <math.h>
#include <stdlib.h>
#include "predict_impl.h"

static int cmp_double(const void *p, const void *q)
{
  double a = *(const double *)p, b = *(const double *)q;
  return (a > b) - (a < b);
}

/* The raw score with each non-finite value replaced by the lower median of the finite ones (0 if
   none): a diverged model's NaN score then ranks as uninformative, not as best or worst. */
static PetscErrorCode neutral_scores(const double *x, int n, double *s)
{
  double *sorted, med = 0;
  int     m = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n, &sorted));
  for (int i = 0; i < n; i++)
    if (isfinite(x[i])) sorted[m++] = x[i];
  qsort(sorted, (size_t)m, sizeof *sorted, cmp_double);
  if (m) med = sorted[(m + 1) / 2 - 1];
  for (int i = 0; i < n; i++) s[i] = isfinite(x[i]) ? x[i] : med;
  PetscCall(PetscFree(sorted));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_predict_cv(const cdn_predict_problem_t *pb, cdn_learner_t learner, int d, const double *X,
                              double *pred, int *pred_class, cdn_metrics_t *m)
{
  int        n = pb->n, k, *fold, *cls, *train, *test;
  cdn_fold_t f;

  PetscFunctionBeginUser;
  PetscCheck(n >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "predict: no models (n = %d)", n);
  PetscCheck(pb->folds >= 2, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "predict: folds must be at least 2, got %d",
             pb->folds);
  PetscCheck(d >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "predict: no feature columns");
  PetscCheck(learner != CDN_LEARNER_SCORE || d == 1, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ,
             "predict: the score learner takes exactly one column, got %d", d);
  PetscCheck(learner != CDN_LEARNER_LINEAR || (pb->ridge_lambda > 0 && pb->logistic_c > 0), PETSC_COMM_SELF,
             PETSC_ERR_ARG_OUTOFRANGE, "predict: ridge_lambda (%g) and logistic_c (%g) must be positive",
             pb->ridge_lambda, pb->logistic_c);
  for (int i = 0; i < n; i++)
    PetscCheck(isfinite(pb->y[i]), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
               "predict: label of model %d is not finite (%g): drop unfinished models before predicting", i,
               pb->y[i]);

  PetscCall(PetscMalloc4(n, &fold, n, &cls, n, &train, n, &test));
  PetscCall(cdn_median_classes_ex(pb->y, n, cls));
  PetscCall(cdn_folds_grouped_ex(n, pb->group, pb->folds, pb->seed, fold, &k));
  f = (cdn_fold_t){.d = d, .X = X, .y = pb->y, .cls = cls, .train = train, .test = test};
  for (int i = 0; i < n; i++) pred[i] = NAN, pred_class[i] = 0; /* one group only: nothing to learn from */
  for (int g = 0; g < k && k >= 2; g++) {
    f.ntr = f.nte = 0;
    for (int i = 0; i < n; i++) {
      if (fold[i] == g) test[f.nte++] = i;
      else train[f.ntr++] = i;
    }
    if (learner == CDN_LEARNER_SCORE) PetscCall(cdn_score_fold(&f, pred, pred_class));
    else PetscCall(cdn_linear_fold(&f, pb->ridge_lambda, pb->logistic_c, pred, pred_class));
  }

  if (learner == CDN_LEARNER_SCORE) {
    double *s;
    PetscCall(PetscMalloc1(n, &s));
    PetscCall(neutral_scores(X, n, s));
    m->tau = cdn_kendall_tau(s, pb->y, n);
    PetscCall(PetscFree(s));
  } else m->tau = cdn_kendall_tau(pred, pb->y, n);
  m->r2       = cdn_r2(pb->y, pred, n);
  m->mae      = cdn_mae(pb->y, pred, n);
  m->accuracy = k >= 2 ? cdn_accuracy(cls, pred_class, n) : NAN;
  m->f1       = k >= 2 ? cdn_f1(cls, pred_class, n) : NAN;
  m->majority = cdn_majority_rate(cls, n);
  PetscCall(PetscFree4(fold, cls, train, test));
  PetscFunctionReturn(0);
}
