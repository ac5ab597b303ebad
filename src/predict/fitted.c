/* A learner fitted once and kept: cross-validation fits one per fold and predicts the fold's test
   rows with it; a saved predictor (saved.c) is the same state written to a file. One code path for
   both is what makes a saved predictor score a model exactly as the fold's learner would. */
#include <xgboost/c_api.h>
#include "predict_impl.h"

int cdn_fitted_bin(const cdn_fitted_t *m, double v)
{
  int c = 0;
  for (int t = 0; t < m->ncuts; t++) c += v > m->cuts[t];
  return c;
}

/* MAJORITY: the training mean and the most frequent training class (ties: the lowest class). */
static PetscErrorCode majority_fit(const cdn_fold_t *f, cdn_fitted_t *m)
{
  int *count;

  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1(f->nclasses, &count));
  m->b0 = 0, m->cls = 0;
  for (int i = 0; i < f->ntr; i++) {
    m->b0 += f->y[f->train[i]] / f->ntr;
    if (f->cls[f->train[i]] >= 0 && f->cls[f->train[i]] < f->nclasses) count[f->cls[f->train[i]]]++;
  }
  for (int c = 1; c < f->nclasses; c++)
    if (count[c] > count[m->cls]) m->cls = c;
  PetscCall(PetscFree(count));
  PetscFunctionReturn(0);
}

static PetscErrorCode fit_learner(const cdn_fold_t *f, cdn_learner_t learner, cdn_fitted_t *m)
{
  PetscFunctionBeginUser;
  PetscCheck(f->nclasses - 1 <= (int)(sizeof m->cuts / sizeof m->cuts[0]), PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ,
             "predict: %d classes, at most 9", f->nclasses);
  m->ncuts = f->nclasses - 1;
  if (f->thresholds)
    for (int t = 0; t < m->ncuts; t++) m->cuts[t] = f->thresholds[t];
  else PetscCall(cdn_quantile_cuts(f->y, f->train, f->ntr, f->nclasses, m->cuts)); /* the training labels' own */
  switch (learner) {
  case CDN_LEARNER_LINEAR: PetscCall(cdn_linear_fit(f, m)); break;
  case CDN_LEARNER_SCORE: PetscCall(cdn_score_fit(f, m)); break;
  case CDN_LEARNER_SVR: PetscCall(cdn_svr_fit(f, m)); break;
  case CDN_LEARNER_XGB: PetscCall(cdn_xgb_fit_fold(f, m)); break;
  case CDN_LEARNER_MAJORITY: PetscCall(majority_fit(f, m)); break;
  default: SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "predict: unknown learner %d", (int)learner);
  }
  PetscFunctionReturn(0);
}

/* On failure *out is NULL: whatever the learner had built is freed. */
PetscErrorCode cdn_fitted_fit(const cdn_fold_t *f, cdn_learner_t learner, cdn_fitted_t **out)
{
  cdn_fitted_t  *m;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCall(PetscNew(&m));
  m->learner = learner, m->d = f->d;
  ierr       = fit_learner(f, learner, m);
  if (ierr) (void)cdn_fitted_destroy(&m);
  PetscCall(ierr);
  *out = m;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_fitted_predict(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *pred,
                                  int *pred_class)
{
  PetscFunctionBeginUser;
  switch (m->learner) {
  case CDN_LEARNER_LINEAR: PetscCall(cdn_linear_predict(m, X, rows, nr, pred, pred_class)); break;
  case CDN_LEARNER_SCORE: PetscCall(cdn_score_predict(m, X, rows, nr, pred, pred_class)); break;
  case CDN_LEARNER_SVR: PetscCall(cdn_svr_predict(m, X, rows, nr, pred, pred_class)); break;
  case CDN_LEARNER_XGB: PetscCall(cdn_xgb_predict_rows(m, X, rows, nr, pred, pred_class)); break;
  case CDN_LEARNER_MAJORITY:
    for (int i = 0; i < nr; i++) pred[i] = m->b0, pred_class[i] = m->cls;
    break;
  default: SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "predict: unknown learner %d", (int)m->learner);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_fitted_destroy(cdn_fitted_t **mp)
{
  cdn_fitted_t *m = mp ? *mp : NULL;

  PetscFunctionBeginUser;
  if (!m) PetscFunctionReturn(0);
  if (m->sc.col) PetscCall(cdn_scaler_free(&m->sc));
  if (m->learner == CDN_LEARNER_SVR) PetscCall(PetscFree2(m->w, m->sv));
  else PetscCall(PetscFree(m->w));
  PetscCall(PetscFree(m->label));
  PetscCall(PetscFree(m->lw));
  if (m->booster) XGBoosterFree(m->booster);
  PetscCall(PetscFree(*mp));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_fitted_fold_rank(const cdn_fold_t *f, cdn_learner_t learner, double *pred, int *pred_class,
                                    double *rank)
{
  cdn_fitted_t *m;
  double       *p, *r;
  int         *c;

  PetscFunctionBeginUser;
  PetscCall(cdn_fitted_fit(f, learner, &m));
  PetscCall(PetscMalloc3(f->nte + 1, &p, f->nte + 1, &c, f->nte + 1, &r));
  PetscCall(cdn_fitted_predict(m, f->X, f->test, f->nte, p, c));
  if (learner == CDN_LEARNER_SCORE) cdn_score_rank(m, f->X, f->test, f->nte, r);
  else PetscCall(PetscArraycpy(r, p, f->nte));
  for (int i = 0; i < f->nte; i++) {
    pred[f->test[i]] = p[i], pred_class[f->test[i]] = c[i];
    if (rank) rank[f->test[i]] = r[i];
  }
  PetscCall(PetscFree3(p, c, r));
  PetscCall(cdn_fitted_destroy(&m));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_fitted_fold(const cdn_fold_t *f, cdn_learner_t learner, double *pred, int *pred_class)
{
  PetscFunctionBeginUser;
  PetscCall(cdn_fitted_fold_rank(f, learner, pred, pred_class, NULL));
  PetscFunctionReturn(0);
}
