/* The learners added for issue 8 (SVR, boosted trees, majority, inner cross-validation, class
   tasks) and the rank metrics: known relations recovered, hand-computed values, a leakage check,
   and a population with a NaN model, an exploded one and a constant feature through every learner. */
#include "check.h"
#include "cnndyn/predict.h"
#include "cnndyn/util.h"

static void test_metrics(void)
{
  double a[5] = {1, 2, 3, 4, 5}, b[5] = {2, 1, 4, 3, 5}, t[4] = {1, 1, 2, 3}, u[4] = {1, 2, 3, 4};
  /* rho = 1 - 6 sum d^2 / (n (n^2 - 1)) = 1 - 6 * 4 / 120 = 0.8 */
  CHECK_CLOSE(cdn_spearman(a, b, 5), 0.8, 1e-12);
  /* ties share rank 1.5: ranks (1.5, 1.5, 3, 4) against (1, 2, 3, 4): r = 4.5 / sqrt(4.5 * 5) */
  CHECK_CLOSE(cdn_spearman(t, u, 4), 4.5 / sqrt(4.5 * 5), 1e-12);
  int    c1[4] = {0, 0, 1, 1}, c2[4] = {0, 1, 0, 1};
  double s[4] = {0.1, 0.4, 0.35, 0.8}, st[4] = {0.5, 0.5, 0.5, 0.5};
  CHECK_CLOSE(cdn_auc(c1, s, 4), 0.75, 1e-12); /* 3 of 4 positive-negative pairs ordered */
  CHECK_CLOSE(cdn_auc(c2, st, 4), 0.5, 1e-12);   /* all tied: half each */
  CHECK(isnan(cdn_auc((int[]){1, 1, 1, 1}, s, 4)));
  double y[5] = {0.5, 0.9, 0.7, 0.8, 0.1}, p[5] = {0.9, 0.2, 0.8, 0.1, NAN};
  CHECK_CLOSE(cdn_regret(y, p, 5, 0), 0.4, 1e-12);   /* predicted best is model 0 (0.5) */
  CHECK_CLOSE(cdn_regret(y, p, 5, 0.4), 0.2, 1e-12); /* top 2: models 0, 2 -> 0.7 */
  CHECK_CLOSE(cdn_regret(y, y, 5, 0), 0.0, 1e-12);
  int tr[6] = {0, 1, 2, 2, 1, 0}, pr[6] = {0, 1, 2, 1, 1, 2};
  /* class 0: tp1 fn1 -> 2/3; class 1: tp2 fp1 -> 4/5; class 2: tp1 fp1 fn1 -> 1/2 */
  CHECK_CLOSE(cdn_f1_macro(tr, pr, 6, 3), (2.0 / 3 + 0.8 + 0.5) / 3, 1e-12);
}

static cdn_predict_problem_t problem(int n, const double *y, const int *group)
{
  return (cdn_predict_problem_t){.n = n, .y = y, .group = group, .folds = 5, .seed = 3, .ridge_lambda = 1,
                                 .logistic_c = 1, .inner_folds = 3};
}

/* y = sin-shaped function of one column: linear in neither the column nor its log, so only the
   non-linear learners should find it; a pure noise column beside it. */
static PetscErrorCode test_nonlinear(void)
{
  enum { N = 120, D = 3 };
  static double X[N * D], y[N], pred[N];
  int           group[N], cls[N];
  cdn_metrics_t m;
  cdn_rng_t     r;

  PetscFunctionBeginUser;
  cdn_rng_seed(&r, 11, 0);
  for (int i = 0; i < N; i++) {
    double x = 6 * cdn_rng_uniform(&r) - 3;
    group[i] = i / 2;
    X[i * D] = x, X[i * D + 1] = cdn_rng_normal(&r), X[i * D + 2] = 5;
    y[i] = 0.5 + 0.3 * exp(-x * x) + 0.01 * cdn_rng_normal(&r); /* a bump: best in the middle */
  }
  cdn_predict_problem_t pb = problem(N, y, group);
  PetscCall(cdn_predict_cv(&pb, CDN_LEARNER_SVR, D, X, pred, cls, &m));
  CHECK(m.tau > 0.6 && m.r2 > 0.8 && m.accuracy > 0.85);
  CHECK(m.tau_fold > 0.5 && m.spearman > 0.8 && m.auc > 0.9 && m.regret1 < 0.05);
  PetscCall(cdn_predict_cv(&pb, CDN_LEARNER_XGB, D, X, pred, cls, &m));
  CHECK(m.tau > 0.6 && m.r2 > 0.8 && m.accuracy > 0.85);
  PetscCall(cdn_predict_cv(&pb, CDN_LEARNER_LINEAR, D, X, pred, cls, &m));
  CHECK(m.r2 < 0.2); /* the bump is invisible to a line */
  PetscCall(cdn_predict_cv(&pb, CDN_LEARNER_MAJORITY, D, X, pred, cls, &m));
  CHECK(m.r2 < 0.05 && isnan(m.regret1)); /* fold means differ a little: tau is noise */

  /* terciles through explicit classes and thresholds */
  double th[2] = {0.55, 0.7};
  for (int i = 0; i < N; i++) cls[i] = (y[i] > th[0]) + (y[i] > th[1]);
  int tc[N];
  pb.nclasses = 3, pb.cls = cls, pb.thresholds = th;
  PetscCall(cdn_predict_cv(&pb, CDN_LEARNER_XGB, D, X, pred, tc, &m));
  CHECK(m.accuracy > 0.8 && isnan(m.auc) && m.majority < 0.7);
  PetscCall(cdn_predict_cv(&pb, CDN_LEARNER_LINEAR, D, X, pred, tc, &m));
  for (int i = 0; i < N; i++) CHECK(tc[i] >= 0 && tc[i] <= 2);
  PetscFunctionReturn(0);
}

/* Permuting the labels of one fold's models changes no prediction made for the other folds'
   models' training... more directly: the prediction of a test model does not depend on its own
   label. Changing the labels of test models alone leaves their predictions unchanged when every
   model is its own fold: the fit for a model sees every label but its own. */
static PetscErrorCode test_leakage(void)
{
  enum { N = 40, D = 2 };
  double X[N * D], y[N], y2[N], p1[N], p2[N];
  int    c1[N], c2[N], fold[N];
  cdn_metrics_t m;
  cdn_rng_t     r;

  PetscFunctionBeginUser;
  cdn_rng_seed(&r, 12, 0);
  for (int i = 0; i < N; i++) X[i * D] = cdn_rng_normal(&r), X[i * D + 1] = cdn_rng_normal(&r), y[i] = X[i * D] + 0.1 * cdn_rng_normal(&r);
  cdn_predict_problem_t pb = problem(N, y, NULL);
  cdn_folds_grouped(N, NULL, pb.folds, pb.seed, fold);
  for (cdn_learner_t l = CDN_LEARNER_LINEAR; l < CDN_LEARNER_COUNT; l++) {
    if (l == CDN_LEARNER_SCORE) continue;
    /* permute the labels inside fold 0: its models' predictions must not move */
    for (int i = 0; i < N; i++) y2[i] = y[i];
    int idx[N], k = 0;
    for (int i = 0; i < N; i++)
      if (fold[i] == 0) idx[k++] = i;
    for (int i = 0; i < k; i++) y2[idx[i]] = y[idx[(i + 1) % k]];
    /* the classes are fixed by the caller so that only the labels move */
    int cls[N];
    double th[1] = {0};
    for (int i = 0; i < N; i++) cls[i] = y[i] > 0;
    pb.nclasses = 2, pb.cls = cls, pb.thresholds = th, pb.y = y;
    PetscCall(cdn_predict_cv(&pb, l, D, X, p1, c1, &m));
    pb.y = y2;
    PetscCall(cdn_predict_cv(&pb, l, D, X, p2, c2, &m));
    for (int i = 0; i < k; i++) CHECK(p1[idx[i]] == p2[idx[i]] && c1[idx[i]] == c2[idx[i]]);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode test_robust(void)
{
  enum { N = 40, D = 4 };
  double        X[N * D], y[N], pred[N], s[N];
  int           cls[N];
  cdn_metrics_t m;
  cdn_rng_t     r;

  PetscFunctionBeginUser;
  cdn_rng_seed(&r, 13, 0);
  for (int i = 0; i < N; i++) {
    y[i]         = cdn_rng_uniform(&r);
    X[i * D + 0] = 3.0;
    X[i * D + 1] = y[i] + 0.01 * cdn_rng_normal(&r);
    X[i * D + 2] = cdn_rng_normal(&r);
    X[i * D + 3] = y[i] > 0.5 ? 1e-3 : 2e-3;
  }
  for (int j = 0; j < D; j++) X[5 * D + j] = NAN, X[6 * D + j] = 1e18; /* diverged, exploded */
  y[5] = y[6] = 0.1;
  for (int i = 0; i < N; i++) s[i] = X[i * D + 1];
  for (cdn_learner_t l = 0; l < CDN_LEARNER_COUNT; l++) {
    int d = l == CDN_LEARNER_SCORE ? 1 : D;
    cdn_predict_problem_t pb = problem(N, y, NULL);
    PetscCall(cdn_predict_cv(&pb, l, d, l == CDN_LEARNER_SCORE ? s : X, pred, cls, &m));
    for (int i = 0; i < N; i++) CHECK(isfinite(pred[i]));
    if (l != CDN_LEARNER_MAJORITY && l != CDN_LEARNER_SCORE) CHECK(m.tau > 0.5);
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscCall(cdn_initialize(&argc, &argv, NULL));
  test_metrics();
  PetscCall(test_nonlinear());
  PetscCall(test_leakage());
  PetscCall(test_robust());
  PetscCall(cdn_finalize());
  return CHECK_STATUS();
}
