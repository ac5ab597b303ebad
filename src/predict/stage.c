/* The prediction stage as one collective call, shared by `cnndyn run`, `cnndyn predict` and
   `cnndyn merge`: broadcast, evaluate, then the report writers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/report.h"
#include "cnndyn/util.h"

/* The values exactly as the CSVs print them (9 significant digits), so that `cnndyn predict` on
   the CSVs reproduces the run's own report byte for byte. */
static void as_printed(double *v, size_t n)
{
  char buf[40];
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i])) snprintf(buf, sizeof buf, "%.9g", v[i]), v[i] = strtod(buf, NULL);
}

/* A model pruned during the run has no final accuracy to learn or to score: the predictors are
   compared on the models that trained to the end ([pruning] shadow = true keeps them all). */
static PetscErrorCode leave_out_pruned(cdn_results_t *res)
{
  const int n = res->nmodels;

  PetscFunctionBeginUser;
  PetscCall(cdn_results_finished(res));
  PetscCheck(res->nmodels >= 2, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%d of %d models were pruned: too few trained to the end to compare predictors on", res->left_out, n);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_prediction_stage(MPI_Comm comm, const cdn_jobspec_t *spec, cdn_results_t **resp, const char *outdir,
                                    PetscBool prediction_only, PetscBool quiet)
{
  cdn_results_t   *res = *resp; /* the root's; the others' arrives with the broadcast */
  PetscMPIInt      rank;
  cdn_evaluation_t *ev;
  PetscErrorCode   ierr = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) ierr = leave_out_pruned(res);
  PetscCall(cdn_error_share(comm, ierr));
  if (rank == 0) {
    size_t cells = (size_t)res->nmodels * (res->epochs + 1);
    as_printed(res->test_acc, (size_t)res->nmodels);
    as_printed(res->curves, cells * CDN_CURVE_COLS);
    as_printed(res->features, cells * res->nfeat);
    for (int m = 0; m < res->nmodels; m++) as_printed(res->config[m].hp, CDN_HP_COUNT);
  }
  PetscCall(cdn_results_bcast(comm, resp));
  res = *resp;
  PetscCall(cdn_evaluate(comm, spec, res, &ev));
  if (rank == 0) {
    ierr = cdn_report_write(outdir, spec, res, ev, prediction_only);
    if (!ierr && !quiet) {
      cdn_report_print_summary(stdout, spec, res, ev);
      fflush(stdout);
    }
  }
  PetscCall(cdn_evaluation_destroy(&ev));
  PetscCall(cdn_error_share(comm, ierr));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_prediction_stage_dir(MPI_Comm comm, const cdn_jobspec_t *spec, const char *dir, PetscBool quiet)
{
  cdn_results_t *res = NULL;
  PetscMPIInt    rank;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    ierr = cdn_results_load_whole(dir, &res);
    if (!ierr && spec->budget > res->epochs)
      ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_INPUT, PETSC_ERROR_INITIAL,
                        "budget: %d is more than the run's %d epochs", spec->budget, res->epochs);
  }
  PetscCall(cdn_error_share(comm, ierr));
  PetscCall(cdn_prediction_stage(comm, spec, &res, dir, PETSC_TRUE, quiet));
  PetscCall(cdn_results_destroy(&res));
  PetscFunctionReturn(0);
}
