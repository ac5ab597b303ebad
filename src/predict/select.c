/* The inner half of nested selection: how well a learner does on the inner folds of one outer
   training side, so that the best row of a family can be chosen there and scored on the outer test
   fold it never saw (headline.c). Only the training side's labels are read. */
#include <math.h>
#include "predict_impl.h"

/* Selection fits use the learners' default hyperparameters (no search inside the inner folds): a
   search there would multiply the stage's cost by the inner fold count again, and any fixed rule
   that reads no test label keeps the selection honest. */
PetscErrorCode cdn_select_score(const cdn_fold_t *outer, cdn_learner_t learner, const double *raw, double *score)
{
  int        ntr = outer->ntr, n = outer->ntr + outer->nte, k, *fold, *tr, *te, *cls, *pc, *idx;
  int        raw_only = learner == CDN_LEARNER_SCORE && outer->d == 1; /* one score column needs no fit */
  double    *all, *r, *y, *a, *b, cuts[8];
  cdn_fold_t f = *outer;

  PetscFunctionBeginUser;
  *score = learner == CDN_LEARNER_MAJORITY ? 0 : NAN; /* the majority learner orders nothing */
  if (learner == CDN_LEARNER_MAJORITY) PetscFunctionReturn(0);
  f.inner_folds = outer->inner_folds >= 2 ? outer->inner_folds : 3;
  PetscCall(PetscMalloc6(ntr, &fold, ntr, &tr, ntr, &te, n, &cls, n, &pc, ntr, &idx));
  PetscCall(PetscMalloc5(n, &all, ntr, &r, ntr, &y, ntr, &a, ntr, &b));
  PetscCall(cdn_inner_folds(&f, fold, &k));
  f.inner_folds = 0, f.train = tr, f.test = te, f.cls = cls, f.thresholds = cuts;
  for (int g = 0; g < k && k >= 2 && !raw_only; g++) {
    f.ntr = f.nte = 0;
    for (int i = 0; i < ntr; i++) {
      if (fold[i] == g) te[f.nte++] = outer->train[i];
      else tr[f.ntr++] = outer->train[i];
    }
    if (outer->train_cuts) PetscCall(cdn_quantile_cuts(outer->y, tr, f.ntr, f.nclasses, cuts));
    else PetscCall(PetscArraycpy(cuts, outer->thresholds, f.nclasses - 1));
    for (int i = 0; i < ntr; i++) {
      int m  = outer->train[i];
      cls[m] = outer->train_cuts ? cdn_class_of(outer->y[m], cuts, f.nclasses) : outer->cls[m];
    }
    PetscCall(cdn_fitted_fold_rank(&f, learner, all, pc, all)); /* what the tau metrics rank */
  }
  if (k >= 2) {
    for (int i = 0; i < ntr; i++) {
      int m = outer->train[i];
      r[i] = raw_only ? raw[m] : all[m];
      y[i] = outer->y[m];
    }
    *score = cdn_tau_within(r, y, fold, k, ntr, idx, a, b);
  }
  PetscCall(PetscFree5(all, r, y, a, b));
  PetscCall(PetscFree6(fold, tr, te, cls, pc, idx));
  PetscFunctionReturn(0);
}
