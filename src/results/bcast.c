/* The gathered results from the root to every rank, so that prediction tasks can run anywhere. */
#include "cnndyn/results.h"

/* Every rank's res has the root's shape (allocated on the others), then the arrays follow. */
static PetscErrorCode bcast(MPI_Comm comm, PetscMPIInt rank, cdn_results_t *res)
{
  int    hdr[4] = {res->nmodels, res->epochs, res->nfeat, res->num_classes};
  size_t cells;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Bcast(hdr, 4, MPI_INT, 0, comm));
  cells = (size_t)hdr[0] * (hdr[1] + 1);
  if (rank != 0) {
    res->num_classes = hdr[3];
    PetscCall(cdn_results_alloc_models(res, hdr[0]));
    PetscCall(cdn_results_alloc_epochs(res, hdr[1], hdr[2]));
  }
  PetscCallMPI(MPI_Bcast(res->columns, (int)sizeof(cdn_column_t) * hdr[2], MPI_BYTE, 0, comm));
  PetscCallMPI(MPI_Bcast(res->config, (int)(sizeof(cdn_model_config_t) * hdr[0]), MPI_BYTE, 0, comm));
  PetscCallMPI(MPI_Bcast(res->status, (int)(sizeof(cdn_status_t) * hdr[0]), MPI_BYTE, 0, comm));
  PetscCallMPI(MPI_Bcast(res->diverged_epoch, hdr[0], MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(res->epochs_done, hdr[0], MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(res->rank, hdr[0], MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(res->test_acc, hdr[0], MPI_DOUBLE, 0, comm));
  PetscCallMPI(MPI_Bcast(res->pruned_epoch, hdr[0], MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(res->pruned_test_acc, hdr[0], MPI_DOUBLE, 0, comm));
  PetscCallMPI(MPI_Bcast(res->curves, (int)(cells * CDN_CURVE_COLS), MPI_DOUBLE, 0, comm));
  PetscCallMPI(MPI_Bcast(res->timing, (int)(cells * CDN_TIME_COLS), MPI_DOUBLE, 0, comm));
  PetscCallMPI(MPI_Bcast(res->features, (int)(cells * hdr[2]), MPI_DOUBLE, 0, comm));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_bcast(MPI_Comm comm, cdn_results_t **res)
{
  PetscMPIInt    rank;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCheck(rank == 0 ? *res != NULL : *res == NULL, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE,
             "cdn_results_bcast: a table on the root and none elsewhere");
  if (rank != 0) PetscCall(cdn_results_create(res));
  ierr = bcast(comm, rank, *res);
  if (ierr && rank != 0) PetscCall(cdn_results_destroy(res));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
