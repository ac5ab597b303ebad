#pragma once
/* Filling a results table one record at a time (records.c), for cdn_results_from_records and the
   gather at the end of a run (gather.c), which never holds every record at once. */
#include "cnndyn/results.h"

/* With res allocated (cdn_results_alloc_models/_epochs) and seen zeroed (res->nmodels flags):
   record rec into its slot: model id - first, or with ids (ascending, n of them) its index there.
   A record naming a model outside the table, or one that arrived before, is an error. */
PetscErrorCode cdn_results_fill_put(const cdn_jobspec_t *spec, int first, const int *ids, const double *rec, char *seen,
                                    cdn_results_t *res);
/* Every slot filled exactly once, or an error; frees *seen either way. */
PetscErrorCode cdn_results_fill_end(cdn_results_t *res, char **seen);
