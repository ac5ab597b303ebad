/* One rank's share of the population: models taken from the shared counter as the rank frees up,
   their records appended to a growing buffer (gathered at the root by cdn_records_gather). */
#include <unistd.h>
#include "run_internal.h"

/* Room for one more record. */
static PetscErrorCode reserve(double **recs, int n, int *cap, int len)
{
  double *grown;

  PetscFunctionBeginUser;
  if (n < *cap) PetscFunctionReturn(0);
  *cap = *cap ? 2 * *cap : 4;
  PetscCall(PetscMalloc1((size_t)*cap * len, &grown));
  if (n) PetscCall(PetscArraycpy(grown, *recs, (size_t)n * len));
  PetscCall(PetscFree(*recs));
  *recs = grown;
  PetscFunctionReturn(0);
}

/* Model m into rec: its finished record when a resumed run has one, else trained (from its
   checkpoint, if any). *finished is false when a stop request cut training short. */
static PetscErrorCode one_model(const cdn_jobspec_t *spec, const cdn_data_t *data, int m, int rank, int nfeat,
                                const cdn_stages_t *st, cdn_train_ctl_t *ctl, FILE *log, double *rec,
                                PetscBool *finished)
{
  const int          len    = cdn_record_length(spec->epochs, nfeat);
  const PetscBool    leader = ctl->team_rank == 0;
  cdn_model_config_t cfg;
  PetscBool          found = PETSC_FALSE;
  PetscErrorCode     ierr  = 0;

  PetscFunctionBeginUser;
  *finished = PETSC_TRUE;
  if (ctl->resume && leader) ierr = cdn_ckpt_load_done(ctl->outdir, m, rec, len, log, &found);
  if (ctl->team_size > 1) {
    int f = ierr ? 2 : (int)found;
    PetscCallMPI(MPI_Bcast(&f, 1, MPI_INT, 0, ctl->team));
    PetscCall(ierr);
    PetscCheck(f != 2, PETSC_COMM_SELF, PETSC_ERR_LIB, "model %d: the team's leader could not read its record", m);
    found = f ? PETSC_TRUE : PETSC_FALSE;
  }
  PetscCall(ierr);
  if (found) {
    if (leader) PetscCall(cdn_pruner_post(ctl->pruner, rec, PETSC_TRUE));
    if (leader) cdn_progress_model(ctl->progress, m, cdn_status_name((cdn_status_t)rec[REC_STATUS]), rank);
    PetscFunctionReturn(0);
  }
  cdn_population_config(spec, m, &cfg);
  PetscCall(cdn_train_model(spec, data, &cfg, ctl->outdir, st, rank, nfeat, log, rec, ctl));
  if (ctl->stopped) *finished = PETSC_FALSE;
  else if (leader) {
    PetscCall(cdn_ckpt_save_done(ctl->outdir, m, rec, len));
    PetscCall(cdn_pruner_post(ctl->pruner, rec, PETSC_TRUE)); /* after its record is on disk: the warm-up reads it */
    cdn_progress_model(ctl->progress, m, cdn_status_name((cdn_status_t)rec[REC_STATUS]), rank);
  }
  PetscFunctionReturn(0);
}

/* The leader's next model for the team: -1 when a stop was requested, ctl->end or more when none is
   left. The counter hands out positions of the run's order (prune.c; ids themselves without pruning). */
static PetscErrorCode next_model(cdn_train_ctl_t *ctl, long *m)
{
  PetscFunctionBeginUser;
  if (ctl->team_rank == 0) {
    PetscBool stop;
    if (cdn_signals_caught()) PetscCall(cdn_sched_raise_stop(ctl->sched));
    PetscCall(cdn_sched_stop_raised(ctl->sched, &stop));
    if (stop) *m = -1;
    else {
      PetscCall(cdn_sched_next(ctl->sched, m));
      if (*m < ctl->end) *m = cdn_pruner_model(ctl->pruner, *m);
    }
  }
  if (ctl->team_size > 1) PetscCallMPI(MPI_Bcast(m, 1, MPI_LONG, 0, ctl->team));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_train_share(const cdn_jobspec_t *spec, const cdn_data_t *data, int rank, int nfeat,
                               const cdn_stages_t *st, cdn_train_ctl_t *ctl, double **recs, int *nmine, double *busy)
{
  const int N = ctl->end, len = cdn_record_length(spec->epochs, nfeat);
  char      path[PETSC_MAX_PATH_LEN], ckdir[PETSC_MAX_PATH_LEN];
  FILE     *log;
  int       cap = 0, sync_fd = -1;
  double    t0  = MPI_Wtime();

  PetscFunctionBeginUser;
  snprintf(path, sizeof path, "%s/logs/rank-%d.log", ctl->outdir, rank);
  snprintf(ckdir, sizeof ckdir, "%s/checkpoints", ctl->outdir);
  log = fopen(path, ctl->resume ? "a" : "w");
  if (!log) (void)cdn_sched_raise_stop(ctl->sched); /* the others stop at their next model */
  PetscCheck(log, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write", path);
  /* the checkpoints are committed unsynced (checkpoint.c): on disk at the end of the share */
  if (ctl->team_rank == 0) {
    PetscErrorCode ierr = cdn_sync_fs_begin(ckdir, &sync_fd);
    if (ierr) fclose(log), (void)cdn_sched_raise_stop(ctl->sched);
    PetscCall(ierr);
  }
  *nmine = 0;
  for (;;) {
    PetscErrorCode ierr;
    long           m = -1;
    PetscBool      finished = PETSC_FALSE;

    PetscCall(next_model(ctl, &m));
    if (m < 0) {
      ctl->stopped = PETSC_TRUE;
      break;
    }
    if (m >= N) break;
    ierr = reserve(recs, *nmine, &cap, len);
    if (!ierr) ierr = one_model(spec, data, (int)m, rank, nfeat, st, ctl, log, *recs + (size_t)(*nmine) * len, &finished);
    if (ierr) {
      /* the others need not train the rest of the population for nothing */
      fclose(log);
      if (sync_fd >= 0) close(sync_fd);
      (void)cdn_sched_raise_stop(ctl->sched);
      PetscCall(ierr);
    }
    if (!finished) break;
    if (ctl->team_rank == 0) (*nmine)++; /* the leader holds the team's records */
  }
  { /* the checkpoints on disk now, finished or stopped */
    PetscErrorCode ierr = cdn_sync_fs_end(&sync_fd, ckdir);
    if (ierr) fclose(log);
    PetscCall(ierr);
  }
  *busy = MPI_Wtime() - t0;
  fprintf(log, "rank %d: %d models in %.2f s%s", rank, *nmine, *busy, ctl->stopped ? "; stopped on request" : "");
  if (ctl->pruner) fprintf(log, "; waited %.2f s for earlier models' pruning decisions", cdn_pruner_waited(ctl->pruner));
  fputc('\n', log);
  fclose(log);
  PetscFunctionReturn(0);
}
