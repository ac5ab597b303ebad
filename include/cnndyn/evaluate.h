#pragma once
/* Which predictors a run compares, on which inputs: the graph summaries against the signals a
   practitioner already has, all on the same models, folds and epoch budget. */
#include "cnndyn/jobspec.h"
#include "cnndyn/predict.h"
#include "cnndyn/results.h"

#define CDN_MAX_METHODS 8

typedef struct {
  char          name[48];  /* "graph", "degree", "eigenvector", "val_acc" */
  char          input[96]; /* what it sees, for the report */
  int           budget;    /* epochs of training it may see */
  cdn_metrics_t metrics;
  double       *pred;       /* nmodels, out of fold */
  int          *pred_class; /* nmodels, out of fold */
} cdn_method_result_t;

typedef struct {
  int                 n;
  double             *label;       /* final test accuracy (chance for diverged models) */
  int                *label_class; /* 1 above the median label */
  int                 nmethods;
  cdn_method_result_t method[CDN_MAX_METHODS];
} cdn_evaluation_t;

PetscErrorCode cdn_evaluate(const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t *ev);
PetscErrorCode cdn_evaluation_free(cdn_evaluation_t *ev);
