#pragma once
/* Pieces of the run module shared between its files. */
#include "cnndyn/data.h"
#include "cnndyn/jobspec.h"
#include "cnndyn/population.h"
#include "cnndyn/results.h"

/* Record layout (doubles): header, then per epoch 0..E the curve, timing and feature values. */
enum { REC_MODEL, REC_STATUS, REC_DIVERGED_EPOCH, REC_EPOCHS_DONE, REC_TEST_ACC, REC_RANK, REC_HEADER };

typedef struct {
  PetscLogStage train, evaluate, graph, snapshot;
} cdn_stages_t;

/* The shared model counter (schedule.c). */
typedef struct {
  MPI_Win win;
  long   *base;
} cdn_sched_t;

/* Collective: the counter starts at first. */
PetscErrorCode cdn_sched_create(MPI_Comm comm, int first, cdn_sched_t *s);
/* The next model id for this rank (ids past the population mean: no work left). */
PetscErrorCode cdn_sched_next(cdn_sched_t *s, long *model);
/* Asks every rank to stop after its current epoch; any rank may poll. */
PetscErrorCode cdn_sched_raise_stop(cdn_sched_t *s);
PetscErrorCode cdn_sched_stop_raised(cdn_sched_t *s, PetscBool *stop);
/* Collective. */
PetscErrorCode cdn_sched_destroy(cdn_sched_t *s);

/* Checks that outdir is absent, empty, or (force) holds no snapshots that this run would write over. */
PetscErrorCode cdn_outdir_check(const char *outdir, PetscBool force, PetscBool snapshots);
/* Trains one model and fills its record (length cdn_record_length). log may be NULL. */
PetscErrorCode cdn_train_model(const cdn_jobspec_t *spec, const cdn_data_t *data, const cdn_model_config_t *cfg,
                               const char *outdir, const cdn_stages_t *stages, int rank, int nfeat, FILE *log,
                               double *rec);
/* Root: fills res from all records (any order). */
PetscErrorCode cdn_results_from_records(const cdn_jobspec_t *spec, int nrec, const double *recs, int nfeat,
                                        cdn_results_t *res);
PetscErrorCode cdn_results_free(cdn_results_t *res);
