/* The end of training: every rank's records into the root's results table, a chunk at a time. */
#include "cnndyn/results.h"
#include "cnndyn/util.h"
#include "records_impl.h"

#define CHUNK_BYTES (4 << 20) /* what the root holds besides the table */

PetscErrorCode cdn_records_gather(MPI_Comm comm, const cdn_jobspec_t *spec, int first, int nfeat, const double *mine,
                                  int nmine, cdn_results_t *res)
{
  const int      len   = cdn_record_length(spec->epochs, nfeat);
  const int      chunk = len * (int)sizeof(double) < CHUNK_BYTES ? CHUNK_BYTES / (len * (int)sizeof(double)) : 1;
  PetscMPIInt    rank, size;
  MPI_Datatype   record;
  char          *seen = NULL;
  double        *buf  = NULL;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (rank == 0) {
    ierr = PetscMalloc1((size_t)chunk * len, &buf);
    if (!ierr) ierr = PetscCalloc1(res->nmodels + 1, &seen);
  }
  /* the senders start once the root can take every chunk */
  ierr = cdn_error_share(comm, ierr);
  if (ierr) {
    PetscCall(PetscFree(buf));
    PetscCall(PetscFree(seen));
    PetscCall(ierr);
  }
  /* Counted in records, not doubles: records x doubles per record overflows an int long before the
     population limit (1000 epochs make a record of 75k doubles). */
  PetscCallMPI(MPI_Type_contiguous(len, MPI_DOUBLE, &record));
  PetscCallMPI(MPI_Type_commit(&record));
  if (rank == 0) {
    for (int i = 0; i < nmine && !ierr; i++) ierr = cdn_results_fill_put(spec, first, NULL, mine + (size_t)i * len, seen, res);
    /* every chunk is received even after an error: the senders must not wait for ever */
    for (int r = 1; r < size; r++) {
      int n;
      PetscCallMPI(MPI_Recv(&n, 1, MPI_INT, r, 0, comm, MPI_STATUS_IGNORE));
      for (int at = 0; at < n; at += chunk) {
        int c = n - at < chunk ? n - at : chunk;
        PetscCallMPI(MPI_Recv(buf, c, record, r, 1, comm, MPI_STATUS_IGNORE));
        for (int i = 0; i < c && !ierr; i++) ierr = cdn_results_fill_put(spec, first, NULL, buf + (size_t)i * len, seen, res);
      }
    }
    if (!ierr) ierr = cdn_results_fill_end(res, &seen);
    PetscCall(PetscFree(seen));
    PetscCall(PetscFree(buf));
  } else {
    PetscCallMPI(MPI_Send(&nmine, 1, MPI_INT, 0, 0, comm));
    for (int at = 0; at < nmine; at += chunk)
      PetscCallMPI(MPI_Send(mine + (size_t)at * len, nmine - at < chunk ? nmine - at : chunk, record, 0, 1, comm));
  }
  PetscCallMPI(MPI_Type_free(&record));
  PetscCall(cdn_error_share(comm, ierr));
  PetscFunctionReturn(0);
}
