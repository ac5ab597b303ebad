/* Unpacks the per-model records gathered at the root into model-id order. */
#include <math.h>
#include "cnndyn/run.h"
#include "run_internal.h"

PetscErrorCode cdn_results_from_records(const cdn_jobspec_t *spec, int first, int nrec, const double *recs, int nfeat,
                                        cdn_results_t *res)
{
  const int E = spec->epochs, len = cdn_record_length(E, nfeat);
  char     *seen;

  PetscFunctionBeginUser;
  res->nmodels = nrec;
  res->epochs  = E;
  res->nfeat   = nfeat;
  PetscCall(PetscCalloc1(nrec, &res->config));
  PetscCall(PetscCalloc1(nrec, &res->status));
  PetscCall(PetscCalloc1(nrec, &res->diverged_epoch));
  PetscCall(PetscCalloc1(nrec, &res->epochs_done));
  PetscCall(PetscCalloc1(nrec, &res->rank));
  PetscCall(PetscMalloc1(nrec, &res->test_acc));
  PetscCall(PetscMalloc1((size_t)nrec * (E + 1) * CDN_CURVE_COLS, &res->curves));
  PetscCall(PetscMalloc1((size_t)nrec * (E + 1) * CDN_TIME_COLS, &res->timing));
  PetscCall(PetscMalloc1((size_t)nrec * (E + 1) * nfeat + 1, &res->features));
  PetscCall(PetscCalloc1(nrec, &seen));
  for (int i = 0; i < nrec; i++) {
    const double *rec = recs + (size_t)i * len;
    int           m   = (int)rec[REC_MODEL] - first; /* the index; config[m].id is the model id */
    PetscCheck(m >= 0 && m < nrec, PETSC_COMM_SELF, PETSC_ERR_PLIB, "record %d names model %d, not one of %d..%d", i,
               m + first, first, first + nrec - 1);
    PetscCheck(!seen[m], PETSC_COMM_SELF, PETSC_ERR_PLIB, "model %d arrived twice in the gather", m + first);
    seen[m] = 1;
    cdn_population_config(spec, m + first, &res->config[m]);
    res->status[m]         = (cdn_status_t)rec[REC_STATUS];
    res->diverged_epoch[m] = (int)rec[REC_DIVERGED_EPOCH];
    res->epochs_done[m]    = (int)rec[REC_EPOCHS_DONE];
    res->rank[m]           = (int)rec[REC_RANK];
    res->test_acc[m]       = rec[REC_TEST_ACC];
    for (int e = 0; e <= E; e++) {
      const double *src = rec + REC_HEADER;
      for (int j = 0; j < CDN_CURVE_COLS; j++) cdn_results_curve(res, m, e)[j] = src[e * CDN_CURVE_COLS + j];
      src += (E + 1) * CDN_CURVE_COLS;
      for (int j = 0; j < CDN_TIME_COLS; j++) cdn_results_time(res, m, e)[j] = src[e * CDN_TIME_COLS + j];
      src += (E + 1) * CDN_TIME_COLS;
      for (int j = 0; j < nfeat; j++) cdn_results_features(res, m, e)[j] = src[e * nfeat + j];
    }
  }
  /* nrec records with distinct ids in [first, first + nrec): every model arrived exactly once */
  PetscCall(PetscFree(seen));
  PetscFunctionReturn(0);
}
