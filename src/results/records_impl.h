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

/* Doubles in a table's per-epoch arrays (curves, timing, features) for n models, E epochs and nfeat
   feature columns. */
size_t cdn_results_epoch_doubles(int n, int E, int nfeat);
/* As cdn_results_alloc_epochs, but the three arrays lie in map (mapped_bytes of a shared mapping,
   at least cdn_results_epoch_doubles of them), which the table then owns; nothing is written to
   it. */
PetscErrorCode cdn_results_map_epochs(cdn_results_t *res, int E, int nfeat, void *map, size_t mapped_bytes);
