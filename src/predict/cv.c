/* Cross-validation over models at the root: every model is predicted by a learner fitted on folds
   that hold none of its group's replicates, then scored against its label. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "predict_impl.h"

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
  cdn_sort_doubles(sorted, m);
  if (m) med = sorted[(m + 1) / 2 - 1];
  for (int i = 0; i < n; i++) s[i] = isfinite(x[i]) ? x[i] : med;
  PetscCall(PetscFree(sorted));
  PetscFunctionReturn(0);
}

static const char *const learner_names[CDN_LEARNER_COUNT] = {
  [CDN_LEARNER_LINEAR] = "linear", [CDN_LEARNER_SCORE] = "score", [CDN_LEARNER_SVR] = "svr",
  [CDN_LEARNER_XGB] = "xgboost", [CDN_LEARNER_MAJORITY] = "majority"};

const char *cdn_learner_name(cdn_learner_t l) { return l >= 0 && l < CDN_LEARNER_COUNT ? learner_names[l] : "?"; }

int cdn_learner_from_name(const char *name)
{
  for (int l = 0; l < CDN_LEARNER_COUNT; l++)
    if (!strcmp(name, learner_names[l])) return l;
  return -1;
}

/* 1 if the finite values of x (where y is finite too) are all equal while y's are not: a predictor
   that says nothing about order, whose tau counts as 0 (no information), not as undefined. */
static int flat_against(const double *x, const double *y, int n)
{
  int    m = 0, xvar = 0, yvar = 0;
  double x0 = 0, y0 = 0;
  for (int i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) continue;
    if (m++ == 0) x0 = x[i], y0 = y[i];
    xvar |= x[i] != x0, yvar |= y[i] != y0;
  }
  return !xvar && yvar;
}

/* Kendall tau-b, 0 for a constant prediction against varying labels (see flat_against). */
static double tau_or_zero(const double *r, const double *y, int n)
{
  return flat_against(r, y, n) ? 0 : cdn_kendall_tau(r, y, n);
}

/* Mean over folds of tau within the fold's test models: how well the learner orders models it
   never saw, without the offsets between folds that the pooled tau also rewards or punishes. */
double cdn_tau_within(const double *r, const double *y, const int *fold, int k, int n, int *idx, double *a, double *b)
{
  double sum = 0;
  int    used = 0;
  for (int g = 0; g < k; g++) {
    int m = 0;
    for (int i = 0; i < n; i++)
      if (fold[i] == g) idx[m] = i, a[m] = r[i], b[m] = y[i], m++;
    double t = tau_or_zero(a, b, m);
    if (isfinite(t)) sum += t, used++;
  }
  return used ? sum / used : NAN;
}

PetscErrorCode cdn_predict_check(const cdn_predict_problem_t *pb, cdn_learner_t learner, int d)
{
  int nclasses = pb->nclasses >= 2 ? pb->nclasses : 2;

  PetscFunctionBeginUser;
  PetscCheck(pb->n >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "predict: no models (n = %d)", pb->n);
  PetscCheck(d >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "predict: no feature columns");
  PetscCheck(learner >= 0 && learner < CDN_LEARNER_COUNT, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "predict: unknown learner %d", (int)learner);
  PetscCheck(learner != CDN_LEARNER_LINEAR || (pb->ridge_lambda > 0 && pb->logistic_c > 0), PETSC_COMM_SELF,
             PETSC_ERR_ARG_OUTOFRANGE, "predict: ridge_lambda (%g) and logistic_c (%g) must be positive",
             pb->ridge_lambda, pb->logistic_c);
  PetscCheck(nclasses == 2 || (pb->cls && pb->thresholds), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "predict: %d classes need cls and thresholds", nclasses);
  for (int i = 0; i < pb->n; i++)
    PetscCheck(isfinite(pb->y[i]), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
               "predict: label of model %d is not finite (%g): drop unfinished models before predicting", i,
               pb->y[i]);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_metrics_fill(cdn_learner_t learner, int n, const double *y, const double *r, const double *pred,
                                const int *cls, const int *pred_class, int nclasses, const int *fold, int k,
                                int fitted, double majority, cdn_metrics_t *m)
{
  int    *idx;
  double *wa, *wb;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3(n + 1, &idx, n + 1, &wa, n + 1, &wb));
  m->tau      = tau_or_zero(r, y, n);
  m->tau_fold = fitted ? cdn_tau_within(r, y, fold, k, n, idx, wa, wb) : NAN;
  m->spearman = flat_against(r, y, n) ? 0 : cdn_spearman(r, y, n);
  m->r2       = cdn_r2(y, pred, n);
  m->mae      = cdn_mae(y, pred, n);
  m->accuracy = fitted ? cdn_accuracy(cls, pred_class, n) : NAN;
  m->f1       = fitted ? cdn_f1_macro(cls, pred_class, n, nclasses) : NAN;
  m->auc      = nclasses == 2 ? cdn_auc(cls, r, n) : NAN;
  m->majority = majority;
  if (learner == CDN_LEARNER_MAJORITY || (!fitted && learner != CDN_LEARNER_SCORE)) m->regret1 = m->regret5 = NAN;
  else m->regret1 = cdn_regret(y, r, n, 0), m->regret5 = cdn_regret(y, r, n, 0.05);
  PetscCall(PetscFree3(idx, wa, wb));
  PetscFunctionReturn(0);
}

double cdn_majority_rate_k(const int *cls, int n, int nclasses)
{
  int cnt[9] = {0}, best = 0;
  for (int i = 0; i < n; i++)
    if (cls[i] >= 0 && cls[i] < 9) cnt[cls[i]]++;
  for (int c = 0; c < nclasses && c < 9; c++) best = cnt[c] > best ? cnt[c] : best;
  return n > 0 ? (double)best / n : NAN;
}

/* The most common class among rows[0..n) of cls (ties: the lowest class). */
int cdn_majority_class(const int *cls, const int *rows, int n, int nclasses)
{
  int best = 0, cnt[9] = {0};
  for (int i = 0; i < n; i++)
    if (cls[rows[i]] >= 0 && cls[rows[i]] < 9) cnt[cls[rows[i]]]++;
  for (int c = 1; c < nclasses && c < 9; c++)
    if (cnt[c] > cnt[best]) best = c;
  return best;
}

PetscErrorCode cdn_predict_cv(const cdn_predict_problem_t *pb, cdn_learner_t learner, int d, const double *X,
                              double *pred, int *pred_class, cdn_metrics_t *m)
{
  int        n = pb->n, k, *fold, *cls, *fcls, *train, *test, nclasses = pb->nclasses >= 2 ? pb->nclasses : 2;
  int        recut = pb->train_cuts || !pb->cls, hits = 0;
  double    *r, cuts[8], majority;
  cdn_fold_t f;

  PetscFunctionBeginUser;
  PetscCall(cdn_predict_check(pb, learner, d));
  PetscCheck(pb->folds >= 2, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "predict: folds must be at least 2, got %d",
             pb->folds);

  PetscCall(PetscMalloc5(n, &fold, n, &cls, n, &fcls, n, &train, n, &test));
  PetscCall(PetscMalloc1(n, &r));
  PetscCall(cdn_folds_grouped_ex(n, pb->group, pb->folds, pb->seed, fold, &k));
  f = (cdn_fold_t){.d = d, .X = X, .y = pb->y, .cls = fcls, .train = train, .test = test, .group = pb->group,
                   .nclasses = nclasses, .thresholds = cuts, .train_cuts = recut,
                   .inner_folds = pb->inner_folds, .lambda = pb->ridge_lambda, .c = pb->logistic_c};
  /* with one group there is no training side: the classes are cut on all labels */
  if (recut) PetscCall(cdn_quantile_cuts(pb->y, NULL, n, nclasses, cuts));
  for (int i = 0; i < n; i++) {
    cls[i]  = recut ? cdn_class_of(pb->y[i], cuts, nclasses) : pb->cls[i];
    pred[i] = NAN, pred_class[i] = 0; /* one group only: nothing to learn from */
  }
  majority = cdn_majority_rate_k(cls, n, nclasses);
  /* one score column ranks as it is; among several, each fold's fit picks one (score.c) */
  if (learner == CDN_LEARNER_SCORE && d == 1) PetscCall(neutral_scores(X, n, r));
  for (int g = 0; g < pb->folds && pb->select; g++) pb->select[g] = NAN;
  for (int g = 0; g < k && k >= 2; g++) {
    f.ntr = f.nte = 0;
    f.seed        = cdn_hash64(pb->seed, (uint64_t)g);
    for (int i = 0; i < n; i++) {
      if (fold[i] == g) test[f.nte++] = i;
      else train[f.ntr++] = i;
    }
    /* The class task's cuts come from the training side alone, like everything else the fold
       fits: cut on all labels, a test fold above the median leaves a training side below it,
       whose majority class is then the test fold's minority (issue 16). */
    if (recut) PetscCall(cdn_quantile_cuts(pb->y, train, f.ntr, nclasses, cuts));
    else PetscCall(PetscArraycpy(cuts, pb->thresholds, nclasses - 1));
    for (int i = 0; i < n; i++) fcls[i] = recut ? cdn_class_of(pb->y[i], cuts, nclasses) : pb->cls[i];
    int major = cdn_majority_class(fcls, train, f.ntr, nclasses);
    for (int i = 0; i < f.nte; i++) cls[test[i]] = fcls[test[i]], hits += fcls[test[i]] == major;
    PetscErrorCode ierr = learner == CDN_LEARNER_SCORE && d > 1 ? cdn_fitted_fold_rank(&f, learner, pred, pred_class, r)
                                                                 : cdn_fitted_fold(&f, learner, pred, pred_class);
    if (!ierr && pb->select) ierr = cdn_select_score(&f, learner, r, &pb->select[g]);
    if (ierr) { /* a learner that failed (a bad option, a library error): the arrays go before the error */
      PetscCall(PetscFree(r));
      PetscCall(PetscFree5(fold, cls, fcls, train, test));
      PetscCall(ierr);
    }
  }
  if (k >= 2) majority = (double)hits / n;
  if (pb->fold_class) PetscCall(PetscArraycpy(pb->fold_class, cls, n));

  /* Ranking metrics read the raw score of a score learner (it needs no fit), else the prediction;
     the majority learner predicts one value per fold, which orders nothing: all ties. */
  if (learner == CDN_LEARNER_SCORE) {} /* r holds the neutral scores, or each fold's column, already */
  else if (learner == CDN_LEARNER_MAJORITY)
    for (int i = 0; i < n; i++) r[i] = 0;
  else PetscCall(PetscArraycpy(r, pred, n));
  if (pb->rank_score) PetscCall(PetscArraycpy(pb->rank_score, r, n));
  PetscCall(cdn_metrics_fill(learner, n, pb->y, r, pred, cls, pred_class, nclasses, fold, k, k >= 2, majority, m));
  PetscCall(PetscFree(r));
  PetscCall(PetscFree5(fold, cls, fcls, train, test));
  PetscFunctionReturn(0);
}
