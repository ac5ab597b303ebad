/* The end of training: every rank's records to the root, in any order (records name their model). */
#include "cnndyn/results.h"

PetscErrorCode cdn_records_gather(MPI_Comm comm, int size, int len, const double *mine, int nmine, double *all)
{
  PetscMPIInt  rank;
  int         *counts = NULL, *displs = NULL;
  MPI_Datatype record;

  PetscFunctionBeginUser;
  /* Counted in records, not doubles: records x doubles per record overflows an int long before the
     population limit (1000 epochs make a record of 75k doubles). */
  PetscCallMPI(MPI_Type_contiguous(len, MPI_DOUBLE, &record));
  PetscCallMPI(MPI_Type_commit(&record));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) PetscCall(PetscMalloc2(size, &counts, size, &displs));
  PetscCallMPI(MPI_Gather(&nmine, 1, MPI_INT, counts, 1, MPI_INT, 0, comm));
  if (rank == 0)
    for (int r = 0, off = 0; r < size; r++) displs[r] = off, off += counts[r];
  PetscCallMPI(MPI_Gatherv(mine, nmine, record, all, counts, displs, record, 0, comm));
  if (rank == 0) PetscCall(PetscFree2(counts, displs));
  PetscCallMPI(MPI_Type_free(&record));
  PetscFunctionReturn(0);
}
