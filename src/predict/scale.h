#pragma once
/* Per-fold feature transform: signed log, impute, clip, standardise (see scale.c). */
#include <petscsys.h>

typedef struct {
  int     d, kept; /* input columns; columns kept (finite and not constant on the training rows) */
  int    *col;     /* kept column -> input column */
  double *mean, *std, *lo, *hi; /* per kept column, after the signed log; mean is also the fill */
} cdn_scaler_t;

PetscErrorCode cdn_scaler_fit(cdn_scaler_t *s, const double *X, int d, const int *rows, int nr);
/* Z is nr x s->kept, row-major. */
void           cdn_scaler_apply(const cdn_scaler_t *s, const double *X, const int *rows, int nr, double *Z);
PetscErrorCode cdn_scaler_destroy(cdn_scaler_t *s);
