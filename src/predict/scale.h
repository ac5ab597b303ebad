#pragma once
/* Per-fold feature transform: signed log, impute, clip, standardise (see scale.c). */
#include <petscsys.h>

typedef struct {
  int     d, kept; /* input columns; columns kept (finite and not constant on the training rows) */
  int    *col;     /* kept column -> input column */
  double *mean, *std, *lo, *hi; /* per kept column, after the signed log; mean is also the fill */
  /* Missing indicators: one 0/1 column per distinct pattern of non-finite values on the training
     rows (a diverged model is missing everywhere: one indicator, not one per feature), centred and
     scaled like the others. */
  int     nind, width; /* width = kept + nind: the columns of Z */
  int    *ind_col;
  double *ind_mean, *ind_std;
} cdn_scaler_t;

/* A part of cdn_fitted_t (its member sc), never an object of its own: no create or destroy.
   cdn_scaler_alloc gives it room for d input columns, nothing kept yet (cdn_scaler_fit fills it, so
   does a saved predictor being read, saved.c); cdn_scaler_free frees those arrays and is called by
   cdn_fitted_destroy alone. */
PetscErrorCode cdn_scaler_alloc(cdn_scaler_t *s, int d);
PetscErrorCode cdn_scaler_fit(cdn_scaler_t *s, const double *X, int d, const int *rows, int nr);
/* Z is nr x s->width, row-major. */
void           cdn_scaler_apply(const cdn_scaler_t *s, const double *X, const int *rows, int nr, double *Z);
PetscErrorCode cdn_scaler_free(cdn_scaler_t *s);
