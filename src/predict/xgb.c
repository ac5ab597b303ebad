/* CDN_LEARNER_XGB on one fold: gradient-boosted regression trees (XGBoost C API). Trees need no
   scaling and order-invariant splits make the signed log pointless; non-finite values and values
   beyond float range go in as missing, which XGBoost routes by a learned default direction. One
   thread and a fixed seed make the fit identical on every rank. */
#include <math.h>
#include <xgboost/c_api.h>
#include "predict_impl.h"

#define XGB(call) PetscCheck((call) == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "xgboost: %s", cdn_xgb_error())

const char *cdn_xgb_error(void)
{
  static _Thread_local char line[512];
  snprintf(line, sizeof line, "%s", XGBGetLastError());
  line[strcspn(line, "\n")] = '\0'; /* one message line, not XGBoost's stack trace */
  return line;
}

static void quiet(const char *s) { (void)s; }

static void xgb_quiet_once(void)
{
  static int done = 0;
  if (done) return;
  XGBRegisterLogCallback(quiet);
  XGBSetGlobalConfig("{\"verbosity\": 0}");
  done = 1;
}

static void to_float(const double *X, int d, const int *rows, int nr, float *out)
{
  for (int r = 0; r < nr; r++)
    for (int j = 0; j < d; j++) {
      double v = X[(size_t)rows[r] * d + j];
      out[(size_t)r * d + j] = isfinite(v) && fabs(v) < 1e30 ? (float)v : NAN;
    }
}

/* The settings a study may change, as options of the PETSc options database with the prefix
   cnndyn_xgb_ (docs/cli.md): -cnndyn_xgb_rounds (boosting rounds, 50), -cnndyn_xgb_max_depth (3),
   -cnndyn_xgb_colsample (the fraction of features each tree sees, 0.5), -cnndyn_xgb_max_bin
   (histogram bins per feature, 32). The defaults are the ones every study so far used. */
typedef struct {
  int    rounds, max_depth, max_bin;
  double colsample;
} xgb_settings_t;

static PetscErrorCode xgb_settings(xgb_settings_t *s)
{
  PetscFunctionBeginUser;
  *s = (xgb_settings_t){.rounds = 50, .max_depth = 3, .max_bin = 32, .colsample = 0.5};
  PetscCall(cdn_option_int("cnndyn_xgb_", "-rounds", 1, 10000, &s->rounds));
  PetscCall(cdn_option_int("cnndyn_xgb_", "-max_depth", 1, 20, &s->max_depth));
  PetscCall(cdn_option_int("cnndyn_xgb_", "-max_bin", 2, 4096, &s->max_bin));
  PetscCall(cdn_option_real("cnndyn_xgb_", "-colsample", 0.01, 1, &s->colsample));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_xgb_fit(const float *X, const float *y, int n, int d, void **booster)
{
  char           bins[16], depth[16], colsample[32];
  const char    *params[][2] = {
    {"objective", "reg:squarederror"}, {"booster", "gbtree"}, {"tree_method", "hist"}, {"max_bin", bins}, {"max_depth", depth},
    {"eta", "0.2"}, {"min_child_weight", "1"}, {"subsample", "1"}, {"colsample_bytree", colsample}, {"nthread", "1"}, {"seed", "0"}, {"verbosity", "0"}};
  xgb_settings_t set;
  DMatrixHandle  dtr;
  BoosterHandle  b  = NULL;
  int            rc;

  PetscFunctionBeginUser;
  PetscCall(xgb_settings(&set));
  snprintf(bins, sizeof bins, "%d", set.max_bin);
  snprintf(depth, sizeof depth, "%d", set.max_depth);
  snprintf(colsample, sizeof colsample, "%.17g", set.colsample);
  xgb_quiet_once();
  XGB(XGDMatrixCreateFromMat(X, n, d, NAN, &dtr));
  /* past here every failure frees the matrix and the booster before it is reported */
  rc = XGDMatrixSetFloatInfo(dtr, "label", y, n);
  if (!rc) rc = XGBoosterCreate(&dtr, 1, &b);
  for (size_t i = 0; !rc && i < sizeof params / sizeof params[0]; i++) rc = XGBoosterSetParam(b, params[i][0], params[i][1]);
  for (int it = 0; !rc && it < set.rounds; it++) rc = XGBoosterUpdateOneIter(b, it, dtr);
  if (rc) {
    const char *msg = cdn_xgb_error(); /* copied before the frees below can replace it */
    if (b) XGBoosterFree(b);
    XGDMatrixFree(dtr);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "xgboost: %s", msg);
  }
  XGB(XGDMatrixFree(dtr));
  *booster = b;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_xgb_predict(void *booster, const float *X, int n, int d, double *pred)
{
  DMatrixHandle dte;
  bst_ulong     len = 0;
  const float  *out;
  int           rc;

  PetscFunctionBeginUser;
  xgb_quiet_once();
  XGB(XGDMatrixCreateFromMat(X, n, d, NAN, &dte));
  rc = XGBoosterPredict(booster, dte, 0, 0, 0, &len, &out);
  if (rc) {
    const char *msg = cdn_xgb_error();
    XGDMatrixFree(dte);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "xgboost: %s", msg);
  }
  for (int i = 0; i < n && i < (int)len; i++) pred[i] = out[i];
  XGB(XGDMatrixFree(dte)); /* out belongs to the booster, not to the matrix */
  PetscCheck((int)len == n, PETSC_COMM_SELF, PETSC_ERR_LIB, "xgboost: %d predictions for %d rows", (int)len, n);
  PetscFunctionReturn(0);
}

/* The fold's rows as the float matrix XGBoost takes, freed also when the fit fails. */
PetscErrorCode cdn_xgb_fit_fold(const cdn_fold_t *f, cdn_fitted_t *m)
{
  float         *Xtr, *ytr;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2((size_t)f->ntr * f->d + 1, &Xtr, f->ntr + 1, &ytr));
  to_float(f->X, f->d, f->train, f->ntr, Xtr);
  for (int i = 0; i < f->ntr; i++) ytr[i] = (float)f->y[f->train[i]];
  ierr = cdn_xgb_fit(Xtr, ytr, f->ntr, f->d, &m->booster);
  PetscCall(PetscFree2(Xtr, ytr));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_xgb_predict_rows(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *pred, int *cls)
{
  float         *Xf;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1((size_t)nr * m->d + 1, &Xf));
  to_float(X, m->d, rows, nr, Xf);
  ierr = cdn_xgb_predict(m->booster, Xf, nr, m->d, pred);
  PetscCall(PetscFree(Xf));
  PetscCall(ierr);
  for (int i = 0; i < nr; i++) cls[i] = cdn_fitted_bin(m, pred[i]);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_learner_options_check(void)
{
  xgb_settings_t s;
  double         tol;

  PetscFunctionBeginUser;
  PetscCall(xgb_settings(&s));
  PetscCall(cdn_svr_tol(&tol));
  PetscFunctionReturn(0);
}
