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

PetscErrorCode cdn_xgb_fit(const float *X, const float *y, int n, int d, void **booster)
{
  static const char *params[][2] = {
    {"objective", "reg:squarederror"}, {"booster", "gbtree"}, {"tree_method", "hist"}, {"max_bin", "32"}, {"max_depth", "3"},
    {"eta", "0.2"}, {"min_child_weight", "1"}, {"subsample", "1"}, {"colsample_bytree", "0.5"}, {"nthread", "1"}, {"seed", "0"}, {"verbosity", "0"}};
  DMatrixHandle dtr;
  BoosterHandle b;

  PetscFunctionBeginUser;
  xgb_quiet_once();
  XGB(XGDMatrixCreateFromMat(X, n, d, NAN, &dtr));
  XGB(XGDMatrixSetFloatInfo(dtr, "label", y, n));
  XGB(XGBoosterCreate(&dtr, 1, &b));
  for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) XGB(XGBoosterSetParam(b, params[i][0], params[i][1]));
  for (int it = 0; it < 50; it++) XGB(XGBoosterUpdateOneIter(b, it, dtr));
  XGB(XGDMatrixFree(dtr));
  *booster = b;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_xgb_predict(void *booster, const float *X, int n, int d, double *pred)
{
  DMatrixHandle dte;
  bst_ulong     len;
  const float  *out;

  PetscFunctionBeginUser;
  xgb_quiet_once();
  XGB(XGDMatrixCreateFromMat(X, n, d, NAN, &dte));
  XGB(XGBoosterPredict(booster, dte, 0, 0, 0, &len, &out));
  PetscCheck((int)len == n, PETSC_COMM_SELF, PETSC_ERR_LIB, "xgboost: %d predictions for %d rows", (int)len, n);
  for (int i = 0; i < n; i++) pred[i] = out[i];
  XGB(XGDMatrixFree(dte));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_xgb_fit_fold(const cdn_fold_t *f, cdn_fitted_t *m)
{
  float *Xtr, *ytr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2((size_t)f->ntr * f->d + 1, &Xtr, f->ntr + 1, &ytr));
  to_float(f->X, f->d, f->train, f->ntr, Xtr);
  for (int i = 0; i < f->ntr; i++) ytr[i] = (float)f->y[f->train[i]];
  PetscCall(cdn_xgb_fit(Xtr, ytr, f->ntr, f->d, &m->booster));
  PetscCall(PetscFree2(Xtr, ytr));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_xgb_predict_rows(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *pred, int *cls)
{
  float *Xf;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1((size_t)nr * m->d + 1, &Xf));
  to_float(X, m->d, rows, nr, Xf);
  PetscCall(cdn_xgb_predict(m->booster, Xf, nr, m->d, pred));
  for (int i = 0; i < nr; i++) cls[i] = cdn_fitted_bin(m, pred[i]);
  PetscCall(PetscFree(Xf));
  PetscFunctionReturn(0);
}
