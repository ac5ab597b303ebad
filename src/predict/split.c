/* One fit-then-test split instead of cross-validation: the transfer questions (a family never seen,
   wider networks than any seen) have one honest split each, so there is nothing to fold. */
#include <math.h>
#include "predict_impl.h"

/* Lower median of the finite training-side scores (0 if none): where a test model's NaN score
   ranks, chosen without looking at the test side. */
static PetscErrorCode neutral_score(const double *x, const int *train, int ntr, double *med)
{
  double *v;
  int     m = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(ntr + 1, &v));
  for (int i = 0; i < ntr; i++)
    if (isfinite(x[train[i]])) v[m++] = x[train[i]];
  cdn_sort_doubles(v, m);
  *med = m ? v[(m + 1) / 2 - 1] : 0;
  PetscCall(PetscFree(v));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_predict_split(const cdn_predict_problem_t *pb, cdn_learner_t learner, int d, const double *X,
                                 const int *is_test, double *pred, int *pred_class, cdn_metrics_t *m)
{
  int        n = pb->n, *train, *test, *ct, *pct, *fold, ntr = 0, nte = 0;
  double    *yt, *pt, *rt, *rk, med = 0;
  cdn_fold_t f;

  PetscFunctionBeginUser;
  PetscCall(cdn_predict_check(pb, learner, d));
  PetscCheck(pb->cls && pb->thresholds, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "predict: a split needs its class task (cls and thresholds)");
  PetscCall(PetscMalloc2(n, &train, n, &test));
  for (int i = 0; i < n; i++) {
    if (is_test[i]) test[nte++] = i;
    else train[ntr++] = i;
    pred[i] = NAN, pred_class[i] = 0;
  }
  if (ntr < 1 || nte < 1) {
    PetscCall(PetscFree2(train, test));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "predict: a split needs models on both sides (%d training, %d test)",
            ntr, nte);
  }
  f = (cdn_fold_t){.d = d, .X = X, .y = pb->y, .cls = pb->cls, .train = train, .test = test, .ntr = ntr, .nte = nte,
                   .group = pb->group, .nclasses = pb->nclasses >= 2 ? pb->nclasses : 2, .thresholds = pb->thresholds,
                   .train_cuts = pb->train_cuts, .inner_folds = pb->inner_folds, .seed = cdn_hash64(pb->seed, 0), .lambda = pb->ridge_lambda,
                   .c = pb->logistic_c};
  PetscCall(PetscMalloc1(n, &rk)); /* several score columns: the fit's pick ranks (score.c) */
  PetscCall(cdn_fitted_fold_rank(&f, learner, pred, pred_class, rk));
  if (pb->select) { /* the training side's inner folds choose; a score ranks as in the metrics */
    double *raw;
    PetscCall(PetscMalloc1(n, &raw));
    if (learner == CDN_LEARNER_SCORE && d == 1) PetscCall(neutral_score(X, train, ntr, &med));
    for (int i = 0; i < n; i++) raw[i] = learner != CDN_LEARNER_SCORE || d > 1 ? NAN : isfinite(X[i]) ? X[i] : med;
    PetscCall(cdn_select_score(&f, learner, raw, &pb->select[0]));
    PetscCall(PetscFree(raw));
  }

  /* the metrics see the test side only */
  if (learner == CDN_LEARNER_SCORE && d == 1) PetscCall(neutral_score(X, train, ntr, &med));
  PetscCall(PetscMalloc3(nte, &yt, nte, &pt, nte, &rt));
  PetscCall(PetscMalloc3(nte, &ct, nte, &pct, nte, &fold));
  for (int j = 0; j < nte; j++) {
    int i = test[j];
    yt[j] = pb->y[i], pt[j] = pred[i], ct[j] = pb->cls[i], pct[j] = pred_class[i], fold[j] = 0;
    rt[j] = learner == CDN_LEARNER_MAJORITY ? 0 : learner != CDN_LEARNER_SCORE || d > 1 ? rk[i] : isfinite(X[i]) ? X[i] : med;
  }
  /* the floor: the training side's commonest class guessed for every test model */
  int major = cdn_majority_class(pb->cls, train, ntr, f.nclasses), hits = 0;
  for (int j = 0; j < nte; j++) hits += ct[j] == major;
  if (pb->fold_class)
    for (int i = 0; i < n; i++) pb->fold_class[i] = pb->cls[i];
  if (pb->rank_score)
    for (int i = 0; i < n; i++) pb->rank_score[i] = NAN;
  for (int j = 0; j < nte && pb->rank_score; j++) pb->rank_score[test[j]] = rt[j];
  PetscCall(cdn_metrics_fill(learner, nte, yt, rt, pt, ct, pct, f.nclasses, fold, 1, 1, (double)hits / nte, m));
  PetscCall(PetscFree3(yt, pt, rt));
  PetscCall(PetscFree(rk));
  PetscCall(PetscFree3(ct, pct, fold));
  PetscCall(PetscFree2(train, test));
  PetscFunctionReturn(0);
}
