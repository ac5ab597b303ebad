/* Learner settings from the options database (-cnndyn_xgb_*, -cnndyn_svr_tol): the defaults are
   what the predictions used before the options existed (unset and set to the default give the same
   bits), a changed value changes the fit, and a bad value is refused with one message naming the
   option. */
#include "check.h"
#include "cnndyn/predict.h"
#include "cnndyn/util.h"

enum { N = 80, D = 3 };
static double X[N * D], y[N];
static int    group[N];

static PetscErrorCode cv(cdn_learner_t l, double *pred)
{
  int                   cls[N];
  cdn_metrics_t         m;
  cdn_predict_problem_t pb = {.n = N, .y = y, .group = group, .folds = 5, .seed = 3, .ridge_lambda = 1,
                              .logistic_c = 1, .inner_folds = 3};

  PetscFunctionBeginUser;
  PetscCall(cdn_predict_cv(&pb, l, D, X, pred, cls, &m));
  PetscFunctionReturn(0);
}

static int same(const double *a, const double *b) { return !memcmp(a, b, sizeof(double) * N); }

/* name set to the default, then to other: the first must give ref's bits, the second others. */
static void changes(cdn_learner_t l, const char *name, const char *dflt, const char *other, const double *ref)
{
  double pred[N];

  CHECK(PetscOptionsSetValue(NULL, name, dflt) == 0);
  CHECK(cv(l, pred) == 0);
  CHECK(same(pred, ref));
  CHECK(PetscOptionsSetValue(NULL, name, other) == 0);
  CHECK(cv(l, pred) == 0);
  if (same(pred, ref)) fprintf(stderr, "%s %s changed no prediction\n", name, other);
  CHECK(!same(pred, ref));
  CHECK(PetscOptionsClearValue(NULL, name) == 0);
}

static void refused(cdn_learner_t l, const char *name, const char *value, const char *message)
{
  double pred[N];

  CHECK(PetscOptionsSetValue(NULL, name, value) == 0);
  CHECK(cdn_error_push_quiet() == 0);
  CHECK(cv(l, pred) == CDN_ERR_INPUT);
  CHECK(cdn_error_pop_quiet() == 0);
  CHECK_CONTAINS(cdn_error_message(), message);
  CHECK(PetscOptionsClearValue(NULL, name) == 0);
}

int main(int argc, char **argv)
{
  double    xgb[N], svr[N];
  cdn_rng_t r;

  PetscCall(cdn_initialize(&argc, &argv, NULL));
  cdn_rng_seed(&r, 7, 0);
  for (int i = 0; i < N; i++) {
    double x = 6 * cdn_rng_uniform(&r) - 3;
    group[i] = i / 2;
    X[i * D] = x, X[i * D + 1] = cdn_rng_normal(&r), X[i * D + 2] = cdn_rng_uniform(&r);
    y[i] = 0.5 + 0.3 * exp(-x * x) + 0.05 * X[i * D + 2] + 0.01 * cdn_rng_normal(&r);
  }
  PetscCall(cv(CDN_LEARNER_XGB, xgb));
  PetscCall(cv(CDN_LEARNER_SVR, svr));
  changes(CDN_LEARNER_XGB, "-cnndyn_xgb_rounds", "50", "5", xgb);
  changes(CDN_LEARNER_XGB, "-cnndyn_xgb_max_depth", "3", "1", xgb);
  changes(CDN_LEARNER_XGB, "-cnndyn_xgb_colsample", "0.5", "1", xgb);
  changes(CDN_LEARNER_XGB, "-cnndyn_xgb_max_bin", "32", "4", xgb);
  changes(CDN_LEARNER_SVR, "-cnndyn_svr_tol", "0.01", "0.5", svr);
  refused(CDN_LEARNER_XGB, "-cnndyn_xgb_rounds", "0", "-cnndyn_xgb_rounds: '0' is not an integer in [1, 10000]");
  refused(CDN_LEARNER_XGB, "-cnndyn_xgb_max_depth", "3.5", "-cnndyn_xgb_max_depth: '3.5' is not an integer in [1, 20]");
  refused(CDN_LEARNER_XGB, "-cnndyn_xgb_colsample", "abc", "-cnndyn_xgb_colsample: 'abc' is not a number in [0.01, 1]");
  refused(CDN_LEARNER_XGB, "-cnndyn_xgb_max_bin", "1", "-cnndyn_xgb_max_bin: '1' is not an integer in [2, 4096]");
  refused(CDN_LEARNER_SVR, "-cnndyn_svr_tol", "0", "-cnndyn_svr_tol: '0' is not a number in [1e-12, 1]");
  PetscCall(cdn_finalize());
  return CHECK_STATUS();
}
