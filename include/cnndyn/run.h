#pragma once
/* A whole population run: data, training on every rank, gather at the root, prediction, reports. */
#include <petscsys.h>
#include "cnndyn/jobspec.h"
#include "cnndyn/results.h"

typedef struct {
  PetscBool force; /* write into a non-empty output folder */
  PetscBool quiet; /* no summary table on stdout */
} cdn_run_options_t;

/* Collective on comm. Ranks take models from a shared counter as they free up; each is
   trained, evaluated and turned into graph features by one rank alone, so every number is the
   same whatever the rank count. The root writes the CSVs into outdir. */
PetscErrorCode cdn_run(MPI_Comm comm, const cdn_jobspec_t *spec, const char *outdir, const cdn_run_options_t *opt);

/* Per-model record exchanged between ranks: its length in doubles for a spec and feature count. */
int cdn_record_length(int epochs, int nfeat);
