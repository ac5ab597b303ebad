/* The results table's one allocator, and the ways to fill it from per-model records: the gather
   at the end of a run, a decision during a run (src/run/prune.c), a subset for the prediction
   stage. The CSV reader (load.c) and the broadcast (bcast.c) allocate through the same calls. */
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include "cnndyn/model.h"
#include "cnndyn/results.h"
#include "records_impl.h"

const char *cdn_status_name(cdn_status_t s)
{
  return s == CDN_STATUS_DIVERGED ? "diverged" : s == CDN_STATUS_PRUNED ? "pruned" : "ok";
}

int cdn_record_length(int epochs, int nfeat)
{
  return REC_HEADER + (epochs + 1) * (CDN_CURVE_COLS + CDN_TIME_COLS + nfeat);
}

PetscErrorCode cdn_results_create(cdn_results_t **res)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(res));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_alloc_models(cdn_results_t *res, int n)
{
  PetscFunctionBeginUser;
  res->nmodels = n;
  PetscCall(PetscCalloc1(n + 1, &res->config));
  PetscCall(PetscCalloc1(n + 1, &res->status));
  PetscCall(PetscCalloc1(n + 1, &res->diverged_epoch));
  PetscCall(PetscCalloc1(n + 1, &res->epochs_done));
  PetscCall(PetscCalloc1(n + 1, &res->rank));
  PetscCall(PetscCalloc1(n + 1, &res->pruned_epoch));
  PetscCall(PetscMalloc1(n + 1, &res->test_acc));
  PetscCall(PetscMalloc1(n + 1, &res->pruned_test_acc));
  for (int m = 0; m < n; m++) res->test_acc[m] = res->pruned_test_acc[m] = NAN;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_alloc_epochs(cdn_results_t *res, int E, int nfeat)
{
  const size_t cells = (size_t)res->nmodels * (E + 1);

  PetscFunctionBeginUser;
  res->epochs = E, res->nfeat = nfeat;
  PetscCall(PetscCalloc1(nfeat + 1, &res->columns));
  PetscCall(PetscMalloc1(cells * CDN_CURVE_COLS + 1, &res->curves));
  PetscCall(PetscCalloc1(cells * CDN_TIME_COLS + 1, &res->timing));
  PetscCall(PetscMalloc1(cells * nfeat + 1, &res->features));
  for (size_t i = 0; i < cells * CDN_CURVE_COLS; i++) res->curves[i] = NAN;
  for (size_t i = 0; i < cells * nfeat; i++) res->features[i] = NAN;
  PetscFunctionReturn(0);
}

size_t cdn_results_epoch_doubles(int n, int E, int nfeat)
{
  return (size_t)n * (E + 1) * (CDN_CURVE_COLS + CDN_TIME_COLS + nfeat);
}

PetscErrorCode cdn_results_map_epochs(cdn_results_t *res, int E, int nfeat, void *map, size_t mapped_bytes)
{
  const size_t cells = (size_t)res->nmodels * (E + 1);

  PetscFunctionBeginUser;
  PetscCheck(mapped_bytes >= sizeof(double) * cdn_results_epoch_doubles(res->nmodels, E, nfeat), PETSC_COMM_SELF,
             PETSC_ERR_ARG_SIZ, "results table: a mapping of %zu bytes is too small", mapped_bytes);
  res->epochs = E, res->nfeat = nfeat;
  PetscCall(PetscCalloc1(nfeat + 1, &res->columns));
  res->mapped = map, res->mapped_bytes = mapped_bytes;
  res->curves   = map;
  res->timing   = res->curves + cells * CDN_CURVE_COLS;
  res->features = res->timing + cells * CDN_TIME_COLS;
  PetscFunctionReturn(0);
}

/* Record rec into model slot m of res. */
static void unpack(const cdn_jobspec_t *spec, const double *rec, int m, cdn_results_t *res)
{
  const int E = res->epochs, nfeat = res->nfeat;
  double   *r = (double *)rec; /* the accessors take a mutable record; nothing is written */

  cdn_population_config(spec, (int)rec[REC_MODEL], &res->config[m]);
  res->status[m]          = (cdn_status_t)rec[REC_STATUS];
  res->diverged_epoch[m]  = (int)rec[REC_DIVERGED_EPOCH];
  res->epochs_done[m]     = (int)rec[REC_EPOCHS_DONE];
  res->rank[m]            = (int)rec[REC_RANK];
  res->test_acc[m]        = rec[REC_TEST_ACC];
  res->pruned_epoch[m]    = (int)rec[REC_PRUNED_EPOCH];
  res->pruned_test_acc[m] = rec[REC_PRUNED_TEST_ACC];
  for (int e = 0; e <= E; e++) {
    memcpy(cdn_results_curve(res, m, e), cdn_record_curve(r, e), CDN_CURVE_COLS * sizeof(double));
    memcpy(cdn_results_time(res, m, e), cdn_record_time(r, E, e), CDN_TIME_COLS * sizeof(double));
    memcpy(cdn_results_features(res, m, e), cdn_record_features(r, E, nfeat, e), nfeat * sizeof(double));
  }
}

PetscErrorCode cdn_results_fill_put(const cdn_jobspec_t *spec, int first, const int *ids, const double *rec, char *seen,
                                    cdn_results_t *res)
{
  const int n  = res->nmodels;
  int       id = (int)rec[REC_MODEL], m = id - first; /* the slot; config[m].id is the model id */

  PetscFunctionBeginUser;
  if (ids) { /* binary search of the ascending list */
    int lo = 0, hi = n - 1;
    m = -1;
    while (lo <= hi) {
      int mid = (lo + hi) / 2;
      if (ids[mid] == id) { m = mid; break; }
      if (ids[mid] < id) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  PetscCheck(m >= 0 && m < n, PETSC_COMM_SELF, PETSC_ERR_PLIB, "a record names model %d, not one of this table's", id);
  PetscCheck(!seen[m], PETSC_COMM_SELF, PETSC_ERR_PLIB, "model %d arrived twice", id);
  seen[m] = 1;
  unpack(spec, rec, m, res);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_fill_end(cdn_results_t *res, char **seen)
{
  int missing = -1;

  PetscFunctionBeginUser;
  for (int m = 0; m < res->nmodels && missing < 0; m++)
    if (!(*seen)[m]) missing = m;
  PetscCall(PetscFree(*seen));
  PetscCheck(missing < 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "table slot %d: no record arrived", missing);
  PetscFunctionReturn(0);
}

static PetscErrorCode from_records(const cdn_jobspec_t *spec, int first, const int *ids, int nrec, const double *recs,
                                   int nfeat, cdn_results_t *res)
{
  const int      len = cdn_record_length(spec->epochs, nfeat);
  char          *seen;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(cdn_results_alloc_models(res, nrec));
  PetscCall(cdn_results_alloc_epochs(res, spec->epochs, nfeat));
  PetscCall(PetscCalloc1(nrec + 1, &seen));
  for (int i = 0; i < nrec && !ierr; i++) ierr = cdn_results_fill_put(spec, first, ids, recs + (size_t)i * len, seen, res);
  if (!ierr) ierr = cdn_results_fill_end(res, &seen);
  else PetscCall(PetscFree(seen));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* *out from fill(out), or NULL with nothing held when fill fails. */
#define RESULTS_FILLED(out, fill) \
  do { \
    cdn_results_t *res_; \
    PetscErrorCode ierr_; \
    *(out) = NULL; \
    PetscCall(cdn_results_create(&res_)); \
    ierr_ = fill; \
    if (ierr_) { \
      PetscCall(cdn_results_destroy(&res_)); \
      PetscCall(ierr_); \
    } \
    *(out) = res_; \
  } while (0)

PetscErrorCode cdn_results_from_records(const cdn_jobspec_t *spec, int first, const int *ids, int nrec,
                                        const double *recs, int nfeat, cdn_results_t **res)
{
  PetscFunctionBeginUser;
  RESULTS_FILLED(res, from_records(spec, first, ids, nrec, recs, nfeat, res_));
  PetscFunctionReturn(0);
}

static PetscErrorCode select_into(const cdn_results_t *res, const char *keep, cdn_results_t *out)
{
  const int E = res->epochs, nfeat = res->nfeat;
  int       n = 0;

  PetscFunctionBeginUser;
  for (int m = 0; m < res->nmodels; m++) n += keep[m] != 0;
  PetscCall(cdn_results_alloc_models(out, n));
  PetscCall(cdn_results_alloc_epochs(out, E, nfeat));
  out->num_classes = res->num_classes;
  PetscCall(PetscArraycpy(out->columns, res->columns, nfeat));
  for (int m = 0, i = 0; m < res->nmodels; m++) {
    if (!keep[m]) continue;
    out->config[i]          = res->config[m];
    out->status[i]          = res->status[m];
    out->diverged_epoch[i]  = res->diverged_epoch[m];
    out->epochs_done[i]     = res->epochs_done[m];
    out->rank[i]            = res->rank[m];
    out->test_acc[i]        = res->test_acc[m];
    out->pruned_epoch[i]    = res->pruned_epoch[m];
    out->pruned_test_acc[i] = res->pruned_test_acc[m];
    PetscCall(PetscArraycpy(cdn_results_curve(out, i, 0), cdn_results_curve(res, m, 0), (size_t)(E + 1) * CDN_CURVE_COLS));
    PetscCall(PetscArraycpy(cdn_results_time(out, i, 0), cdn_results_time(res, m, 0), (size_t)(E + 1) * CDN_TIME_COLS));
    PetscCall(PetscArraycpy(cdn_results_features(out, i, 0), cdn_results_features(res, m, 0), (size_t)(E + 1) * nfeat));
    i++;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_select(const cdn_results_t *res, const char *keep, cdn_results_t **out)
{
  PetscFunctionBeginUser;
  RESULTS_FILLED(out, select_into(res, keep, res_));
  PetscFunctionReturn(0);
}

unsigned cdn_results_arch_mask(const cdn_results_t *res)
{
  unsigned mask = 0;
  for (int m = 0; m < res->nmodels; m++) {
    int a = cdn_arch_index(res->config[m].arch);
    if (a >= 0) mask |= 1u << a;
  }
  return mask;
}

/* What a table holds, not the table itself: cdn_results_finished swaps a table's contents. */
static PetscErrorCode free_arrays(cdn_results_t *res)
{
  void  *map   = res->mapped; /* a broadcast copy's per-epoch arrays (bcast.c) */
  size_t bytes = res->mapped_bytes;

  PetscFunctionBeginUser;
  if (map) res->mapped = NULL, res->curves = res->timing = res->features = NULL;
  PetscCall(PetscFree(res->config));
  PetscCall(PetscFree(res->status));
  PetscCall(PetscFree(res->diverged_epoch));
  PetscCall(PetscFree(res->epochs_done));
  PetscCall(PetscFree(res->rank));
  PetscCall(PetscFree(res->pruned_epoch));
  PetscCall(PetscFree(res->test_acc));
  PetscCall(PetscFree(res->pruned_test_acc));
  PetscCall(PetscFree(res->curves));
  PetscCall(PetscFree(res->timing));
  PetscCall(PetscFree(res->features));
  PetscCall(PetscFree(res->columns));
  PetscCheck(!map || munmap(map, bytes) == 0, PETSC_COMM_SELF, PETSC_ERR_SYS, "results table: munmap failed");
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_finished(cdn_results_t *res)
{
  cdn_results_t *kept;
  char          *keep;
  int            pruned = 0;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  for (int m = 0; m < res->nmodels; m++) pruned += res->status[m] == CDN_STATUS_PRUNED;
  if (!pruned) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(res->nmodels, &keep));
  for (int m = 0; m < res->nmodels; m++) keep[m] = res->status[m] != CDN_STATUS_PRUNED;
  ierr = cdn_results_select(res, keep, &kept);
  PetscCall(PetscFree(keep));
  PetscCall(ierr);
  kept->left_out = pruned;
  PetscCall(free_arrays(res));
  *res = *kept;
  PetscCall(PetscFree(kept));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_destroy(cdn_results_t **res)
{
  PetscFunctionBeginUser;
  if (!res || !*res) PetscFunctionReturn(0);
  PetscCall(free_arrays(*res));
  PetscCall(PetscFree(*res));
  PetscFunctionReturn(0);
}
