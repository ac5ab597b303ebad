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
  double majority; /* majority-class rate of the labels: the accuracy of always guessing it */
} cdn_metrics_t;

typedef enum {
  /* Ridge regression for the label and L2-regularised logistic regression (liblinear) for the
     class, on features passed through a signed log, standardised on the training folds, test
     values clipped to the training range, non-finite values imputed with the training mean. */
  CDN_LEARNER_LINEAR,
  /* One column taken as the prediction itself: tau uses it raw; R^2 and MAE use a least-squares
     line fitted on the training folds; the class uses one threshold fitted on the training folds. */
  CDN_LEARNER_SCORE
} cdn_learner_t;

typedef struct {
  int           n;     /* models */
  const double *y;     /* label: final test accuracy */
  const int    *group; /* configuration id: replicates of a configuration stay in one fold */
  int           folds;
  uint64_t      seed;
  double        ridge_lambda;
  double        logistic_c;
} cdn_predict_problem_t;

/* k-fold cross-validation: every model is predicted by a learner that never saw its group.
   X is n x d, row-major. pred (n) and pred_class (n, 0 or 1) receive out-of-fold predictions. */
PetscErrorCode cdn_predict_cv(const cdn_predict_problem_t *pb, cdn_learner_t learner, int d, const double *X,
                              double *pred, int *pred_class, cdn_metrics_t *m);

/* Class of each label: 1 if above the median of all labels, else 0. */
void cdn_median_classes(const double *y, int n, int *cls);
/* Fold of each model (0..k-1), groups kept whole, assignment shuffled by seed. */
void   cdn_folds_grouped(int n, const int *group, int k, uint64_t seed, int *fold);
double cdn_kendall_tau(const double *a, const double *b, int n);
double cdn_r2(const double *y, const double *pred, int n);
double cdn_mae(const double *y, const double *pred, int n);
