#pragma once
/* Predictors of final accuracy, cross-validated over models, and their metrics. All at the root. */
#include <petscsys.h>
#include <stdint.h>

typedef struct {
  double tau;      /* Kendall tau-b between prediction and label */
  double r2;       /* coefficient of determination of the regression */
  double mae;      /* mean absolute error of the regression */
  double accuracy; /* above/below-median classification accuracy */
  double f1;       /* F1 of the "above median" class */
  double majority; /* accuracy of guessing the training side's commonest class in every fold */
  double tau_fold; /* Kendall tau-b within each test fold, averaged over folds with a defined tau (a fold
                      whose prediction is constant counts 0): the primary ranking metric */
  double spearman; /* Spearman rho (average ranks for ties) between prediction and label */
  double auc;      /* binary tasks: area under the ROC curve of the prediction against the class */
  double regret1;  /* best label minus the label of the model predicted best */
  double regret5;  /* best label minus the best label among the top 5% predicted (at least 1 model) */
} cdn_metrics_t;

typedef enum {
  /* Ridge regression for the label and L2-regularised logistic regression (liblinear) for the
     class, on features passed through a signed log, standardised on the training folds, test
     values clipped to the training range, non-finite values imputed with the training mean. */
  CDN_LEARNER_LINEAR,
  /* One column taken as the prediction itself: tau uses it raw; R^2 and MAE use a least-squares
     line fitted on the training folds; the class uses one threshold fitted on the training folds. */
  CDN_LEARNER_SCORE,
  /* epsilon-SVR with an RBF kernel (libsvm) on the LINEAR learner's prepared features; C and gamma
     chosen by the inner cross-validation; the class is the bin of the prediction. */
  CDN_LEARNER_SVR,
  /* Gradient-boosted trees (XGBoost: 50 rounds, depth 3, eta 0.2, histogram splits with 32 bins, one thread, fixed seed) on the
     raw features, non-finite or beyond float range as missing; the class is the bin of the prediction. */
  CDN_LEARNER_XGB,
  /* Predicts the training-fold mean and the training-fold majority class: the floor to beat. */
  CDN_LEARNER_MAJORITY,
  CDN_LEARNER_COUNT
} cdn_learner_t;

const char *cdn_learner_name(cdn_learner_t l); /* "linear", "score", "svr", "xgboost", "majority" */
int         cdn_learner_from_name(const char *name); /* -1 if unknown */

typedef struct {
  int           n;     /* models */
  const double *y;     /* label: final test accuracy */
  const int    *group; /* configuration id: replicates of a configuration stay in one fold */
  int           folds;
  uint64_t      seed;
  double        ridge_lambda;
  double        logistic_c;
  /* The classification task. nclasses 0 or 2 with cls NULL: cdn_median_classes of y. Otherwise
     cls[i] in 0..nclasses-1 (ordered by label) and thresholds (nclasses-1, ascending, in label
     units) map a regression prediction to a class: the number of thresholds below it. */
  int           nclasses;
  const int    *cls;
  const double *thresholds;
  /* > 0: ridge_lambda, logistic_c and the SVR's (C, gamma) are chosen from fixed grids by an inner
     grouped cross-validation with this many folds on each outer training set (seed derived from
     seed); 0: ridge_lambda and logistic_c as given, SVR at C = 1, gamma = 1/features. */
  int           inner_folds;
  /* 1: the class cuts are the quantiles t / nclasses of the training labels (median, terciles),
     recomputed on every training side, outer and inner (cls and thresholds, if given, are then
     only read for nclasses); 0 with cls given: fixed thresholds in label units (a job's explicit
     thresholds, or a split's cuts from its training side). cls NULL always cuts on the training
     side (the median task). */
  int           train_cuts;
  /* Optional output (n ints, NULL: none): each model's true class under the cuts of the fold that
     tested it, the classes its accuracy is scored against. */
  int          *fold_class;
  /* Optional output (n doubles): the ranking score the tau metrics read (the prediction; a score
     learner's raw score; 0 for the majority learner, which orders nothing). */
  double       *rank_score;
  /* Optional output (folds doubles; a split: 1): for each outer fold, the nested-selection score
     of this learner on the inner folds of that fold's training side (select.c); NaN when undefined. */
  double       *select;
} cdn_predict_problem_t;

/* k-fold cross-validation: every model is predicted by a learner that never saw its group.
   X is n x d, row-major. pred (n) and pred_class (n, 0 or 1) receive out-of-fold predictions.
   Classes: in each fold, the labels binned by the cuts of that fold's training side (see
   train_cuts); m->majority is the accuracy of guessing, in each fold, the training side's most
   common class (the majority learner's accuracy: the floor). group may be NULL: every model is its own group.
   Folds: cdn_folds_grouped with pb->folds (>= 2); with fewer groups than folds, one fold per group.
   LINEAR: per fold, on the training rows only: x -> sign(x) log1p|x|; non-finite -> training mean;
   all values clipped to the training range, cut at Tukey's far-out fences (quartiles -/+ 3 IQR, when
   the quartiles differ) so one exploded model cannot set the fit alone; standardised by training
   mean and std (population); columns constant or never finite on the training rows are dropped. Ridge minimises
   |y - b0 - Zw|^2 + ridge_lambda * n_train * |w|^2 (b0 unpenalised), in dual form when d > n_train.
   Logistic: liblinear L2R_LR, C = logistic_c, bias 1; a training fold with one class predicts it.
   SCORE (d = 1): non-finite scores -> training-fold mean; pred = least-squares line a + b * score fitted
   on the training folds, score clipped to the training range; class 1 when dir * (score - t) > 0,
   t and dir in {+1, -1} maximising training accuracy (ties: dir +1, then the lowest t). m->tau uses
   the raw score, non-finite scores replaced by the lower median of the finite ones.
   Metrics are over all n models (predictions are always finite when there are >= 2 groups). A
   prediction constant against varying labels (the majority learner) has tau and spearman 0.
   With one group there is no honest out-of-fold prediction: pred = NaN, pred_class = 0, and every
   metric is NaN but majority (the commonest class's share, cut on all labels) and SCORE's tau. Errors: n < 1, folds < 2, d < 1,
   d != 1 for SCORE, ridge_lambda or logistic_c not positive (LINEAR), any non-finite label. X may hold NaN, Inf and huge values.
   Cost per fold: O(n d min(n, d) + min(n, d)^3) for ridge, plus liblinear. */
PetscErrorCode cdn_predict_cv(const cdn_predict_problem_t *pb, cdn_learner_t learner, int d, const double *X,
                              double *pred, int *pred_class, cdn_metrics_t *m);

/* One split instead of folds, for transfer: the learner is fitted on the models with is_test[i]
   = 0 (its inner cross-validation, if any, grouped by pb->group on those only) and predicts those
   with is_test[i] = 1; pred and pred_class are NaN and 0 elsewhere. Metrics are over the test side
   only; tau_fold equals tau (one test fold). The class task must be given (pb->cls and
   pb->thresholds for any class count, derived by the caller without the test side's labels).
   A score learner's non-finite scores rank as the training side's lower median. Errors as
   cdn_predict_cv, and an empty side. */
PetscErrorCode cdn_predict_split(const cdn_predict_problem_t *pb, cdn_learner_t learner, int d, const double *X,
                                 const int *is_test, double *pred, int *pred_class, cdn_metrics_t *m);

/* Class of each label: 1 if above the median of all labels, else 0. The median is taken over the
   finite labels (the mean of the two middle ones for an even count); a non-finite label is class 0;
   all labels equal gives all 0. Allocates n doubles; if that fails, every class is 0. */
void cdn_median_classes(const double *y, int n, int *cls);
/* Fold of each model (0..k-1), groups kept whole, assignment shuffled by seed. Distinct groups are
   taken in order of first appearance, shuffled with cdn_rng_seed(seed, "folds" stream) and dealt
   round-robin, so fold sizes in groups differ by at most one. group NULL: each model its own group.
   Fewer groups than k: as many folds as groups, none empty (k < 1 counts as 1). Deterministic for
   (n, group, k, seed). Allocates O(n); if that fails, every fold is -1. */
void   cdn_folds_grouped(int n, const int *group, int k, uint64_t seed, int *fold);

/* Metrics: each uses only the pairs where both values are finite and returns NaN when undefined. */
/* Kendall tau-b (tie-corrected), O(n log n). NaN if fewer than 2 finite pairs or either side is
   constant over them. */
double cdn_kendall_tau(const double *a, const double *b, int n);
/* 1 - SSres / SStot; NaN if SStot = 0 or no finite pair; can be very negative (huge predictions). */
double cdn_r2(const double *y, const double *pred, int n);
/* Mean |y - pred|; NaN if no finite pair. */
double cdn_mae(const double *y, const double *pred, int n);
/* Fraction of truth[i] == pred[i]; NaN if n = 0. */
double cdn_accuracy(const int *truth, const int *pred, int n);
/* F1 of class 1: 2TP / (2TP + FP + FN); NaN when class 1 appears in neither truth nor pred. */
double cdn_f1(const int *truth, const int *pred, int n);
/* Share of the more common class (classes 0 and 1): the accuracy of always guessing it; NaN if n = 0. */
double cdn_majority_rate(const int *cls, int n);
/* Spearman rho with average ranks for ties; NaN if fewer than 2 finite pairs or a side is constant. */
double cdn_spearman(const double *a, const double *b, int n);
/* AUC of score against binary cls (Mann-Whitney, ties count half); NaN if a class is absent. */
double cdn_auc(const int *cls, const double *score, int n);
/* Best y minus the best y among the ceil(frac * n) models with the highest pred (frac 0: just the
   top one; ties in pred broken by lower index). Non-finite predictions rank last. NaN if n = 0. */
double cdn_regret(const double *y, const double *pred, int n, double frac);
/* Macro F1 over classes 0..k-1 that appear in truth or pred (k = 2: F1 of class 1, as cdn_f1). */
double cdn_f1_macro(const int *truth, const int *pred, int n, int k);

/* Reads every learner option (-cnndyn_xgb_*, -cnndyn_svr_tol) and refuses a bad one with its
   message, so that `cnndyn run` stops before training rather than at its prediction stage. */
PetscErrorCode cdn_learner_options_check(void);
