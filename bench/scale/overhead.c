/* Per-model cost of the run module's machinery, measured on the functions runs use:
   taking a model id from the shared counter (cdn_sched_next) and gathering records at the root
   into the results table (cdn_records_gather). Usage: mpirun -n R bench_scale_overhead [MODELS] [RECORD_DOUBLES]
   Prints microseconds per model for each, as seen by the slowest rank. */
#include <stdlib.h>
#include "cnndyn/util.h"
#include "run_internal.h"

int main(int argc, char **argv)
{
  PetscMPIInt rank, size;
  int           models, len, nfeat, mine = 0;
  double        t, t_sched, t_gather, *recs;
  cdn_sched_t  *sched;
  cdn_jobspec_t spec;
  cdn_results_t *res = NULL;
  long          m, *ids;
  char          ini[256];

  PetscCall(cdn_initialize(&argc, &argv, NULL));
  models = argc > 1 ? atoi(argv[1]) : 100000;
  len    = argc > 2 ? atoi(argv[2]) : 531; /* a quickstart record */
  /* one epoch: a record is its header and two rows of curve, timing and nfeat feature values */
  nfeat = (len - REC_HEADER) / 2 - CDN_CURVE_COLS - CDN_TIME_COLS;
  nfeat = nfeat < 1 ? 1 : nfeat, len = cdn_record_length(1, nfeat);
  snprintf(ini, sizeof ini, "[population]\nlearning_rate = loguniform(0.001, 0.1)\nsamples = %d\n[training]\nepochs = 1\n[features]\nbudget = 1\n", models);
  PetscCall(cdn_jobspec_parse_string("overhead", ini, &spec));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));

  /* Every rank takes ids as fast as it can: the counter's worst case, with no training between. */
  PetscCall(cdn_sched_create(PETSC_COMM_WORLD, 0, &sched));
  PetscCall(PetscMalloc1(models + 1, &ids));
  t = MPI_Wtime();
  for (;;) {
    PetscCall(cdn_sched_next(sched, &m));
    if (m >= models) break;
    ids[mine++] = m;
  }
  t = MPI_Wtime() - t;
  PetscCall(cdn_sched_destroy(&sched));
  PetscCallMPI(MPI_Reduce(&t, &t_sched, 1, MPI_DOUBLE, MPI_MAX, 0, PETSC_COMM_WORLD));

  /* The gather of every record into the root's table, as at the end of a run. */
  PetscCall(PetscCalloc1((size_t)mine * len + 1, &recs));
  for (int i = 0; i < mine; i++) recs[(size_t)i * len + REC_MODEL] = (double)ids[i];
  if (rank == 0) PetscCall(cdn_results_create(&res));
  if (rank == 0) PetscCall(cdn_results_alloc_models(res, models));
  if (rank == 0) PetscCall(cdn_results_alloc_epochs(res, 1, nfeat));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  t = MPI_Wtime();
  PetscCall(cdn_records_gather(PETSC_COMM_WORLD, &spec, 0, nfeat, recs, mine, res));
  t = MPI_Wtime() - t;
  PetscCallMPI(MPI_Reduce(&t, &t_gather, 1, MPI_DOUBLE, MPI_MAX, 0, PETSC_COMM_WORLD));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "ranks %d models %d record %d doubles: scheduling %.3f us/model (%.3f s), gather %.3f us/model "
                        "(%.3f s, %.1f MB at the root)\n",
                        size, models, len, 1e6 * t_sched / models, t_sched, 1e6 * t_gather / models, t_gather,
                        models * (double)len * 8 / 1e6));
  PetscCall(PetscFree(recs));
  PetscCall(PetscFree(ids));
  PetscCall(cdn_results_destroy(&res));
  PetscCall(cdn_finalize());
  return 0;
}
