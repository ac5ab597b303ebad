#pragma once
/* Everything a run learned about its population, gathered at the root in model-id order. This is
   what the predictors read and what the CSV reports print. */
#include "cnndyn/population.h"

typedef enum { CDN_STATUS_OK, CDN_STATUS_DIVERGED } cdn_status_t;

/* Per-epoch curve columns, epochs 0..E (epoch 0: the initial weights, no training loss). */
enum { CDN_CURVE_TRAIN_LOSS, CDN_CURVE_VAL_LOSS, CDN_CURVE_VAL_ACC, CDN_CURVE_COLS };
/* Per-epoch wall-clock columns; kept apart from the curves so that curves stay reproducible. */
enum { CDN_TIME_TRAIN, CDN_TIME_GRAPH, CDN_TIME_COLS };

typedef struct {
  int    nmodels;
  int    epochs; /* E */
  int    nfeat;
  int    num_classes;
  char (*feat_names)[64];

  cdn_model_config_t *config;         /* nmodels */
  cdn_status_t       *status;         /* nmodels */
  int                *diverged_epoch; /* nmodels; 0 when the model did not diverge */
  int                *epochs_done;    /* nmodels; epochs whose rows exist: 0..epochs_done */
  int                *rank;           /* nmodels; the rank that trained it */
  double             *test_acc;       /* nmodels; NaN for diverged models */
  double             *curves;         /* nmodels x (E+1) x CDN_CURVE_COLS, NaN where absent */
  double             *timing;         /* nmodels x (E+1) x CDN_TIME_COLS */
  double             *features;       /* nmodels x (E+1) x nfeat, NaN where absent */
} cdn_results_t;

static inline double *cdn_results_curve(const cdn_results_t *r, int m, int e)
{
  return r->curves + ((size_t)m * (r->epochs + 1) + e) * CDN_CURVE_COLS;
}
static inline double *cdn_results_time(const cdn_results_t *r, int m, int e)
{
  return r->timing + ((size_t)m * (r->epochs + 1) + e) * CDN_TIME_COLS;
}
static inline double *cdn_results_features(const cdn_results_t *r, int m, int e)
{
  return r->features + ((size_t)m * (r->epochs + 1) + e) * r->nfeat;
}
/* The label a predictor learns: final test accuracy; a diverged model would end at chance. */
static inline double cdn_results_label(const cdn_results_t *r, int m)
{
  return r->status[m] == CDN_STATUS_DIVERGED ? 1.0 / r->num_classes : r->test_acc[m];
}

#include <petscsys.h>
/* Reads a finished run's models.csv, curves.csv and features.csv from dir into res (root only), so
   that prediction can be rerun without training. Any missing file, unknown layout or unparsable
   number is CDN_ERR_OPEN / CDN_ERR_CORRUPT naming the file and line. num_classes is taken from the
   label of a diverged model (1/classes) when there is one, else 10. */
PetscErrorCode cdn_results_load(const char *dir, cdn_results_t *res);
/* cdn_results_load, refusing a part of a population (run --part: DIR/part.txt) with a message. */
PetscErrorCode cdn_results_load_whole(const char *dir, cdn_results_t *res);
/* Root's res (complete) to every rank of comm (others' res must be zeroed on entry). */
PetscErrorCode cdn_results_bcast(MPI_Comm comm, cdn_results_t *res);
/* Frees the arrays of a results struct however it was filled (gathered in a run, loaded from a
   run's CSVs, or broadcast); an empty struct is fine. */
PetscErrorCode cdn_results_destroy(cdn_results_t *res);
