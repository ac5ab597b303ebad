#pragma once
/* A whole population run: data, training on every rank, gather at the root, prediction, reports. */
#include <petscsys.h>
#include "cnndyn/jobspec.h"
#include "cnndyn/results.h"

typedef struct {
  PetscBool force; /* write into a non-empty output folder */
  PetscBool quiet; /* no summary table on stdout */
  PetscBool resume; /* continue the run in outdir from its checkpoints (a new run if it has none) */
  const char *progress; /* ZeroMQ endpoint for progress, "" = off; NULL: the job spec's [cluster] progress */
  int part, nparts;     /* nparts > 0: train part `part` (0-based) of nparts contiguous model-id ranges only */
} cdn_run_options_t;

/* Exit status of `cnndyn run` when a stop was requested (SIGTERM, SIGUSR1): every finished epoch is
   checkpointed and `--resume` continues; batch scripts requeue on it (EX_TEMPFAIL). */
#define CDN_EXIT_RESUMABLE 75

/* Collective on comm. Ranks take models from a shared counter as they free up; each is
   trained, evaluated and turned into graph features by one rank alone, so every number is the
   same whatever the rank count. The root writes the CSVs into outdir. Every model is
   checkpointed at its epoch ends under outdir/checkpoints; on SIGTERM or SIGUSR1 each rank stops
   at its next epoch end and *stopped is true (no reports are written; resume with opt->resume). */
PetscErrorCode cdn_run(MPI_Comm comm, const cdn_jobspec_t *spec, const char *outdir, const cdn_run_options_t *opt,
                       PetscBool *stopped);

/* Per-model record exchanged between ranks: its length in doubles for a spec and feature count. */
int cdn_record_length(int epochs, int nfeat);

/* Part `part` (0-based) of nparts: model ids [*first, *end) of a population of N, contiguous ranges
   whose sizes differ by at most one, in id order. */
void cdn_run_part_range(int N, int part, int nparts, int *first, int *end);

/* Collective on comm. Merges the folders of finished part runs (`run --part I/N`) of one job spec
   into the run folder out, equal to a single run's: the parts' rows of models.csv, curves.csv,
   features.csv and timing.csv in model-id order, job.ini, features_columns.csv, snapshots (hard
   links, copies across file systems), then the prediction stage as `cnndyn predict out` runs it.
   Parts of different job specs, unfinished parts, and ids missing or covered twice are
   CDN_ERR_INPUT naming the ids and folders, before anything is written. out must be absent or
   empty; it is built under a temporary name beside it and renamed into place when whole. */
PetscErrorCode cdn_run_merge(MPI_Comm comm, int nparts, char *const *parts, const char *out, PetscBool quiet);
