#pragma once
/* Everything a run learned about its population, gathered at the root in model-id order. This is
   what the predictors read and what the CSV reports print. */
#include "cnndyn/column.h"
#include "cnndyn/population.h"

/* ok: trained to the last epoch; diverged: stopped by a non-finite training loss; pruned: stopped
   by the run's [pruning] policy at pruned_epoch (its final accuracy is unknown). */
typedef enum { CDN_STATUS_OK, CDN_STATUS_DIVERGED, CDN_STATUS_PRUNED } cdn_status_t;
const char *cdn_status_name(cdn_status_t s); /* "ok", "diverged", "pruned" */

/* Per-epoch curve columns, epochs 0..E (epoch 0: the initial weights, no training loss). */
enum { CDN_CURVE_TRAIN_LOSS, CDN_CURVE_VAL_LOSS, CDN_CURVE_VAL_ACC, CDN_CURVE_COLS };
/* Per-epoch wall-clock columns; kept apart from the curves so that curves stay reproducible. */
enum { CDN_TIME_TRAIN, CDN_TIME_GRAPH, CDN_TIME_COLS };

typedef struct {
  int    nmodels;
  int    epochs; /* E */
  int    nfeat;
  int    num_classes;
  cdn_column_t *columns; /* nfeat: what each feature column measures (names the CSV header) */

  cdn_model_config_t *config;         /* nmodels */
  cdn_status_t       *status;         /* nmodels */
  int                *diverged_epoch; /* nmodels; 0 when the model did not diverge */
  int                *epochs_done;    /* nmodels; epochs whose rows exist: 0..epochs_done */
  int                *rank;           /* nmodels; the rank that trained it */
  double             *test_acc;       /* nmodels; NaN for diverged and pruned models */
  /* [pruning]: the epoch at which the policy stopped the model (status pruned) or, in shadow mode,
     would have stopped it (status ok or diverged: it trained on); 0 when no decision stopped it.
     pruned_test_acc: the test accuracy at that epoch (NaN when pruned_epoch is 0). */
  int                *pruned_epoch;   /* nmodels */
  int                 left_out;       /* the prediction stage's table: pruned models it left out */
  double             *pruned_test_acc; /* nmodels */
  double             *curves;         /* nmodels x (E+1) x CDN_CURVE_COLS, NaN where absent */
  double             *timing;         /* nmodels x (E+1) x CDN_TIME_COLS */
  double             *features;       /* nmodels x (E+1) x nfeat, NaN where absent */
  /* When not NULL: curves, timing and features lie in this shared mapping of mapped_bytes (a
     broadcast table, src/results/bcast.c), read-only, which cdn_results_destroy unmaps. */
  void               *mapped;
  size_t              mapped_bytes;
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
/* The label a predictor learns: final test accuracy; a diverged model would end at chance; a
   pruned model has none (NaN): the prediction stage leaves pruned models out. */
static inline double cdn_results_label(const cdn_results_t *r, int m)
{
  return r->status[m] == CDN_STATUS_DIVERGED ? 1.0 / r->num_classes : r->test_acc[m];
}

/* ---- records: one model's results as one array of doubles, exchanged between ranks -------- */
/* Header, then per epoch 0..E the curve, then the timing, then the feature values. */
enum {
  REC_MODEL, REC_STATUS, REC_DIVERGED_EPOCH, REC_EPOCHS_DONE, REC_TEST_ACC, REC_RANK,
  REC_PRUNED_EPOCH,    /* see cdn_results_t.pruned_epoch */
  REC_PRUNED_TEST_ACC, /* see cdn_results_t.pruned_test_acc */
  REC_PRUNE_SCORE,     /* [pruning] policy = predictor: the predicted final accuracy at its epoch */
  REC_HEADER
};
/* Length in doubles of a record for E epochs and nfeat feature columns. */
int cdn_record_length(int epochs, int nfeat);
static inline double *cdn_record_curve(double *rec, int e) { return rec + REC_HEADER + e * CDN_CURVE_COLS; }
static inline double *cdn_record_time(double *rec, int epochs, int e)
{
  return rec + REC_HEADER + (epochs + 1) * CDN_CURVE_COLS + e * CDN_TIME_COLS;
}
static inline double *cdn_record_features(double *rec, int epochs, int nfeat, int e)
{
  return rec + REC_HEADER + (epochs + 1) * (CDN_CURVE_COLS + CDN_TIME_COLS) + e * nfeat;
}

#include <petscsys.h>
/* A results table is a handle: every function below that yields one allocates it and returns it
   through cdn_results_t **res (NULL after an error, with nothing held), and cdn_results_destroy
   frees it. */
/* Reads a finished run's models.csv, curves.csv and features.csv from dir into *res (root only), so
   that prediction can be rerun without training. Any missing file, unknown layout or unparsable
   number is CDN_ERR_OPEN / CDN_ERR_CORRUPT naming the file and line. num_classes is taken from the
   label of a diverged model (1/classes) when there is one, else 10. */
PetscErrorCode cdn_results_load(const char *dir, cdn_results_t **res);
/* cdn_results_load, refusing a part of a population (run --part: DIR/part.txt) with a message. */
PetscErrorCode cdn_results_load_whole(const char *dir, cdn_results_t **res);
/* Root's *res (complete) to every rank of comm; on the others *res must be NULL and is allocated
   here (NULL again after an error). The other ranks of a node hold one copy of the per-epoch arrays
   between them, mapped read-only (PETSc option -cnndyn_shared_table 0: a copy each); destroying
   a copy is local to its rank. */
PetscErrorCode cdn_results_bcast(MPI_Comm comm, cdn_results_t **res);
/* Reads cdn_results_bcast's options (-cnndyn_shared_table and its test hooks) and refuses a bad one
   with its message, so that `cnndyn run` stops before training rather than at its prediction stage. */
PetscErrorCode cdn_results_bcast_options_check(void);
/* An empty table (no models, no epochs), to be sized by the two calls below. */
PetscErrorCode cdn_results_create(cdn_results_t **res);
/* The per-model arrays of res for n models (zeroed; test accuracies NaN), then the per-epoch ones
   for res->nmodels models, E epochs and nfeat features (curves and features NaN, timing 0, names
   empty): every way of filling a results table (records, CSVs, broadcast) allocates through these. */
PetscErrorCode cdn_results_alloc_models(cdn_results_t *res, int n);
PetscErrorCode cdn_results_alloc_epochs(cdn_results_t *res, int E, int nfeat);
/* Fills *res (allocated here) from nrec records of models with ids first .. first + nrec - 1, in
   any order (each exactly once). ids NULL; or else the records' models are ids[0..nrec) (ascending)
   and res's model i is ids[i]. columns and num_classes are left to the caller. */
PetscErrorCode cdn_results_from_records(const cdn_jobspec_t *spec, int first, const int *ids, int nrec,
                                        const double *recs, int nfeat, cdn_results_t **res);
/* Collective: every rank's nmine records (in any order; each names its model) fill the root's
   table res of the models first .. first + res->nmodels - 1 (allocated by the root beforehand with
   cdn_results_create and cdn_results_alloc_models/_epochs; columns and num_classes are the
   caller's; other ranks' res unused, NULL is fine), received a chunk at a time: the root never holds the records besides the table. A
   model missing or arriving twice is an error on every rank. */
PetscErrorCode cdn_records_gather(MPI_Comm comm, const cdn_jobspec_t *spec, int first, int nfeat, const double *mine,
                                  int nmine, cdn_results_t *res);
/* The models of res with keep[m] set, in order, into *out (allocated here, names and classes
   copied). */
PetscErrorCode cdn_results_select(const cdn_results_t *res, const char *keep, cdn_results_t **out);
/* res without its pruned models (no final accuracy to learn or score against), left_out = how many
   were dropped; unchanged when it has none. In place: the handle stays the same. */
PetscErrorCode cdn_results_finished(cdn_results_t *res);
/* The architectures of res's models as a mask of cdn_arch_names (model.h); unknown or empty
   names (runs from before the column) add nothing. */
unsigned cdn_results_arch_mask(const cdn_results_t *res);
/* Frees a table and everything it holds however it was filled (gathered in a run, loaded from a
   run's CSVs, or broadcast); *res is NULL afterwards (NULL is fine). */
PetscErrorCode cdn_results_destroy(cdn_results_t **res);
