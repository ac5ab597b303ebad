#pragma once
/* Pieces of the predict module shared between its files; not part of the public API. */
#include "cnndyn/jobspec.h"
#include "cnndyn/evaluate.h"
#include "cnndyn/predict.h"
#include "cnndyn/util.h"
#include "scale.h"

/* Allocating versions of the public void functions, so cdn_predict_cv can report a failed
   allocation instead of silently working on a sentinel. */
PetscErrorCode cdn_median_classes_ex(const double *y, int n, int *cls);
PetscErrorCode cdn_folds_grouped_ex(int n, const int *group, int k, uint64_t seed, int *fold, int *k_used);
/* Numbers the groups of n rows in order of first appearance: ord[i] is row i's group's number
   (group NULL: every row its own), *ng how many; n log n. Folds and resamples depend on the row
   order this way, never on the ids. */
PetscErrorCode cdn_groups_in_order(int n, const int *group, int *ord, int *ng);

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
  const double *thresholds; /* nclasses - 1 label cuts (cls is y binned by them); NULL: the training
                               labels' quantiles */
  int           train_cuts; /* 1: the cuts are the training labels' quantiles, so an inner cross-
                               validation cuts again on each of its own training sides */
  int           inner_folds;
  uint64_t      seed;       /* for the inner folds */
  double        lambda, c;  /* used when inner_folds = 0 */
} cdn_fold_t;

/* Share of the commonest of classes 0..nclasses-1 in cls[0..n) (NaN for n = 0). */
double cdn_majority_rate_k(const int *cls, int n, int nclasses);
/* The commonest class among cls[rows[0..n)] (ties: the lowest): what the majority learner guesses. */
int    cdn_majority_class(const int *cls, const int *rows, int n, int nclasses);

/* Mean over folds 0..k-1 of Kendall tau-b within each fold (fold[i] of r[i], y[i]); a fold whose
   r is constant against varying y counts 0, a fold with constant y is skipped; NaN if none is
   left. idx, a, b: n scratch entries each. */
double cdn_tau_within(const double *r, const double *y, const int *fold, int k, int n, int *idx, double *a, double *b);
/* Nested selection's inner score of learner on the outer fold's training side: the within-fold
   tau of out-of-fold predictions over inner folds of that side (inner_folds, at least 2; 3 if
   unset), each fitted with default hyperparameters on its own inner training side and class cuts.
   raw: a score learner's ranking values by model (read at training rows only). NaN with fewer
   than 4 training models; 0 for the majority learner. */
PetscErrorCode cdn_select_score(const cdn_fold_t *outer, cdn_learner_t learner, const double *raw, double *score);

/* The fold shuffle of repeat q of a comparison seeded by seed (tasks and headlines agree on it). */
static inline uint64_t cdn_repeat_seed(uint64_t seed, int q) { return cdn_hash64(seed, 0x5265706561ull + (uint64_t)q); }

/* The bootstrap over configurations of subset s (resample.c): CDN_BOOTSTRAP resamples of the ns
   models' configurations (config[i], any ids) with replacement, seeded from seed and s only, so the
   headlines and the early-stopping curves see the same resamples at any rank count. Drawn one at a
   time (ns weights in memory, not CDN_BOOTSTRAP x ns: a zoo-sized subset would need gigabytes):
   cdn_resampler_next gives resample b, b counting the calls since create or restart, as w (ns):
   how often model i's configuration was drawn. ord (ns): each model's configuration numbered in
   order of first appearance; ng: how many configurations. */
typedef struct {
  cdn_rng_t rng;
  uint64_t  seed, stream;
  int       ns, ng, *ord, *cnt;
} cdn_resampler_t;
PetscErrorCode cdn_resampler_create(uint64_t seed, int s, int ns, const int *config, cdn_resampler_t **rs);
void           cdn_resampler_restart(cdn_resampler_t *rs);
void           cdn_resampler_next(cdn_resampler_t *rs, double *w);
PetscErrorCode cdn_resampler_destroy(cdn_resampler_t **rs);
/* The headlines' bootstrap on one ranking: within-fold tau of r (nq x ns, repeat q's at q * ns)
   against y over the folds (nq x ns, k folds) averaged over repeats (*tau), and its 95% interval
   computed exactly as a headline's (ctest predict_protocol simulates its coverage). */
PetscErrorCode cdn_bootstrap_tau_within(uint64_t seed, int ns, const int *config, int nq, const int *fold, int k,
                                        const double *r, const double *y, double *tau, double ci[2]);
/* Kendall tau-b of a against b over the models idx[0..m) of a fold, a pair counting w_i w_j (rep *
   w_i for two models of one configuration, grp); pairs with a zero weight or a non-finite value are
   left out. 0 when a is constant against varying b, NaN when b is constant; *tbw: the weight of
   the pairs whose b differ. O(m log m) (wtau.c); t->idx is the caller's to fill. */
typedef struct {
  int     n;
  int    *idx, *el, *perm, *rank, *grp;
  double *key, *tree;
} cdn_tau_work_t;
/* Room for folds of up to n models, allocated here (*t NULL after an error); destroy frees it all
   and sets *t NULL (NULL is fine). */
PetscErrorCode cdn_tau_work_create(int n, cdn_tau_work_t **t);
PetscErrorCode cdn_tau_work_destroy(cdn_tau_work_t **t);
double         cdn_weighted_tau(cdn_tau_work_t *t, int m, const double *a, const double *b, const double *w, const int *grp,
                                double rep, double *tbw);
/* The 2.5% and 97.5% percentiles of the finite values of v[0..n) (sorted in place; NaN if none). */
void           cdn_percentile_interval(double *v, int n, double ci[2]);
/* Argument checks shared by cdn_predict_cv and cdn_predict_split. */
PetscErrorCode cdn_predict_check(const cdn_predict_problem_t *pb, cdn_learner_t learner, int d);
/* Every metric of predictions over n models: r is the ranking score (the prediction, or a score
   learner's raw value), fold (k folds) gives tau within folds; fitted = 0 when nothing could be
   learned (one group): then only tau, spearman, auc and majority (and regret for score) are set.
   majority is stored as m->majority (the caller knows each fold's training side). A prediction that
   is constant against varying labels has tau and spearman 0, not NaN. */
PetscErrorCode cdn_metrics_fill(cdn_learner_t learner, int n, const double *y, const double *r, const double *pred,
                                const int *cls, const int *pred_class, int nclasses, const int *fold, int k,
                                int fitted, double majority, cdn_metrics_t *m);

/* Cuts at the quantiles t / nclasses (t = 1..nclasses-1, linear interpolation) of y[rows[i]],
   i < n (rows NULL: y[0..n)); 0 for no labels. The class task's cuts on a training side. */
PetscErrorCode cdn_quantile_cuts(const double *y, const int *rows, int n, int nclasses, double *th);
/* The class of y: how many of the nclasses - 1 cuts lie below it. */
int cdn_class_of(double y, const double *th, int nclasses);
/* The class task's cuts in label units on labels y: the job spec's thresholds, or the median /
   tercile cuts by linear interpolation of the sorted labels (0 for no labels). */
PetscErrorCode cdn_class_cuts(const cdn_jobspec_t *spec, const double *y, int n, int *nclasses, double *th);

/* Inner grouped folds over the training rows of f: fold[i] for train[i], k_used folds. */
PetscErrorCode cdn_inner_folds(const cdn_fold_t *f, int *fold, int *k_used);

/* A learner fitted once on a fold's training rows and kept, so that it can predict any rows later:
   each learner's fold is its fit, then its predict on the test rows (fitted.c), and a saved
   predictor (saved.c) is this state written to a file. Fields a learner does not use stay zero. */
typedef struct {
  cdn_learner_t learner;
  int           d;        /* input columns */
  int           ncuts;    /* the class of a regression prediction: how many cuts lie below it */
  double        cuts[8];  /* f->thresholds, or the training labels' median when there are none */
  double        hp[2];    /* chosen by the inner CV: LINEAR lambda and C; SVR C and gamma (per feature) */
  double        b0;       /* LINEAR ridge and MAJORITY: the training mean; SVR: -rho; SCORE: the line at 0 */
  cdn_scaler_t  sc;       /* LINEAR, SVR: the feature preparation fitted on the training rows */
  int           nw;       /* LINEAR: sc.width ridge weights; SVR: support vectors */
  double       *w;        /* LINEAR: ridge weights; SVR: dual coefficients */
  double       *sv;       /* SVR: nw x sc.width prepared support vectors */
  int           nlabel;   /* LINEAR logistic: liblinear's classes; 1 = the one training class */
  int          *label;
  double       *lw;       /* LINEAR logistic: (sc.width + 1) x (nlabel == 2 ? 1 : nlabel), bias last */
  double        fill, slope, lo, hi, t; /* SCORE: missing-score fill, line, clip range, class cut */
  int           cls;      /* SCORE: direction of the cut (+1, -1); MAJORITY: the majority class */
  int           col;      /* SCORE: the column read (several columns: the one whose Kendall tau with the
                             training labels is largest in size) */
  double        sgn;      /* SCORE: +1, or -1 when that column ranks the training labels backwards */
  void         *booster;  /* XGB: BoosterHandle */
} cdn_fitted_t;

/* Fit learner on f's training rows (f->test unused) into *m, allocated here (NULL after an error,
   nothing held); predict rows[0..nr) of X (d columns); destroy frees it all and sets *m NULL (NULL
   is fine). */
PetscErrorCode cdn_fitted_fit(const cdn_fold_t *f, cdn_learner_t learner, cdn_fitted_t **m);
PetscErrorCode cdn_fitted_predict(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *pred,
                                  int *pred_class);
PetscErrorCode cdn_fitted_destroy(cdn_fitted_t **m);
/* A fold through cdn_fitted_fit and cdn_fitted_predict: pred[f->test[i]], pred_class[f->test[i]]. */
PetscErrorCode cdn_fitted_fold(const cdn_fold_t *f, cdn_learner_t learner, double *pred, int *pred_class);
/* The same, and rank[f->test[i]] = what the tau metrics rank: a score learner's raw value of its
   column (cdn_score_rank), the prediction otherwise. */
PetscErrorCode cdn_fitted_fold_rank(const cdn_fold_t *f, cdn_learner_t learner, double *pred, int *pred_class,
                                    double *rank);
/* A score learner's ranking value of rows: sgn times its column, the training mean where not finite. */
void cdn_score_rank(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *r);
/* The class of v: the number of m->cuts below it. */
int cdn_fitted_bin(const cdn_fitted_t *m, double v);

/* A fitted learner's state as the payload of a saved predictor (*buf of *len bytes, free()), and
   back into *m, allocated here: learner and d come from the file's header; a payload that does not
   match them is CDN_ERR_CORRUPT naming path (*m NULL, nothing held). */
PetscErrorCode cdn_fitted_payload(const cdn_fitted_t *m, char **buf, size_t *len);
PetscErrorCode cdn_fitted_parse(const char *path, const char *buf, size_t len, cdn_learner_t learner, int d,
                                cdn_fitted_t **m);
/* Saved predictor files (saved.c): the header and payload written whole, or read back with every
   header field checked (the payload is then parsed by cdn_fitted_parse). */
PetscErrorCode cdn_predictor_write(const char *path, cdn_method_t method, cdn_learner_t learner, int k, int d,
                                   const char *families, const char *fitted_on, const cdn_fitted_t *m);
PetscErrorCode cdn_predictor_read(const char *path, cdn_predictor_info_t *info, int *width, char *families,
                                  size_t families_len, char **buf, size_t *len);

/* XGBoost's last error, its first line only (the rest is XGBoost's stack trace). */
const char *cdn_xgb_error(void);

/* Each learner's part of cdn_fitted_fit / cdn_fitted_predict. */
/* The linear and SVR learners' features (linear.c): the rows of X through the scaler into a new
   nr x sc->width array *Z the caller frees; cdn_prepared_rows fits sc on f's training rows first. */
PetscErrorCode cdn_scaler_rows(const cdn_scaler_t *sc, const double *X, const int *rows, int nr, double **Z);
PetscErrorCode cdn_prepared_rows(cdn_scaler_t *sc, const cdn_fold_t *f, double **Z);
PetscErrorCode cdn_linear_fit(const cdn_fold_t *f, cdn_fitted_t *m);
PetscErrorCode cdn_linear_predict(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *pred, int *cls);
/* -cnndyn_svr_tol (1e-2 unless given), checked against its range. */
PetscErrorCode cdn_svr_tol(double *tol);
PetscErrorCode cdn_svr_fit(const cdn_fold_t *f, cdn_fitted_t *m);
PetscErrorCode cdn_svr_predict(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *pred, int *cls);
PetscErrorCode cdn_score_fit(const cdn_fold_t *f, cdn_fitted_t *m);
PetscErrorCode cdn_score_predict(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *pred, int *cls);
PetscErrorCode cdn_xgb_fit_fold(const cdn_fold_t *f, cdn_fitted_t *m);
PetscErrorCode cdn_xgb_predict_rows(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *pred, int *cls);

/* Boosted trees on float rows (XGBoost's input): fit on n rows, predict n rows. The booster is an
   XGBoost BoosterHandle (XGBoosterFree). */
PetscErrorCode cdn_xgb_fit(const float *X, const float *y, int n, int d, void **booster);
PetscErrorCode cdn_xgb_predict(void *booster, const float *X, int n, int d, double *pred);
