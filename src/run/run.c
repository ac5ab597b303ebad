/* cdn_run: the pipeline (docs/design.md, "The pipeline") from a validated job spec to the CSV reports. */
#include <math.h>
#include <string.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/features.h"
#include "cnndyn/graph.h"
#include "cnndyn/nn.h"
#include "cnndyn/predict.h"
#include "cnndyn/report.h"
#include "cnndyn/run.h"
#include "cnndyn/stats.h"
#include "run_internal.h"

/* Everything after the gather, on every rank: the root's table (res) goes to disk, then the
   prediction stage (src/predict/stage.c) shares its tasks over the ranks. Errors reach every rank;
   the caller destroys *resp (which the broadcast allocates on the ranks other than the root). */
static PetscErrorCode predict_and_report(MPI_Comm comm, const cdn_jobspec_t *spec, int num_classes, int first, int N,
                                         cdn_results_t **resp, int nfeat, const cdn_column_t *cols, const char *outdir,
                                         const cdn_run_options_t *opt, PetscLogStage stage, double t0)
{
  cdn_results_t *res = *resp; /* the root's table; NULL on the other ranks */
  PetscMPIInt    rank;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscLogStagePush(stage));
  if (rank == 0) {
    ierr = PetscArraycpy(res->columns, cols, nfeat);
    res->num_classes = num_classes;
    /* The tables of records go to disk before the prediction stage, which can take minutes on a
       large population: they are there to read (or to predict from with `cnndyn predict`) as
       soon as training ends, whatever happens next. A part predicts nothing: a fraction of the
       population has other folds, class cuts and labels, so its report would be no part of the
       population's. `cnndyn merge` predicts. */
    if (!ierr) ierr = cdn_report_write_rows(outdir, res);
    if (!ierr) { /* what each features.csv column measures, for readers (analysis/load.py) */
      char path[PETSC_MAX_PATH_LEN];
      snprintf(path, sizeof path, "%s/features_columns.csv", outdir);
      ierr = cdn_layout_write_columns(path, nfeat, cols);
    }
  }
  PetscCall(cdn_error_share(comm, ierr));
  if (!opt->nparts)
    PetscCall(cdn_prediction_stage(comm, spec, resp, outdir, PETSC_TRUE, opt->quiet ? PETSC_TRUE : PETSC_FALSE));
  if (!opt->quiet && rank == 0) {
    if (opt->nparts) printf("Part %d/%d (models %d-%d) in %s (%.1f s); merge the parts with cnndyn merge\n", opt->part,
                            opt->nparts, first, first + N - 1, outdir, MPI_Wtime() - t0);
    else printf("Reports in %s (%.1f s)\n", outdir, MPI_Wtime() - t0);
    fflush(stdout);
  }
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}

/* How well the dynamic schedule kept ranks busy: each rank's training time against the wall time
   of the training phase (the difference is time spent waiting for the slowest rank), and with
   [pruning] the time ranks waited for earlier models to reach a decision epoch. */
static PetscErrorCode report_balance(MPI_Comm comm, double busy, double wall, const cdn_pruner_t *pruner)
{
  double mn, mx, sum, waited = cdn_pruner_waited(pruner), waited_sum;
  int    size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Reduce(&busy, &mn, 1, MPI_DOUBLE, MPI_MIN, 0, comm));
  PetscCallMPI(MPI_Reduce(&busy, &mx, 1, MPI_DOUBLE, MPI_MAX, 0, comm));
  PetscCallMPI(MPI_Reduce(&busy, &sum, 1, MPI_DOUBLE, MPI_SUM, 0, comm));
  PetscCallMPI(MPI_Reduce(&waited, &waited_sum, 1, MPI_DOUBLE, MPI_SUM, 0, comm));
  PetscCall(PetscPrintf(comm, "cnndyn: training took %.1f s; ranks idle %.1f%% of it waiting for the last model\n", wall,
                        wall > 0 ? 100.0 * (size * wall - sum) / (size * wall) : 0.0));
  if (pruner)
    PetscCall(PetscPrintf(comm, "cnndyn: [pruning]: ranks waited %.1f s (%.1f%% of their time) for earlier models to reach a decision\n",
                          waited_sum, wall > 0 ? 100.0 * waited_sum / (size * wall) : 0.0));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_run(MPI_Comm comm, const cdn_jobspec_t *spec, const char *outdir, const cdn_run_options_t *opt,
                       PetscBool *stopped)
{
  PetscMPIInt      rank, size;
  cdn_data_t      *data = NULL;
  cdn_stages_t     st;
  PetscLogStage    predict_stage;
  int              P = cdn_population_size(spec), first, end, N, nfeat = 0, nmine = 0, flags[2] = {0, 0};
  cdn_train_ctl_t  ctl = {.outdir = outdir, .team = MPI_COMM_SELF, .team_size = 1};
  double           busy = 0, t_train;
  cdn_column_t    *cols = NULL;
  double          *mine = NULL;
  cdn_results_t   *res  = NULL;
  PetscErrorCode   ierr = 0;
  double           t0 = MPI_Wtime();
  PetscBool        resuming = PETSC_FALSE, complete = PETSC_FALSE, any_stopped;

  PetscFunctionBeginUser;
  PetscCall(cdn_learner_options_check()); /* before any folder or training: read at the prediction stage */
  PetscCall(cdn_results_bcast_options_check()); /* the same: a typo there once cost a whole training run */
  *stopped = PETSC_FALSE;
  cdn_signals_install();
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscLogStageRegister("Train", &st.train));
  PetscCall(PetscLogStageRegister("Evaluate", &st.evaluate));
  PetscCall(PetscLogStageRegister("Graph+stats", &st.graph));
  PetscCall(PetscLogStageRegister("Snapshot", &st.snapshot));
  PetscCall(PetscLogStageRegister("Predict+report", &predict_stage));
  /* decisions read models of the whole population in one order: a part would decide differently */
  PetscCheck(!(opt->nparts && spec->prune_policy != CDN_PRUNE_NONE), comm, CDN_ERR_INPUT,
             "%s: [pruning] policy: a run split into parts (--part) cannot prune; run the population as one job", spec->source);

  cdn_run_part_range(P, opt->part, opt->nparts, &first, &end);
  N = end - first; /* this run's models: the population, or its part */
  /* Every rank sees the same sizes, so this error needs no sharing. */
  PetscCheck(size % spec->team_size == 0, comm, CDN_ERR_INPUT,
             "%s: team_size: %d does not divide the %d ranks of this run (teams are consecutive ranks)", spec->source,
             spec->team_size, size);
  /* Everything that can be wrong with the input is found before the output folder exists. */
  if (rank == 0) ierr = cdn_outdir_prepare(spec, outdir, opt, &resuming, &complete);
  /* before reading them: a changed data file is named as such, not as a parse error */
  if (rank == 0 && !ierr && resuming && !complete) ierr = cdn_data_record(spec, outdir, PETSC_TRUE);
  if (rank == 0 && !ierr) ierr = cdn_part_check(outdir, opt, P, resuming);
  PetscCall(cdn_error_share(comm, ierr));
  flags[0] = resuming, flags[1] = complete;
  PetscCallMPI(MPI_Bcast(flags, 2, MPI_INT, 0, comm));
  if (flags[1]) {
    PetscCall(PetscPrintf(comm, "cnndyn: %s: this run is complete; nothing to resume\n", outdir));
    PetscFunctionReturn(0);
  }
  ctl.resume = flags[0] ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(cdn_data_load(comm, spec, &data));
  /* The network must fit the data and the graph the size guard before the output folder exists;
     the root also reserves the results table now, not after hours of training. */
  /* each check shared once; on failure data, columns and table are freed (an outside review saw
     the loaded data set, 55 MB, left held) */
  ierr = cdn_error_share(comm, cdn_layout_run_columns(spec, data, &nfeat, &cols));
  if (!ierr) ierr = cdn_error_share(comm, rank == 0 ? cdn_pruner_check(spec, outdir, ctl.resume, nfeat, cols) : 0);
  if (!ierr) {
    if (rank == 0) {
      ierr = cdn_results_create(&res);
      if (!ierr) ierr = cdn_results_alloc_models(res, N);
      if (!ierr) ierr = cdn_results_alloc_epochs(res, spec->epochs, nfeat);
      if (!ierr && !ctl.resume) ierr = cdn_mkdir_p(outdir);
      if (!ierr && !ctl.resume) ierr = cdn_part_write(outdir, opt, P); /* before job.ini: a folder with one is a run */
      if (!ierr) ierr = cdn_outdir_create(spec, outdir, ctl.resume);
      if (!ierr && !ctl.resume) ierr = cdn_data_record(spec, outdir, PETSC_FALSE);
    }
    ierr = cdn_error_share(comm, ierr);
  }
  if (ierr) {
    PetscCall(cdn_results_destroy(&res));
    PetscCall(PetscFree(cols));
    PetscCall(cdn_data_destroy(&data));
    PetscCall(ierr);
  }
  if (opt->nparts)
    PetscCall(PetscPrintf(comm, "cnndyn: part %d/%d: models %d-%d of %d\n", opt->part, opt->nparts, first, end - 1, P));
  PetscCall(PetscPrintf(comm, "cnndyn: %d models x %d epochs on %d rank%s; %d/%d/%d train/validation/test images; logs in %s/logs%s\n",
                        N, spec->epochs, size, size > 1 ? "s" : "", data->train.n, data->val.n, data->test.n, outdir,
                        ctl.resume ? "; resuming from checkpoints" : ""));
  t_train = MPI_Wtime();

  /* progress counts by model id: a part shows its models done out of the whole population */
  PetscCall(cdn_progress_start(comm, opt->progress ? opt->progress : spec->progress, P, spec->epochs, opt->quiet,
                               &ctl.progress));
  if (spec->team_size > 1) {
    PetscCallMPI(MPI_Comm_split(comm, rank / spec->team_size, rank, &ctl.team));
    ctl.team_rank = rank % spec->team_size;
    ctl.team_size = spec->team_size;
  }
  ctl.end = end;
  PetscCall(cdn_pruner_create(comm, spec, outdir, ctl.resume, nfeat, cols, data->num_classes, &ctl.pruner));
  PetscCall(cdn_sched_create(comm, first, &ctl.sched));
  ierr = cdn_train_share(spec, data, rank, nfeat, &st, &ctl, &mine, &nmine, &busy);
  PetscCall(cdn_error_share(comm, ierr));
  PetscCall(cdn_sched_destroy(&ctl.sched));
  PetscCall(cdn_progress_stop(&ctl.progress));
  if (ctl.team_size > 1) PetscCallMPI(MPI_Comm_free(&ctl.team));
  /* a stop seen by any rank leaves unfinished models: no reports, the run is to be resumed */
  PetscCallMPI(MPI_Allreduce(&ctl.stopped, &any_stopped, 1, MPIU_BOOL, MPI_LOR, comm));
  if (any_stopped) {
    PetscCall(cdn_pruner_destroy(&ctl.pruner));
    PetscCall(PetscFree(mine));
    PetscCall(cdn_results_destroy(&res));
    PetscCall(PetscFree(cols));
    PetscCall(cdn_data_destroy(&data));
    *stopped = PETSC_TRUE;
    PetscFunctionReturn(0);
  }

  ierr = cdn_records_gather(comm, spec, first, nfeat, mine, nmine, res);
  PetscCall(PetscFree(mine));
  if (!ierr) ierr = report_balance(comm, busy, MPI_Wtime() - t_train, ctl.pruner);
  PetscCall(cdn_pruner_destroy(&ctl.pruner));
  if (!ierr) ierr = predict_and_report(comm, spec, data->num_classes, first, N, &res, nfeat, cols, outdir, opt, predict_stage, t0);
  if (rank == 0 && !ierr) ierr = cdn_outdir_mark_complete(outdir);
  PetscCall(cdn_results_destroy(&res));
  PetscCall(PetscFree(cols));
  PetscCall(cdn_error_share(comm, ierr));
  PetscCall(cdn_data_destroy(&data));
  PetscFunctionReturn(0);
}
