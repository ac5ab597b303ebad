/* Per-model cost of the run module's machinery, measured on the functions runs use:
   taking a model id from the shared counter (cdn_sched_next) and gathering records at the root
   (cdn_gather_records). Usage: mpirun -n R bench_scale_overhead [MODELS] [RECORD_DOUBLES]
   Prints microseconds per model for each, as seen by the slowest rank. */
#include <stdlib.h>
#include "cnndyn/util.h"
#include "run_internal.h"

int main(int argc, char **argv)
{
  PetscMPIInt rank, size;
  int         models, len, mine = 0;
  double      t, t_sched, t_gather, *recs, *all = NULL;
  cdn_sched_t sched;
  long        m;

  PetscCall(cdn_initialize(&argc, &argv, NULL));
  models = argc > 1 ? atoi(argv[1]) : 100000;
  len    = argc > 2 ? atoi(argv[2]) : 531; /* a quickstart record */
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));

  /* Every rank takes ids as fast as it can: the counter's worst case, with no training between. */
  PetscCall(cdn_sched_create(PETSC_COMM_WORLD, 0, &sched));
  t = MPI_Wtime();
  for (;;) {
    PetscCall(cdn_sched_next(&sched, &m));
    if (m >= models) break;
    mine++;
  }
  t = MPI_Wtime() - t;
  PetscCall(cdn_sched_destroy(&sched));
  PetscCallMPI(MPI_Reduce(&t, &t_sched, 1, MPI_DOUBLE, MPI_MAX, 0, PETSC_COMM_WORLD));

  /* The gather of every record at the root, as at the end of a run. */
  PetscCall(PetscCalloc1((size_t)mine * len + 1, &recs));
  if (rank == 0) PetscCall(PetscMalloc1((size_t)models * len + 1, &all));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  t = MPI_Wtime();
  PetscCall(cdn_records_gather(PETSC_COMM_WORLD, size, len, recs, mine, all));
  t = MPI_Wtime() - t;
  PetscCallMPI(MPI_Reduce(&t, &t_gather, 1, MPI_DOUBLE, MPI_MAX, 0, PETSC_COMM_WORLD));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "ranks %d models %d record %d doubles: scheduling %.3f us/model (%.3f s), gather %.3f us/model "
                        "(%.3f s, %.1f MB at the root)\n",
                        size, models, len, 1e6 * t_sched / models, t_sched, 1e6 * t_gather / models, t_gather,
                        models * (double)len * 8 / 1e6));
  PetscCall(PetscFree(recs));
  PetscCall(PetscFree(all));
  PetscCall(cdn_finalize());
  return 0;
}
