/* CDN_LEARNER_XGB on one fold: gradient-boosted regression trees (XGBoost C API). Trees need no
   scaling and order-invariant splits make the signed log pointless; non-finite values and values
   beyond float range go in as missing, which XGBoost routes by a learned default direction. One
   thread and a fixed seed make the fit identical on every rank. */
#include <math.h>
#include <xgboost/c_api.h>
#include "predict_impl.h"

#define XGB(call) PetscCheck((call) == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "xgboost: %s", XGBGetLastError())

static void quiet(const char *s) { (void)s; }

static void xgb_quiet_once(void)
{
  static int done = 0;
  if (done) return;
  XGBRegisterLogCallback(quiet);
  XGBSetGlobalConfig("{\"verbosity\": 0}");
  done = 1;
}

static PetscErrorCode to_float(const cdn_fold_t *f, const int *rows, int nr, float *out)
{
  PetscFunctionBeginUser;
  for (int r = 0; r < nr; r++)
    for (int j = 0; j < f->d; j++) {
      double v = f->X[(size_t)rows[r] * f->d + j];
      out[(size_t)r * f->d + j] = isfinite(v) && fabs(v) < 1e30 ? (float)v : NAN;
    }
  PetscFunctionReturn(0);
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

void cdn_xgb_to_float(const double *X, int n, int d, float *out)
{
  for (size_t i = 0; i < (size_t)n * d; i++) out[i] = isfinite(X[i]) && fabs(X[i]) < 1e30 ? (float)X[i] : NAN;
}

PetscErrorCode cdn_xgb_fold(const cdn_fold_t *f, double *pred, int *pred_class)
{
  float  *Xtr, *Xte, *ytr;
  double *out, med;
  void   *b;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3((size_t)f->ntr * f->d, &Xtr, (size_t)(f->nte > 0 ? f->nte : 1) * f->d, &Xte, f->ntr, &ytr));
  PetscCall(PetscMalloc1(f->nte + 1, &out));
  PetscCall(to_float(f, f->train, f->ntr, Xtr));
  PetscCall(to_float(f, f->test, f->nte, Xte));
  for (int i = 0; i < f->ntr; i++) ytr[i] = (float)f->y[f->train[i]];
  PetscCall(cdn_xgb_fit(Xtr, ytr, f->ntr, f->d, &b));
  PetscCall(cdn_xgb_predict(b, Xte, f->nte, f->d, out));
  XGB(XGBoosterFree(b));
  med = cdn_fold_train_median(f);
  for (int i = 0; i < f->nte; i++) pred[f->test[i]] = out[i], pred_class[f->test[i]] = cdn_fold_bin(f, med, out[i]);
  PetscCall(PetscFree(out));
  PetscCall(PetscFree3(Xtr, Xte, ytr));
  PetscFunctionReturn(0);
}
